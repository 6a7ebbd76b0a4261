// `bench gate`: compare a current results file with a baseline, row by row. Rows match on
// (strategy, variant, workload, access).
//
// time   — the per-sample cold figure: ns per hole access when every sample of both rows has
//          one, else whole-scan ns. A row regresses only when BOTH a two-sided Mann-Whitney U
//          test on the samples gives p ≤ alpha AND the median moved by more than thresholdPct
//          in the bad direction (the Firecracker A/B rule, with medians and a rank test because
//          scan times are skewed and have outliers). The same in the good direction is an
//          improvement. When the sample counts cannot reach alpha at all (3 vs 3 never gets
//          below p = 0.1) the row is UNTESTED: the gate could not tell, which is never a pass.
// ratio  — (ratios mode, replaces time) the speed-up over userspace-exit of the same
//          workload/access in the same file: per-sample ratios ref[i] / row[i], the i-th fresh
//          VM of each row paired by index (independent VMs, so the n ratios are independent),
//          compared baseline vs current with the same rule; a smaller speed-up is the bad side.
//          The reference row itself is tested for drift on its absolute time when both files
//          come from one host and timing basis (else the finding says why it cannot be). A
//          significant drift beyond the threshold is a WARNING, not a regression: ratios mode
//          exists because absolute times drift between runs on a shared host, and every other
//          row's speed-up change of that workload may just mirror it (the finding says so).
// counter — holeAccesses, expectedHoleAccesses, the median exit count of each deterministic
//          kind (GATED_EXIT_KINDS) and discoveryOk on every sample must match exactly: any move
//          is a regression. `yields` is not compared: it counts sched_yield calls of a vCPU
//          spinning on a guest lock (parallel-2vcpu over conf1), which depend on host scheduling
//          and differ from run to run.
// kvm    — whether the VM held a 2 MiB mapping after the scan (vm.pages_2m_now > 0, median) must
//          not change: hugepages stopping (or starting) to be mapped is a regression. A statistic
//          absent on either side (a kernel without it, or without KVM_GET_STATS_FD) is skipped,
//          and the verdict says so; it is never read as 0.
// timing — absolute times never compare between hardware and emulated (TCG lab) results: refused
//          unless ratios; in ratios mode the verdict warns that emulated speed-ups are ratios of
//          path lengths.
// status — a changed status replaces the other checks (the figures are of another mechanism):
//          → failed regresses; failed/unsupported → anything and proxy → measured improve;
//          the rest (measured → proxy, → unsupported) warns. Both unsupported: ok; both failed: warning.
// missing — a baseline row absent from the current file regresses if it had figures (measured
//          or proxy) and the current run asked for it (its config names the strategy, workload
//          and access and the run completed); otherwise it is untested. A row only in the
//          current file is untested (no baseline to compare with).
// verdict — fail on any regression; else inconclusive when a row is untested (unless
//          allowUntested) or when nothing at all was compared (no shared rows, empty baseline);
//          else pass. The CLI exits 0 pass, 1 fail, 4 inconclusive (2 bad input, 3 internal error).

import { median, quantile, sampleWithReplacement } from 'simple-statistics';
import type { ResultRow, ResultsFile, Status } from '../../runner/results/schema.js';
import { rankSumTest, seededRandom } from './gate-stats.js';
import { coldValue, pairedRatios, type SpeedupMetric } from '../../runner/results/speedup.js';
import { kvmStatMedian, rowKey, rowKeyLabel } from '../../runner/results/row-metrics.js';
import { duplicateRow } from '../../runner/results/load-results.js';
import { isLabTiming, timingBasis, timingLabel, timingNote } from '../../runner/results/timing.js';

/** What a finding compares. */
export type FindingKind = 'time' | 'counter' | 'ratio' | 'status' | 'missing';
/** regression fails the gate; untested makes it inconclusive (unless allowed); improvement and warning are reported only. */
export type Severity = 'regression' | 'untested' | 'improvement' | 'warning' | 'ok';

/** pass: everything compared and nothing regressed. fail: a regression. inconclusive: the gate could not tell. */
export type Outcome = 'pass' | 'fail' | 'inconclusive';

