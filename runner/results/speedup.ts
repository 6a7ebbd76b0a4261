// The one definition of a speed-up, shared by the report, the CSV, the run table and the gate:
// the MEDIAN OF PER-ROUND RATIOS reference[i] / row[i], where sample i of both rows is the
// i-th fresh VM (one per round, rounds interleaved, so a ratio pairs VMs measured side by side
// and host drift cancels). Samples are paired by their index in the file; a pair where either
// side has no figure is skipped (never shifted). The confidence interval of that median comes
// from order statistics (distribution-free): [x(k), x(n−k+1)] with the largest k whose binomial
// tail stays within (1 − level) / 2, and its true coverage is given beside it.

import { binomialDistribution, median } from 'simple-statistics';
import type { ResultRow } from './schema.js';

/** Which cold figure a speed-up is taken on. */
export type SpeedupMetric = 'nsPerAccess' | 'scanNs';

/** A speed-up with its spread. */
export interface Speedup {
  /** Median of the per-round ratios reference / row (> 1: the row is faster). */
  median: number;
  /** Distribution-free confidence interval of that median. */
  lo: number;
  hi: number;
  /** Actual coverage of [lo, hi] (≥ the level asked, or the most n allows). */
  coverage: number;
  /** The per-round ratios (file order). */
  ratios: number[];
  metric: SpeedupMetric;
}

/** The cold figure of sample i, or null when it has none (an errored sample, no hole phase). */
export function coldValue(row: ResultRow, i: number, metric: SpeedupMetric): number | null {
  const s = row.samples?.[i];
  if (!s || s.error) return null;
  const cold = s.scans?.[0];
  const v = cold ? (metric === 'nsPerAccess' ? cold.nsPerAccess : cold.ns) : null;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

/** Per-round ratios reference[i] / row[i] over the rounds both rows have a figure for. */
export function pairedRatios(reference: ResultRow, row: ResultRow, metric: SpeedupMetric): number[] {
  const out: number[] = [];
  const n = Math.min(reference.samples?.length ?? 0, row.samples?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const a = coldValue(reference, i, metric);
    const b = coldValue(row, i, metric);
    if (a !== null && b !== null) out.push(a / b);
  }
  return out;
}

/**
 * Order-statistic confidence interval of the median of `xs` at `level` (default 0.95). With
 * too few values for the level (n < 6 at 95 %), the widest interval [min, max] and its lower coverage.
 */
export function medianCI(xs: readonly number[], level = 0.95): { lo: number; hi: number; coverage: number } | null {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return null;
  const pmf = binomialDistribution(n, 0.5) as number[];
  const alpha2 = (1 - level) / 2;
  // [x(k), x(n−k+1)] (1-based) misses the median with probability 2·P(B ≤ k − 1), B ~ Bin(n, ½).
  let k = 0;
  let cum = 0;
  let tail = 0;
  for (let j = 1; j <= Math.floor(n / 2); j++) {
    cum += pmf[j - 1] ?? 0;
    if (cum > alpha2) break;
    k = j;
    tail = cum;
  }
  // No interval reaches the level: the widest one, [min, max], with its coverage.
  if (k === 0) return { lo: s[0], hi: s[n - 1], coverage: 1 - 2 * (pmf[0] ?? 0) };
  return { lo: s[k - 1], hi: s[n - k], coverage: 1 - 2 * tail };
}

/** The speed-up of `row` over `reference` on `metric`, or null with no paired figure. */
export function speedupOf(reference: ResultRow | undefined, row: ResultRow, metric: SpeedupMetric): Speedup | null {
  if (!reference) return null;
  const ratios = pairedRatios(reference, row, metric);
  if (!ratios.length) return null;
  const ci = medianCI(ratios) as { lo: number; hi: number; coverage: number };
  return { median: median(ratios), lo: ci.lo, hi: ci.hi, coverage: ci.coverage, ratios, metric };
}

/** "95 %" / "94 %": a coverage as the reader sees it. */
export function coverageText(c: number): string {
  return `${Math.floor(c * 1000) / 10} %`.replace('.0 %', ' %');
}
