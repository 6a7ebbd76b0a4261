// `bench gate` and `bench gate-eval`: argument parsing, file loading and output.
// Bad input (flags, files, schema, hosts) throws UsageError: one line, exit status 2.

import { parseArgs } from 'node:util';
import { HostError, UsageError } from '../shared/errors.js';
import { checkOutput, writeOutput } from '../results/output-files.js';
import { parseCount } from '../shared/args.js';
import { gate, type GateOptions } from '../../reports/gate/gate.js';
import { checkResults, firstLine, loadResults, type LoadedResults } from '../results/load-results.js';
import { formatMarkdown, formatTable } from '../../reports/gate/gate-format.js';
import { evaluateGate, evaluateRuns, formatEvaluation } from '../../reports/gate/gate-eval.js';
import { isLabTiming, timingBasis, timingLabel } from '../results/timing.js';

/** Usage text of `bench gate`. */
export const GATE_USAGE = `usage: bench gate --baseline A.json --current B.json [--threshold 5%] [--alpha 0.01] [--ratios]
                  [--allow-untested] [--markdown FILE] [--json FILE]
  A and B may be results.json files or run directories containing one.
  --threshold  minimum median change, in percent: "5%" or "5" (a bare number below 1 must carry "%")
  --alpha      significance level of the rank test, 0 < alpha < 1 (default 0.01)
  --ratios     gate on speed-ups over userspace-exit within each file (baseline from another host,
               or hardware against emulated timing: a bench lab run under TCG; the verdict warns)
               The reference row's own drift is tested on absolute time when both files share a host.
  --allow-untested  rows the gate cannot test (too few samples to reach alpha, a row in one file
               only, no reference row) do not make the verdict inconclusive; a gate that compared
               no row at all (empty baseline, no row in common) stays inconclusive
  --markdown   write a GitHub job-summary table to FILE (overwritten; never one of the inputs)
  --json       write the verdict as JSON to FILE
exit status: 0 pass, 1 regression, 2 bad input (also: different hosts or timing bases without --ratios),
             3 internal error, 4 inconclusive (the gate could not tell: not a pass, not a regression)`;

/** Usage text of `bench gate-eval`. */
export const GATE_EVAL_USAGE = `usage: bench gate-eval RESULTS.json... [--pairs 20] [--seed 1] [--slowdown 10%] [--threshold 5%] [--alpha 0.01]
                          [--ratios] [--json FILE]
  Several files (separate runs of the same matrix): every pair of them is a pair of identical
  runs (7 files give 21 pairs). One file with many samples per row: --pairs random halves
  (seeded). False alarms are failed verdicts on those pairs; detections are regressions flagged
  on each row after slowing the current side's samples by --slowdown.
exit status: 0 when at most 1 false alarm per 20 pairs and every injected slowdown is caught, 1 otherwise, 2 bad input`;

type Out = Pick<NodeJS.WritableStream, 'write'>;

/** The rank test's significance level when --alpha is not given. */
export const DEFAULT_ALPHA = 0.01;

/** Exit statuses of `bench gate`. */
export const GATE_EXIT = { pass: 0, fail: 1, badInput: 2, internal: 3, inconclusive: 4 } as const;

/**
 * `bench gate`: compare --current with --baseline, print the table, write --markdown/--json.
 * Resolves to 0 (pass), 1 (regression), 4 (inconclusive) or 3 (internal error, one line on
 * stderr); throws UsageError (exit 2) on bad input.
 */
export async function gateCommand(args: string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  return internalErrorsAs3(() => runGate(args, out), err);
}

/**
 * `bench run --gate`: the gate over a baseline already loaded and the run's own results in memory
 * (written at `current.path`), which are checked here as loadResults checks `--current`. The same
 * table, errors and exit statuses as `bench gate --baseline B --current C`.
 */
export async function gateResults(baseline: LoadedResults, current: LoadedResults, opts: GateOptions, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  return internalErrorsAs3(async () => {
    const checked = { path: current.path, file: checkResults(current.file, current.path, '--current') };
    return gateLoaded(baseline, checked, opts, {}, out);
  }, err);
}

