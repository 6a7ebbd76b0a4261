// How often does the gate cry wolf, and does it catch a 10 % slowdown? Measured on one real
// results file with many samples per row:
//   - false alarms: each row's samples are split into two random halves (seeded); the halves
//     are two "identical runs" and the gate must pass them;
//   - detections: one row's current half is slowed down by slowdownPct (every scan time
//     scaled, a synthetic results file built from real samples); the gate must flag that row.
// Halves of one run share that run's conditions, so this bounds the noise between fresh VMs,
// not drift between runs on different days; run it on files from separate runs to see that.

import { shuffleInPlace } from 'simple-statistics';
import type { ResultRow, ResultsFile, Sample } from './schema.js';
import { gate, REFERENCE_STRATEGY, rowKey, rowLabel, type GateOptions } from './gate.js';
import { seededRandom } from './gate-stats.js';

/** Settings of an evaluation; every field has a default. */
export interface EvalOptions extends Partial<GateOptions> {
  /** Pairs of identical runs to draw (default 20). */
  pairs?: number;
  /** PRNG seed of the splits (default 1). */
  seed?: number;
  /** Injected slowdown, percent (default 10). */
  slowdownPct?: number;
}

/** What the evaluation found. */
export interface EvalResult {
  /** Pairs of identical runs gated. */
  pairs: number;
  /** Pairs whose verdict failed. */
  falseAlarms: number;
  /** Injected slowdowns (one per eligible row per pair). */
  injected: number;
  /** Injected slowdowns flagged as a regression of that row. */
  caught: number;
  /** The options used, defaults filled in. */
  options: Required<EvalOptions>;
  /** Rows that received an injected slowdown. */
  rows: string[];
  /** "pair 3: row: message" for every regression in a pair of identical runs. */
  falseAlarmFindings: string[];
  /** "pair 3: row: message" for every injected slowdown not flagged. */
  missed: string[];
}

/** Count false alarms over identical split-half pairs and detections of injected slowdowns. */
export function evaluateGate(results: ResultsFile, opts: EvalOptions = {}): EvalResult {
  const o: Required<EvalOptions> = {
    pairs: opts.pairs ?? 20,
    seed: opts.seed ?? 1,
    slowdownPct: opts.slowdownPct ?? 10,
    thresholdPct: opts.thresholdPct ?? 5,
    alpha: opts.alpha ?? 0.01,
    ratios: opts.ratios ?? false,
  };
  const rng = seededRandom(o.seed);
  const targets = results.rows.filter((r) => (r.status === 'measured' || r.status === 'proxy') && r.samples.length >= 2 && !(o.ratios && r.strategy === REFERENCE_STRATEGY));
  const res: EvalResult = { pairs: o.pairs, falseAlarms: 0, injected: 0, caught: 0, options: o, rows: targets.map(rowLabel), falseAlarmFindings: [], missed: [] };
  for (let p = 1; p <= o.pairs; p++) {
    const [a, b] = splitHalves(results, rng);
    const v = gate(a, b, o);
    if (!v.pass) res.falseAlarms++;
    for (const f of v.findings) if (f.severity === 'regression') res.falseAlarmFindings.push(`pair ${p}: ${f.row}: ${f.message}`);
    for (const t of targets) {
      const slowed = withRow(b, rowKey(t), (r) => scaleRow(r, 1 + o.slowdownPct / 100));
      const f = gate(a, slowed, o).findings.find((x) => x.row === rowLabel(t) && (x.kind === 'time' || x.kind === 'ratio'));
      res.injected++;
      if (f?.severity === 'regression') res.caught++;
      else res.missed.push(`pair ${p}: ${rowLabel(t)}: ${f?.message ?? 'no time finding'}`);
    }
  }
  return res;
}

/** Two copies of `file`, each row holding a random half of its samples (the larger half second). */
export function splitHalves(file: ResultsFile, rng: () => number): [ResultsFile, ResultsFile] {
  const a: ResultRow[] = [];
  const b: ResultRow[] = [];
  for (const row of file.rows) {
    const s = shuffleInPlace([...row.samples], rng);
    const half = Math.floor(s.length / 2);
    a.push({ ...row, samples: s.slice(0, half) });
    b.push({ ...row, samples: s.slice(half) });
  }
  return [{ ...file, rows: a }, { ...file, rows: b }];
}

/** A copy of `row` with every scan time (whole scan, phases, ns per access) multiplied by `factor`. */
export function scaleRow(row: ResultRow, factor: number): ResultRow {
  const scale = (s: Sample): Sample => ({
    ...s,
    hostRunNs: s.hostRunNs * factor,
    scans: s.scans.map((sc) => ({
      ...sc,
      ns: sc.ns * factor,
      nsPerAccess: sc.nsPerAccess === null ? null : sc.nsPerAccess * factor,
      phases: sc.phases.map((ph) => ({ ...ph, ns: ph.ns * factor })),
    })),
  });
  return { ...row, samples: row.samples.map(scale) };
}

/** A copy of `file` with the row of key `key` replaced by `f(row)`. */
export function withRow(file: ResultsFile, key: string, f: (r: ResultRow) => ResultRow): ResultsFile {
  return { ...file, rows: file.rows.map((r) => (rowKey(r) === key ? f(r) : r)) };
}

/** A short plain-text report of an evaluation. */
export function formatEvaluation(e: EvalResult, source: string): string {
  const o = e.options;
  const lines = [
    `bench gate-eval: ${source}, ${e.pairs} split-half pairs (seed ${o.seed}), mode ${o.ratios ? 'ratios' : 'absolute'}, threshold ${o.thresholdPct}%, alpha ${o.alpha}`,
    `false alarms: ${e.falseAlarms} of ${e.pairs} pairs of identical runs`,
    `injected +${o.slowdownPct}% slowdowns caught: ${e.caught} of ${e.injected} (${e.rows.length} rows × ${e.pairs} pairs)`,
    ...e.falseAlarmFindings.slice(0, 20).map((s) => `  false alarm ${s}`),
    ...e.missed.slice(0, 20).map((s) => `  missed ${s}`),
  ];
  if (e.falseAlarmFindings.length + e.missed.length > 40) lines.push('  … (--json has them all)');
  return lines.join('\n') + '\n';
}
