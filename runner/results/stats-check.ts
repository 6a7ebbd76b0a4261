// A results file's `stats` are a cache of its samples: every reader (report, CSV, gate) must see
// the same figures. Loading recomputes them from the samples exactly as `bench run` does
// (runner/measure/row.ts); a missing summary is filled in, a stored one that disagrees with its samples
// is bad input (the file was edited by hand or is corrupt).

import type { ResultRow, ResultsFile, Summary } from './schema.js';
import { summarize } from './summary.js';
import { strategyLabel } from '../shared/row-id.js';

type StatKey = keyof ResultRow['stats'];

/** The summaries `bench run` derives from a row's samples. */
export function statsFromSamples(row: ResultRow): ResultRow['stats'] {
  const samples = Array.isArray(row.samples) ? row.samples : [];
  const cold = samples.map((s) => s.scans[0]).filter(Boolean);
  const passes = Math.max(0, ...samples.map((s) => s.scans.length));
  return {
    scanNs: summarize(cold.map((c) => c.ns)),
    nsPerAccess: summarize(cold.map((c) => c.nsPerAccess ?? NaN)),
    warmNsPerAccess: passes > 1 ? summarize(samples.map((s) => s.scans[s.scans.length - 1].nsPerAccess ?? NaN)) : null,
    setupMs: summarize(samples.map((s) => s.setupMs)),
  };
}

/** Whether two summaries agree (same n, median and quartiles to 1e-9 relative). */
function agrees(a: Summary | null, b: Summary | null): boolean {
  if (a === null || b === null) return a === b;
  const close = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  return a.n === b.n && close(a.median, b.median) && close(a.p25, b.p25) && close(a.p75, b.p75);
}

/**
 * Replaces every row's stats by the ones its samples give. Returns a one-line problem naming the
 * first row whose stored (non-missing) summary disagrees, else null. `name` prefixes the message.
 */
export function reconcileStats(file: ResultsFile, name: string): string | null {
  for (const [i, row] of file.rows.entries()) {
    const fresh = statsFromSamples(row);
    const stored = (row.stats ?? {}) as Partial<Record<StatKey, Summary | null>>;
    for (const k of Object.keys(fresh) as StatKey[]) {
      const s = stored[k];
      // An absent summary is filled in; a present one (null included) must match the samples.
      if (s === undefined) continue;
      if (!agrees(s, fresh[k])) {
        const got = s === null ? 'null' : `median ${s.median}`;
        const want = fresh[k] === null ? 'none' : `median ${fresh[k]!.median}`;
        return `${name}: rows[${i}] (${strategyLabel(row)}) stats.${k} (${got}) does not match its samples (${want}); delete "stats" to have them recomputed`;
      }
    }
    row.stats = fresh;
  }
  return null;
}
