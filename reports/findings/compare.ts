// Side-by-side comparison of several results files (two hosts, kernels or commits): per
// (workload, access) group and strategy/variant, each file's ns per access and its speed-up over
// userspace-exit measured in that same file. Pure.

import type { ResultRow, ResultsFile, Status } from '../../runner/results/schema.js';
import type { BarChartSpec } from '../charts/chart-specs.js';
import { SERIES_COLOURS } from '../charts/chart-data.js';
import { isLabTiming, timingBasis, timingLabel, type TimingBasis } from '../../runner/results/timing.js';
import { baselineRow, exitMedian, groupRows, groupTitle, hugeMappings, kvmStatMedian, nsPerAccess, rowName, scanNs, USERSPACE_EXIT_KINDS } from '../../runner/results/row-metrics.js';
import { speedupOf, type Speedup } from '../../runner/results/speedup.js';
import { gate, type Finding } from '../gate/gate.js';

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
  /** hardware, or a TCG lab's instructions (icount) or emulated wall clock. */
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
  /** The speed-up (per hole access, else whole scan) with its confidence interval. */
  speedupCI: Speedup | null;
  /** Exits the VMM served per hole access (PCI traffic, present devices included). */
  exitsPerHole: number | null;
  /** 2 MiB mappings the VM held after the scan (vm.pages_2m_now); null when n/a. */
  hugeMappings: number | null;
  /** KVM page faults (vcpu.pf_taken, scan only) per hole access: the mechanism's fault path; null when n/a. */
  faultsPerHole: number | null;
  /** Strategy setup per VM, ms, median (0xff fill, aliasing, pre-fault). */
  setupMs: number | null;
  /** Change of the speed-up against the first file, percent (files after the first). */
  deltaPct: number | null;
  /** The gate's verdict on this row, first file as baseline, --ratios (files after the first). */
  gate: Pick<Finding, 'severity' | 'pValue' | 'message'> | null;
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
  /** Inputs given twice (same label or identical content): one line each. */
  duplicates: string[];
  /** Why the gate could not compare a file with the first (it refuses duplicate rows), per file index. */
  gateProblems: string[];
  groups: ComparisonGroup[];
}

/** A finding's key: strategy, variant, workload, access. */
function fkey(f: Pick<Finding, 'strategy' | 'variant' | 'workload' | 'access'>): string {
  return JSON.stringify([f.strategy, f.variant, f.workload, f.access]);
}

