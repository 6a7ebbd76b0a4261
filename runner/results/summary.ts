import { quantileSorted, mean } from 'simple-statistics';
import type { Summary } from './schema.js';

/** Median, quartiles (linear interpolation, as R type 7), extremes and mean; null for no data. */
export function summarize(values: readonly number[]): Summary | null {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  return {
    n: xs.length,
    median: quantileSorted(xs, 0.5),
    p25: quantileSorted(xs, 0.25),
    p75: quantileSorted(xs, 0.75),
    min: xs[0],
    max: xs[xs.length - 1],
    mean: mean(xs),
  };
}
