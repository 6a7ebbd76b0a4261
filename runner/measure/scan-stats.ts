// KVM's binary statistics around the scans of one sample: deltas of every vCPU's and the VM's
// counters, plus gauges of the VM's mappings after the scans. KVM_GET_STATS_FD exists from
// Linux 5.14 (KVM_CAP_BINARY_STATS_FD, Documentation/virt/kvm/api.rst): without it the
// statistics are absent (null), and a statistic the kernel does not list (the pf_* counters
// appeared later than exits or pages_2m) is absent too — never recorded as 0.
import type { KvmStats } from '../vmm/kvm-stats.js';
import type { Vcpu } from '../vmm/vcpu.js';
import type { Vm } from '../vmm/vm.js';

export class ScanStats {
  private constructor(
    private readonly vcpuStats: KvmStats[],
    private readonly vmStats: KvmStats | null,
    private readonly before: number[][],
    private readonly vmBefore: number[],
  ) {}

  /** Reads the counters before the scans; with `binaryStatsCap` 0 (KVM_CHECK_EXTENSION
   *  KVM_CAP_BINARY_STATS_FD) it opens nothing and finish() returns null. */
  static begin(binaryStatsCap: number, vcpus: readonly Vcpu[], vm: Vm): ScanStats {
    if (!binaryStatsCap) return new ScanStats([], null, [], []);
    const vcpuStats = vcpus.map((v) => v.stats());
    const vmStats = vm.vmStats();
    return new ScanStats(vcpuStats, vmStats, vcpuStats.map((s) => s.read()), vmStats.read());
  }

  /** vcpu.* deltas summed over the vCPUs, vm.* deltas, and the *_now gauges; null without binary stats. */
  finish(): Record<string, number> | null {
    if (!this.vmStats) return null;
    const out = sumRecords(this.vcpuStats.map((st, i) => st.delta(this.before[i], st.read())));
    Object.assign(out, this.vmStats.delta(this.vmBefore, this.vmStats.read()));
    return Object.assign(out, mappingGauges(this.vmStats.snapshot()));
  }
}

/** vm.pages_4k_now / vm.pages_2m_now from a VM snapshot: only those the kernel lists. */
export function mappingGauges(snapshot: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const size of ['4k', '2m']) {
    const v = snapshot[`vm.pages_${size}`];
    if (typeof v === 'number') out[`vm.pages_${size}_now`] = v;
  }
  return out;
}

/** Key-wise sum of records (exit counts, KVM statistics of several vCPUs). */
export function sumRecords(rs: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}