/** How strict the gate is. */
export interface GateOptions {
  /** Minimum median change, in percent (5 = 5 %), for a significant change to count. */
  thresholdPct: number;
  /** Significance level of the rank test, in (0, 1). */
  alpha: number;
  /** Gate on each row's speed-up over userspace-exit in its own file instead of absolute times. */
  ratios: boolean;
  /** Untested rows (too few samples, a row in one file only, no reference) do not make the verdict inconclusive. */
  allowUntested?: boolean;
}

/** One check of one row. */
export interface Finding {
  /** "strategy/variant workload/access", for display. */
  row: string;
  strategy: string;
  variant: string;
  workload: string;
  access: string;
  kind: FindingKind;
  severity: Severity;
  /** ns/access | scan ns | speed-up (ns/access) | speed-up (scan ns) | a counter name | status | row */
  metric: string;
  /** Baseline median (time, ratio), value (counter) or status. */
  baseline: number | string | null;
  current: number | string | null;
  /** (current − baseline) / baseline × 100, when both are numbers. */
  changePct: number | null;
  /** Rank-test p-value (time and ratio findings). */
  pValue: number | null;
  /** Samples (or sample ratios) compared on each side. */
  n: [number, number] | null;
  /** 95 % bootstrap interval (seeded, reproducible) of changePct, when both sides have samples. */
  ciPct: [number, number] | null;
  /** One line saying what happened. */
  message: string;
}

/** The gate's answer. */
export interface GateVerdict {
  /** pass, fail (a regression) or inconclusive (untested rows without allowUntested, or nothing compared). */
  outcome: Outcome;
  /** outcome === 'pass'. */
  pass: boolean;
  /** Rows compared in both files (0: nothing was tested). */
  sharedRows: number;
  mode: 'absolute' | 'ratios';
  thresholdPct: number;
  alpha: number;
  baselineHost: string;
  currentHost: string;
  /** File-level remarks (different hosts in ratios mode, an incomplete run). */
  notes: string[];
  counts: Record<Severity, number>;
  /** Rows in baseline order, then rows only in the current file. */
  findings: Finding[];
}

/** The strategy every speed-up is measured against in ratios mode. */
export const REFERENCE_STRATEGY = 'userspace-exit';

/**
 * Compare `current` with `baseline`. Throws an Error when the files cannot be compared
 * (duplicate row keys, different hosts without `ratios`) or the options are out of range.
 */
