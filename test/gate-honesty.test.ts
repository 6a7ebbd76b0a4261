// The gate never says PASS when it could not tell (issue 15), and its exit statuses:
// 0 pass, 1 regression, 2 bad input, 3 internal error, 4 inconclusive.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gate } from '../reports/gate/gate.js';
import { GATE_EXIT, gateCommand } from '../runner/cli/gate-command.js';
import { scaleRow, withRow } from '../reports/gate/gate-eval.js';
import { rowKey } from '../runner/results/row-metrics.js';
import { UsageError } from '../runner/shared/errors.js';
import type { ResultsFile } from '../runner/results/schema.js';
import { clone, makeResults, rowOf, tempDir, writeFixture } from './gate-fixtures.js';

function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }) as Writable & { text: () => string };
  w.text = () => chunks.join('');
  return w;
}

function slowed(file: ResultsFile, strategy: string, variant: string, factor: number): ResultsFile {
  return withRow(file, rowKey(rowOf(file, strategy, variant)), (r) => scaleRow(r, factor));
}

async function exitOf(args: string[]): Promise<{ code: number; text: string }> {
  const out = sink();
  const code = await gateCommand(args, out, sink());
  return { code, text: out.text() };
}

test('exit statuses are distinct: pass 0, regression 1, bad input 2, internal error 3, inconclusive 4', () => {
  assert.deepEqual(GATE_EXIT, { pass: 0, fail: 1, badInput: 2, internal: 3, inconclusive: 4 });
});

test('an empty baseline is inconclusive (exit 4), even with --allow-untested', async () => {
  const dir = await tempDir();
  const empty = makeResults({ seed: 1 });
  empty.rows = [];
  const a = await writeFixture(dir, 'empty.json', empty);
  const b = await writeFixture(dir, 'b.json', makeResults({ seed: 2 }));
  const r = await exitOf(['--baseline', a, '--current', b]);
  assert.equal(r.code, 4);
  assert.match(r.text, /bench gate INCONCLUSIVE \(could not tell\)/);
  assert.match(r.text, /the baseline has no rows: nothing was compared/);
  assert.doesNotMatch(r.text, /PASS/);
  assert.equal((await exitOf(['--baseline', a, '--current', b, '--allow-untested'])).code, 4);
});

test('files with no row in common are inconclusive', () => {
  const a = makeResults({ seed: 1 });
  const b = makeResults({ seed: 2 });
  for (const r of b.rows) r.workload = 'cloud-dense';
  b.config.workloads = ['cloud-dense'];
  const v = gate(a, b, { thresholdPct: 5, alpha: 0.01, ratios: false, allowUntested: true });
  assert.equal(v.sharedRows, 0);
  assert.equal(v.outcome, 'inconclusive');
});

test('3 vs 3 samples of a 3× slowdown: inconclusive (exit 4), not PASS; --allow-untested accepts it (exit 0)', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1, samples: 3 }));
  const b = await writeFixture(dir, 'b.json', slowed(makeResults({ seed: 2, samples: 3 }), 'ro-page', '4k', 3));
  const r = await exitOf(['--baseline', a, '--current', b]);
  assert.equal(r.code, 4);
  assert.match(r.text, /ro-page\/4k linux-q35-boot\/ecam\s+time ns\/access .* untested\s+could not tell: too few samples/);
  assert.doesNotMatch(r.text, /bench gate PASS/);
  const allowed = await exitOf(['--baseline', a, '--current', b, '--allow-untested']);
  assert.equal(allowed.code, 0);
  assert.match(allowed.text, /could not be tested \(allowed by --allow-untested\)/);
});

test('5 vs 5 samples (the lab baseline) can reach alpha 0.01: a speed-up falling to a fifth fails at --threshold 75%, identical runs pass', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1, samples: 5 }));
  const same = await writeFixture(dir, 'same.json', makeResults({ seed: 2, samples: 5 }));
  const slow = await writeFixture(dir, 'slow.json', slowed(makeResults({ seed: 2, samples: 5 }), 'ro-page', 'thp', 5));
  const args = ['--ratios', '--threshold', '75%'];
  assert.equal((await exitOf(['--baseline', a, '--current', same, ...args])).code, 0);
  const r = await exitOf(['--baseline', a, '--current', slow, ...args]);
  assert.equal(r.code, 1);
  assert.match(r.text, /ro-page\/thp .* ratio speed-up \(ns\/access\) .* REGRESSION/);
});