/** Gate options of the comparison: speed-ups (files come from different hosts), the gate's defaults. */
export const COMPARE_GATE = { thresholdPct: 5, alpha: 0.01, ratios: true, allowUntested: true } as const;

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
  const duplicates: string[] = [];
  const texts = files.map(({ results }) => JSON.stringify(results));
  files.forEach((f, i) => {
    const j = files.findIndex((g, k) => k < i && (g.label === f.label || texts[k] === texts[i]));
    if (j >= 0) duplicates.push(`${f.label} is ${files[j].label === f.label ? 'given twice' : `the same results as ${files[j].label} (identical content)`}: its columns repeat the first one's`);
  });
  // The gate, first file as baseline, on speed-ups: per row verdict and p-value.
  const gateProblems: string[] = [];
  const verdicts = files.map(({ results }, i) => {
    const m = new Map<string, Finding>();
    if (i === 0) return m;
    try {
      for (const f of gate(files[0].results, results, COMPARE_GATE).findings) if (f.kind === 'ratio' || f.kind === 'time') m.set(fkey(f), f);
    } catch (e) {
      gateProblems.push(`${files[i].label}: not gated (${e instanceof Error ? e.message : String(e)})`);
    }
    return m;
  });
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
        const empty = { status: null, nsPerAccess: null, speedup: null, scanNs: null, scanSpeedup: null, vsFirst: null, speedupCI: null, exitsPerHole: null, hugeMappings: null, faultsPerHole: null, setupMs: null, deltaPct: null, gate: null };
        if (!g || !r) return empty;
        if (r.status === 'unsupported' || !r.samples?.length) return { ...empty, status: r.status };
        const per = speedupOf(g.base, r, 'nsPerAccess');
        const scan = speedupOf(g.base, r, 'scanNs');
        const exits = exitMedian(r, USERSPACE_EXIT_KINDS);
        const faults = kvmStatMedian(r, 'pf_taken');
        const f = verdicts[perFile.indexOf(m)].get(JSON.stringify([r.strategy, r.variant, r.workload, r.access]));
        return {
          status: r.status,
          nsPerAccess: nsPerAccess(r),
          speedup: per?.median ?? null,
          scanNs: scanNs(r),
          scanSpeedup: scan?.median ?? null,
          vsFirst: null,
          speedupCI: per ?? scan,
          exitsPerHole: exits !== null && r.holeAccesses > 0 ? exits / r.holeAccesses : null,
          hugeMappings: hugeMappings(r),
          faultsPerHole: faults !== null && r.holeAccesses > 0 ? faults / r.holeAccesses : null,
          setupMs: r.stats?.setupMs?.median ?? null,
          deltaPct: null,
          gate: f ? { severity: f.severity, pValue: f.pValue, message: f.message } : null,
        };
      });
      const first = cells[0].nsPerAccess;
      for (const c of cells.slice(1)) c.vsFirst = first !== null && c.nsPerAccess !== null && first > 0 ? c.nsPerAccess / first : null;
      const s0 = cells[0].speedupCI;
      for (const c of cells.slice(1)) c.deltaPct = s0 && c.speedupCI && s0.metric === c.speedupCI.metric ? (c.speedupCI.median / s0.median - 1) * 100 : null;
      return { name, cells };
    });
    // The speed-up chart: the reference row (1× by definition) is left out.
    const withFigure = rows.filter((r) => r.cells.some((c) => c.speedupCI !== null) && !r.cells.every((c) => c.speedupCI === null || (c.speedupCI.median === 1 && c.speedupCI.lo === 1 && c.speedupCI.hi === 1)));
    const chart: BarChartSpec | null = withFigure.length
      ? {
          kind: 'hbar',
          id: `${idPrefix}-g${gi}`,
          title: `Speed-up over userspace-exit, per file: ${title}`,
          caption: `Each file's speed-up over its own userspace-exit (per hole access; whole scan for strategies that do not probe), the median of per-round ratios; the whisker is its confidence interval. Log scale. Speed-ups compare across hosts and backends; absolute times do not${headers.some((h) => isLabTiming(h.timing)) ? ', and TCG lab speed-ups are ratios of emulated path lengths (instructions under icount)' : ''}.`,
          unit: 'ratio',
          axis: 'speed-up over userspace-exit (log scale)',
          log: true,
          errorBars: true,
          labels: withFigure.map((r) => (r.cells.some((c) => c.speedupCI?.metric === 'scanNs') ? `${r.name} (whole scan)` : r.name)),
          datasets: headers
            .map((h, fi) => ({
              label: `${h.label} (${h.kvmBackend}, ${timingLabel(h.timing)})`,
              color: SERIES_COLOURS[fi % SERIES_COLOURS.length],
              values: withFigure.map((r) => r.cells[fi].speedupCI?.median ?? null),
              lo: withFigure.map((r) => r.cells[fi].speedupCI?.lo ?? null),
              hi: withFigure.map((r) => r.cells[fi].speedupCI?.hi ?? null),
            }))
            .filter((d) => d.values.some((v) => v !== null)),
          height: Math.max(180, 110 + withFigure.length * (headers.length * 16 + 14)),
        }
      : null;
    return { title, rows, chart };
  });

  return { files: headers, sameHost: new Set(headers.map((h) => h.hostId)).size <= 1, mixedTiming: new Set(headers.map((h) => h.timing)).size > 1, duplicates, gateProblems, groups };
}
