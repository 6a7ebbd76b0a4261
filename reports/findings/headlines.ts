// The report's headline: answers to the questions the 2020 review thread left open, computed
// from the rows of one results file. Every number comes from the file; a question the file
// cannot answer says so ("not measured in this file", or the unsupported reason). The cards sit
// below the summary table and repeat none of its figures (a row's time, IQR, memory, setup, 2 MiB
// mappings): they give what the table cannot, comparisons between two rows and what they mean.
// The exception is the hugepage-vs-prefetch card's own small table: the figures the 2020
// question asks for per row (faults per 2 MiB, SPTEs installed and held, setup, memory).

import type { ResultRow, ResultsFile } from '../../runner/results/schema.js';
import { fmtBytes, fmtCount, fmtMs, fmtNs, fmtRatio } from '../../runner/shared/format.js';
import {
  BASELINE_STRATEGY,
  baselineRow,
  findRow,
  groupTitle,
  hasData,
  hugeMappings,
  kvmStatMedian,
  med,
  nsPerAccess,
  preferredGroups,
  rowLabel,
  speedupPerAccess,
} from '../../runner/results/row-metrics.js';
import type { RowGroup } from '../../runner/results/row-metrics.js';
import { workloads } from '../../workloads/index.js';
import { speedupOf } from '../../runner/results/speedup.js';
import { strategyLabel } from '../../runner/shared/row-id.js';

/** One question and its computed answer, as plain-text sentences. */
export interface Headline {
  id: 'hugepage-vs-prefetch' | 'huge-spte-cost' | 'in-kernel-vs-userspace';
  question: string;
  answer: string[];
  /** Per-row figures the comparison rests on (the hugepage-vs-prefetch card), as display strings. */
  table?: HeadlineTable;
}

/** A small table inside a headline card: plain-text cells, 'n/a' where the file lacks the figure. */
export interface HeadlineTable {
  head: string[];
  rows: string[][];
  note: string;
}

/** Strategies that answer a hole read in KVM instead of userspace (measured or proxy). */
export const IN_KERNEL_STRATEGIES = ['memslot-flag', 'mmio-bus-device'];

/** Computes the three headline answers for one results file. */
export function headlines(file: ResultsFile): Headline[] {
  const groups = preferredGroups(file);
  return [hugepageVsPrefetch(file, groups), hugeSpteCost(file, groups), inKernelVsUserspace(groups)];
}

/**
 * What the file holds for a strategy (optionally one variant) when a comparison cannot be made:
 * its figure if it has one, else its unsupported/failed reason, else that it was not run.
 */
export function missingText(file: ResultsFile, strategy: string, variant?: string): string {
  const rows = file.rows.filter((r) => r.strategy === strategy && (variant === undefined || r.variant === variant));
  const name = strategyLabel({ strategy, variant: variant ?? '' });
  const measured = rows.find((r) => nsPerAccess(r) !== null);
  if (measured) return `${rowLabel(measured)} is measured on ${groupTitle(measured)} (figures in the summary table)`;
  const unsup = rows.find((r) => r.status === 'unsupported');
  if (unsup) return `${name} is unsupported on this host: ${unsup.reason || 'no reason given'}`;
  const failed = rows.find((r) => r.status === 'failed');
  if (failed) return `${name} failed: ${failed.reason || 'no reason given'}`;
  if (rows.length) return `${name} has no per-access figure in this file`;
  return `${name}: not measured in this file`;
}

/** The first group (in headline preference order) where `pick` finds every row it needs. */
function firstGroup<T>(groups: RowGroup[], pick: (g: RowGroup) => T | null): { g: RowGroup; v: T } | null {
  for (const g of groups) {
    const v = pick(g);
    if (v !== null) return { g, v };
  }
  return null;
}

function withFigure(rows: readonly ResultRow[], strategy: string, variants?: string[]): ResultRow[] {
  return rows.filter((r) => r.strategy === strategy && (!variants || variants.includes(r.variant)) && nsPerAccess(r) !== null);
}

/** "memory the same (256 MiB)" or "memory 4 KiB → 2 MiB": what the second row costs beside the first. */
function costChange(from: ResultRow, to: ResultRow): string {
  const mem = from.memoryBytes === to.memoryBytes ? `host memory the same (${fmtBytes(to.memoryBytes)})` : `host memory ${fmtBytes(from.memoryBytes)} → ${fmtBytes(to.memoryBytes)}`;
  return `${mem}, setup ${fmtMs(med(from.stats.setupMs))} → ${fmtMs(med(to.stats.setupMs))} per VM${to.backingShared ? ' (shared backing: once per host)' : ''}`;
}

