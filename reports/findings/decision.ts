// The top of the report: what a KVM developer decides from. A ranked summary table per
// (workload, access) group and one recommendation per host-memory budget, computed from the rows.
// Pure; every figure comes from the file.

import type { ResultRow, Status, Summary } from '../../runner/results/schema.js';
import type { RowGroup } from '../../runner/results/row-metrics.js';
import { baselineRow, exitMedian, hasData, hugeMappings, kvmStatMedian, rowLabel, USERSPACE_EXIT_KINDS } from '../../runner/results/row-metrics.js';
import { speedupOf, type Speedup } from '../../runner/results/speedup.js';

/** One line of the summary table. */
export interface DecisionRow {
  row: ResultRow;
  label: string;
  status: Status;
  reason: string;
  /** Cold ns per hole access (median, quartiles); null without a hole-only phase or samples. */
  perAccess: Summary | null;
  /** Speed-up over userspace-exit per hole access, with its confidence interval. */
  speedup: Speedup | null;
  /** Cold whole scan. */
  scan: Summary | null;
  /** Whole-scan speed-up (the figure for strategies that do not probe). */
  scanSpeedup: Speedup | null;
  /** Exits to the VMM per hole access (PCI traffic only); null without hole accesses. */
  userspaceExitsPerHole: number | null;
  /** KVM's own exit count (vcpu.exits) per hole access; null when n/a or no hole accesses. */
  kvmExitsPerHole: number | null;
  /** KVM page faults taken (vcpu.pf_taken) per hole access. */
  faultsPerHole: number | null;
  /** 2 MiB mappings the VM held after the scan (vm.pages_2m_now); null when n/a. */
  hugeMappings: number | null;
  memoryBytes: number | null;
  setup: Summary | null;
  backingShared: boolean;
  /** 1-based rank by whole cold scan (what a boot pays); null for rows without figures. */
  rank: number | null;
}

/** Per hole access: x / the row's hole accesses, or null. */
function perHole(row: ResultRow, x: number | null): number | null {
  return x !== null && row.holeAccesses > 0 ? x / row.holeAccesses : null;
}

/** The summary table of one group, ranked by whole cold scan (fastest first), rows without figures last. */
export function decisionRows(g: RowGroup): DecisionRow[] {
  const base = baselineRow(g.rows);
  const rows = g.rows.map((r): DecisionRow => {
    const data = hasData(r);
    return {
      row: r,
      label: rowLabel(r),
      status: r.status,
      reason: r.reason,
      perAccess: data ? r.stats.nsPerAccess : null,
      speedup: data ? speedupOf(base, r, 'nsPerAccess') : null,
      scan: data ? r.stats.scanNs : null,
      scanSpeedup: data ? speedupOf(base, r, 'scanNs') : null,
      userspaceExitsPerHole: data ? perHole(r, exitMedian(r, USERSPACE_EXIT_KINDS)) : null,
      kvmExitsPerHole: data ? perHole(r, kvmStatMedian(r, 'exits')) : null,
      faultsPerHole: data ? perHole(r, kvmStatMedian(r, 'pf_taken')) : null,
      hugeMappings: data ? hugeMappings(r) : null,
      memoryBytes: data ? r.memoryBytes : null,
      setup: data ? r.stats.setupMs : null,
      backingShared: r.backingShared === true,
      rank: null,
    };
  });
  const ranked = rows.filter((d) => d.scan !== null).sort((a, b) => (a.scan as Summary).median - (b.scan as Summary).median);
  ranked.forEach((d, i) => (d.rank = i + 1));
  return [...ranked, ...rows.filter((d) => d.scan === null)];
}

/** The host-memory budgets the recommendations are given for, bytes per VM. */
export const MEMORY_BUDGETS: readonly number[] = [0, 4 * 1024, 2 * 2 ** 20, 256 * 2 ** 20];

/** Strategies that take the probes out of the boot instead of serving them faster. */
export const NON_PROBING = ['guest-enlightenment', 'right-sized-window'];

/** The best probing row within one memory budget. */
export interface BudgetChoice {
  budget: number;
  /** The fastest row per hole access whose backing fits the budget, if any. */
  best: DecisionRow | null;
  /** Rows measured for real that fit, when the best is a proxy: the fastest of them. */
  bestMeasured: DecisionRow | null;
  /** The smaller budget's choice is as good (confidence intervals of the speed-ups overlap). */
  sameAsSmaller: boolean;
}

/** One choice per budget of MEMORY_BUDGETS: the fastest row per hole access that fits it. */
export function budgetChoices(rows: readonly DecisionRow[]): BudgetChoice[] {
  const probing = rows.filter((d) => d.perAccess !== null && d.memoryBytes !== null && (d.status === 'measured' || d.status === 'proxy'));
  const fastest = (xs: DecisionRow[]): DecisionRow | null => (xs.length ? xs.reduce((a, b) => ((a.perAccess as Summary).median <= (b.perAccess as Summary).median ? a : b)) : null);
  const out: BudgetChoice[] = [];
  for (const budget of MEMORY_BUDGETS) {
    const fits = probing.filter((d) => (d.memoryBytes as number) <= budget);
    const best = fastest(fits);
    const bestMeasured = best?.status === 'proxy' ? fastest(fits.filter((d) => d.status === 'measured')) : null;
    const prev = out[out.length - 1]?.best ?? null;
    const sameAsSmaller = !!(best && prev && (best === prev || overlap(best.speedup, prev.speedup)));
    out.push({ budget, best, bestMeasured, sameAsSmaller });
  }
  return out;
}

/** Whether two speed-ups' confidence intervals overlap (the difference is not established). */
export function overlap(a: Speedup | null, b: Speedup | null): boolean {
  return !!(a && b && a.lo <= b.hi && b.lo <= a.hi);
}

/** The rows that do not probe the hole, fastest whole scan first. */
export function nonProbing(rows: readonly DecisionRow[]): DecisionRow[] {
  return rows.filter((d) => NON_PROBING.includes(d.row.strategy) && d.scanSpeedup !== null);
}
