import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gate, GATED_EXIT_KINDS, type Finding, type GateOptions, type GateVerdict } from '../reports/gate/gate.js';
import { rowKey } from '../runner/results/row-metrics.js';
import { rankSumTest, seededRandom } from '../reports/gate/gate-stats.js';
import { DEFAULT_ALPHA, gateCommand, gateEvalCommand, gateResults, parsePercent } from '../runner/cli/gate-command.js';
import { loadResults } from '../runner/results/load-results.js';
import { evaluateGate, evaluateRuns, scaleRow, withRow } from '../reports/gate/gate-eval.js';
import { UsageError } from '../runner/shared/errors.js';
import type { ResultsFile } from '../runner/results/schema.js';
import { clone, host, makeResults, rowOf, setNsPerAccess, tempDir, writeFixture } from './gate-fixtures.js';

const OPTS: GateOptions = { thresholdPct: 5, alpha: 0.01, ratios: false };

/** Collects what a command prints. */
function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }) as Writable & { text: () => string };
  w.text = () => chunks.join('');
  return w;
}

function scaled(file: ResultsFile, strategy: string, variant: string, factor: number): ResultsFile {
  return withRow(file, rowKey(rowOf(file, strategy, variant)), (r) => scaleRow(r, factor));
}

function only(v: GateVerdict, strategy: string, kind: Finding['kind'], variant = 'default'): Finding {
  const fs = v.findings.filter((f) => f.strategy === strategy && f.variant === variant && f.kind === kind);
  assert.equal(fs.length, 1, `one ${kind} finding for ${strategy}/${variant}: ${JSON.stringify(fs)}`);
  return fs[0];
}

