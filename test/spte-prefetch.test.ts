// spte-prefetch's code path without a TDP host: the 2 MiB range chunking handed to
// KVM_PRE_FAULT_MEMORY and the mapping from capability / errno to the unsupported reason.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { prefaultUnsupportedReason, prefetchRanges, sptePrefetch } from '../strategies/spte-prefetch.js';
import { PAGE, holeRuns, presentPages, type PageRun } from '../strategies/window-slots.js';
import { SysError } from '../runner/vmm/libc.js';
import { presentFunctions, windowOf } from '../runner/measure/sample.js';
import { linuxQ35Boot } from '../workloads/linux-q35-boot.js';
import type { HostInfo } from '../strategies/types.js';

const MB2 = 0x200000;
const E = constants.errno;

/** Checks the invariants of prefetchRanges(base, runs) and returns its ranges. */
function checkedRanges(base: number, runs: PageRun[]): { gpa: number; size: number }[] {
  const ranges = prefetchRanges(base, runs);
  const want = new Set<number>();
  for (const r of runs) for (let p = r.first; p < r.first + r.pages; p++) want.add(base + p * PAGE);
  const got: number[] = [];
  let prevEnd = -Infinity;
  for (const r of ranges) {
    assert.ok(r.size > 0 && r.size % PAGE === 0 && r.gpa % PAGE === 0, `range 0x${r.gpa.toString(16)}+0x${r.size.toString(16)} is whole pages`);
    assert.ok(r.size <= MB2);
    assert.equal(Math.floor(r.gpa / MB2), Math.floor((r.gpa + r.size - 1) / MB2), `range at 0x${r.gpa.toString(16)} stays in one 2 MiB region`);
    assert.ok(r.gpa >= prevEnd, 'ranges are ordered and do not overlap');
    prevEnd = r.gpa + r.size;
    // inside one slot (run): KVM_PRE_FAULT_MEMORY must not cross memslots
    assert.ok(
      runs.some((run) => r.gpa >= base + run.first * PAGE && r.gpa + r.size <= base + (run.first + run.pages) * PAGE),
      `range at 0x${r.gpa.toString(16)} lies inside one hole run`,
    );
    for (let a = r.gpa; a < r.gpa + r.size; a += PAGE) got.push(a);
  }
  assert.equal(got.length, want.size, 'no page twice, none missing');
  assert.ok(got.every((a) => want.has(a)), 'only hole pages');
  return ranges;
}

describe('prefetchRanges', () => {
  test('a run inside one 2 MiB region is one range', () => {
    assert.deepEqual(checkedRanges(0xb0000000, [{ first: 1, pages: 7 }]), [{ gpa: 0xb0001000, size: 0x7000 }]);
  });

  test('runs are cut at absolute 2 MiB boundaries (window base not 2 MiB aligned)', () => {
    assert.deepEqual(checkedRanges(0x100000, [{ first: 0, pages: 1024 }]), [
      { gpa: 0x100000, size: 0x100000 },
      { gpa: 0x200000, size: MB2 },
      { gpa: 0x400000, size: 0x100000 },
    ]);
  });

  test('a run that is exactly 2 MiB aligned yields whole 2 MiB ranges, also near 4 GiB', () => {
    assert.deepEqual(checkedRanges(0xffc00000, [{ first: 0, pages: 1024 }]), [
      { gpa: 0xffc00000, size: MB2 },
      { gpa: 0xffe00000, size: MB2 },
    ]);
  });

  test('no runs, no ranges', () => {
    assert.deepEqual(prefetchRanges(0xb0000000, []), []);
  });

  test('the q35 window: pieces of bus 0 and the rest of the first 2 MiB, then whole 2 MiB ranges', () => {
    const w = windowOf(linuxQ35Boot);
    const runs = holeRuns(w.size / PAGE, presentPages({ present: presentFunctions(linuxQ35Boot) }));
    const ranges = checkedRanges(w.base, runs);
    // first 2 MiB (pages 0..511): runs 1-7, 9-15, 17-247, 249, and 252-511; then 127 whole regions
    const first = ranges.filter((r) => r.gpa < w.base + MB2);
    assert.deepEqual(first.map((r) => [(r.gpa - w.base) / PAGE, r.size / PAGE]), [[1, 7], [9, 7], [17, 231], [249, 1], [252, 260]]);
    const rest = ranges.filter((r) => r.gpa >= w.base + MB2);
    assert.equal(rest.length, w.size / MB2 - 1);
    assert.ok(rest.every((r) => r.size === MB2 && r.gpa % MB2 === 0));
    assert.equal(rest[rest.length - 1].gpa + MB2, w.base + w.size);
  });
});

