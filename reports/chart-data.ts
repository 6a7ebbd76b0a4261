// What each chart of the HTML report shows, derived from a results file. Pure: the page's
// script only turns these specs into chart.js configurations. A chart with nothing to draw
// is not emitted; its absence is explained in the section's notes instead.

import type { ResultRow, ResultsFile } from './schema.js';
import {
  baselineRow,
  exitKinds,
  exitMedian,
  groupRows,
  groupTitle,
  hasData,
  kvmStatKeys,
  kvmStatMedian,
  kvmStatsAbsent,
  med,
  nsPerAccess,
  proxyText,
  rowLabel,
  sampleMedian,
  scanNs,
  speedupPerAccess,
} from './row-metrics.js';
import type { RowGroup } from './row-metrics.js';
import { fmtBytes, fmtNs } from './format.js';
import { EMULATED_NOTE, timingBasis, type TimingBasis } from './timing.js';

/** The unit of a value axis; the page formats ticks and tooltips with it. */
export type Unit = 'ns' | 'ms' | 'count' | 'bytes' | 'ratio';

/** One series of a horizontal bar chart, one value per label (null = no bar). */
export interface BarDataset {
  label: string;
  /** One colour for the series, or one per bar. */
  color: string | string[];
  values: (number | null)[];
  /** Error-bar ends (25th and 75th percentiles), same length as values, when the chart has error bars. */
  lo?: (number | null)[];
  hi?: (number | null)[];
}

/** A horizontal bar chart: one bar per row label, one bar colour per dataset. */
export interface BarChartSpec {
  kind: 'hbar';
  id: string;
  title: string;
  caption: string;
  unit: Unit;
  /** Title of the value axis. */
  axis: string;
  log: boolean;
  errorBars: boolean;
  labels: string[];
  datasets: BarDataset[];
  /** CSS pixel height that fits the bars. */
  height: number;
}

/** One labelled point of a scatter chart. */
export interface ScatterPoint {
  label: string;
  color: string;
  x: number;
  y: number;
}

/** A scatter chart, both axes logarithmic. */
export interface ScatterChartSpec {
  kind: 'scatter';
  id: string;
  title: string;
  caption: string;
  xUnit: Unit;
  yUnit: Unit;
  /** x values at or below this are zero drawn at the axis floor (log axes cannot show 0). */
  xFloor: number;
  points: ScatterPoint[];
  height: number;
}

export type ChartSpec = BarChartSpec | ScatterChartSpec;

/** The charts and notes of one (workload, access) group. */
export interface WorkloadSection {
  workload: string;
  access: string;
  title: string;
  charts: ChartSpec[];
  /** Plain-text notes: rows without a figure and why, shared backings, missing charts. */
  notes: string[];
  /** KVM statistics table, one line per statistic that is non-zero for some row; a column per result row. */
  kvmTable: { rows: string[]; stats: { name: string; values: (number | null)[] }[]; omittedZero: number };
}

/** Strategy colours, stable across charts and files; unknown strategies get a hashed hue. */
const STRATEGY_COLOURS: Record<string, string> = {
  'userspace-exit': '#c0392b',
  'memslot-flag': '#8e44ad',
  'mmio-bus-device': '#2980b9',
  'shared-hva': '#16a085',
  'ro-page': '#d68910',
  'spte-prefetch': '#7f8c8d',
  'guest-enlightenment': '#27ae60',
  'right-sized-window': '#2c3e50',
};

/** Colours of the series in multi-series charts (exit kinds, KVM stats, cold/warm, files). */
export const SERIES_COLOURS = ['#2f6fb0', '#e07b39', '#3a9e5c', '#b5403a', '#7d5ba6', '#8c6d31', '#c2549d', '#5f7f8f'];

/** The colour of a strategy's bars; variants of one strategy get darker/lighter shades of it. */
export function strategyColour(strategy: string, variantIndex = 0): string {
  let base = STRATEGY_COLOURS[strategy];
  if (!base) {
    let h = 0;
    for (const ch of strategy) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    base = hslToHex(h % 360, 55, 45);
  }
  return shade(base, [0, 0.25, -0.2, 0.4, -0.35][variantIndex % 5]);
}

/** Exit kinds keep their colour across charts. */
const EXIT_COLOURS: Record<string, string> = { mmio_read: '#2f6fb0', mmio_write: '#7fb3e6', io_in: '#3a9e5c', io_out: '#e07b39' };

/**
 * KVM statistics the chart shows when recorded (all of them go to the table). The first three
 * are deltas over the scan (setup excluded); pages_2m_now is a gauge read after the scan, so it
 * also counts 2 MiB mappings made during setup (spte-prefetch's pre-fault), which the delta
 * vm.pages_2m misses.
 */
