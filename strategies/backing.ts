// Host memory of 0xff for the memslot strategies: a plain buffer (ro-page) or one small
// memfd aliased over the whole window (shared-hva). Residency is measured, not assumed.
import { fstatSync, closeSync } from 'node:fs';
import {
  MAP_FAILED,
  MAP_FIXED,
  MAP_SHARED,
  MFD_CLOEXEC,
  MFD_HUGETLB,
  MFD_HUGE_2MB,
  PROT_READ,
  PROT_WRITE,
  SysError,
  check,
  errno,
  ftruncate,
  memfdCreate,
  mmap,
  mmapChecked,
  munmap,
} from '../runner/vmm/libc.js';
import { HUGE_2M, HostMapping } from '../runner/vmm/host-memory.js';
import type { Backing } from './types.js';

/** A memfd of `size` bytes filled with 0xff (hugetlb-backed when asked). */
export function allOnesMemfd(size: number, hugetlb: boolean, label: string): number {
  const fd = memfdCreate(label, MFD_CLOEXEC | (hugetlb ? MFD_HUGETLB | MFD_HUGE_2MB : 0));
  if (fd < 0) throw new SysError(`memfd_create(${label}${hugetlb ? ', MFD_HUGETLB' : ''})`, errno());
  try {
    check(`ftruncate ${label}`, ftruncate(fd, size));
    const p = mmapChecked(`mmap ${label}`, null, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    new HostMapping(p, size, label).bytes.fill(0xff);
    munmap(p, size);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** Bytes a memfd really holds (st_blocks): the honest memory figure for aliased mappings. */
export function memfdBytes(fd: number): number {
  return fstatSync(fd).blocks * 512;
}

/**
 * Maps `count` read-only views of the same `unit` bytes of `fd` back to back, so one host page
 * (or one 2 MiB hugepage) backs every GFN of the window. Each view is one VMA: 65 536 of them
 * for 4 KiB units over 256 MiB, which is why vm.max_map_count must be raised.
 */
export function aliasRegion(fd: number, unit: number, count: number, label: string): HostMapping {
  const size = unit * count;
  // Reserve an aligned range first, then replace it piece by piece with MAP_FIXED.
  const region = HostMapping.anonymous(size, label, unit >= HUGE_2M ? HUGE_2M : 4096);
  try {
    const step = BigInt(unit);
    let at = region.ptr;
    for (let i = 0; i < count; i++, at += step) {
      // The message is built only on failure: this loop runs 65 536 times per VM.
      if (mmap(at, unit, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) === MAP_FAILED) throw new SysError(`mmap alias ${i} of ${label}`, errno());
    }
  } catch (e) {
    region.release(); // one munmap removes the reservation and every alias made so far
    throw e;
  }
  return region;
}

/** Finishes setting up a backing; on any error releases it before rethrowing (setup may fail
 *  after the memory exists: madvise, the fill, KVM_SET_USER_MEMORY_REGION). */
export function withBacking(b: Backing, rest: () => void): Backing {
  try {
    rest();
  } catch (e) {
    b.release();
    throw e;
  }
  return b;
}

/** A Backing of one mapping plus an optional memfd; `resident` says how memory is counted. */
export function backingOf(map: HostMapping, opts: { fd?: number; mappings: number; resident: () => number }): Backing {
  let closed = false;
  return {
    residentBytes: opts.resident,
    mappings: opts.mappings,
    release() {
      map.release();
      if (opts.fd !== undefined && !closed) closeSync(opts.fd);
      closed = true;
    },
  };
}