describe('prefaultUnsupportedReason', () => {
  const err = (code: number) => new SysError('KVM_PRE_FAULT_MEMORY', code);

  test('capability 0: names the capability, the kernel version and TDP', () => {
    const r = prefaultUnsupportedReason(0);
    assert.ok(r);
    assert.match(r, /KVM_CAP_PRE_FAULT_MEMORY is 0/);
    assert.match(r, /6\.10/);
    assert.match(r, /TDP/);
    // the capability decides before any errno
    assert.equal(prefaultUnsupportedReason(0, err(E.EINVAL)), r);
  });

  test('capability 0: blames neither tdp_mmu=N nor nesting, and shows the host\'s kernel and ept/npt', () => {
    const r = prefaultUnsupportedReason(0) ?? '';
    assert.doesNotMatch(r, /shadow-paging hosts|tdp_mmu=N/);
    assert.match(r, /kvm_intel\.ept=Y or kvm_amd\.npt=Y/);
    assert.match(r, /nested EPT\/NPT included/);
    const lab = prefaultUnsupportedReason(0, undefined, { kernel: '6.1.0-57-amd64', kvmParams: { 'kvm.tdp_mmu': 'Y', 'kvm_amd.npt': 'Y', 'kvm_amd.nested': '1' } }) ?? '';
    assert.match(lab, /; this host: Linux 6\.1\.0-57-amd64 \(older than 6\.10\), kvm_amd\.npt=Y$/);
    const noEpt = prefaultUnsupportedReason(0, undefined, { kernel: '6.12.0', kvmParams: { 'kvm.tdp_mmu': 'N', 'kvm_intel.ept': 'N' } }) ?? '';
    assert.match(noEpt, /; this host: Linux 6\.12\.0, kvm_intel\.ept=N$/);
    const pvm = prefaultUnsupportedReason(0, undefined, { kernel: '6.18.4', kvmParams: { 'kvm.tdp_mmu': 'N', 'kvm_pvm.force': 'N' } }) ?? '';
    assert.match(pvm, /; this host: Linux 6\.18\.4, no kvm_intel\.ept or kvm_amd\.npt parameter$/);
  });

  test('capability present and no error: supported', () => {
    assert.equal(prefaultUnsupportedReason(1), null);
  });

  test('EOPNOTSUPP: shadow paging', () => {
    const e = err(E.EOPNOTSUPP);
    assert.equal(e.code, 'EOPNOTSUPP');
    const r = prefaultUnsupportedReason(1, e);
    assert.match(r ?? '', /EOPNOTSUPP/);
    assert.match(r ?? '', /shadow paging/);
  });

  test('ENOENT: a range without a memslot', () => {
    assert.match(prefaultUnsupportedReason(1, err(E.ENOENT)) ?? '', /ENOENT.*not covered by a memslot/);
  });

  test('EINVAL: alignment or flags', () => {
    assert.match(prefaultUnsupportedReason(1, err(E.EINVAL)) ?? '', /EINVAL.*unaligned range or flags/);
  });

  test('any other errno is named', () => {
    assert.equal(prefaultUnsupportedReason(1, err(E.EFAULT)), 'KVM_PRE_FAULT_MEMORY failed: EFAULT');
    assert.equal(prefaultUnsupportedReason(1, err(E.ENOMEM)), 'KVM_PRE_FAULT_MEMORY failed: ENOMEM');
  });
});

describe('sptePrefetch.probe', () => {
  const host = (capabilities: Record<string, number>): HostInfo =>
    ({ kvm: { checkExtension: (c: string) => capabilities[c] ?? 0 }, fingerprint: {}, options: {} }) as unknown as HostInfo;

  test('unsupported with the capability reason when KVM_CAP_PRE_FAULT_MEMORY is 0', () => {
    const p = sptePrefetch.probe(host({ KVM_CAP_READONLY_MEM: 1 }), '', 'ecam', linuxQ35Boot);
    assert.equal(p.status, 'unsupported');
    assert.equal(p.reason, prefaultUnsupportedReason(0, undefined, {}));
  });

  test('measured when the capability is there', () => {
    assert.equal(sptePrefetch.probe(host({ KVM_CAP_READONLY_MEM: 1, KVM_CAP_PRE_FAULT_MEMORY: 1 }), '', 'ecam', linuxQ35Boot).status, 'measured');
  });

  test('unsupported without read-only memslots, and for conf1', () => {
    const noRo = sptePrefetch.probe(host({ KVM_CAP_PRE_FAULT_MEMORY: 1 }), '', 'ecam', linuxQ35Boot);
    assert.equal(noRo.status, 'unsupported');
    assert.match(noRo.reason ?? '', /READONLY_MEM/);
    const conf1 = sptePrefetch.probe(host({ KVM_CAP_READONLY_MEM: 1, KVM_CAP_PRE_FAULT_MEMORY: 1 }), '', 'conf1', linuxQ35Boot);
    assert.equal(conf1.status, 'unsupported');
    assert.match(conf1.reason ?? '', /conf1/);
  });

  test('afterVcpus pre-faults every range in order and turns a SysError into the reason', () => {
    const w = windowOf(linuxQ35Boot);
    const ctx = { window: w, present: presentFunctions(linuxQ35Boot) } as never;
    const seen: { gpa: number; size: number }[] = [];
    sptePrefetch.afterVcpus?.(ctx, [{ preFault: (gpa: number, size: number) => seen.push({ gpa, size }) }] as never);
    assert.deepEqual(seen, prefetchRanges(w.base, holeRuns(w.size / PAGE, presentPages(ctx))));
    const failing = [{ preFault: () => { throw new SysError('KVM_PRE_FAULT_MEMORY', E.EOPNOTSUPP); } }] as never;
    assert.throws(() => sptePrefetch.afterVcpus?.(ctx, failing), { message: prefaultUnsupportedReason(1, new SysError('x', E.EOPNOTSUPP)) as string });
  });
});