/** Bad input (UsageError, HostError) is thrown on; anything else is an internal error: one line on `err`, exit status 3. */
async function internalErrorsAs3(run: () => Promise<number>, err: Out): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof UsageError || e instanceof HostError) throw e;
    err.write(`bench gate: internal error: ${firstLine(e)}${process.env.PCIHOLE_DEBUG ? `\n${(e as Error)?.stack ?? ''}` : ' (PCIHOLE_DEBUG=1 for the stack)'}\n`);
    return GATE_EXIT.internal;
  }
}

async function runGate(args: string[], out: Out): Promise<number> {
  const { values: v } = parse(args, {
    baseline: { type: 'string' },
    current: { type: 'string' },
    threshold: { type: 'string', default: '5%' },
    alpha: { type: 'string', default: String(DEFAULT_ALPHA) },
    ratios: { type: 'boolean', default: false },
    'allow-untested': { type: 'boolean', default: false },
    markdown: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (v.help) {
    out.write(GATE_USAGE + '\n');
    return 0;
  }
  if (!v.baseline) throw new UsageError('--baseline is required (a results.json file or a run directory)');
  if (!v.current) throw new UsageError('--current is required (a results.json file or a run directory)');
  const opts = { thresholdPct: parsePercent(v.threshold!, '--threshold'), alpha: parseAlpha(v.alpha!), ratios: v.ratios!, allowUntested: v['allow-untested']! };
  // Output paths are checked before anything is printed: never an input, never a directory.
  const inputs = [v.baseline, v.current];
  if (v.markdown !== undefined) checkOutput(v.markdown, inputs, '--markdown');
  if (v.json !== undefined) checkOutput(v.json, inputs, '--json');
  if (v.markdown !== undefined && v.markdown === v.json) throw new UsageError(`--json: ${v.json} is also the --markdown file`);
  const baseline = await loadResults(v.baseline, '--baseline');
  const current = await loadResults(v.current, '--current');
  return gateLoaded(baseline, current, opts, v, out);
}

/** Compares two loaded files: refuses mixed hosts or timing bases without --ratios, prints the table, writes the outputs. */
function gateLoaded(baseline: LoadedResults, current: LoadedResults, opts: GateOptions, files: { markdown?: string; json?: string }, out: Out): number {
  const tb = timingBasis(baseline.file.host);
  const tc = timingBasis(current.file.host);
  if (tb !== tc && isLabTiming(tb) && isLabTiming(tc)) {
    throw new UsageError(
      `--current: ${current.path} has ${timingLabel(tc)} timing, --baseline ${baseline.path} ${timingLabel(tb)}: lab runs on TCG's wall clock and on icount instructions do not compare, not even as speed-ups; gate against a baseline of the same basis`,
    );
  }
  if (!opts.ratios && tb !== tc) {
    throw new UsageError(
      `--current: ${current.path} has ${timingLabel(tc)} timing, --baseline ${baseline.path} ${timingLabel(tb)}: absolute times do not compare between hardware and emulated results; use --ratios`,
    );
  }
  if (!opts.ratios && baseline.file.host.id !== current.file.host.id) {
    throw new UsageError(
      `--current: ${current.path} was measured on host ${current.file.host.id}, --baseline ${baseline.path} on host ${baseline.file.host.id}: absolute times do not compare across hosts; use --ratios`,
    );
  }
  const verdict = gate(baseline.file, current.file, opts);
  const src = { baseline: baseline.path, current: current.path };
  out.write(formatTable(verdict, src));
  if (files.markdown) writeOutput(files.markdown, formatMarkdown(verdict, src), '--markdown');
  if (files.json) writeOutput(files.json, JSON.stringify({ baseline: src.baseline, current: src.current, ...verdict }, null, 2) + '\n', '--json');
  return verdict.outcome === 'pass' ? GATE_EXIT.pass : verdict.outcome === 'fail' ? GATE_EXIT.fail : GATE_EXIT.inconclusive;
}

/**
 * `bench gate-eval RESULTS.json...`: false-alarm and detection rates of the gate on real samples.
 * Resolves to 0 when the issue's bar is met (≥ 20 pairs, ≤ 1 false alarm per 20, every slowdown caught), else 1.
 */
export async function gateEvalCommand(args: string[], out: Out = process.stdout): Promise<number> {
  const { values: v, positionals } = parse(
    args,
    {
      pairs: { type: 'string', default: '20' },
      seed: { type: 'string', default: '1' },
      slowdown: { type: 'string', default: '10%' },
      threshold: { type: 'string', default: '5%' },
      alpha: { type: 'string', default: String(DEFAULT_ALPHA) },
      ratios: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  if (v.help) {
    out.write(GATE_EVAL_USAGE + '\n');
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('bench gate-eval needs one results file (split halves) or several (separate runs)');
  const pairs = parseCount('--pairs', v.pairs!, 1, 100_000);
  const seed = parseCount('--seed', v.seed!, 1, 2 ** 32 - 1);
  if (v.json !== undefined) checkOutput(v.json, positionals, '--json');
  const files: LoadedResults[] = [];
  for (const p of positionals) files.push(await loadResults(p, 'gate-eval'));
  const opts = {
    pairs,
    seed,
    slowdownPct: parsePercent(v.slowdown!, '--slowdown'),
    thresholdPct: parsePercent(v.threshold!, '--threshold'),
    alpha: parseAlpha(v.alpha!),
    ratios: v.ratios!,
  };
  const mixed = files.find((f) => timingBasis(f.file.host) !== timingBasis(files[0].file.host));
  if (mixed && !opts.ratios)
    throw new UsageError(`gate-eval: ${mixed.path} has ${timingLabel(timingBasis(mixed.file.host))} timing, ${files[0].path} ${timingLabel(timingBasis(files[0].file.host))}: use --ratios`);
  const other = files.find((f) => f.file.host.id !== files[0].file.host.id);
  if (other && !opts.ratios) throw new UsageError(`gate-eval: ${other.path} was measured on host ${other.file.host.id}, ${files[0].path} on host ${files[0].file.host.id}: use --ratios`);
  const e = files.length === 1 ? evaluateGate(files[0].file, opts) : evaluateRuns(files.map((f) => f.file), opts);
  const path = files.length === 1 ? files[0].path : `${files.length} runs`;
  out.write(formatEvaluation(e, path));
  if (v.json) writeOutput(v.json, JSON.stringify({ results: files.map((f) => f.path), ...e }, null, 2) + '\n', '--json');
  if (e.pairs < 20) out.write(`note: ${e.pairs} pairs; the bar (at most 1 false alarm) needs at least 20 (7 run files give 21)\n`);
  return e.pairs >= 20 && e.falseAlarms <= Math.floor(e.pairs / 20) && e.caught === e.injected && e.injected > 0 ? 0 : 1;
}

/**
 * A percentage: "5%" or "5" both mean 5 %. A bare number below 1 ("0.05") is refused as
 * ambiguous (a fraction or a percent?); write "5%" or "0.05%". Negative or NaN is refused.
 */
export function parsePercent(s: string, flag: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(%?)\s*$/i.exec(s);
  const x = m ? Number(m[1]) : NaN;
  if (!m || !Number.isFinite(x)) throw new UsageError(`${flag}: expected a percentage ≥ 0 such as 5% or 5, got ${JSON.stringify(s)}`);
  if (!m[2] && x > 0 && x < 1) throw new UsageError(`${flag}: ${s} is ambiguous: write ${Number((x * 100).toPrecision(12))}% for a fraction or ${s}% for a percent`);
  return x;
}

/** A significance level strictly between 0 and 1 ("0.01"). */
export function parseAlpha(s: string): number {
  const x = /^\s*[0-9.e+-]+\s*$/i.test(s) ? Number(s) : NaN;
  if (!(x > 0 && x < 1)) throw new UsageError(`--alpha: expected a significance level between 0 and 1 such as 0.01, got ${JSON.stringify(s)}`);
  return x;
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError(firstLine(e));
  }
}
