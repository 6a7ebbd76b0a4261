// The gate and where results came from: hardware against emulated (TCG lab) timing is refused
// unless --ratios, and warned about with it; the 2 MiB-mapping check (vm.pages_2m_now > 0)
// regresses on a change and is skipped, with a note, where a kernel lacks the statistic.
// Fixtures are synthetic (test/gate-fixtures.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { gate, type GateOptions } from '../reports/gate/gate.js';
import { gateCommand } from '../runner/cli/gate-command.js';
import { formatTable } from '../reports/gate/gate-format.js';
import { EMULATED_NOTE } from '../runner/results/timing.js';
import { UsageError } from '../runner/shared/errors.js';
import type { ResultsFile } from '../runner/results/schema.js';
import { clone, makeResults, rowOf, tempDir, writeFixture } from './gate-fixtures.js';

const OPTS: GateOptions = { thresholdPct: 5, alpha: 0.01, ratios: false };
const CLI = fileURLToPath(new URL('../runner/cli/cli.js', import.meta.url));

/** The same results as measured in bench lab under TCG (the host id left alone, so only the timing differs). */
function emulated(f: ResultsFile): ResultsFile {
  const e = clone(f);
  e.host.lab = { accel: 'tcg', outerKernel: '6.18.4-test', outerCpu: 'Test EPYC', qemu: '7.2.19', guestKernel: '6.1.0-57-amd64' };
  e.host.timing = 'emulated';
  return e;
}

function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }) as Writable & { text: () => string };
  w.text = () => chunks.join('');
  return w;
}

test('hardware against emulated: absolute times refused (one line, exit 2), --ratios compares and warns', async () => {
  const hw = makeResults({ seed: 1 });
  const emu = emulated(makeResults({ seed: 2 }));
  assert.throws(() => gate(hw, emu, OPTS), /timing bases differ \(baseline hardware, current emulated \(TCG\)\): absolute times do not compare .*use --ratios/);
  const v = gate(hw, emu, { ...OPTS, ratios: true });
  assert.equal(v.pass, true, JSON.stringify(v.findings.filter((f) => f.severity !== 'ok')));
  assert.ok(v.notes.includes("warning: timing bases differ (baseline hardware, current emulated (TCG)): the emulated side's speed-ups are ratios of emulated path lengths, not of hardware time"), v.notes.join('\n'));
  assert.ok(v.notes.includes(`current: ${EMULATED_NOTE}`));
  assert.match(formatTable(v, { baseline: 'a', current: 'b' }), /^note: current: emulated \(TCG\): counts are exact/m);

  const dir = await tempDir();
  const a = await writeFixture(dir, 'hw.json', hw);
  const b = await writeFixture(dir, 'emu.json', emu);
  await assert.rejects(gateCommand(['--baseline', a, '--current', b], sink()), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /^--current: .*emu\.json has emulated \(TCG\) timing, --baseline .*hw\.json hardware: absolute times do not compare between hardware and emulated results; use --ratios$/);
    return true;
  });
  const out = sink();
  assert.equal(await gateCommand(['--baseline', a, '--current', b, '--ratios'], out), 0);
  assert.match(out.text(), /note: warning: timing bases differ/);
  const cli = spawnSync(process.execPath, [CLI, 'gate', '--baseline', a, '--current', b], { encoding: 'utf8' });
  assert.equal(cli.status, 2);
  assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
  assert.match(cli.stderr, /^bench: --current: .*use --ratios\n$/);
});

test('two emulated runs of one lab host compare in absolute mode; the verdict says what their times are', () => {
  const v = gate(emulated(makeResults({ seed: 1 })), emulated(makeResults({ seed: 2 })), OPTS);
  assert.equal(v.pass, true);
  assert.ok(v.notes.includes(`baseline and current: ${EMULATED_NOTE}`));
  assert.ok(!v.notes.some((n) => n.startsWith('warning:')));
  assert.ok(!gate(makeResults({ seed: 1 }), makeResults({ seed: 2 }), OPTS).notes.some((n) => n.includes('emulated')), 'hardware: no note');
});

test('2 MiB mappings: hugepages no longer (or newly) mapped is a regression, a different count is not', () => {
  const a = makeResults({ seed: 1 });
  const lost = clone(a);
  for (const s of rowOf(lost, 'ro-page', 'thp').samples) if (s.kvmStats) s.kvmStats['vm.pages_2m_now'] = 0;
  const v = gate(a, lost, OPTS);
  assert.equal(v.pass, false);
  const f = v.findings.filter((x) => x.severity === 'regression');
  assert.deepEqual(f.map((x) => [x.row, x.metric, x.message]), [['ro-page/thp linux-q35-boot/ecam', 'vm.pages_2m_now > 0', '2 MiB mappings held after the scan (vm.pages_2m_now > 0): yes (127) → no (0)']]);

  const gained = clone(a);
  for (const s of rowOf(gained, 'ro-page', '4k').samples) if (s.kvmStats) s.kvmStats['vm.pages_2m_now'] = 4;
  assert.match(gate(a, gained, OPTS).findings.find((x) => x.severity === 'regression')?.message ?? '', /\(vm\.pages_2m_now > 0\): no \(0\) → yes \(4\)/);

  const fewer = clone(a);
  for (const s of rowOf(fewer, 'ro-page', 'thp').samples) if (s.kvmStats) s.kvmStats['vm.pages_2m_now'] = 120;
  const ok = gate(a, fewer, OPTS);
  assert.equal(ok.pass, true);
  assert.match(ok.findings.find((x) => x.strategy === 'ro-page' && x.variant === 'thp' && x.kind === 'counter')?.message ?? '', /all match: .*, vm\.pages_2m_now > 0$/);
});

test('a kernel without the statistic (or without KVM_GET_STATS_FD): skipped, never read as 0, and the verdict says so', () => {
  const a = makeResults({ seed: 1 });
  const old = clone(a);
  for (const r of old.rows) for (const s of r.samples) s.kvmStats = null;
  const v = gate(a, old, OPTS);
  assert.equal(v.pass, true, 'thp had 127: absent is not "no 2 MiB mapping"');
  const thp = v.findings.find((x) => x.strategy === 'ro-page' && x.variant === 'thp' && x.kind === 'counter');
  assert.match(thp?.message ?? '', /\(not compared: vm\.pages_2m_now absent in the current\)$/);
  assert.ok(v.notes.includes('KVM statistic vm.pages_2m_now not compared on rows where it is absent (in the current): that kernel does not record it (n/a, not 0)'), v.notes.join('\n'));
  // Absent on the baseline side, with another counter regressing: the skip is still reported on the row.
  const moved = clone(a);
  for (const s of rowOf(moved, 'ro-page', '4k').samples) s.exits.mmio_read += 1;
  const w = gate(old, moved, OPTS);
  const row4k = w.findings.filter((x) => x.strategy === 'ro-page' && x.variant === '4k' && x.kind === 'counter');
  assert.deepEqual(row4k.map((x) => x.severity), ['regression', 'ok']);
  assert.equal(row4k[1].message, 'not compared: vm.pages_2m_now absent in the baseline');
});