export function gate(baseline: ResultsFile, current: ResultsFile, opts: GateOptions): GateVerdict {
  if (!(Number.isFinite(opts.thresholdPct) && opts.thresholdPct >= 0)) throw new RangeError(`thresholdPct ${opts.thresholdPct} is not a percentage ≥ 0`);
  if (!(opts.alpha > 0 && opts.alpha < 1)) throw new RangeError(`alpha ${opts.alpha} is not in (0, 1)`);
  const problem = duplicateRow(baseline, 'baseline') ?? duplicateRow(current, 'current') ?? timingMismatch(baseline, current, opts) ?? hostMismatch(baseline, current, opts);
  if (problem) throw new Error(problem);

  const ctx: Ctx = { baseline, current, opts, kvmAbsent: new Map() };
  const inCurrent = new Map(current.rows.map((r) => [rowKey(r), r]));
  const inBaseline = new Set(baseline.rows.map(rowKey));
  const findings: Finding[] = [];
  for (const b of baseline.rows) {
    const c = inCurrent.get(rowKey(b));
    findings.push(...(c ? compareRow(b, c, ctx) : [missing(b, current)]));
  }
  for (const c of current.rows) {
    if (!inBaseline.has(rowKey(c))) findings.push(finding(c, 'missing', c.status === 'unsupported' ? 'ok' : 'untested', 'row', { current: c.status, message: `new row (not in the baseline), ${c.status}: nothing to compare it with` }));
  }
  const counts: Record<Severity, number> = { regression: 0, untested: 0, improvement: 0, warning: 0, ok: 0 };
  for (const f of findings) counts[f.severity]++;
  const sharedRows = baseline.rows.filter((b) => inCurrent.has(rowKey(b))).length;
  const notes: string[] = [];
  if (baseline.rows.length === 0) notes.push('the baseline has no rows: nothing was compared (inconclusive)');
  else if (sharedRows === 0) notes.push('the files have no row in common (strategy, variant, workload, access): nothing was compared (inconclusive)');
  if (counts.untested) notes.push(`${counts.untested} row check(s) could not be tested${opts.allowUntested ? ' (allowed by --allow-untested)' : ': the verdict is inconclusive, not a pass (--allow-untested accepts this)'}`);
  if (baseline.host.id !== current.host.id) notes.push(`hosts differ (baseline ${baseline.host.id}, current ${current.host.id}): gating on speed-ups only`);
  notes.push(...timingNotes(baseline, current));
  notes.push(...skippedKvmStatNotes(ctx.kvmAbsent));
  if (current.complete === false) notes.push('the current run is incomplete (interrupted): rows may be missing');
  if (baseline.complete === false) notes.push('the baseline run is incomplete (interrupted)');
  const outcome: Outcome = counts.regression > 0 ? 'fail' : sharedRows === 0 || (counts.untested > 0 && !opts.allowUntested) ? 'inconclusive' : 'pass';
  return {
    outcome,
    pass: outcome === 'pass',
    sharedRows,
    mode: opts.ratios ? 'ratios' : 'absolute',
    thresholdPct: opts.thresholdPct,
    alpha: opts.alpha,
    baselineHost: baseline.host.id,
    currentHost: current.host.id,
    notes,
    counts,
    findings,
  };
}

// Rows are matched on row-metrics.ts rowKey (strategy, variant, workload, access).

/** A one-line problem when the hosts differ and absolute times are to be compared, else null. */
export function hostMismatch(baseline: ResultsFile, current: ResultsFile, opts: Pick<GateOptions, 'ratios'>): string | null {
  if (opts.ratios || baseline.host.id === current.host.id) return null;
  return `host fingerprints differ (baseline ${baseline.host.id}, current ${current.host.id}): absolute times do not compare across hosts; use --ratios`;
}

/** A one-line problem when one file has hardware and the other emulated timing and absolute times are to be compared, else null. */
export function timingMismatch(baseline: ResultsFile, current: ResultsFile, opts: Pick<GateOptions, 'ratios'>): string | null {
  const b = timingBasis(baseline.host);
  const c = timingBasis(current.host);
  if (b === c) return null;
  // Two lab clocks (TCG wall time and icount instructions) never mix, not even as ratios.
  if (isLabTiming(b) && isLabTiming(c)) return `timing bases differ (baseline ${timingLabel(b)}, current ${timingLabel(c)}): lab runs on TCG's wall clock and on icount instructions do not compare, not even as speed-ups; gate against a baseline of the same basis`;
  if (opts.ratios) return null;
  return `timing bases differ (baseline ${timingLabel(b)}, current ${timingLabel(c)}): absolute times do not compare between hardware and emulated results; use --ratios`;
}

/** What the verdict says about emulated timing: which side is emulated, and a warning when the bases differ. */
function timingNotes(baseline: ResultsFile, current: ResultsFile): string[] {
  const b = timingBasis(baseline.host);
  const c = timingBasis(current.host);
  const out: string[] = [];
  if (b !== c) out.push(`warning: timing bases differ (baseline ${timingLabel(b)}, current ${timingLabel(c)}): the emulated side's speed-ups are ratios of emulated path lengths, not of hardware time`);
  if (b === c && isLabTiming(b)) out.push(`baseline and current: ${timingNote(b)}`);
  else {
    if (isLabTiming(b)) out.push(`baseline: ${timingNote(b)}`);
    if (isLabTiming(c)) out.push(`current: ${timingNote(c)}`);
  }
  return out;
}

