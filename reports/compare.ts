// Side-by-side comparison of several results files (two hosts, kernels or commits): per
// (workload, access) group and strategy/variant, each file's ns per access and its speed-up over
// userspace-exit measured in that same file. Pure.

import type { ResultRow, ResultsFile, Status } from './schema.js';
import type { BarChartSpec } from './chart-data.js';
import { SERIES_COLOURS } from './chart-data.js';
import { timingBasis, type TimingBasis } from './timing.js';
import { baselineRow, groupRows, groupTitle, nsPerAccess, rowName, scanNs, speedupPerAccess, speedupScan } from './row-metrics.js';

/** A results file and the label it is shown under (normally its path). */
export interface LabelledResults {
  label: string;
  results: ResultsFile;
}

/** How one file is identified in the comparison. */
export interface ComparedFileHeader {
  label: string;
  hostId: string;
  kernel: string;
  kvmBackend: string;
  /** hardware, or emulated (a bench lab run under TCG). */
  timing: TimingBasis;
  /** "lab tcg, QEMU 7.2 on 6.18…" for bench lab runs, else ''. */
  lab: string;
  createdAt: string;
  complete: boolean;
}

/** One file's figures for one strategy/variant in one group; all null when the file lacks the row. */
export interface ComparisonCell {
  status: Status | null;
  nsPerAccess: number | null;
  speedup: number | null;
  scanNs: number | null;
  scanSpeedup: number | null;
  /** This file's ns per access ÷ the first file's (>1 = slower than the first file). */
  vsFirst: number | null;
}

/** One (workload, access) group: a row per strategy/variant, a cell per file. */
export interface ComparisonGroup {
  title: string;
  rows: { name: string; cells: ComparisonCell[] }[];
  chart: BarChartSpec | null;
}

/** The whole comparison. */
export interface Comparison {
  files: ComparedFileHeader[];
  /** Whether every file comes from the same host fingerprint (absolute ns are comparable). */
  sameHost: boolean;
  /** Whether the files mix hardware and emulated timing (only speed-ups compare then). */
  mixedTiming: boolean;
  groups: ComparisonGroup[];
}

/** Builds the comparison of two or more files. `idPrefix` names the charts' canvases. */
export function compareResults(files: readonly LabelledResults[], idPrefix = 'cmp'): Comparison {
  const headers = files.map(({ label, results }) => ({
    label,
    hostId: results.host?.id ?? '',
    kernel: results.host?.kernel ?? '',
    kvmBackend: results.host?.kvmBackend ?? '',
    timing: timingBasis(results.host),
    lab: results.host?.lab ? `lab ${results.host.lab.accel}, QEMU ${results.host.lab.qemu} on ${results.host.lab.outerKernel}` : '',
    createdAt: results.createdAt ?? '',
    complete: results.complete !== false,
  }));
  const order: { key: string; title: string }[] = [];
  const perFile = files.map(({ results }) => {
    const m = new Map<string, { rows: ResultRow[]; base: ResultRow | undefined }>();
    for (const g of groupRows(results.rows)) {
      const key = JSON.stringify([g.workload, g.access]);
      if (!order.some((o) => o.key === key)) order.push({ key, title: groupTitle(g) });
      m.set(key, { rows: g.rows, base: baselineRow(g.rows) });
    }
    return m;
  });

  const groups = order.map(({ key, title }, gi): ComparisonGroup => {
    const names: string[] = [];
    for (const m of perFile) for (const r of m.get(key)?.rows ?? []) if (!names.includes(rowName(r))) names.push(rowName(r));
    const rows = names.map((name) => {
      const cells = perFile.map((m): ComparisonCell => {
        const g = m.get(key);
        const r = g?.rows.find((x) => rowName(x) === name);
        if (!g || !r) return { status: null, nsPerAccess: null, speedup: null, scanNs: null, scanSpeedup: null, vsFirst: null };
        return { status: r.status, nsPerAccess: nsPerAccess(r), speedup: speedupPerAccess(r, g.base), scanNs: scanNs(r), scanSpeedup: speedupScan(r, g.base), vsFirst: null };
      });
      const first = cells[0].nsPerAccess;
      for (const c of cells.slice(1)) c.vsFirst = first !== null && c.nsPerAccess !== null && first > 0 ? c.nsPerAccess / first : null;
      return { name, cells };
    });
    const withFigure = rows.filter((r) => r.cells.some((c) => c.nsPerAccess !== null));
    const chart: BarChartSpec | null = withFigure.length
      ? {
          kind: 'hbar',
          id: `${idPrefix}-g${gi}`,
          title: `Time per hole access: ${title}`,
          caption: 'Cold scan, median ns per hole access in each file, log scale; error bars are omitted here (see each file\'s own charts for the interquartile ranges). Across different hosts compare the speed-ups in the table, not the absolute times.',
          unit: 'ns',
          axis: 'ns per hole access, cold scan (log scale)',
          log: true,
          errorBars: false,
          labels: withFigure.map((r) => r.name),
          datasets: headers
            .map((h, fi) => ({ label: h.label, color: SERIES_COLOURS[fi % SERIES_COLOURS.length], values: withFigure.map((r) => r.cells[fi].nsPerAccess) }))
            .filter((d) => d.values.some((v) => v !== null)),
          height: Math.max(180, 100 + withFigure.length * (headers.length * 16 + 12)),
        }
      : null;
    return { title, rows, chart };
  });

  return { files: headers, sameHost: new Set(headers.map((h) => h.hostId)).size <= 1, mixedTiming: new Set(headers.map((h) => h.timing)).size > 1, groups };
}
