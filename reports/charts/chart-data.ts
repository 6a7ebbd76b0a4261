// What each chart of the HTML report shows, derived from a results file. Pure: the page's
// script only turns these specs into chart.js configurations. A chart with nothing to draw
// is not emitted; its absence is explained in the section's notes instead.

import type { ResultRow, ResultsFile } from '../../runner/results/schema.js';
import {
  baselineRow,
  exitMedian,
  groupRows,
  groupTitle,
  hasData,
  kvmStatKeys,
  kvmStatMedian,
  kvmStatsAbsent,
  nsPerAccess,
  proxyText,
  rowLabel,
  scanNs,
  speedupPerAccess,
  KEY_KVM_STATS,
  USERSPACE_EXIT_KINDS,
} from '../../runner/results/row-metrics.js';
import type { RowGroup } from '../../runner/results/row-metrics.js';
import { isLabTiming, timingBasis, timingNote, type TimingBasis } from '../../runner/results/timing.js';
import { dotChart, dotPoint, perVm } from './chart-dots.js';
import { memoryChart } from './chart-memory.js';
import type { BarChartSpec, ChartSpec, DotChartSpec } from './chart-specs.js';



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

/** How the report labels KVM statistics wherever it shows them. */
export const KVM_STATS_NOTE = 'KVM statistics are deltas over the scan (setup excluded; every scan of the VM when it rescans), except the *_now gauges (vm.pages_4k_now, vm.pages_2m_now): mappings the VM held after the scan, setup included.';

const DOTS_CAPTION = 'Each small dot is one fresh VM; the diamond is the median and the thick line the interquartile range (25th to 75th percentile). Log axis, its range taken from the data.';

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
  const notes: string[] = isLabTiming(timing) ? [`${timingNote(timing)}.`] : [];
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
  const noHoles = data.filter((r) => !(r.holeAccesses > 0));
  if (noHoles.length) notes.push(`${noHoles.map(rowLabel).join(', ')}: no hole accesses (the guest does not probe the hole), so nothing per hole access.`);
  push(perHoleChart(data, `${id}-exits`), 'Exits and faults per hole access: no row has hole accesses and a recorded count.');
  push(setupChart(data, `${id}-setup`), 'Setup beside scan: no timings recorded.');
  notes.push(...kvmNaNotes(data));
  push(hugeMappingsChart(data, `${id}-kvm`), 'No row held a 2 MiB mapping after the scan (vm.pages_2m_now is 0 or n/a everywhere).');
  push(memoryChart(data, colours, `${id}-memory`), 'Host memory against time per access: no row here has both a per-access figure and backing memory, so there is no trade-off to plot.');

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

/** "ro-page/thp (133× faster)": the row and its speed-up over userspace-exit, in full. */
function speedupLabel(r: ResultRow, base: ResultRow | undefined): string {
  const s = speedupPerAccess(r, base);
  // A no-break space keeps "(2.9× faster)" on one line when a long label wraps.
  return s !== null && r !== base ? `${rowLabel(r)} (${s >= 10 ? s.toFixed(0) : s.toFixed(1)}×\u00a0faster)` : rowLabel(r);
}

function perAccessChart(g: RowGroup, data: ResultRow[], colours: Map<ResultRow, string>, id: string): DotChartSpec | null {
  const rows = data.filter((r) => nsPerAccess(r) !== null);
  const base = baselineRow(g.rows);
  const rescans = rows.some((r) => r.samples.some((s) => s.scans.length > 1));
  return dotChart({
    id,
    title: 'Time per hole access',
    caption: `Hole-only phase of the scan ÷ its hole reads, guest TSC. ${DOTS_CAPTION} Speed-ups are over userspace-exit in this run (median of per-round ratios). [proxy] rows are stand-ins (see notes).`,
    unit: 'ns',
    axis: 'ns per hole access (log scale)',
    labels: rows.map((r) => speedupLabel(r, base)),
    series: [
      { label: 'cold scan (first scan of a fresh VM)', color: rows.map((r) => colours.get(r) ?? SERIES_COLOURS[0]), points: rows.map((r) => dotPoint(perVm(r, (s) => s.scans[0]?.nsPerAccess), r.stats.nsPerAccess)) },
      ...(rescans
        ? [{ label: 'warm scan (last scan of the same VM)', color: '#9aa5b1', points: rows.map((r) => dotPoint(perVm(r, (s) => (s.scans.length > 1 ? s.scans[s.scans.length - 1].nsPerAccess : null)), r.stats.warmNsPerAccess)) }]
        : []),
    ],
  });
}

function scanChart(data: ResultRow[], colours: Map<ResultRow, string>, id: string): DotChartSpec | null {
  const rows = data.filter((r) => scanNs(r) !== null);
  return dotChart({
    id,
    title: 'Total scan time (cold)',
    caption: `The whole first scan of a fresh VM, including present devices (served in userspace under every strategy), guest TSC. ${DOTS_CAPTION}`,
    unit: 'ns',
    axis: 'whole cold scan (log scale)',
    labels: rows.map(rowLabel),
    series: [{ label: 'cold scan', color: rows.map((r) => colours.get(r) ?? SERIES_COLOURS[0]), points: rows.map((r) => dotPoint(perVm(r, (s) => s.scans[0]?.ns), r.stats.scanNs)) }],
  });
}

/** Per hole access of one scan: a per-VM count divided by the hole accesses of every scan it covers. */
function perHole(r: ResultRow, count: number | null): number | null {
  const scans = Math.max(1, ...r.samples.map((s) => s.scans.length));
  return count !== null && r.holeAccesses > 0 ? count / (r.holeAccesses * scans) : null;
}