/** One note per KVM statistic the gate skipped on some row because a side lacked it. */
function skippedKvmStatNotes(skipped: Map<string, Set<string>>): string[] {
  return [...skipped].map(([stat, sides]) => `KVM statistic ${stat} not compared on rows where it is absent (in the ${[...sides].join('; in the ')}): that kernel does not record it (n/a, not 0)`);
}

interface Ctx {
  baseline: ResultsFile;
  current: ResultsFile;
  opts: GateOptions;
  /** KVM statistics skipped because a side lacks them → which side(s). */
  kvmAbsent: Map<string, Set<string>>;
}

const HAS_FIGURES: readonly Status[] = ['measured', 'proxy'];

function compareRow(b: ResultRow, c: ResultRow, ctx: Ctx): Finding[] {
  if (b.status !== c.status) return [statusChange(b, c)];
  if (c.status === 'unsupported') return [finding(c, 'status', 'ok', 'status', { baseline: b.status, current: c.status, message: `unsupported in both: ${c.reason}` })];
  if (c.status === 'failed') return [finding(c, 'status', 'untested', 'status', { baseline: b.status, current: c.status, message: `failed in both, nothing to compare: ${c.reason}` })];
  const out = counters(b, c, ctx);
  out.push(ctx.opts.ratios ? ratio(b, c, ctx) : time(b, c, ctx.opts));
  return out;
}

// ---- status and missing rows -------------------------------------------------------------

/** X → failed regresses; → unsupported cannot be tested; leaving failed/unsupported or proxy → measured improves; the rest warns. */
function statusChange(b: ResultRow, c: ResultRow): Finding {
  const from = b.status;
  const to = c.status;
  const severity: Severity =
    to === 'failed' ? 'regression'
    : to === 'unsupported' ? 'untested'
    : from === 'failed' || from === 'unsupported' || (from === 'proxy' && to === 'measured') ? 'improvement'
    : 'warning';
  const why = c.reason && to !== 'measured' ? `: ${c.reason}` : '';
  return finding(c, 'status', severity, 'status', { baseline: from, current: to, message: `status ${from} → ${to}${why}` });
}

/**
 * A baseline row absent from the current file. It had figures and the current run asked for it
 * (complete, its config names the strategy, workload and access): a regression, the row vanished.
 * It had figures but the run did not ask for it (a subset run, an interrupted one): untested.
 * It had none (unsupported/failed): a warning.
 */
function missing(b: ResultRow, current: ResultsFile): Finding {
  if (!HAS_FIGURES.includes(b.status)) return finding(b, 'missing', 'warning', 'row', { baseline: b.status, message: `missing in current (was ${b.status})` });
  const cfg = current.config;
  const asked = current.complete !== false && !!cfg && cfg.strategies?.includes(b.strategy) && cfg.workloads?.includes(b.workload) && cfg.access?.includes(b.access);
  return asked
    ? finding(b, 'missing', 'regression', 'row', { baseline: b.status, message: `missing in current although the run asked for it (was ${b.status})` })
    : finding(b, 'missing', 'untested', 'row', { baseline: b.status, message: `not in the current run (was ${b.status}): not tested` });
}

// ---- counters ----------------------------------------------------------------------------

function counters(b: ResultRow, c: ResultRow, ctx: Ctx): Finding[] {
  const vb = counterValues(b, c);
  const vc = counterValues(c, b);
  const out: Finding[] = [];
  for (const [name, from] of vb) {
    const to = vc.get(name)!;
    if (from === to) continue;
    out.push(finding(c, 'counter', 'regression', name, { baseline: from, current: to, changePct: pct(from, to), message: `${name} moved: ${from} → ${to}` }));
  }
  const bad = c.samples.filter((s) => s.discoveryOk !== true).length;
  if (bad > 0) {
    const before = b.samples.filter((s) => s.discoveryOk !== true).length;
    out.push(finding(c, 'counter', 'regression', 'discoveryOk', {
      baseline: `${before}/${b.samples.length} wrong`,
      current: `${bad}/${c.samples.length} wrong`,
      message: `discoveryOk: ${before === 0 ? 'all true' : `${before} of ${b.samples.length} false`} → ${bad} of ${c.samples.length} samples false`,
    }));
  }
  const kvm = kvmStatChecks(b, c, ctx.kvmAbsent);
  out.push(...kvm.findings);
  if (out.length === 0) {
    const exitKinds = [...vb.keys()].filter((k) => k.startsWith('exits.')).length;
    const skipped = [...ungatedKinds(b, c), ...kvm.absent];
    const note = skipped.length ? ` (not compared: ${skipped.join(', ')})` : '';
    const stats = kvm.compared.length ? `, ${kvm.compared.join(', ')}` : '';
    out.push(finding(c, 'counter', 'ok', 'counters', { message: `all match: hole accesses, expected, ${exitKinds} exit kinds, discovery${stats}${note}` }));
  } else if (kvm.absent.length) {
    out.push(finding(c, 'counter', 'ok', 'kvm statistics', { message: `not compared: ${kvm.absent.join(', ')}` }));
  }
  return out;
}

