// Figures derived from result rows, shared by the CSV, the charts, the headlines and the
// multi-file comparison. Pure functions; tolerant of fields a hand-edited file may lack.

import { quantile } from 'simple-statistics';
import type { Access, ResultRow, ResultsFile, Summary } from './schema.js';
import { speedupOf } from './speedup.js';
import { strategyLabel } from '../shared/row-id.js';

/** The rows of one workload run with one access method: the unit every chart and ratio is computed in. */
export interface RowGroup {
  workload: string;
  access: Access;
  rows: ResultRow[];
}

/** The strategy that every speed-up is relative to. */
export const BASELINE_STRATEGY = 'userspace-exit';

/** Exit kinds counted as MMIO exits (CSV mmio_exits). */
export const MMIO_EXIT_KINDS = ['mmio_read', 'mmio_write'] as const;
/** Exit kinds counted as port-I/O exits (CSV io_exits). */
export const IO_EXIT_KINDS = ['io_in', 'io_out'] as const;
/** Exit kinds that are PCI traffic reaching the VMM (not the harness's done signal, not yields). */
export const USERSPACE_EXIT_KINDS = [...MMIO_EXIT_KINDS, ...IO_EXIT_KINDS, 'other'] as const;

/**
 * KVM statistics the report's chart and the CSV show when recorded (all of them go to the
 * report's table). The first three are deltas over the scan (setup excluded); pages_2m_now is a
 * gauge read after the scan, so it also counts 2 MiB mappings made during setup (spte-prefetch's
 * pre-fault), which the delta vm.pages_2m misses.
 */
export const KEY_KVM_STATS = ['pf_taken', 'pf_fixed', 'exits', 'pages_2m_now'];

/** "strategy/variant", or just the strategy when its variant is empty or "default" (a name files may hold). */
export function rowName(row: Pick<ResultRow, 'strategy' | 'variant'>): string {
  return strategyLabel({ strategy: row.strategy, variant: row.variant === 'default' ? '' : row.variant });
}

/** rowName plus a visible "[proxy]" mark for proxy rows, used wherever a figure is shown. */
export function rowLabel(row: Pick<ResultRow, 'strategy' | 'variant' | 'status'>): string {
  return row.status === 'proxy' ? `${rowName(row)} [proxy]` : rowName(row);
}

/** A key that identifies a row across files: strategy, variant, workload, access (the gate matches rows on it). */
export function rowKey(row: Pick<ResultRow, 'strategy' | 'variant' | 'workload' | 'access'>): string {
  return JSON.stringify([row.strategy, row.variant, row.workload, row.access]);
}

/**
 * A row's full identity as text, "strategy/variant workload/access" (variant omitted when
 * empty): gate findings and duplicate-row refusals. Not rowLabel, which names the strategy only
 * and marks proxies.
 */
export function rowKeyLabel(r: Pick<ResultRow, 'strategy' | 'variant' | 'workload' | 'access'>): string {
  return `${strategyLabel(r)} ${r.workload}/${r.access}`;
}

/** Whether the row carries measurements (measured, proxy, or a failed row that still has samples). */
export function hasData(row: ResultRow): boolean {
  return row.status !== 'unsupported' && Array.isArray(row.samples) && row.samples.length > 0;
}

/** Groups rows by (workload, access), in order of first appearance; rows keep file order. */
export function groupRows(rows: readonly ResultRow[]): RowGroup[] {
  const groups = new Map<string, RowGroup>();
  for (const row of rows) {
    const k = JSON.stringify([row.workload, row.access]);
    let g = groups.get(k);
    if (!g) {
      g = { workload: row.workload, access: row.access, rows: [] };
      groups.set(k, g);
    }
    g.rows.push(row);
  }
  return [...groups.values()];
}

/** "workload (access)" */
export function groupTitle(g: Pick<RowGroup, 'workload' | 'access'>): string {
  return `${g.workload} (${g.access})`;
}

/** The median of finite values, interpolated like summarize(); null for none. */
export function medianOf(values: readonly number[]): number | null {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  return xs.length ? quantile(xs, 0.5) : null;
}

/** The median of a stats summary, or null when absent or not a finite number. */
export function med(s: Summary | null | undefined): number | null {
  return s && typeof s.median === 'number' && Number.isFinite(s.median) ? s.median : null;
}

/** Cold-scan ns per hole access (median), or null. */
export function nsPerAccess(row: ResultRow): number | null {
  return hasData(row) ? med(row.stats?.nsPerAccess) : null;
}

/** Cold whole-scan ns (median), or null. */
export function scanNs(row: ResultRow): number | null {
  return hasData(row) ? med(row.stats?.scanNs) : null;
}

