// How often does the gate cry wolf, and does it catch a 10 % slowdown?
//   - false alarms: two "identical runs" are gated and must pass. evaluateRuns takes every
//     pair of separate result files (the honest measure: it includes drift between runs);
//     evaluateGate splits each row's samples of one file into random halves (seeded), which
//     shares one run's conditions and so only bounds the noise between fresh VMs.
//   - detections: one row of the current file is slowed down by slowdownPct (every scan time
//     scaled: a synthetic results file built from real samples); the gate must flag that row.

import { shuffleInPlace } from 'simple-statistics';
import type { ResultRow, ResultsFile, Sample } from '../../runner/results/schema.js';
import { gate, REFERENCE_STRATEGY, type GateOptions } from './gate.js';
import { rowKey, rowKeyLabel } from '../../runner/results/row-metrics.js';
import { seededRandom } from './gate-stats.js';
import { statsFromSamples } from '../../runner/results/stats-check.js';

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
  /** split-half: random halves of one file's rows; runs: every pair of separate result files. */
  method: 'split-half' | 'runs';
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

/**
 * Split-half evaluation of one results file with many samples per row: `pairs` random splits
 * (seeded) count false alarms, and +slowdownPct on each row of each split counts detections.
 */
export function evaluateGate(results: ResultsFile, opts: EvalOptions = {}): EvalResult {
  const o = withDefaults(opts);
  const rng = seededRandom(o.seed);
  const pairs = Array.from({ length: o.pairs }, () => splitHalves(results, rng));
  return evaluate('split-half', pairs, o);
}

/**
 * Evaluation on separate runs (the honest one: it includes drift between runs): every pair
 * files[i] → files[j], i < j, is a pair of identical runs; `pairs` in the options is ignored.
 */
export function evaluateRuns(files: readonly ResultsFile[], opts: EvalOptions = {}): EvalResult {
  const pairs: [ResultsFile, ResultsFile][] = [];
  for (let i = 0; i < files.length; i++) for (let j = i + 1; j < files.length; j++) pairs.push([files[i], files[j]]);
  return evaluate('runs', pairs, { ...withDefaults(opts), pairs: pairs.length });
}

function withDefaults(opts: EvalOptions): Required<EvalOptions> {
  return {
    pairs: opts.pairs ?? 20,
    seed: opts.seed ?? 1,
    slowdownPct: opts.slowdownPct ?? 10,
    thresholdPct: opts.thresholdPct ?? 5,
    alpha: opts.alpha ?? 0.01,
    ratios: opts.ratios ?? false,
    allowUntested: opts.allowUntested ?? false,
  };
}

function evaluate(method: EvalResult['method'], pairs: readonly [ResultsFile, ResultsFile][], o: Required<EvalOptions>): EvalResult {
  const res: EvalResult = { method, pairs: pairs.length, falseAlarms: 0, injected: 0, caught: 0, options: o, rows: [], falseAlarmFindings: [], missed: [] };
  const rows = new Set<string>();
  pairs.forEach(([a, b], i) => {
    const p = i + 1;
    const v = gate(a, b, o);
    // Only a failed verdict is a false alarm: an inconclusive one says it could not tell.
    if (v.outcome === 'fail') res.falseAlarms++;
    for (const f of v.findings) if (f.severity === 'regression') res.falseAlarmFindings.push(`pair ${p}: ${f.row}: ${f.message}`);
    const inBaseline = new Set(a.rows.map(rowKey));
    const targets = b.rows.filter((r) => inBaseline.has(rowKey(r)) && (r.status === 'measured' || r.status === 'proxy') && r.samples.length >= 2 && !(o.ratios && r.strategy === REFERENCE_STRATEGY));
    for (const t of targets) {
      rows.add(rowKeyLabel(t));
      const slowed = withRow(b, rowKey(t), (r) => scaleRow(r, 1 + o.slowdownPct / 100));
      const f = gate(a, slowed, o).findings.find((x) => x.row === rowKeyLabel(t) && (x.kind === 'time' || x.kind === 'ratio'));
      res.injected++;
      if (f?.severity === 'regression') res.caught++;
      else res.missed.push(`pair ${p}: ${rowKeyLabel(t)}: ${f?.message ?? 'no time finding'}`);
    }
  });
  res.rows = [...rows];
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
  const scaled = { ...row, samples: row.samples.map(scale) };
  // The stats are a cache of the samples (runner/results/stats-check.ts): keep them in step.
  return { ...scaled, stats: statsFromSamples(scaled) };
}

/** A copy of `file` with the row of key `key` replaced by `f(row)`. */
export function withRow(file: ResultsFile, key: string, f: (r: ResultRow) => ResultRow): ResultsFile {
  return { ...file, rows: file.rows.map((r) => (rowKey(r) === key ? f(r) : r)) };
}

/** A short plain-text report of an evaluation. */
export function formatEvaluation(e: EvalResult, source: string): string {
  const o = e.options;
  const how = e.method === 'runs' ? `${e.pairs} pairs of separate runs` : `${e.pairs} split-half pairs (seed ${o.seed})`;
  const lines = [
    `bench gate-eval: ${source}, ${how}, mode ${o.ratios ? 'ratios' : 'absolute'}, threshold ${o.thresholdPct}%, alpha ${o.alpha}`,
    `false alarms: ${e.falseAlarms} of ${e.pairs} pairs of identical runs`,
    `injected +${o.slowdownPct}% slowdowns caught: ${e.caught} of ${e.injected} (${e.rows.length} rows × ${e.pairs} pairs)`,
    ...e.falseAlarmFindings.slice(0, 20).map((s) => `  false alarm ${s}`),
    ...e.missed.slice(0, 20).map((s) => `  missed ${s}`),
  ];
  if (e.falseAlarmFindings.length + e.missed.length > 40) lines.push('  … (--json has them all)');
  if (e.method === 'split-half') lines.push('note: halves of one run share its conditions and hide drift between runs; pass several run files for pairs of separate runs');
  return lines.join('\n') + '\n';
}
