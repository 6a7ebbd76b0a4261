// Emulated timing (a bench lab run under TCG) is said wherever times appear: the run table, every
// report section, the comparison's column headers (with the backend), the fingerprint; files that
// predate the field read as hardware. Fixture figures are invented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTable } from '../runner/cli/table.js';
import { renderReport } from '../reports/html/page.js';
import { compareResults } from '../reports/findings/compare.js';
import { workloadSections } from '../reports/charts/chart-data.js';
import { EMULATED_NOTE } from '../runner/results/timing.js';
import { validateResults } from '../runner/results/schema.js';
import { fixtureLab, makeResults } from './fixtures.js';

const count = (text: string, needle: string) => text.split(needle).length - 1;

test('run table: the emulated note under every block title, nothing on hardware', () => {
  const file = makeResults({ lab: fixtureLab('tcg') });
  const emulated = renderTable(file.rows, 5, 'emulated');
  const blocks = count(emulated, 'fresh VMs per row asked');
  assert.ok(blocks >= 2, 'the fixture has two (workload, access) blocks');
  assert.equal(count(emulated, EMULATED_NOTE), blocks);
  assert.equal(count(renderTable(file.rows, 5, 'hardware'), EMULATED_NOTE), 0);
  assert.equal(count(renderTable(file.rows, 5), EMULATED_NOTE), 0, 'hardware by default');
});

test('report of an emulated run: the note in the file header, the headline, every workload section and the 2020 figures', () => {
  const file = makeResults({ lab: fixtureLab('tcg') });
  const sections = workloadSections(file);
  for (const s of sections) assert.ok(s.notes.includes(`${EMULATED_NOTE}.`), s.title);
  const html = renderReport([file], { generatedAt: 'T' });
  assert.ok(count(html, EMULATED_NOTE) >= sections.length + 3, 'header, headline, sections, 2020 figures, fingerprint');
  assert.match(html, /timing emulated \(TCG\)/);
  // A nested-KVM lab (accel kvm) and a file from before the field are hardware: no note.
  assert.equal(count(renderReport([makeResults({ lab: fixtureLab('kvm') })], { generatedAt: 'T' }), EMULATED_NOTE), 1, 'only the methodology explains the term');
  assert.ok(workloadSections(makeResults()).every((s) => !s.notes.some((n) => n.includes(EMULATED_NOTE))));
});

test('fingerprint section shows the lab: accelerator, QEMU, guest kernel, outer host', () => {
  const lab = { ...fixtureLab('tcg'), outerHostId: '0120de7a751b' };
  const html = renderReport([makeResults({ lab, backend: 'kvm_amd' })], { generatedAt: 'T' });
  assert.match(html, /<th>timing basis<\/th><td>emulated \(TCG\): counts are exact, times are relative path lengths, not hardware time<\/td>/);
  assert.match(html, /<th>lab<\/th><td>bench lab VM, accelerator <code>tcg<\/code>, QEMU 7\.2\.19, guest kernel 6\.1\.0-57-amd64<\/td>/);
  assert.match(html, /<th>lab outer host<\/th><td>kernel 6\.18\.4-test, CPU Test EPYC, fingerprint <code>0120de7a751b<\/code><\/td>/);
  assert.doesNotMatch(renderReport([makeResults()], { generatedAt: 'T' }), /<th>lab<\/th>/, 'no lab row outside a lab');
});

