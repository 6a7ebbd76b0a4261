// Dot-and-whisker charts: per row, every fresh VM's value as a small dot, the median as a
// diamond and the interquartile range as a line, on a log axis whose range comes from the data
// (a little beyond the smallest and largest value drawn, never a fixed decade).

import type { ResultRow, Sample, Summary } from '../../runner/results/schema.js';
import { summarize } from '../../runner/results/summary.js';
import type { DotChartSpec, DotPoint, DotSeries } from './chart-specs.js';


/** How far beyond the data the axis reaches (a factor on a log axis): room for the markers. */
export const AXIS_MARGIN = 1.25;

/**
 * A point from per-VM values (non-finite and non-positive ones left out: a log axis cannot draw
 * them); the stored summary, when given, supplies the median and quartiles the tables show.
 */
export function dotPoint(values: readonly (number | null | undefined)[], stored?: Summary | null): DotPoint | null {
  const samples = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
  if (!samples.length) return null;
  const ok = stored && [stored.median, stored.p25, stored.p75].every((v) => Number.isFinite(v) && v > 0);
  const s = ok ? stored : (summarize(samples) as Summary);
  return { median: s.median, lo: s.p25, hi: s.p75, samples };
}

/** Per-VM values of a row: `pick` reads one sample (null when it has none). */
export function perVm(row: ResultRow, pick: (s: Sample) => number | null | undefined): (number | null | undefined)[] {
  return row.samples.map(pick);
}

/** The log-axis range of a set of series, from the values they draw. */
export function dotRange(series: readonly DotSeries[]): { min: number; max: number } | null {
  const all = series.flatMap((s) => s.points.flatMap((p) => (p ? [p.lo, p.hi, p.median, ...p.samples] : [])));
  if (!all.length) return null;
  return { min: Math.min(...all) / AXIS_MARGIN, max: Math.max(...all) * AXIS_MARGIN };
}

/** Height that fits one band per label, wider when several series share it. */
export function dotHeight(labels: number, series: number): number {
  return Math.max(200, 80 + labels * (24 + series * 14) + (series > 1 ? 30 : 0));
}

/** A dot chart, or null when no series has a point. */
export function dotChart(base: Omit<DotChartSpec, 'kind' | 'min' | 'max' | 'height'>): DotChartSpec | null {
  const series = base.series.filter((s) => s.points.some((p) => p !== null));
  const range = dotRange(series);
  if (!range) return null;
  return { kind: 'dots', ...base, series, ...range, height: dotHeight(base.labels.length, series.length) };
}