export const CHART_KVM_STATS = ['pf_taken', 'pf_fixed', 'exits', 'pages_2m_now'];

/** How the report labels KVM statistics wherever it shows them. */
export const KVM_STATS_NOTE = 'KVM statistics are deltas over the scan (setup excluded; every scan of the VM when it rescans), except the *_now gauges (vm.pages_4k_now, vm.pages_2m_now): mappings the VM held after the scan, setup included.';

const IQR_CAPTION = 'Error bars span the interquartile range (25th to 75th percentile) of the fresh-VM samples; the bar is the median.';

/**
 * Derives every chart of a results file, one section per (workload, access) group in file
 * order. `idPrefix` makes canvas ids unique when several files are rendered into one page.
 */
export function workloadSections(file: ResultsFile, idPrefix = 'f0'): WorkloadSection[] {
  const timing = timingBasis(file.host);
  return groupRows(file.rows).map((g, gi) => sectionFor(g, `${idPrefix}-g${gi}`, timing));
}

function sectionFor(g: RowGroup, id: string, timing: TimingBasis): WorkloadSection {
  // Every section's times carry what they mean when they are not hardware time.
  const notes: string[] = timing === 'emulated' ? [`${EMULATED_NOTE}.`] : [];
  const charts: ChartSpec[] = [];
  const data = g.rows.filter(hasData);
  const colours = rowColours(g.rows);
  const push = (c: ChartSpec | null, missing: string): void => {
    if (c) charts.push(c);
    else notes.push(missing);
  };

  for (const r of g.rows) {
    if (r.status === 'unsupported') notes.push(`${rowLabel(r)}: unsupported: ${r.reason || 'no reason given'}`);
    else if (!hasData(r)) notes.push(`${rowLabel(r)}: ${r.status}, no samples${r.reason ? `: ${r.reason}` : ''}`);
    else if (r.status === 'failed') notes.push(`${rowLabel(r)}: failed: ${r.reason || 'no reason given'} (figures from the samples that finished)`);
    else if (r.status === 'proxy') notes.push(`${rowLabel(r)}: ${proxyText(r.reason)}`);
  }
  const noPerAccess = data.filter((r) => nsPerAccess(r) === null);
  if (noPerAccess.length) {
    notes.push(`${noPerAccess.map(rowLabel).join(', ')}: no hole-only phase, so no per-access figure; compare on the whole scan.`);
  }
  const shared = data.filter((r) => r.backingShared);
  if (shared.length) notes.push(`${shared.map(rowLabel).join(', ')}: backing shared between VMs, setup paid once per host.`);

  push(perAccessChart(g, data, colours, `${id}-access`), 'Time per hole access: no row of this workload has a per-access figure.');
  push(scanChart(data, colours, `${id}-scan`), 'Total scan time: no measured rows.');
  push(exitsChart(data, `${id}-exits`), 'Exits by kind: no exits recorded.');
  push(setupChart(data, `${id}-setup`), 'Setup beside scan: no timings recorded.');
  notes.push(...kvmNaNotes(data));
  push(kvmChart(data, `${id}-kvm`), `KVM statistics: none of ${CHART_KVM_STATS.join(', ')} is non-zero or recorded.`);
  push(memoryScatter(data, colours, `${id}-memory`), 'Host memory against time per access: no row here has both a per-access figure and backing memory, so there is no trade-off to plot.');

  const keys = kvmStatKeys(data);
  const stats = keys.map((k) => ({ name: k, values: data.map((r) => kvmStatMedian(r, k)) }));
  const nonZero = stats.filter((s) => s.values.some((v) => v !== null && v !== 0));
  return {
    workload: g.workload,
    access: g.access,
    title: groupTitle(g),
    charts,
    notes,
    kvmTable: { rows: data.map(rowLabel), stats: nonZero, omittedZero: stats.length - nonZero.length },
  };
}

/** Per-row bar colours: by strategy, shaded per variant in order of appearance. */
function rowColours(rows: readonly ResultRow[]): Map<ResultRow, string> {
  const variants = new Map<string, string[]>();
  const out = new Map<ResultRow, string>();
  for (const r of rows) {
    const vs = variants.get(r.strategy) ?? [];
    if (!vs.includes(r.variant)) vs.push(r.variant);
    variants.set(r.strategy, vs);
    out.set(r, strategyColour(r.strategy, vs.indexOf(r.variant)));
  }
  return out;
}

function barHeight(bars: number, datasets: number): number {
  return Math.max(180, 70 + bars * (datasets * 16 + 12) + (datasets > 1 ? 30 : 0));
}

function anyPositive(xs: (number | null)[]): boolean {
  return xs.some((v) => v !== null && Number.isFinite(v) && v > 0);
}

