import { SysError } from '../runner/vmm/libc.js';
import { HUGE_2M, HostMapping } from '../runner/vmm/host-memory.js';
import { MADV_NOHUGEPAGE } from '../runner/vmm/libc.js';
import { backingOf, withBacking } from './backing.js';
import { memslotProbe } from './host-checks.js';
import { PAGE, holeRuns, presentPages, addHoleSlots, type PageRun } from './window-slots.js';
import { Strategy, fullWindowPlan } from './types.js';
import { KVM_MEM_PREFETCH_2M_BATCH_BIT, KVM_MEM_PREFETCH_2M_BIT, KVM_MEM_READONLY, caps } from '../runner/vmm/kvm-abi.js';
import { patchedProbe } from './patched-kvm.js';

/** The variant where KVM prefetches a fault's whole 2 MiB range itself (patched KVM, kernel/0005). */
export const FAULT_2M = 'fault-2m';
/** The same range mapped in one batch: one GUP and one mmu_lock hold per 2 MiB (patched KVM, kernel/0007). */
export const FAULT_2M_BATCH = 'fault-2m-batch';
import type { HostFingerprint } from '../runner/results/schema.js';

/** The 2 MiB-aligned pieces of the hole slots to pre-fault: KVM_PRE_FAULT_MEMORY works per range
 *  and must stay inside one memslot, so each run is cut at 2 MiB boundaries. */
export function prefetchRanges(windowBase: number, runs: PageRun[]): { gpa: number; size: number }[] {
  const out: { gpa: number; size: number }[] = [];
  for (const r of runs) {
    let start = windowBase + r.first * PAGE;
    const end = start + r.pages * PAGE;
    while (start < end) {
      const next = Math.min(end, (Math.floor(start / HUGE_2M) + 1) * HUGE_2M);
      out.push({ gpa: start, size: next - start });
      start = next;
    }
  }
  return out;
}

/** What the reason says about the host: its kernel against 6.10 and its ept/npt parameters. */
type PrefaultHost = Partial<Pick<HostFingerprint, 'kernel' | 'kvmParams'>>;

/** "; this host: Linux 6.1.0-57-amd64 (older than 6.10), kvm_amd.npt=Y", or '' when nothing is known. */
function hostText(h: PrefaultHost | undefined): string {
  const parts: string[] = [];
  const v = /^(\d+)\.(\d+)/.exec(h?.kernel ?? '');
  if (h?.kernel) parts.push(`Linux ${h.kernel}${v && (Number(v[1]) < 6 || (Number(v[1]) === 6 && Number(v[2]) < 10)) ? ' (older than 6.10)' : ''}`);
  const tdp = Object.entries(h?.kvmParams ?? {}).filter(([k]) => k === 'kvm_intel.ept' || k === 'kvm_amd.npt');
  if (tdp.length) parts.push(...tdp.map(([k, val]) => `${k}=${val}`));
  else if (h?.kvmParams) parts.push('no kvm_intel.ept or kvm_amd.npt parameter');
  return parts.length ? `; this host: ${parts.join(', ')}` : '';
}

/** Why KVM_PRE_FAULT_MEMORY cannot run here, from the capability or the ioctl's errno (api.rst).
 *  KVM reports the capability whenever TDP is enabled (arch/x86/kvm/x86.c: `r = tdp_enabled`), so
 *  it follows EPT/NPT, also with kvm.tdp_mmu=N and in an L1 guest running on nested EPT/NPT. */