function otherGroups(groups: RowGroup[], chosen: RowGroup, f: (g: RowGroup) => string | null): string[] {
  const parts = groups.filter((g) => g !== chosen).flatMap((g) => {
    const t = f(g);
    return t === null ? [] : [`${groupTitle(g)} ${t}`];
  });
  return parts.length ? [`Same comparison on the other workloads of this file: ${parts.join('; ')}.`] : [];
}

/** The rows the hugepage-vs-prefetch card compares: hugepage backings, single-HVA flags, and prefetching. */
export const HUGE_BACKED: { strategy: string; variant: string }[] = [
  { strategy: 'ro-page', variant: 'thp' },
  { strategy: 'ro-page', variant: 'hugetlb' },
  { strategy: 'shared-hva', variant: '2m' },
  { strategy: 'shared-hva', variant: 'flag-2m' },
];
/** Prefetching: '' = KVM_PRE_FAULT_MEMORY in setup, 'fault-2m' = 2 MiB prefetch on fault, one prefetch fault per page
 *  (patched KVM), 'fault-2m-batch' = the same range in one batch (one GUP, one mmu_lock hold; patched KVM). */
export const PREFETCHING: { strategy: string; variant: string }[] = [
  { strategy: 'spte-prefetch', variant: '' },
  { strategy: 'spte-prefetch', variant: 'fault-2m' },
  { strategy: 'spte-prefetch', variant: 'fault-2m-batch' },
];
/** Shown beside them: the single-HVA flag with a 4 KiB period (one slot, one page, no 2 MiB SPTE). */
export const PREFETCH_CARD_ROWS = [...HUGE_BACKED, { strategy: 'shared-hva', variant: 'flag-4k' }, ...PREFETCHING];

const TWO_MIB = 2 * 2 ** 20;

/** 2 MiB pieces of a workload's ECAM window (1 MiB per bus), or null for a workload this build does not know. */
export function windowPieces2M(workload: string): number | null {
  const w = workloads.find((x) => x.id === workload);
  return w ? Math.ceil((w.window.buses * 2 ** 20) / TWO_MIB) : null;
}

/** One line of the hugepage-vs-prefetch table; null = the file lacks the figure (never 0). */
export interface PrefetchFigures {
  row: ResultRow;
  nsPerAccess: number | null;
  /** vcpu.pf_taken over the scan ÷ the window's 2 MiB pieces. */
  faultsPer2M: number | null;
  /** SPTEs installed during the scan (vm.pages_4k, vm.pages_2m deltas). */
  scan4k: number | null;
  scan2m: number | null;
  /** SPTEs held after the scan, setup included (vm.pages_4k_now, vm.pages_2m_now gauges). */
  held4k: number | null;
  held2m: number | null;
  setupMs: number | null;
  memoryBytes: number | null;
}

/** The figures of the card's rows present (with data) in a group, in PREFETCH_CARD_ROWS order. */
export function prefetchFigures(g: RowGroup): PrefetchFigures[] {
  const pieces = windowPieces2M(g.workload);
  return PREFETCH_CARD_ROWS.flatMap(({ strategy, variant }) => {
    const row = g.rows.find((r) => r.strategy === strategy && r.variant === variant && hasData(r));
    if (!row) return [];
    const pf = kvmStatMedian(row, 'pf_taken');
    return [
      {
        row,
        nsPerAccess: nsPerAccess(row),
        faultsPer2M: pf !== null && pieces ? pf / pieces : null,
        scan4k: kvmStatMedian(row, 'pages_4k'),
        scan2m: kvmStatMedian(row, 'pages_2m'),
        held4k: kvmStatMedian(row, 'pages_4k_now'),
        held2m: kvmStatMedian(row, 'pages_2m_now'),
        setupMs: med(row.stats?.setupMs),
        memoryBytes: row.memoryBytes,
      },
    ];
  });
}

function na(v: number | null, f: (x: number) => string): string {
  return v === null ? 'n/a' : f(v);
}