/** Asserts a command rejects with a one-line UsageError (exit 2) whose message matches. */
async function rejects2(p: Promise<number>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UsageError, `UsageError expected, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

// ---- the rank test ---------------------------------------------------------------------

test('rankSumTest: exact two-sided p-values, smallest achievable p', () => {
  const t3 = rankSumTest([1, 2, 3], [4, 5, 6]);
  assert.equal(t3.method, 'exact');
  assert.ok(Math.abs(t3.p - 0.1) < 1e-12, 'complete separation of 3 vs 3 is p = 2/20');
  assert.ok(t3.minP > 0.01, 'n = 3 can never reach alpha 0.01');
  const a = Array.from({ length: 10 }, (_, i) => i);
  const t10 = rankSumTest(a, a.map((x) => x + 10));
  assert.ok(Math.abs(t10.p - 2 / 184756) < 1e-15, '10 vs 10 separated is p = 2/C(20,10)');
  assert.equal(rankSumTest(a, a).p, 1);
  assert.ok(Math.abs(rankSumTest([4, 5, 6], [1, 2, 3]).p - 0.1) < 1e-12, 'symmetric');
});

test('rankSumTest: ties (midranks) match brute-force enumeration', () => {
  const brute = (x: number[], y: number[]) => {
    const all = [...x, ...y];
    const sorted = [...all].sort((p, q) => p - q);
    const rank = (v: number) => (sorted.indexOf(v) + sorted.lastIndexOf(v)) / 2 + 1;
    const w = x.reduce((s, v) => s + rank(v), 0);
    let le = 0, ge = 0, tot = 0;
    for (let mask = 0; mask < 1 << all.length; mask++) {
      const idx = all.map((_, i) => i).filter((i) => (mask >> i) & 1);
      if (idx.length !== x.length) continue;
      const s = idx.reduce((acc, i) => acc + rank(all[i]), 0);
      tot++;
      if (s <= w + 1e-9) le++;
      if (s >= w - 1e-9) ge++;
    }
    return Math.min(1, (2 * Math.min(le, ge)) / tot);
  };
  const rng = seededRandom(7);
  for (let k = 0; k < 50; k++) {
    const draw = (len: number) => Array.from({ length: len }, () => Math.floor(rng() * 5));
    const x = draw(1 + Math.floor(rng() * 5));
    const y = draw(1 + Math.floor(rng() * 7));
    assert.ok(Math.abs(rankSumTest(x, y).p - brute(x, y)) < 1e-12, `${x} vs ${y}`);
  }
});

test('rankSumTest: large samples use the normal approximation, close to exact at the boundary', () => {
  const rng = seededRandom(3);
  const x = Array.from({ length: 60 }, () => rng());
  const y = Array.from({ length: 60 }, () => rng() + 0.15);
  const t = rankSumTest(x, y);
  assert.equal(t.method, 'normal');
  assert.ok(t.p > 0 && t.p < 0.05);
  const xs = x.slice(0, 35), ys = y.slice(0, 35);
  assert.equal(rankSumTest(xs, ys).method, 'exact');
});

// ---- the gate's rules ------------------------------------------------------------------

test('identical files pass with every check ok', () => {
  const a = makeResults({ seed: 1 });
  const v = gate(a, clone(a), OPTS);
  assert.equal(v.pass, true);
  assert.equal(v.outcome, 'pass');
  assert.deepEqual(v.counts, { regression: 0, untested: 0, improvement: 0, warning: 0, ok: v.findings.length });
});

test('two runs of the same (noisy) host pass', () => {
  const v = gate(makeResults({ seed: 1 }), makeResults({ seed: 2 }), OPTS);
  assert.equal(v.pass, true, JSON.stringify(v.findings.filter((f) => f.severity !== 'ok')));
});

test('a 10 % slowdown of one row is a time regression naming it; the others stay ok', () => {
  const a = makeResults({ seed: 1 });
  const v = gate(a, scaled(makeResults({ seed: 2 }), 'ro-page', 'thp', 1.1), OPTS);
  assert.equal(v.pass, false);
  const f = only(v, 'ro-page', 'time', 'thp');
  assert.equal(f.severity, 'regression');
  assert.equal(f.metric, 'ns/access');
  assert.ok(f.changePct! > 5 && f.changePct! < 16, String(f.changePct));
  assert.ok(f.pValue! <= 0.01);
  assert.match(f.message, /slower/);
  assert.equal(v.counts.regression, 1);
});

test('a 10 % speed-up is an improvement, not a failure', () => {
  const v = gate(makeResults({ seed: 1 }), scaled(makeResults({ seed: 2 }), 'shared-hva', '4k', 0.9), OPTS);
  assert.equal(v.pass, true);
  assert.equal(only(v, 'shared-hva', 'time', '4k').severity, 'improvement');
});

test('threshold respected: a significant 3 % shift passes at 5 %, fails at 2 %', () => {
  const a = makeResults({ seed: 1, noise: 0.002 });
  const b = scaled(makeResults({ seed: 2, noise: 0.002 }), 'userspace-exit', 'default', 1.03);
  const v = gate(a, b, OPTS);
  assert.equal(v.pass, true);
  const f = only(v, 'userspace-exit', 'time');
  assert.equal(f.severity, 'ok');
  assert.ok(f.pValue! <= 0.01, 'the shift is significant');
  assert.match(f.message, /within ±5%/);
  assert.equal(only(gate(a, b, { ...OPTS, thresholdPct: 2 }), 'userspace-exit', 'time').severity, 'regression');
});

test('rank test respected: a large median change with overlapping noisy samples passes', () => {
  const a = makeResults({ seed: 1 });
  const b = clone(a);
  setNsPerAccess(rowOf(a, 'ro-page', '4k'), [1820, 2080, 2340, 2470, 2600, 2730, 2860, 3120, 3380, 3640]);
  setNsPerAccess(rowOf(b, 'ro-page', '4k'), [1950, 2210, 2390, 2810, 2910, 2990, 3070, 3250, 3510, 3770]);
  const f = only(gate(a, b, OPTS), 'ro-page', 'time', '4k');
  assert.ok(f.changePct! > 5, `median moved ${f.changePct}%`);
  assert.ok(f.pValue! > 0.01);
  assert.equal(f.severity, 'ok');
  assert.match(f.message, /not significant/);
});

test('too few samples to reach alpha is untested: inconclusive, neither a pass nor a failure', () => {
  const a = makeResults({ seed: 1, samples: 3 });
  const v = gate(a, scaled(makeResults({ seed: 2, samples: 3 }), 'ro-page', 'thp', 1.5), OPTS);
  assert.equal(v.pass, false);
  assert.equal(v.outcome, 'inconclusive');
  const f = only(v, 'ro-page', 'time', 'thp');
  assert.equal(f.severity, 'untested');
  assert.match(f.message, /could not tell: too few samples to reach alpha 0\.01 \(n = 3 vs 3, smallest possible p 0\.10\)/);
  assert.match(f.message, /\+5\d\.\d%/);
});

test('rows without hole reads are compared on whole-scan ns', () => {
  const v = gate(makeResults({ seed: 1 }), scaled(makeResults({ seed: 2 }), 'guest-enlightenment', 'default', 1.2), OPTS);
  const f = only(v, 'guest-enlightenment', 'time');
  assert.equal(f.metric, 'scan ns');
  assert.equal(f.severity, 'regression');
});

test('counter changes are functional regressions naming the counter (from → to)', () => {
  const a = makeResults({ seed: 1 });
  const b = clone(a);
  rowOf(b, 'ro-page', 'thp').holeAccesses = 8192;
  for (const s of rowOf(b, 'shared-hva', '4k').samples) s.exits.mmio_read = 41;
  for (const s of rowOf(b, 'memslot-flag').samples) s.exits.io_in = 2;
  rowOf(b, 'mmio-bus-device').samples[4].discoveryOk = false;
  rowOf(b, 'userspace-exit').expectedHoleAccesses = 8161;
  const v = gate(a, b, OPTS);
  assert.equal(v.pass, false);
  const msg = (strategy: string, variant = 'default') =>
    v.findings.filter((f) => f.strategy === strategy && f.variant === variant && f.kind === 'counter' && f.severity === 'regression').map((f) => f.message);
  assert.deepEqual(msg('ro-page', 'thp'), ['holeAccesses moved: 8193 → 8192']);
  assert.deepEqual(msg('shared-hva', '4k'), ['exits.mmio_read moved: 40 → 41']);
  assert.deepEqual(msg('memslot-flag'), ['exits.io_in moved: 0 → 2']);
  assert.deepEqual(msg('mmio-bus-device'), ['discoveryOk: all true → 1 of 10 samples false']);
  assert.deepEqual(msg('userspace-exit'), ['expectedHoleAccesses moved: 8193 → 8161']);
  assert.equal(v.counts.regression, 5);
});

test('yields are not gated (scheduling-dependent); every deterministic exit kind is', () => {
  assert.deepEqual([...GATED_EXIT_KINDS].sort(), ['coalesced', 'harness', 'io_in', 'io_out', 'mmio_read', 'mmio_write', 'other']);
  assert.ok(!GATED_EXIT_KINDS.includes('yields'));
  const a = makeResults({ seed: 1 });
  for (const r of a.rows) r.samples.forEach((s, i) => Object.assign(s.exits, { harness: 1, other: 0, coalesced: 0, yields: 300 + 7 * i }));
  // A second run of the same code: the lock spins yield a different number of times.
  const b = clone(a);
  for (const r of b.rows) r.samples.forEach((s, i) => (s.exits.yields = 1200 - 13 * i));
  const v = gate(a, b, OPTS);
  assert.equal(v.pass, true, JSON.stringify(v.findings.filter((f) => f.severity !== 'ok')));
  assert.ok(!v.findings.some((f) => f.metric === 'exits.yields'));
  const ok = only(v, 'userspace-exit', 'counter');
  assert.match(ok.message, /all match: .* \(not compared: yields\)$/);
  // The deterministic kinds still regress on any move.
  for (const kind of ['harness', 'other', 'coalesced']) {
    const c = clone(a);
    for (const s of rowOf(c, 'userspace-exit').samples) s.exits[kind] += 1;
    const f = gate(a, c, OPTS).findings.filter((x) => x.kind === 'counter' && x.severity === 'regression');
    assert.deepEqual(f.map((x) => x.message), [`exits.${kind} moved: ${kind === 'harness' ? 1 : 0} → ${kind === 'harness' ? 2 : 1}`], kind);
  }
});

test('status changes are flagged: X → failed regresses, proxy → measured improves, measured → unsupported is untested', () => {
  const a = makeResults({ seed: 1 });
  const b = clone(a);
  Object.assign(rowOf(b, 'ro-page', '4k'), { status: 'unsupported', reason: 'not root', samples: [] });
  Object.assign(rowOf(b, 'memslot-flag'), { status: 'measured' });
  Object.assign(rowOf(b, 'shared-hva', '4k'), { status: 'failed', reason: 'guest fault at 0xb0000000' });
  Object.assign(rowOf(b, 'ro-page', 'hugetlb'), { status: 'failed', reason: 'mmap EINVAL' });
  const v = gate(a, b, OPTS);
  assert.equal(v.pass, false);
  const st = (s: string, variant = 'default') => only(v, s, 'status', variant);
  assert.equal(st('ro-page', '4k').severity, 'untested');
  assert.equal(st('ro-page', '4k').message, 'status measured → unsupported: not root');
  assert.equal(st('memslot-flag').severity, 'improvement');
  assert.equal(st('shared-hva', '4k').severity, 'regression');
  assert.equal(st('ro-page', 'hugetlb').severity, 'regression');
  assert.equal(st('ro-page', 'hugetlb').message, 'status unsupported → failed: mmap EINVAL');
  assert.equal(v.counts.regression, 2);
});

test('rows failed in both files are untested; an incomplete current run is noted', () => {
  const a = makeResults({ seed: 1 });
  Object.assign(rowOf(a, 'shared-hva', '4k'), { status: 'failed', reason: 'timeout' });
  const b = clone(a);
  b.complete = false;
  const v = gate(a, b, OPTS);
  assert.equal(v.outcome, 'inconclusive');
  assert.equal(gate(a, b, { ...OPTS, allowUntested: true }).outcome, 'pass');
  assert.equal(only(v, 'shared-hva', 'status', '4k').severity, 'untested');
  assert.match(v.notes.join(), /current run is incomplete/);
});

test('rows in one file only: a measured row the run asked for regresses, unsupported ones warn, new rows are untested', () => {
  const a = makeResults({ seed: 1 });
  const b = clone(a);
  b.rows = b.rows.filter((r) => !(r.strategy === 'ro-page' && r.variant !== '4k') && r.strategy !== 'spte-prefetch');
  b.rows.push({ ...clone(rowOf(a, 'ro-page', '4k')), variant: '1g' });
  const v = gate(a, b, OPTS);
  const miss = v.findings.filter((f) => f.kind === 'missing');
  assert.deepEqual(
    miss.map((f) => [f.row, f.severity, f.message]),
    [
      ['ro-page/thp linux-q35-boot/ecam', 'regression', 'missing in current although the run asked for it (was measured)'],
      ['ro-page/hugetlb linux-q35-boot/ecam', 'warning', 'missing in current (was unsupported)'],
      ['spte-prefetch/default linux-q35-boot/ecam', 'warning', 'missing in current (was unsupported)'],
      ['ro-page/1g linux-q35-boot/ecam', 'untested', 'new row (not in the baseline), measured: nothing to compare it with'],
    ],
  );
  assert.equal(v.outcome, 'fail');
  // A run that did not ask for ro-page (a subset run) cannot tell about it: untested, not a regression.
  b.config.strategies = b.config.strategies.filter((x) => x !== 'ro-page');
  const subset = gate(a, b, OPTS);
  assert.equal(subset.findings.find((f) => f.row === 'ro-page/thp linux-q35-boot/ecam')?.severity, 'untested');
  assert.equal(subset.outcome, 'inconclusive');
});

test('ratios: another host 2× faster passes; a strategy 10 % slower against userspace-exit fails', () => {
  const a = makeResults({ seed: 1, hostId: 'host-a' });
  const fast = makeResults({ seed: 2, hostId: 'host-b' });
  fast.rows = fast.rows.map((r) => scaleRow(r, 0.5));
  assert.throws(() => gate(a, fast, OPTS), /host fingerprints differ/);
  const ok = gate(a, fast, { ...OPTS, ratios: true });
  assert.equal(ok.pass, true, JSON.stringify(ok.findings.filter((f) => f.severity !== 'ok')));
  assert.equal(ok.mode, 'ratios');
  assert.match(ok.notes.join(), /hosts differ/);
  assert.equal(only(ok, 'ro-page', 'ratio', 'thp').metric, 'speed-up (ns/access)');
  assert.equal(only(ok, 'guest-enlightenment', 'ratio').metric, 'speed-up (scan ns)');
  assert.ok(ok.findings.every((f) => f.kind !== 'time'));

  const v = gate(a, scaled(fast, 'ro-page', 'thp', 1.1), { ...OPTS, ratios: true });
  assert.equal(v.pass, false);
  const f = only(v, 'ro-page', 'ratio', 'thp');
  assert.equal(f.severity, 'regression');
  assert.ok(f.changePct! < -5);
  assert.match(f.message, /smaller speed-up/);
  // Slowing userspace-exit itself makes every other row's speed-up larger: improvements only.
  const ref = gate(a, scaled(fast, 'userspace-exit', 'default', 1.1), { ...OPTS, ratios: true });
  assert.equal(ref.pass, true);
  assert.equal(only(ref, 'ro-page', 'ratio', 'thp').severity, 'improvement');
});

test('ratios: without a userspace-exit row a speed-up cannot be compared (untested)', () => {
  const a = makeResults({ seed: 1 });
  const b = makeResults({ seed: 2, hostId: 'host-b' });
  b.rows = b.rows.filter((r) => r.strategy !== 'userspace-exit');
  b.config.strategies = b.config.strategies.filter((x) => x !== 'userspace-exit');
  const v = gate(a, b, { ...OPTS, ratios: true });
  const f = only(v, 'ro-page', 'ratio', 'thp');
  assert.equal(f.severity, 'untested');
  assert.equal(v.outcome, 'inconclusive');
  assert.match(f.message, /no measured userspace-exit row .* in the current/);
});

test('gate() refuses duplicate rows and bad options', () => {
  const a = makeResults();
  const dup = clone(a);
  dup.rows.push(clone(dup.rows[0]));
  assert.throws(() => gate(a, dup, OPTS), /current: duplicate row userspace-exit\/default linux-q35-boot\/ecam/);
  assert.throws(() => gate(a, a, { ...OPTS, alpha: 0 }), RangeError);
  assert.throws(() => gate(a, a, { ...OPTS, thresholdPct: -1 }), RangeError);
});

// ---- bench gate: exit statuses and bad input ---------------------------------------------

test('bench gate: 0 on pass with an aligned table; 1 on regression', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1 }));
  const b = await writeFixture(dir, 'b.json', makeResults({ seed: 2 }));
  const slow = await writeFixture(dir, 'slow.json', scaled(makeResults({ seed: 2 }), 'userspace-exit', 'default', 1.1));
  const out = sink();
  assert.equal(await gateCommand(['--baseline', a, '--current', b], out), 0);
  const lines = out.text().split('\n');
  const header = lines.find((l) => l.startsWith('ROW'))!;
  assert.ok(header, out.text());
  const verdictCol = header.indexOf('VERDICT');
  for (const l of lines.filter((x) => / linux-q35-boot\/ecam /.test(x))) assert.match(l.slice(verdictCol), /^(ok|warning|improved|untested|REGRESSION) /);
  assert.match(out.text(), /bench gate PASS: 0 regressions/);
  const out2 = sink();
  assert.equal(await gateCommand(['--baseline', a, '--current', slow], out2), 1);
  assert.match(out2.text(), /userspace-exit\/default linux-q35-boot\/ecam\s+time ns\/access .*REGRESSION/);
  assert.match(out2.text(), /bench gate FAIL: 1 regression,/);
});

test('bench run --gate: gateResults over a run in memory prints and exits as bench gate over the written file', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1 }));
  for (const [name, cur, ratios] of [
    ['b.json', makeResults({ seed: 2 }), false],
    ['slow.json', scaled(makeResults({ seed: 2 }), 'userspace-exit', 'default', 1.1), false],
    ['other.json', makeResults({ seed: 2, hostId: 'host-b' }), true],
  ] as const) {
    const path = await writeFixture(dir, name, cur);
    const byFile = sink();
    const fileCode = await gateCommand(['--baseline', a, '--current', path, ...(ratios ? ['--ratios'] : [])], byFile);
    const inMemory = sink();
    const memCode = await gateResults(await loadResults(a, '--gate'), { path, file: cur }, { thresholdPct: 5, alpha: DEFAULT_ALPHA, ratios, allowUntested: false }, inMemory);
    assert.equal(memCode, fileCode, name);
    assert.equal(inMemory.text(), byFile.text(), name);
  }
  const dup = makeResults({ seed: 2 });
  dup.rows.push(clone(dup.rows[0]));
  await rejects2(gateResults(await loadResults(a), { path: join(dir, 'dup.json'), file: dup }, OPTS, sink()), /^--current: .*dup\.json: duplicate row userspace-exit/);
});

test('bench gate: run directories containing results.json are accepted', async () => {
  const dir = await tempDir();
  const run = join(dir, '20261126-abc');
  await mkdir(run);
  await writeFixture(run, 'results.json', makeResults({ seed: 2 }));
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1 }));
  assert.equal(await gateCommand(['--baseline', a, '--current', run], sink()), 0);
  await rejects2(gateCommand(['--baseline', dir, '--current', run], sink()), /^--baseline: .* is a directory without results\.json$/);
});

test('bench gate: different host without --ratios exits 2; with --ratios gates speed-ups', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1, hostId: 'host-a' }));
  const other = makeResults({ seed: 2, hostId: 'host-b' });
  const b = await writeFixture(dir, 'b.json', other);
  await rejects2(gateCommand(['--baseline', a, '--current', b], sink()), /^--current: .*b\.json was measured on host host-b, --baseline .*a\.json on host host-a: .* use --ratios$/);
  assert.equal(await gateCommand(['--baseline', a, '--current', b, '--ratios'], sink()), 0);
  const slow = await writeFixture(dir, 'slow.json', scaled(other, 'mmio-bus-device', 'default', 1.1));
  assert.equal(await gateCommand(['--baseline', a, '--current', slow, '--ratios'], sink()), 1);
});

test('bench gate: missing, corrupt, wrong-schema and incompatible files exit 2 naming the file', async () => {
  const dir = await tempDir();
  const good = makeResults();
  const a = await writeFixture(dir, 'a.json', good);
  const corrupt = await writeFixture(dir, 'corrupt.json', '{"schema": "pcihole-bench/results", "rows": [');
  const wrong = await writeFixture(dir, 'wrong.json', { schema: 'something-else', schemaVersion: 1 });
  const v9 = await writeFixture(dir, 'v9.json', { ...good, schemaVersion: 9 });
  const noHost = await writeFixture(dir, 'nohost.json', { ...good, host: undefined });
  const badRow = await writeFixture(dir, 'badrow.json', { ...good, rows: [{ ...good.rows[0], status: 'great' }] });
  const dupRows = await writeFixture(dir, 'dup.json', { ...good, rows: [good.rows[0], good.rows[0]] });
  const run = (cur: string) => gateCommand(['--baseline', a, '--current', cur], sink());
  await rejects2(run(join(dir, 'nope.json')), /^--current: .*nope\.json: no such file or directory$/);
  await rejects2(gateCommand(['--baseline', join(dir, 'gone.json'), '--current', a], sink()), /^--baseline: .*gone\.json: no such/);
  await rejects2(run(corrupt), /^--current: .*corrupt\.json: not valid JSON \(/);
  await rejects2(run(wrong), /^--current: .*wrong\.json: not a pcihole-bench results file/);
  await rejects2(run(v9), /^--current: .*v9\.json: schema version 9, this tool reads 1 and 2$/);
  await rejects2(run(noHost), /^--current: .*nohost\.json: missing host fingerprint$/);
  await rejects2(run(badRow), /^--current: .*badrow\.json: rows\[0\]\.status great is unknown$/);
  await rejects2(run(dupRows), /^--current: .*dup\.json: duplicate row userspace-exit/);
});

test('bench gate: bad flags exit 2 naming the flag', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults());
  const run = (...extra: string[]) => gateCommand(['--baseline', a, '--current', a, ...extra], sink());
  for (const t of ['-5', 'abc', '', '5%%', 'NaN', '0.05']) await rejects2(run(`--threshold=${t}`), /^--threshold: /);
  for (const al of ['0', '1', '1.5', '-0.01', 'x', '']) await rejects2(run(`--alpha=${al}`), /^--alpha: /);
  await rejects2(run('--threshold'), /--threshold/);
  await rejects2(run('--bogus'), /bogus/);
  await rejects2(run('extra-positional'), /extra-positional/);
  await rejects2(gateCommand(['--current', a], sink()), /^--baseline is required/);
  await rejects2(gateCommand(['--baseline', a], sink()), /^--current is required/);
  await rejects2(run('--json', join(dir, 'no-such-dir', 'v.json')), /^--json: cannot write /);
  assert.equal(await run('--threshold', '5%', '--alpha', '0.05'), 0);
});

test('--threshold is a percentage: "5%" and "5" are 5 %, "0.5%" is 0.5 %, bare "0.05" is refused', () => {
  assert.equal(parsePercent('5%', '--threshold'), 5);
  assert.equal(parsePercent('5', '--threshold'), 5);
  assert.equal(parsePercent('0.5%', '--threshold'), 0.5);
  assert.equal(parsePercent('0', '--threshold'), 0);
  assert.throws(() => parsePercent('0.05', '--threshold'), /ambiguous: write 5% for a fraction or 0\.05% for a percent/);
});

test('bench gate: --markdown writes a job summary, --json the verdict', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1 }));
  const b = await writeFixture(dir, 'b.json', scaled(makeResults({ seed: 2 }), 'ro-page', 'thp', 1.1));
  const md = join(dir, 'summary.md');
  const js = join(dir, 'verdict.json');
  assert.equal(await gateCommand(['--baseline', a, '--current', b, '--markdown', md, '--json', js], sink()), 1);
  const text = await readFile(md, 'utf8');
  assert.match(text, /^### ❌ bench gate FAIL: 1 regression/);
  assert.match(text, /\| row \| check \| baseline \| current \| change \[95% CI\] \| n \| p \| verdict \| note \|/);
  // Each change carries its interval and sample counts.
  assert.match(text, /\| ro-page\/thp linux-q35-boot\/ecam \| time ns\/access \| [^|]+ \| [^|]+ \| \+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\] \| 10\/10 \|/);
  assert.match(text, /\| ro-page\/thp linux-q35-boot\/ecam \| time ns\/access \| .* \| ❌ REGRESSION \|/);
  assert.match(text, /<details><summary>All \d+ checks<\/summary>/);
  const verdict = JSON.parse(await readFile(js, 'utf8')) as GateVerdict & { baseline: string };
  assert.equal(verdict.pass, false);
  assert.equal(verdict.baseline, a);
  assert.equal(verdict.findings.filter((f) => f.severity === 'regression')[0].row, 'ro-page/thp linux-q35-boot/ecam');
});

// ---- gate-eval ---------------------------------------------------------------------------

test('evaluateGate: ≤ 1 false alarm over 20 split-half pairs, every +10 % slowdown caught (absolute and ratios)', () => {
  const file = makeResults({ seed: 11, samples: 20 });
  for (const ratios of [false, true]) {
    const e = evaluateGate(file, { pairs: 20, seed: 5, ratios });
    assert.equal(e.pairs, 20);
    assert.ok(e.falseAlarms <= 1, `${e.falseAlarms} false alarms: ${e.falseAlarmFindings.join('; ')}`);
    assert.equal(e.injected, 20 * (ratios ? 6 : 7));
    assert.equal(e.caught, e.injected, e.missed.join('; '));
  }
});

test('evaluateGate: halves too small to reach alpha miss the slowdown, and the command says so (exit 1)', async () => {
  const dir = await tempDir();
  const small = makeResults({ seed: 11, samples: 6 });
  const e = evaluateGate(small, { pairs: 20 });
  assert.equal(e.caught, 0);
  assert.match(e.missed[0], /could not tell: too few samples/);
  const path = await writeFixture(dir, 'small.json', small);
  const out = sink();
  assert.equal(await gateEvalCommand([path], out), 1);
  assert.match(out.text(), /caught: 0 of 140/);
  const big = await writeFixture(dir, 'big.json', makeResults({ seed: 11, samples: 20 }));
  const json = join(dir, 'eval.json');
  assert.equal(await gateEvalCommand([big, '--pairs', '20', '--json', json], sink()), 0);
  assert.equal(JSON.parse(await readFile(json, 'utf8')).pairs, 20);
  await rejects2(gateEvalCommand([], sink()), /needs one results file \(split halves\) or several/);
  await rejects2(gateEvalCommand([big, '--pairs', '0'], sink()), /^--pairs 0: expected a whole number from 1 to /);
  await rejects2(gateEvalCommand([big, '--seed', 'x'], sink()), /^--seed x: expected a whole number/);
  await rejects2(gateEvalCommand([join(dir, 'none.json')], sink()), /^gate-eval: .*none\.json: no such/);
});

/** Seven separate runs whose every time drifts by a per-run factor (as between real runs on the project's host). */
function driftingRuns(hostIds: (run: number) => string = () => 'host-a'): ResultsFile[] {
  return [0.85, 1.0, 1.12, 0.93, 1.05, 1.2, 0.97].map((drift, i) => {
    const f = makeResults({ seed: 100 + i, samples: 10, hostId: hostIds(i) });
    return { ...f, rows: f.rows.map((r) => scaleRow(r, drift)) };
  });
}

test('evaluateRuns: pairs of separate runs; host drift raises false alarms in absolute mode, --ratios cancels it', () => {
  const runs = driftingRuns();
  const abs = evaluateRuns(runs);
  assert.equal(abs.method, 'runs');
  assert.equal(abs.pairs, 21);
  assert.ok(abs.falseAlarms > 5, `${abs.falseAlarms} false alarms in absolute mode`);
  const rat = evaluateRuns(runs, { ratios: true });
  assert.equal(rat.falseAlarms, 0, rat.falseAlarmFindings.join('; '));
  assert.equal(rat.injected, 21 * 6);
  assert.equal(rat.caught, rat.injected, rat.missed.join('; '));
});

test('bench gate-eval with several run files: exit 0 when the bar is met, 2 on mixed hosts without --ratios, 1 under 20 pairs', async () => {
  const dir = await tempDir();
  const paths = await Promise.all(driftingRuns((i) => (i < 4 ? 'host-a' : 'host-b')).map((f, i) => writeFixture(dir, `run${i}.json`, f)));
  await rejects2(gateEvalCommand(paths, sink()), /^gate-eval: .*run4\.json was measured on host host-b, .*run0\.json on host host-a: use --ratios$/);
  const out = sink();
  assert.equal(await gateEvalCommand([...paths, '--ratios'], out), 0);
  assert.match(out.text(), /21 pairs of separate runs, mode ratios/);
  assert.match(out.text(), /false alarms: 0 of 21 pairs/);
  const few = sink();
  assert.equal(await gateEvalCommand([...paths.slice(0, 3), '--ratios'], few), 1);
  assert.match(few.text(), /3 pairs; the bar .* needs at least 20/);
});

test('fixtures are reproducible (seeded PRNG)', () => {
  assert.deepEqual(makeResults({ seed: 4 }), makeResults({ seed: 4 }));
  assert.notDeepEqual(makeResults({ seed: 4 }).rows[0].samples, makeResults({ seed: 5 }).rows[0].samples);
  assert.equal(host('x').id, 'x');
});