/**
 * KVM statistics the gate compares, each as "is it above zero": vm.pages_2m_now > 0 says KVM held
 * a 2 MiB mapping after the scan (setup included). Its count varies with where present functions
 * split the window; whether there is one at all does not.
 */
export const GATED_KVM_STATS: readonly string[] = ['vm.pages_2m_now'];

/** Regressions of GATED_KVM_STATS, the ones compared, and the ones skipped because a side lacks them. */
function kvmStatChecks(b: ResultRow, c: ResultRow, skipped: Map<string, Set<string>>): { findings: Finding[]; compared: string[]; absent: string[] } {
  const findings: Finding[] = [];
  const compared: string[] = [];
  const absent: string[] = [];
  for (const stat of GATED_KVM_STATS) {
    const from = kvmStatMedian(b, stat);
    const to = kvmStatMedian(c, stat);
    if (from === null || to === null) {
      const side = from === null && to === null ? 'baseline and the current' : from === null ? 'baseline' : 'current';
      absent.push(`${stat} absent in the ${side}`);
      if (!skipped.has(stat)) skipped.set(stat, new Set());
      skipped.get(stat)?.add(side);
      continue;
    }
    compared.push(`${stat} > 0`);
    if (from > 0 === to > 0) continue;
    const yn = (x: number) => (x > 0 ? `yes (${x})` : 'no (0)');
    findings.push(finding(c, 'counter', 'regression', `${stat} > 0`, { baseline: yn(from), current: yn(to), message: `2 MiB mappings held after the scan (${stat} > 0): ${yn(from)} → ${yn(to)}` }));
  }
  return { findings, compared, absent };
}

/**
 * The exit kinds the gate compares exactly: each is fixed by the guest program, the topology
 * and the strategy, so the same code gives the same count on every run. mmio_read/mmio_write
 * and io_in/io_out are PCI traffic that reached userspace, other the accesses outside config
 * space, harness the guest's "done" signal, coalesced the writes KVM queued in the
 * coalesced-MMIO ring. Left out: `yields` (a vCPU spinning on a guest lock gives its host CPU
 * away; how often depends on host scheduling, so it varies run to run) and any kind not listed.
 */
export const GATED_EXIT_KINDS: readonly string[] = ['mmio_read', 'mmio_write', 'io_in', 'io_out', 'other', 'harness', 'coalesced'];

/** holeAccesses, expectedHoleAccesses and the median count of each GATED_EXIT_KINDS kind seen in either row. */
function counterValues(row: ResultRow, other: ResultRow): Map<string, number> {
  const m = new Map<string, number>([
    ['holeAccesses', row.holeAccesses],
    ['expectedHoleAccesses', row.expectedHoleAccesses],
  ]);
  const kinds = new Set<string>();
  for (const s of [...row.samples, ...other.samples]) for (const k of Object.keys(s.exits ?? {})) if (GATED_EXIT_KINDS.includes(k)) kinds.add(k);
  for (const k of [...kinds].sort()) {
    const xs = row.samples.map((s) => s.exits?.[k] ?? 0);
    m.set(`exits.${k}`, xs.length ? median(xs) : 0);
  }
  return m;
}