function prefetchTable(g: RowGroup): HeadlineTable | undefined {
  const figs = prefetchFigures(g);
  if (!figs.length) return undefined;
  const pieces = windowPieces2M(g.workload);
  const pair = (a: number | null, b: number | null): string => (a === null && b === null ? 'n/a' : `${na(a, fmtCount)} / ${na(b, fmtCount)}`);
  return {
    head: ['row', 'cold ns/access', 'faults per 2 MiB', 'SPTEs 4 KiB / 2 MiB in the scan', 'held after it', 'setup', 'host memory'],
    rows: figs.map((f) => [
      rowLabel(f.row),
      na(f.nsPerAccess, fmtNs),
      na(f.faultsPer2M, (x) => x.toFixed(x >= 100 ? 0 : 2)),
      pair(f.scan4k, f.scan2m),
      pair(f.held4k, f.held2m),
      na(f.setupMs, fmtMs),
      `${na(f.memoryBytes, fmtBytes)}${f.row.backingShared ? ' (shared)' : ''}`,
    ]),
    note: `${groupTitle(g)}, medians over fresh VMs. Faults per 2 MiB: vcpu.pf_taken over the scan ÷ ${pieces ? `the window's ${fmtCount(pieces)} 2 MiB pieces` : 'the window\'s 2 MiB pieces (n/a: unknown workload)'}. SPTEs in the scan: the deltas vm.pages_4k / vm.pages_2m; held after it: the gauges vm.pages_4k_now / vm.pages_2m_now (setup included, where KVM_PRE_FAULT_MEMORY maps). n/a: not recorded by this kernel.`,
  };
}

/**
 * How many times as fast per hole access `row` is as `reference`: the suite's one definition of a
 * speed-up (runner/results/speedup.ts, median of per-round ratios reference[i] / row[i]), not a ratio of
 * medians; null when no round has both figures.
 */
export function pairwise(reference: ResultRow, row: ResultRow): number | null {
  return speedupOf(reference, row, 'nsPerAccess')?.median ?? null;
}

/** The faster of two rows and its speed-up over the other (≥ 1), by the one definition. */
export function pairSpeedup(a: ResultRow, b: ResultRow): { win: ResultRow; lose: ResultRow; speedup: number } | null {
  const bOverA = pairwise(a, b);
  if (bOverA === null) return null;
  if (bOverA >= 1) return { win: b, lose: a, speedup: bOverA };
  return { win: a, lose: b, speedup: pairwise(b, a) as number };
}

function best(rows: ResultRow[]): ResultRow {
  return rows.reduce((a, b) => ((nsPerAccess(a) as number) <= (nsPerAccess(b) as number) ? a : b));
}

function hugepageVsPrefetch(file: ResultsFile, groups: RowGroup[]): Headline {
  const question = 'Hugepage-backed read-only page or 2 MiB SPTE prefetch?';
  const pick = (list: { strategy: string; variant: string }[], g: RowGroup): ResultRow[] => list.flatMap((x) => withFigure(g.rows, x.strategy, [x.variant]));
  const found = firstGroup(groups, (g) => {
    const huge = pick(HUGE_BACKED, g);
    const pre = pick(PREFETCHING, g);
    return huge.length || pre.length ? { huge, pre } : null;
  });
  const missingAll = (list: { strategy: string; variant: string }[]): string => list.map((x) => missingText(file, x.strategy, x.variant)).join('; ');
  if (!found) {
    return { id: 'hugepage-vs-prefetch', question, answer: [`${missingAll(HUGE_BACKED)}; ${missingAll(PREFETCHING)}.`] };
  }
  const { g, v } = found;
  const answer: string[] = [];
  if (!v.huge.length) answer.push(`On ${groupTitle(g)}, hugepage backing: ${missingAll(HUGE_BACKED)}.`);
  if (v.pre.length) {
    if (v.huge.length) {
      const bestHuge = best(v.huge);
      const bestPre = best(v.pre);
      const p = pairSpeedup(bestPre, bestHuge);
      if (p !== null) {
        answer.push(`On ${groupTitle(g)}: ${rowLabel(p.win)} is ${fmtRatio(p.speedup)} as fast per access as ${rowLabel(p.lose)}; going from ${rowLabel(p.lose)} to it, ${costChange(p.lose, p.win)}.`);
      }
    }
    const absent = PREFETCHING.filter((x) => !v.pre.some((r) => r.variant === x.variant));
    if (absent.length) answer.push(`${missingAll(absent)}.`);
  } else {
    answer.push(`${missingAll(PREFETCHING)}, so this file cannot compare prefetching with a hugepage backing${v.huge.length ? ` (${v.huge.map(rowLabel).join(' and ')}: see the summary table and the next card)` : ''}.`);
  }
  const table = prefetchTable(g);
  return { id: 'hugepage-vs-prefetch', question, answer, ...(table ? { table } : {}) };
}

/** Pairs whose only difference is the size of the mappings KVM can make. */
const HUGE_PAIRS: { strategy: string; small: string; huge: string }[] = [
  { strategy: 'ro-page', small: '4k', huge: 'thp' },
  { strategy: 'ro-page', small: '4k', huge: 'hugetlb' },
  { strategy: 'shared-hva', small: '4k', huge: '2m' },
];

function hugeSpteCost(file: ResultsFile, groups: RowGroup[]): Headline {
  const question = 'What does mapping the window with huge SPTEs buy, and cost?';
  const answer: string[] = [];
  for (const p of HUGE_PAIRS) {
    const pick = (g: RowGroup): { small: ResultRow; huge: ResultRow } | null => {
      const small = findRow(g.rows, p.strategy, p.small);
      const huge = findRow(g.rows, p.strategy, p.huge);
      return small && huge && nsPerAccess(small) !== null && nsPerAccess(huge) !== null ? { small, huge } : null;
    };
    const found = firstGroup(groups, pick);
    if (!found) {
      answer.push(`${p.strategy} ${p.small} vs ${p.huge}: ${missingText(file, p.strategy, p.small)}; ${missingText(file, p.strategy, p.huge)}.`);
      continue;
    }
    const { small, huge } = found.v;
    const r = pairwise(small, huge);
    // The gauge, not the scan delta: mappings made during setup count (hugeMappings).
    const p2 = hugeMappings(huge);
    let s = `${p.strategy} on ${groupTitle(found.g)}: ${p.huge} is ${fmtRatio(r)} faster per access than ${p.small}; ${costChange(small, huge)}`;
    if (p2 !== null) s += p2 > 0 ? '; KVM did map it with 2 MiB pages (vm.pages_2m_now > 0)' : noHugeText(huge);
    else if (kvmStatMedian(huge, 'pages_2m') === null) s += '; whether KVM held 2 MiB mappings is n/a (no vm.pages_2m statistic on this kernel)';
    answer.push(`${s}.`);
    answer.push(
      ...otherGroups(groups, found.g, (g) => {
        const o = pick(g);
        return o ? fmtRatio(pairwise(o.small, o.huge)) : null;
      }),
    );
  }
  return { id: 'huge-spte-cost', question, answer };
}

/** The huge row held no 2 MiB mapping after its scan (gauge vm.pages_2m_now is 0). */
function noHugeText(row: ResultRow): string {
  const small = kvmStatMedian(row, 'pages_4k_now');
  const only4k = small === null ? '' : ` (only ${fmtCount(small)} 4 KiB mappings, vm.pages_4k_now)`;
  return `; but vm.pages_2m_now is 0: KVM held no 2 MiB mapping after the scan${only4k}, so the difference is not the SPTE size`;
}

function inKernelVsUserspace(groups: RowGroup[]): Headline {
  const question = 'In-kernel versus userspace: cost per hole access on this host';
  const found = firstGroup(groups, (g) => {
    const base = baselineRow(g.rows);
    const kernel = IN_KERNEL_STRATEGIES.flatMap((s) => withFigure(g.rows, s));
    return base && nsPerAccess(base) !== null && kernel.length ? { base, kernel } : null;
  });
  if (!found) {
    const base = groups.map((g) => baselineRow(g.rows)).find((r) => r && nsPerAccess(r) !== null);
    const allRows = groups.flatMap((g) => g.rows);
    const reasons = IN_KERNEL_STRATEGIES.map((s) => {
      const r = allRows.find((x) => x.strategy === s);
      return r ? `${rowLabel(r)}: ${r.status}${r.reason ? ` (${r.reason})` : ''}` : `${s}: not measured in this file`;
    });
    return {
      id: 'in-kernel-vs-userspace',
      question,
      answer: [
        base ? `${BASELINE_STRATEGY} is measured on ${base.workload} (${base.access}) (figures in the summary table).` : `${BASELINE_STRATEGY}: not measured in this file.`,
        `No in-kernel figure to compare with: ${reasons.join('; ')}.`,
      ],
    };
  }
  const { g, v } = found;
  const baseNs = nsPerAccess(v.base) as number;
  const holes = v.base.holeAccesses;
  const answer = [`On ${groupTitle(g)}, against a hole read that exits to userspace (${BASELINE_STRATEGY}), over the ${fmtCount(holes)} hole reads of one scan:`];
  for (const r of v.kernel) {
    const k = nsPerAccess(r) as number;
    answer.push(`answered in KVM by ${rowLabel(r)}: ${fmtRatio(speedupPerAccess(r, v.base))} less per access, ${fmtNs(baseNs * holes)} → ${fmtNs(k * holes)}, ${fmtNs((baseNs - k) * holes)} saved per boot${r.status === 'proxy' ? ' (a stand-in: what it stands in for is in the workload notes)' : ''}.`);
  }
  answer.push(
    ...otherGroups(groups, g, (o) => {
      const base = baselineRow(o.rows);
      const rows = IN_KERNEL_STRATEGIES.flatMap((s) => withFigure(o.rows, s));
      if (!base || !rows.length) return null;
      const ss = rows.map((r) => `${rowLabel(r)} ${fmtRatio(speedupPerAccess(r, base))}`).filter((t) => !t.endsWith('—'));
      return ss.length ? ss.join(', ') : null;
    }),
  );
  return { id: 'in-kernel-vs-userspace', question, answer };
}

/** Whether any row of the file has data (a file of only unsupported rows has no headline numbers). */
export function fileHasData(file: ResultsFile): boolean {
  return file.rows.some(hasData);
}