function perAccessChart(g: RowGroup, data: ResultRow[], colours: Map<ResultRow, string>, id: string): BarChartSpec | null {
  const rows = data.filter((r) => nsPerAccess(r) !== null);
  if (!rows.length) return null;
  const base = baselineRow(g.rows);
  const labels = rows.map((r) => {
    const s = speedupPerAccess(r, base);
    return s !== null && r !== base ? `${rowLabel(r)} (${s >= 10 ? s.toFixed(0) : s.toFixed(1)}× faster)` : rowLabel(r);
  });
  const datasets: BarDataset[] = [
    {
      label: 'cold scan (first scan of a fresh VM)',
      color: rows.map((r) => colours.get(r) ?? SERIES_COLOURS[0]),
      values: rows.map((r) => nsPerAccess(r)),
      lo: rows.map((r) => finite(r.stats.nsPerAccess?.p25)),
      hi: rows.map((r) => finite(r.stats.nsPerAccess?.p75)),
    },
  ];
  const warm = rows.map((r) => med(r.stats.warmNsPerAccess));
  if (anyPositive(warm)) {
    datasets.push({
      label: 'warm scan (last scan of the same VM)',
      color: '#9aa5b1',
      values: warm,
      lo: rows.map((r) => finite(r.stats.warmNsPerAccess?.p25)),
      hi: rows.map((r) => finite(r.stats.warmNsPerAccess?.p75)),
    });
  }
  return {
    kind: 'hbar',
    id,
    title: 'Time per hole access',
    caption: `Hole-only phase of the scan ÷ its hole reads, guest TSC, log scale. ${IQR_CAPTION} Speed-ups are over userspace-exit in this run. [proxy] rows are stand-ins (see notes).`,
    unit: 'ns',
    axis: 'ns per hole access, cold scan (log scale)',
    log: true,
    errorBars: true,
    labels,
    datasets,
    height: barHeight(rows.length, datasets.length),
  };
}

function scanChart(data: ResultRow[], colours: Map<ResultRow, string>, id: string): BarChartSpec | null {
  const rows = data.filter((r) => scanNs(r) !== null);
  if (!rows.length) return null;
  return {
    kind: 'hbar',
    id,
    title: 'Total scan time (cold)',
    caption: `The whole first scan of a fresh VM, including present devices (served in userspace under every strategy), guest TSC, log scale. ${IQR_CAPTION}`,
    unit: 'ns',
    axis: 'whole cold scan (log scale)',
    log: true,
    errorBars: true,
    labels: rows.map(rowLabel),
    datasets: [
      {
        label: 'cold scan',
        color: rows.map((r) => colours.get(r) ?? SERIES_COLOURS[0]),
        values: rows.map(scanNs),
        lo: rows.map((r) => finite(r.stats.scanNs?.p25)),
        hi: rows.map((r) => finite(r.stats.scanNs?.p75)),
      },
    ],
    height: barHeight(rows.length, 1),
  };
}

function exitsChart(data: ResultRow[], id: string): BarChartSpec | null {
  const kinds = exitKinds(data);
  const datasets = kinds
    .map((k, i) => ({ label: k, color: EXIT_COLOURS[k] ?? SERIES_COLOURS[(i + 4) % SERIES_COLOURS.length], values: data.map((r) => exitMedian(r, [k])) }))
    .filter((d) => anyPositive(d.values));
  if (!datasets.length) return null;
  return {
    kind: 'hbar',
    id,
    title: 'Exits to userspace by kind',
    caption: 'Exits the VMM handled per VM (all scans of that VM), median over samples, log scale: a missing bar means none of that kind. Accesses KVM answers in-kernel never reach the VMM; present devices always do.',
    unit: 'count',
    axis: 'exits per VM (log scale)',
    log: true,
    errorBars: false,
    labels: data.map(rowLabel),
    datasets,
    height: barHeight(data.length, datasets.length),
  };
}

function setupChart(data: ResultRow[], id: string): BarChartSpec | null {
  const datasets: BarDataset[] = [
    { label: 'strategy setup (host clock)', color: SERIES_COLOURS[1], values: data.map((r) => med(r.stats.setupMs)) },
    { label: 'VM creation (host clock)', color: SERIES_COLOURS[5], values: data.map((r) => sampleMedian(r, 'vmCreateMs')) },
    { label: 'cold scan (guest TSC)', color: SERIES_COLOURS[0], values: data.map((r) => nullMap(scanNs(r), (ns) => ns / 1e6)) },
  ].filter((d) => anyPositive(d.values));
  if (!datasets.length) return null;
  return {
    kind: 'hbar',
    id,
    title: 'Setup cost beside scan cost',
    caption: 'Per VM, median over samples, log scale. Setup is what the strategy does before the guest runs (e.g. filling 256 MiB with 0xff, aliasing, pre-faulting); a backing shared between VMs pays it once per host.',
    unit: 'ms',
    axis: 'per VM (log scale)',
    log: true,
    errorBars: false,
    labels: data.map(rowLabel),
    datasets,
    height: barHeight(data.length, datasets.length),
  };
}