/** Median over samples of the sum of the given exit kinds (a missing kind counts 0); null without samples. */
export function exitMedian(row: ResultRow, kinds: readonly string[]): number | null {
  if (!hasData(row)) return null;
  return medianOf(row.samples.map((s) => kinds.reduce((sum, k) => sum + num(s.exits?.[k]), 0)));
}

/**
 * The KVM statistic `name` for a row: median over samples. Matches a key equal to `name`
 * or ending in `.name` (the results file prefixes vcpu./vm.); null when no sample has it.
 */
export function kvmStatMedian(row: ResultRow, name: string): number | null {
  if (!hasData(row)) return null;
  const vals: number[] = [];
  for (const s of row.samples) {
    const stats = s.kvmStats ?? {};
    const key = Object.keys(stats).find((k) => k === name || k.endsWith(`.${name}`));
    if (key !== undefined && Number.isFinite(stats[key])) vals.push(stats[key]);
  }
  return medianOf(vals);
}

/** A row with samples none of which has KVM statistics (kvmStats null: no KVM_GET_STATS_FD, Linux < 5.14). */
export function kvmStatsAbsent(row: ResultRow): boolean {
  return hasData(row) && row.samples.every((s) => s.kvmStats === null || s.kvmStats === undefined);
}

/**
 * 2 MiB mappings the VM held after its scans, median over samples: the gauge vm.pages_2m_now,
 * which counts mappings made during setup too (spte-prefetch pre-faults them there). This, not
 * the delta vm.pages_2m over the scan, says whether a hugepage mapping happened. A file without
 * the gauge falls back to the delta only when it is positive (a zero delta proves nothing).
 */
export function hugeMappings(row: ResultRow): number | null {
  const now = kvmStatMedian(row, 'pages_2m_now');
  if (now !== null) return now;
  const delta = kvmStatMedian(row, 'pages_2m');
  return delta !== null && delta > 0 ? delta : null;
}

/** Every KVM statistic key recorded by these rows, sorted. */
export function kvmStatKeys(rows: readonly ResultRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const s of r.samples ?? []) for (const k of Object.keys(s.kvmStats ?? {})) seen.add(k);
  return [...seen].sort();
}

/** Median over samples of a numeric Sample field (vmCreateMs, teardownMs, …). */
export function sampleMedian(row: ResultRow, field: 'vmCreateMs' | 'teardownMs' | 'hostRunNs' | 'mappings' | 'vmmHoleExits' | 'memoryBytes'): number | null {
  if (!hasData(row)) return null;
  return medianOf(row.samples.map((s) => s[field]));
}

/** The userspace-exit row of a group that has data (the first one), if any. */
export function baselineRow(rows: readonly ResultRow[]): ResultRow | undefined {
  return rows.find((r) => r.strategy === BASELINE_STRATEGY && hasData(r));
}

/**
 * Speed-up of `row` over the baseline per hole access: the median of the per-round ratios
 * baseline ns / row ns (runner/results/speedup.ts, the one definition); null when no round has both.
 */
export function speedupPerAccess(row: ResultRow, base: ResultRow | undefined): number | null {
  return hasData(row) && base && hasData(base) ? (speedupOf(base, row, 'nsPerAccess')?.median ?? null) : null;
}

/** Speed-up of `row` over the baseline on the whole cold scan, defined as speedupPerAccess. */
export function speedupScan(row: ResultRow, base: ResultRow | undefined): number | null {
  return hasData(row) && base && hasData(base) ? (speedupOf(base, row, 'scanNs')?.median ?? null) : null;
}

/** a / b when both are finite and b > 0, else null. */
export function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null;
}

/** Finds the row for a strategy (and optionally a variant) in a group. */
export function findRow(rows: readonly ResultRow[], strategy: string, variant?: string): ResultRow | undefined {
  return rows.find((r) => r.strategy === strategy && (variant === undefined || r.variant === variant));
}

/**
 * The groups in the order headlines prefer them: linux-q35-boot over ECAM first (the case the
 * 2020 series measured), then other ECAM groups, then the rest, each in file order.
 */
export function preferredGroups(file: ResultsFile): RowGroup[] {
  const groups = groupRows(file.rows);
  const score = (g: RowGroup): number => (g.workload === 'linux-q35-boot' ? 0 : 2) + (g.access === 'ecam' ? 0 : 1);
  return groups.map((g, i) => ({ g, i })).sort((a, b) => score(a.g) - score(b.g) || a.i - b.i).map((x) => x.g);
}

/** "proxy: <reason>", without doubling a reason that already starts with "proxy". */
export function proxyText(reason: string): string {
  const r = reason || 'a stand-in measured on real KVM';
  return /^proxy\b/i.test(r) ? r : `proxy: ${r}`;
}

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}