test('comparing kvm_pvm (hardware) with kvm_amd in the lab (TCG): backend and timing basis in each column header, speed-ups only', () => {
  const pvm = makeResults({ hostId: 'host-pvm' });
  const amd = makeResults({ hostId: 'host-lab', backend: 'kvm_amd', lab: fixtureLab('tcg'), kernel: '6.1.0-57-amd64' });
  const c = compareResults([
    { label: 'pvm.json', results: pvm },
    { label: 'lab.json', results: amd },
  ]);
  assert.deepEqual(
    c.files.map((f) => [f.kvmBackend, f.timing]),
    [
      ['kvm_pvm', 'hardware'],
      ['kvm_amd', 'emulated'],
    ],
  );
  assert.equal(c.mixedTiming, true);
  assert.match(c.files[1].lab, /^lab tcg, QEMU 7\.2\.19 on 6\.18\.4-test$/);
  const html = renderReport([pvm, amd], { labels: ['pvm.json', 'lab.json'], generatedAt: 'T' });
  const header = /<thead><tr><th rowspan="2">strategy\/variant<\/th>(.*?)<\/tr>/s.exec(html)?.[1] ?? '';
  assert.match(header, /pvm\.json<br><span class="backend">kvm_pvm · <span class="timing hardware">hardware<\/span><\/span>/);
  assert.match(header, /lab\.json<br><span class="backend">kvm_amd · <span class="timing emulated">emulated \(TCG\)<\/span><\/span>.*lab tcg, QEMU 7\.2\.19/);
  assert.match(html, /<p class="warn timing">lab\.json: emulated \(TCG\): counts are exact, times are relative path lengths, not hardware time\. The files mix hardware and emulated timing: only the speed-ups compare, never the times\.<\/p>/);
  // Each file's own fingerprint section shows its lab (or none).
  assert.equal(count(html, '<th>lab</th>'), 1);
});

test('a version-1 file (no timing, no lab) still loads and reads as hardware', () => {
  const old = JSON.parse(JSON.stringify(makeResults())) as Record<string, unknown> & { host: Record<string, unknown> };
  old.schemaVersion = 1;
  delete old.host.timing;
  const file = validateResults(old, 'old.json');
  assert.equal(compareResults([{ label: 'a', results: file }, { label: 'b', results: file }]).files[0].timing, 'hardware');
  assert.throws(() => validateResults({ ...old, host: { ...old.host, timing: 'fast' } }, 'bad.json'), /bad\.json: host\.timing "fast" is unknown/);
});

test('a TCG lab with icount: instructions, said wherever its times appear; two lab clocks never gate against each other', async () => {
  const { INSTRUCTIONS_NOTE, timingLabel } = await import('../runner/results/timing.js');
  const { gate } = await import('../reports/gate/gate.js');
  const file = makeResults({ lab: fixtureLab('icount') });
  assert.equal(file.host.timing, 'instructions');
  assert.equal(timingLabel('instructions'), 'instructions (TCG icount)');
  assert.match(INSTRUCTIONS_NOTE, /^instructions \(TCG icount, 1 ns = 1 instruction\): exact path lengths, not hardware time; VM entries and exits count as one instruction each/);
  const table = renderTable(file.rows, 5, 'instructions');
  assert.equal(count(table, INSTRUCTIONS_NOTE), count(table, 'fresh VMs per row asked'));
  assert.equal(count(table, EMULATED_NOTE), 0);
  for (const s of workloadSections(file)) assert.ok(s.notes.includes(`${INSTRUCTIONS_NOTE}.`), s.title);
  const html = renderReport([file], { generatedAt: 'T' });
  assert.match(html, /timing instructions \(TCG icount\)/);
  assert.ok(count(html, INSTRUCTIONS_NOTE) >= workloadSections(file).length + 3, 'header, headline, sections, 2020 figures, fingerprint');
  // validated on load, clock included; an unknown clock is not a lab description
  assert.equal(validateResults(structuredClone(file)).host.lab?.clock, 'icount');
  assert.throws(() => gate(makeResults({ lab: fixtureLab('tcg') }), file, { thresholdPct: 5, alpha: 0.01, ratios: true }), /timing bases differ \(baseline emulated \(TCG\), current instructions \(TCG icount\)\): lab runs on TCG's wall clock and on icount instructions do not compare, not even as speed-ups/);
  assert.doesNotThrow(() => gate(makeResults({ lab: fixtureLab('icount') }), makeResults({ lab: fixtureLab('icount') }), { thresholdPct: 5, alpha: 0.01, ratios: false }));
});