test('--ratios tests the reference row: same host, userspace-exit +15 % is reported as its drift, not as 5 silent improvements', () => {
  const a = makeResults({ seed: 1 });
  const b = slowed(makeResults({ seed: 2 }), 'userspace-exit', 'default', 1.15);
  const v = gate(a, b, { thresholdPct: 5, alpha: 0.01, ratios: true });
  const ref = v.findings.find((f) => f.strategy === 'userspace-exit' && f.metric.startsWith('reference drift'));
  assert.ok(ref, JSON.stringify(v.findings.filter((f) => f.strategy === 'userspace-exit')));
  assert.equal(ref.severity, 'warning');
  assert.match(ref.message, /reference row, its own time: slower: median \+1\d\.\d%.*may mirror this drift/);
  // Another host: the drift cannot be tested, and the finding says so.
  const other = gate(a, { ...b, host: { ...b.host, id: 'host-b' } }, { thresholdPct: 5, alpha: 0.01, ratios: true });
  const note = other.findings.find((f) => f.strategy === 'userspace-exit' && f.kind === 'ratio');
  assert.match(note?.message ?? '', /its own drift is not tested, the files come from different hosts/);
});

test('an internal error exits 3 with one line, never 1 (the regression status)', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1 }));
  const broken = new Writable({ write: (_c, _e, cb) => cb(new Error('EPIPE: stdout went away')) });
  (broken as unknown as { write: () => never }).write = () => {
    throw new Error('EPIPE: stdout went away');
  };
  const err = sink();
  const code = await gateCommand(['--baseline', a, '--current', a], broken, err);
  assert.equal(code, 3);
  assert.match(err.text(), /^bench gate: internal error: EPIPE: stdout went away \(PCIHOLE_DEBUG=1 for the stack\)\n$/);
});

test('outputs that would overwrite an input are refused (exit 2), the input unchanged, nothing printed', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1 }));
  const b = await writeFixture(dir, 'b.json', makeResults({ seed: 2 }));
  const before = readFileSync(a, 'utf8');
  for (const [flag, target] of [['--markdown', a], ['--json', b], ['--markdown', join(dir, '.', 'a.json')]]) {
    const out = sink();
    await assert.rejects(gateCommand(['--baseline', a, '--current', b, flag, target], out), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, new RegExp(`^${flag}: .* is an input of this command`));
      return true;
    });
    assert.equal(out.text(), '', 'nothing printed before the refusal');
  }
  assert.equal(readFileSync(a, 'utf8'), before);
});

test('an unwritable --markdown is one line, exit 2, before any verdict is printed', async () => {
  const dir = await tempDir();
  const a = await writeFixture(dir, 'a.json', makeResults({ seed: 1 }));
  const out = sink();
  await assert.rejects(gateCommand(['--baseline', a, '--current', a, '--markdown', join(dir, 'no', 'such', 'summary.md')], out), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /^--markdown: cannot write .*summary\.md: folder .* does not exist$/);
    assert.ok(!e.message.includes('ENOENT'));
    return true;
  });
  assert.equal(out.text(), '');
  await assert.rejects(gateCommand(['--baseline', a, '--current', a, '--json', dir], sink()), /--json: .* is a directory/);
});

test('stats that disagree with their samples are bad input (exit 2); missing stats are recomputed, so report and gate agree', async () => {
  const dir = await tempDir();
  const good = makeResults({ seed: 1 });
  const tampered = clone(good);
  rowOf(tampered, 'ro-page', '4k').stats.nsPerAccess!.median *= 2;
  const t = await writeFixture(dir, 't.json', tampered);
  await assert.rejects(gateCommand(['--baseline', t, '--current', t], sink()), /rows\[3\] \(ro-page\/4k\) stats\.nsPerAccess .* does not match its samples/);
  const bare = clone(good) as unknown as { rows: { stats: unknown }[] };
  for (const r of bare.rows) r.stats = {};
  const p = await writeFixture(dir, 'bare.json', bare);
  const g = await writeFixture(dir, 'good.json', good);
  assert.equal((await exitOf(['--baseline', g, '--current', p])).code, 0);
});