/** Exit kinds recorded by either row that the gate does not compare, sorted. */
function ungatedKinds(b: ResultRow, c: ResultRow): string[] {
  const kinds = new Set<string>();
  for (const s of [...b.samples, ...c.samples]) for (const k of Object.keys(s.exits ?? {})) if (!GATED_EXIT_KINDS.includes(k)) kinds.add(k);
  return [...kinds].sort();
}

// ---- time and ratio ----------------------------------------------------------------------

type Metric = SpeedupMetric;
const METRIC_LABEL: Record<Metric, string> = { nsPerAccess: 'ns/access', scanNs: 'scan ns' };

/** ns per hole access when every sample of every row given has it, else whole-scan ns (cold scan). */
function pickMetric(rows: readonly ResultRow[]): Metric {
  const ok = rows.every((r) => r.samples.length > 0 && r.samples.every((s) => typeof s.scans[0]?.nsPerAccess === 'number'));
  return ok ? 'nsPerAccess' : 'scanNs';
}

/** Cold-scan values of the samples that have one (errored or scan-less samples are skipped). */
function values(row: ResultRow, metric: Metric): number[] {
  return row.samples.map((_, i) => coldValue(row, i, metric)).filter((v): v is number => v !== null);
}

function time(b: ResultRow, c: ResultRow, opts: GateOptions): Finding {
  const metric = pickMetric([b, c]);
  return judge(c, 'time', METRIC_LABEL[metric], values(b, metric), values(c, metric), 'higher', opts);
}

/** Speed-up over userspace-exit in the same file, baseline vs current (see the file header). */
function ratio(b: ResultRow, c: ResultRow, ctx: Ctx): Finding {
  if (c.strategy === REFERENCE_STRATEGY) return referenceDrift(b, c, ctx);
  const refB = reference(ctx.baseline, b);
  const refC = reference(ctx.current, c);
  if (!refB || !refC) {
    const where = !refB ? 'baseline' : 'current';
    return finding(c, 'ratio', 'untested', 'speed-up', { message: `no measured ${REFERENCE_STRATEGY} row for ${c.workload}/${c.access} in the ${where}: speed-up not tested` });
  }
  const metric = pickMetric([b, c, refB, refC]);
  const rb = pairedRatios(refB, b, metric);
  const rc = pairedRatios(refC, c, metric);
  return judge(c, 'ratio', `speed-up (${METRIC_LABEL[metric]})`, rb, rc, 'lower', ctx.opts);
}

/** The first userspace-exit row with figures for the same workload and access. */
function reference(file: ResultsFile, row: ResultRow): ResultRow | undefined {
  return file.rows.find((r) => r.strategy === REFERENCE_STRATEGY && r.workload === row.workload && r.access === row.access && HAS_FIGURES.includes(r.status) && r.samples.length > 0);
}

/**
 * Ratios mode, the reference row: its speed-up is 1 by definition, so what can move is its own
 * time. Tested on absolute time when both files share a host and timing basis; otherwise the
 * finding says it cannot be (absolute times do not transfer), which is not a failure of the row.
 */
function referenceDrift(b: ResultRow, c: ResultRow, ctx: Ctx): Finding {
  const sameHost = ctx.baseline.host.id === ctx.current.host.id && timingBasis(ctx.baseline.host) === timingBasis(ctx.current.host);
  if (!sameHost) {
    return finding(c, 'ratio', 'ok', 'reference drift', { baseline: 1, current: 1, message: `reference row (speed-ups are measured against it): its own drift is not tested, the files come from different hosts or timing bases` });
  }
  const f = time(b, c, ctx.opts);
  const drifted = f.severity === 'regression' || f.severity === 'improvement';
  const mirror = drifted ? `; the speed-ups of ${c.workload}/${c.access} are measured against it, so their changes may mirror this drift` : '';
  return { ...f, kind: 'time', severity: drifted ? 'warning' : f.severity, metric: `reference drift (${f.metric})`, message: `reference row, its own time: ${f.message}${mirror}` };
}

/**
 * The A/B rule on two samples. `worse` says which direction of the median is bad:
 * higher for times, lower for speed-ups.
 */
