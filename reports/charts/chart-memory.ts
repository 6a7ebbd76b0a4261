// The memory-against-time chart: host memory of the window's backing (x) against cold ns per
// hole access (y, log). x is log2 of the bytes, with 0 B in a band of its own left of the axis
// (a log axis has no 0). Points that would cover each other are spread sideways and labelled on
// opposite sides; the Pareto front (nothing both smaller and faster) is drawn as a step line.

import type { ResultRow } from '../../runner/results/schema.js';
import { nsPerAccess, rowLabel } from '../../runner/results/row-metrics.js';
import { fmtBytes, fmtNs } from '../../runner/shared/format.js';
import type { MemoryChartSpec, MemoryPoint } from './chart-specs.js';


/** Ticks every TICK_STEP powers of two (4 KiB, 64 KiB, 1 MiB …). */
const TICK_STEP = 4;
/** Half-width of the 0 B band, and the gap between it and the first tick. */
const BAND_HALF = 1.5;
const BAND_GAP = 4;
/** Points closer than this on y (log10) and in the same x place would overlap. */
const NEAR_LOG10 = 0.12;
/** Sideways spacing of overlapping points (x units, log2). */
const SPREAD = 0.9;
/** Vertical distance between stacked labels, px. */
const LABEL_STEP = 13;
/** y margin beyond the data (a factor on the log axis). */
const Y_MARGIN = 1.4;

/** The chart, or null when no row has both a per-access time and a backing size, or every backing is 0 B. */
export function memoryChart(data: readonly ResultRow[], colours: Map<ResultRow, string>, id: string): MemoryChartSpec | null {
  const rows = data.filter((r) => nsPerAccess(r) !== null && Number.isFinite(r.memoryBytes) && r.memoryBytes >= 0);
  const positive = rows.filter((r) => r.memoryBytes > 0).map((r) => Math.log2(r.memoryBytes));
  if (!positive.length) return null;
  const first = TICK_STEP * Math.floor(Math.min(...positive) / TICK_STEP);
  let last = TICK_STEP * Math.ceil(Math.max(...positive) / TICK_STEP);
  if (last === first) last += TICK_STEP;
  const centre = first - BAND_GAP;
  const points: MemoryPoint[] = rows.map((r) => ({
    label: rowLabel(r),
    color: colours.get(r) ?? '#555',
    bytes: r.memoryBytes,
    ns: nsPerAccess(r) as number,
    pos: r.memoryBytes > 0 ? Math.log2(r.memoryBytes) : centre,
    dx: 0,
    labelDy: 0,
    pareto: false,
  }));
  spread(points);
  markPareto(points);
  const ticks = [{ pos: centre, label: '0 B' }];
  for (let p = first; p <= last; p += TICK_STEP) ticks.push({ pos: p, label: fmtBytes(2 ** p) });
  const ys = points.map((p) => p.ns);
  const list = points.map((p) => `${p.label}: ${fmtBytes(p.bytes)}, ${fmtNs(p.ns)}${p.pareto ? ' (front)' : ''}`).join('; ');
  return {
    kind: 'memory',
    id,
    title: 'Host memory against time per access',
    caption: `The trade-off: resident host memory of the window's backing (x, log) against cold ns per hole access (y, log, median); lower left is better. Strategies that need no backing memory sit in the shaded 0 B band, apart from the log axis (which has no 0). The dashed line is the Pareto front: no other strategy is both smaller and faster. Points that would hide each other are moved apart sideways. ${list}.`,
    points,
    band: { centre, half: BAND_HALF },
    xMin: centre - BAND_HALF - 0.5,
    xMax: last + TICK_STEP / 2,
    ticks,
    yMin: Math.min(...ys) / Y_MARGIN,
    yMax: Math.max(...ys) * Y_MARGIN,
    height: 380,
  };
}

/** Spreads points sharing an x place and nearly a y value: centred offsets, labels stacked apart. */
function spread(points: MemoryPoint[]): void {
  const done = new Set<MemoryPoint>();
  for (const p of points) {
    if (done.has(p)) continue;
    const cluster = points.filter((q) => !done.has(q) && q.pos === p.pos && Math.abs(Math.log10(q.ns) - Math.log10(p.ns)) < NEAR_LOG10);
    cluster.sort((a, b) => a.ns - b.ns);
    cluster.forEach((q, k) => {
      done.add(q);
      if (cluster.length === 1) return;
      q.dx = (k - (cluster.length - 1) / 2) * SPREAD;
      q.labelDy = (k - (cluster.length - 1) / 2) * -LABEL_STEP;
    });
  }
  for (const p of points) p.pos += p.dx;
}

/** Marks the points no other point dominates (at most the memory and strictly faster, or less memory and as fast). */
function markPareto(points: MemoryPoint[]): void {
  for (const p of points) p.pareto = !points.some((q) => q !== p && q.bytes <= p.bytes && q.ns <= p.ns && (q.bytes < p.bytes || q.ns < p.ns));
}
