// Host memory that backs guest memory: anonymous or memfd mappings, with residency (mincore).
import {
  MADV_NOHUGEPAGE,
  MAP_ANONYMOUS,
  MAP_NORESERVE,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  check,
  madvise,
  mincore,
  mmapChecked,
  munmap,
  view,
} from './libc.js';

export const PAGE = 4096;
export const HUGE_2M = 2 * 1024 * 1024;

/** One host mapping; `bytes` is a zero-copy view of it. */
export class HostMapping {
  readonly bytes: Uint8Array;
  private released = false;
  constructor(
    readonly ptr: bigint,
    readonly size: number,
    /** what it is for, in error messages */
    readonly label: string,
  ) {
    this.bytes = new Uint8Array(view(ptr, size));
  }

  /** Anonymous private memory (zero-filled on first touch). `align` over-allocates and trims so that ptr is aligned. */
  static anonymous(size: number, label: string, align = PAGE): HostMapping {
    if (align <= PAGE) {
      return new HostMapping(mmapChecked(`mmap ${label}`, null, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1), size, label);
    }
    const raw = mmapChecked(`mmap ${label}`, null, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
    const a = BigInt(align);
    const start = (raw + a - 1n) & ~(a - 1n);
    const head = Number(start - raw);
    if (head) munmap(raw, head);
    const tail = align - head;
    if (tail) munmap(start + BigInt(size), tail);
    return new HostMapping(start, size, label);
  }

  madvise(advice: number, name: string): void {
    check(`madvise(${name}) on ${this.label}`, madvise(this.ptr, this.size, advice));
  }

  /** Bytes of this mapping resident in host RAM now (mincore). */
  residentBytes(): number {
    return residentBytes(this.ptr, this.size);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    munmap(this.ptr, this.size);
  }
}

/**
 * Guest RAM: anonymous memory advised MADV_NOHUGEPAGE. With THP `always` the host would back it
 * with 2 MiB pages and KVM map those with 2 MiB SPTEs (the mapping level follows the host page,
 * arch/x86/kvm/mmu/mmu.c host_pfn_mapping_level), so vm.pages_2m would count guest RAM instead
 * of only the window's mappings. 2 MiB-aligned, so that without the advice the outcome would not
 * depend on where mmap happened to place it.
 */
export function guestRam(size: number): HostMapping {
  const ram = HostMapping.anonymous(size, 'guest RAM', HUGE_2M);
  try {
    ram.madvise(MADV_NOHUGEPAGE, 'MADV_NOHUGEPAGE');
  } catch (e) {
    ram.release();
    throw e;
  }
  return ram;
}

/** Resident bytes of [ptr, ptr+size) by mincore(2), counted in 4 KiB pages. */
export function residentBytes(ptr: bigint, size: number): number {
  const pages = Math.ceil(size / PAGE);
  const vec = Buffer.alloc(pages);
  check('mincore', mincore(ptr, size, vec));
  let n = 0;
  for (let i = 0; i < pages; i++) n += vec[i] & 1;
  return n * PAGE;
}