function judge(row: ResultRow, kind: 'time' | 'ratio', metric: string, xb: number[], xc: number[], worse: 'higher' | 'lower', opts: GateOptions): Finding {
  const n: [number, number] = [xb.length, xc.length];
  if (xb.length < 2 || xc.length < 2) {
    return finding(row, kind, 'untested', metric, {
      baseline: xb.length ? median(xb) : null,
      current: xc.length ? median(xc) : null,
      n,
      message: `too few samples to test (n = ${n[0]} vs ${n[1]})`,
    });
  }
  const mb = median(xb);
  const mc = median(xc);
  const change = pct(mb, mc);
  const t = rankSumTest(xb, xc);
  const base = { baseline: mb, current: mc, changePct: change, pValue: t.p, n, ciPct: changeInterval(xb, xc) };
  const moved = `median ${fmtPct(change)}`;
  if (t.minP > opts.alpha) {
    return finding(row, kind, 'untested', metric, { ...base, message: `could not tell: too few samples to reach alpha ${opts.alpha} (n = ${n[0]} vs ${n[1]}, smallest possible p ${fmtP(t.minP)}); ${moved}` });
  }
  const significant = t.p <= opts.alpha;
  const large = Math.abs(change) > opts.thresholdPct;
  if (significant && large) {
    const bad = worse === 'higher' ? change > 0 : change < 0;
    const what = kind === 'time' ? (change > 0 ? 'slower' : 'faster') : change > 0 ? 'larger speed-up' : 'smaller speed-up';
    return finding(row, kind, bad ? 'regression' : 'improvement', metric, { ...base, message: `${what}: ${moved}, p ${fmtP(t.p)}` });
  }
  const message = significant ? `${moved}, within ±${opts.thresholdPct}% (p ${fmtP(t.p)})`
    : large ? `${moved} but not significant (p ${fmtP(t.p)} > ${opts.alpha})`
    : `no change (${moved}, p ${fmtP(t.p)})`;
  return finding(row, kind, 'ok', metric, { ...base, message });
}

/** Bootstrap resamples behind changeInterval. */
const BOOTSTRAP = 1000;

/**
 * 95 % percentile-bootstrap interval of the change of the median, in percent: both sides
 * resampled with replacement, from a fixed seed so the same files give the same interval.
 */
export function changeInterval(xb: readonly number[], xc: readonly number[]): [number, number] | null {
  if (xb.length < 2 || xc.length < 2) return null;
  const rng = seededRandom(0x9e3779b9);
  const out: number[] = [];
  for (let i = 0; i < BOOTSTRAP; i++) {
    const mb = median(sampleWithReplacement(xb as number[], xb.length, rng));
    const mc = median(sampleWithReplacement(xc as number[], xc.length, rng));
    if (mb !== 0) out.push(((mc - mb) / Math.abs(mb)) * 100);
  }
  return out.length ? [quantile(out, 0.025), quantile(out, 0.975)] : null;
}

// ---- helpers -----------------------------------------------------------------------------

function finding(row: ResultRow, kind: FindingKind, severity: Severity, metric: string, f: Partial<Finding> & { message: string }): Finding {
  return {
    row: rowKeyLabel(row),
    strategy: row.strategy,
    variant: row.variant,
    workload: row.workload,
    access: row.access,
    kind,
    severity,
    metric,
    baseline: f.baseline ?? null,
    current: f.current ?? null,
    changePct: f.changePct ?? null,
    pValue: f.pValue ?? null,
    n: f.n ?? null,
    ciPct: f.ciPct ?? null,
    message: f.message,
  };
}

function pct(from: number, to: number): number {
  if (from === to) return 0;
  if (from === 0) return to > 0 ? Infinity : -Infinity;
  return ((to - from) / Math.abs(from)) * 100;
}

/** "+10.2%" / "−3.0%". */
export function fmtPct(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '+∞%' : '−∞%';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}%`;
}

/** A p-value with 2 significant digits, exponent form below 0.001. */
export function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toPrecision(2);
}