export function prefaultUnsupportedReason(cap: number, err?: SysError, host?: PrefaultHost): string | null {
  if (!cap)
    return `KVM_CAP_PRE_FAULT_MEMORY is 0: KVM_PRE_FAULT_MEMORY needs Linux >= 6.10 with TDP enabled (kvm_intel.ept=Y or kvm_amd.npt=Y, with or without kvm.tdp_mmu, nested EPT/NPT included)${hostText(host)}`;
  if (!err) return null;
  if (err.code === 'EOPNOTSUPP') return 'KVM_PRE_FAULT_MEMORY answered EOPNOTSUPP: this vCPU uses shadow paging (pre-faulting needs TDP: EPT/NPT)';
  if (err.code === 'ENOENT') return 'KVM_PRE_FAULT_MEMORY answered ENOENT: a range is not covered by a memslot';
  if (err.code === 'EINVAL') return 'KVM_PRE_FAULT_MEMORY answered EINVAL: unaligned range or flags set';
  return `KVM_PRE_FAULT_MEMORY failed: ${err.code}`;
}

/** Sean Christopherson's suggestion: map SPTEs 2 MiB at a time ahead of the guest instead of
 *  faulting 4 KiB on first touch. Here: ro-page 4k plus KVM_PRE_FAULT_MEMORY over every 2 MiB
 *  piece of the hole before the guest runs (timed as setup); variant fault-2m: the same slot with
 *  KVM_MEM_PREFETCH_2M, so KVM maps a fault's whole 2 MiB range (within the slot) on the fault. */
export const sptePrefetch: Strategy = {
  id: 'spte-prefetch',
  origin: 'Sean Christopherson, review of KVM_MEM_PCI_HOLE (2020): prefetch SPTEs in 2 MiB ranges instead of 4 KiB faults',
  summary: 'ro-page 4k plus KVM_PRE_FAULT_MEMORY over 2 MiB ranges before the guest runs (fault-2m: KVM prefetches 2 MiB on each fault, patched KVM)',
  variants: ['', FAULT_2M, FAULT_2M_BATCH],
  probe(host, variant, access) {
    const base = memslotProbe(host, access);
    if (base) return base;
    if (variant === FAULT_2M) return patchedProbe(host, access, caps.KVM_CAP_PREFETCH_2M, 'KVM_MEM_PREFETCH_2M on a read-only 4 KiB-backed slot (the capability is 0 without TDP too)');
    if (variant === FAULT_2M_BATCH)
      return patchedProbe(host, access, caps.KVM_CAP_PREFETCH_2M_BATCH, 'KVM_MEM_PREFETCH_2M_BATCH on a read-only 4 KiB-backed slot: one GUP and one mmu_lock hold per 2 MiB (the capability is 0 without TDP too)');
    const why = prefaultUnsupportedReason(host.kvm.checkExtension('KVM_CAP_PRE_FAULT_MEMORY'), undefined, host.fingerprint);
    return why ? { status: 'unsupported', reason: why } : { status: 'measured' };
  },
  plan: fullWindowPlan,
  setup(ctx) {
    const map = HostMapping.anonymous(ctx.window.size, 'spte-prefetch backing');
    return withBacking(backingOf(map, { mappings: 1, resident: () => map.residentBytes() }), () => {
      map.madvise(MADV_NOHUGEPAGE, 'MADV_NOHUGEPAGE');
      map.bytes.fill(0xff);
      const flags =
        KVM_MEM_READONLY | (ctx.variant === FAULT_2M ? 2 ** KVM_MEM_PREFETCH_2M_BIT : ctx.variant === FAULT_2M_BATCH ? 2 ** KVM_MEM_PREFETCH_2M_BATCH_BIT : 0);
      addHoleSlots(ctx, (page) => map.ptr + BigInt(page * PAGE), flags);
    });
  },
  afterVcpus(ctx, vcpus) {
    if (ctx.variant === FAULT_2M || ctx.variant === FAULT_2M_BATCH) return;
    for (const r of prefetchRanges(ctx.window.base, holeRuns(ctx.window.size / PAGE, presentPages(ctx)))) {
      try {
        vcpus[0].preFault(r.gpa, r.size);
      } catch (e) {
        if (e instanceof SysError) throw new Error(prefaultUnsupportedReason(1, e) ?? e.message);
        throw e;
      }
    }
  },
};