/** x values of 0 bytes are drawn here (log axes cannot show 0) and labelled "0 B". */
export const MEMORY_FLOOR = 1024;

function memoryScatter(data: ResultRow[], colours: Map<ResultRow, string>, id: string): ScatterChartSpec | null {
  const points = data
    .filter((r) => nsPerAccess(r) !== null && Number.isFinite(r.memoryBytes))
    .map((r) => ({ label: rowLabel(r), color: colours.get(r) ?? SERIES_COLOURS[0], x: Math.max(MEMORY_FLOOR, r.memoryBytes), y: nsPerAccess(r) as number }));
  if (!points.some((p) => p.x > MEMORY_FLOOR)) return null;
  return {
    kind: 'scatter',
    id,
    title: 'Host memory against time per access',
    caption: `The trade-off: resident host memory of the window's backing (x, log) against cold ns per hole access (y, log); lower left is better. Strategies with no backing memory sit on the left edge, labelled 0 B. ${points.map((p) => `${p.label}: ${fmtBytes(p.x <= MEMORY_FLOOR ? 0 : p.x)}, ${fmtNs(p.y)}`).join('; ')}.`,
    xUnit: 'bytes',
    yUnit: 'ns',
    xFloor: MEMORY_FLOOR,
    points,
    height: 340,
  };
}

/** Which charted statistics are n/a for which rows: a kernel without KVM_GET_STATS_FD has none, an
 *  older one lacks some (the pf_* counters). n/a is said in words; it is never drawn as 0. */
export function kvmNaNotes(data: readonly ResultRow[]): string[] {
  const notes: string[] = [];
  const absent = data.filter(kvmStatsAbsent);
  if (absent.length) notes.push(`KVM statistics n/a for ${absent.length === data.length ? 'every row' : absent.map(rowLabel).join(', ')}: this kernel has no KVM_GET_STATS_FD (KVM_CAP_BINARY_STATS_FD is 0, Linux < 5.14).`);
  const withStats = data.filter((r) => !kvmStatsAbsent(r));
  for (const name of CHART_KVM_STATS) {
    const lacking = withStats.filter((r) => kvmStatMedian(r, name) === null);
    if (!lacking.length) continue;
    const who = lacking.length === withStats.length ? '' : ` for ${lacking.map(rowLabel).join(', ')}`;
    notes.push(`KVM statistic ${name} n/a${who}: not among this kernel's KVM statistics (not zero).`);
  }
  return notes;
}

function kvmChart(data: ResultRow[], id: string): BarChartSpec | null {
  const datasets = CHART_KVM_STATS.map((name, i) => ({ label: name, color: SERIES_COLOURS[(i + 2) % SERIES_COLOURS.length], values: data.map((r) => kvmStatMedian(r, name)) })).filter((d) =>
    anyPositive(d.values),
  );
  if (!datasets.length) return null;
  const na = datasets.flatMap((d) => d.values.flatMap((v, i) => (v === null ? [`${d.label} of ${rowLabel(data[i])}`] : [])));
  return {
    kind: 'hbar',
    id,
    title: 'KVM statistics',
    axis: 'count per VM (log scale)',
    caption: `KVM binary statistics per VM, median over samples, log scale (a missing bar is zero${na.length ? `, except these, which this kernel does not record (n/a): ${na.join(', ')}` : ''}). pf_taken, pf_fixed and exits are deltas over the scan (setup excluded); pf_fixed counts faults KVM fixed by mapping a page. pages_2m_now is the number of 2 MiB mappings the VM held after the scan, setup included: > 0 shows that a 2 MiB mapping really happened, also when it was made during setup (spte-prefetch pre-faults there, so its scan delta vm.pages_2m is 0). Every recorded statistic is in the table below (n/a where the kernel does not have it).`,
    unit: 'count',
    log: true,
    errorBars: false,
    labels: data.map(rowLabel),
    datasets,
    height: barHeight(data.length, datasets.length),
  };
}

function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function nullMap(x: number | null, f: (v: number) => number): number | null {
  return x === null ? null : f(x);
}

function shade(hex: string, amount: number): string {
  const v = parseInt(hex.slice(1), 16);
  const ch = [(v >> 16) & 255, (v >> 8) & 255, v & 255].map((c) => Math.round(amount >= 0 ? c + (255 - c) * amount : c * (1 + amount)));
  return `#${ch.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

function hslToHex(h: number, s: number, l: number): string {
  const a = (s / 100) * Math.min(l / 100, 1 - l / 100);
  const f = (n: number): string => {
    const k = (n + h / 30) % 12;
    const c = l / 100 - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}