function perHoleChart(data: ResultRow[], id: string): BarChartSpec | null {
  const rows = data.filter((r) => r.holeAccesses > 0);
  const series: { label: string; count: (r: ResultRow) => number | null }[] = [
    { label: 'exits to the VMM (userspace)', count: (r) => exitMedian(r, USERSPACE_EXIT_KINDS) },
    { label: 'KVM exits (vcpu.exits)', count: (r) => kvmStatMedian(r, 'exits') },
    { label: 'page faults KVM took (pf_taken)', count: (r) => kvmStatMedian(r, 'pf_taken') },
    // On 6.1 pf_fixed also counts prefetched SPTEs (pre-fault, the patched 2 MiB prefetch): more than pf_taken there.
    { label: 'pages KVM mapped (pf_fixed; on 6.1 prefetched ones too)', count: (r) => kvmStatMedian(r, 'pf_fixed') },
  ];
  const datasets = series
    .map((x, i) => ({ label: x.label, color: SERIES_COLOURS[i], values: rows.map((r) => perHole(r, x.count(r))) }))
    .filter((d) => d.values.some((v) => v !== null));
  if (!datasets.length) return null;
  const na = datasets.flatMap((d) => d.values.flatMap((v, i) => (v === null ? [`${d.label} of ${rowLabel(rows[i])}`] : [])));
  return {
    kind: 'hbar',
    id,
    title: 'Exits and faults per hole access',
    caption: `Per VM, median over samples, divided by the hole accesses of the scan: 1 means one per access, as userspace-exit pays; a strategy that serves the hole in the guest or in KVM's page tables is near 0. Linear axis from 0. Exits to the VMM include the present devices' (served in userspace under every strategy), not the harness's done signal. KVM statistics are deltas over the scan (setup excluded).${na.length ? ` n/a (not recorded by this kernel, not zero): ${na.join(', ')}.` : ''}`,
    unit: 'rate',
    axis: 'per hole access (linear)',
    log: false,
    errorBars: false,
    labels: rows.map(rowLabel),
    datasets,
    height: barHeight(rows.length, datasets.length),
  };
}

function setupChart(data: ResultRow[], id: string): DotChartSpec | null {
  return dotChart({
    id,
    title: 'Setup cost beside scan cost',
    caption: `Per VM. ${DOTS_CAPTION} Setup is what the strategy does before the guest runs (e.g. filling 256 MiB with 0xff, aliasing, pre-faulting), host clock; a backing shared between VMs pays it once per host. VM creation (host clock) and the cold scan (guest TSC) are shown for scale. A value of 0 cannot be drawn on a log axis and is left out.`,
    unit: 'ms',
    axis: 'ms per VM (log scale)',
    labels: data.map(rowLabel),
    series: [
      { label: 'strategy setup (host clock)', color: SERIES_COLOURS[1], points: data.map((r) => dotPoint(perVm(r, (s) => s.setupMs), r.stats.setupMs)) },
      { label: 'VM creation (host clock)', color: SERIES_COLOURS[5], points: data.map((r) => dotPoint(perVm(r, (s) => s.vmCreateMs))) },
      { label: 'cold scan (guest TSC)', color: SERIES_COLOURS[0], points: data.map((r) => dotPoint(perVm(r, (s) => (s.scans[0] ? s.scans[0].ns / 1e6 : null)), null)) },
    ],
  });
}

/** Which charted statistics are n/a for which rows: a kernel without KVM_GET_STATS_FD has none, an
 *  older one lacks some (the pf_* counters). n/a is said in words; it is never drawn as 0. */
export function kvmNaNotes(data: readonly ResultRow[]): string[] {
  const notes: string[] = [];
  const absent = data.filter(kvmStatsAbsent);
  if (absent.length) notes.push(`KVM statistics n/a for ${absent.length === data.length ? 'every row' : absent.map(rowLabel).join(', ')}: this kernel has no KVM_GET_STATS_FD (KVM_CAP_BINARY_STATS_FD is 0, Linux < 5.14).`);
  const withStats = data.filter((r) => !kvmStatsAbsent(r));
  for (const name of KEY_KVM_STATS) {
    const lacking = withStats.filter((r) => kvmStatMedian(r, name) === null);
    if (!lacking.length) continue;
    const who = lacking.length === withStats.length ? '' : ` for ${lacking.map(rowLabel).join(', ')}`;
    notes.push(`KVM statistic ${name} n/a${who}: not among this kernel's KVM statistics (not zero).`);
  }
  return notes;
}

function hugeMappingsChart(data: ResultRow[], id: string): BarChartSpec | null {
  const values = data.map((r) => kvmStatMedian(r, 'pages_2m_now'));
  if (!anyPositive(values)) return null;
  return {
    kind: 'hbar',
    id,
    title: '2 MiB mappings after the scan',
    axis: '2 MiB mappings the VM held (vm.pages_2m_now, linear)',
    caption: `vm.pages_2m_now per VM, median over samples: the 2 MiB mappings the VM held after the scan, setup included. > 0 shows that a 2 MiB mapping really happened, also when it was made during setup (spte-prefetch pre-faults there, so its scan delta vm.pages_2m is 0). No bar: 0${values.some((v) => v === null) ? `; n/a (not recorded by this kernel): ${data.filter((_, i) => values[i] === null).map(rowLabel).join(', ')}` : ''}. Every recorded statistic is in the table below.`,
    unit: 'count',
    log: false,
    errorBars: false,
    labels: data.map(rowLabel),
    datasets: [{ label: 'vm.pages_2m_now', color: SERIES_COLOURS[5], values }],
    height: barHeight(data.length, 1),
  };
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
