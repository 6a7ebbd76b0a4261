// Compare mode on two real runs of two KVM backends: the committed kvm_pvm baseline (hardware)
// and the lab's kvm_amd under TCG (emulated). Per row and file: speed-up with its interval,
// exits to the VMM per hole access, 2 MiB mappings held; the gate's verdict on the change;
// emulated timing labelled; duplicate inputs warned about. Figures are recomputed, not typed in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { compareResults } from '../reports/findings/compare.js';
import { renderReport } from '../reports/html/page.js';
import { loadResults } from '../runner/results/load-results.js';
import { speedupOf } from '../runner/results/speedup.js';
import { baselineRow, exitMedian, hugeMappings, kvmStatMedian, rowName, USERSPACE_EXIT_KINDS } from '../runner/results/row-metrics.js';
import type { ResultsFile } from '../runner/results/schema.js';

// dist/test → the checkout's test/ folder, where the baselines are committed.
const TEST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test');

async function baselines(): Promise<{ pvm: ResultsFile; amd: ResultsFile }> {
  const pvm = (await loadResults(join(TEST_DIR, 'perf-baseline.kvm_pvm.json'), 'test', { uniqueRows: false })).file;
  const amd = (await loadResults(join(TEST_DIR, 'perf-baseline.kvm_amd-tcg.json'), 'test', { uniqueRows: false })).file;
  return { pvm, amd };
}

test('two backends side by side: speed-up with CI, VMM exits per hole access, 2 MiB mappings, per file', async () => {
  const { pvm, amd } = await baselines();
  assert.equal(pvm.host.kvmBackend, 'kvm_pvm');
  assert.equal(amd.host.kvmBackend, 'kvm_amd');
  const c = compareResults([{ label: 'pvm', results: pvm }, { label: 'amd', results: amd }]);
  assert.deepEqual(c.files.map((f) => [f.kvmBackend, f.timing]), [['kvm_pvm', 'hardware'], ['kvm_amd', 'emulated']]);
  assert.equal(c.mixedTiming, true);
  const g = c.groups.find((x) => x.title === 'linux-q35-boot (ecam)');
  assert.ok(g);
  let checked = 0;
  for (const r of g.rows) {
    [pvm, amd].forEach((file, fi) => {
      const row = file.rows.find((x) => rowName(x) === r.name && x.workload === 'linux-q35-boot' && x.access === 'ecam');
      const cell = r.cells[fi];
      if (!row || row.status === 'unsupported') return;
      const base = baselineRow(file.rows.filter((x) => x.workload === 'linux-q35-boot' && x.access === 'ecam'));
      const want = speedupOf(base, row, 'nsPerAccess') ?? speedupOf(base, row, 'scanNs');
      assert.deepEqual(cell.speedupCI, want, `${r.name} in file ${fi}`);
      if (want) assert.ok(want.lo <= want.median && want.median <= want.hi);
      const exits = exitMedian(row, USERSPACE_EXIT_KINDS);
      assert.equal(cell.exitsPerHole, row.holeAccesses > 0 && exits !== null ? exits / row.holeAccesses : null);
      assert.equal(cell.hugeMappings, hugeMappings(row));
      const pf = kvmStatMedian(row, 'pf_taken');
      assert.equal(cell.faultsPerHole, pf !== null && row.holeAccesses > 0 ? pf / row.holeAccesses : null);
      assert.equal(cell.setupMs, row.stats?.setupMs?.median ?? null);
      if (fi === 1) assert.ok(cell.gate, `${r.name}: the gate's verdict on the change`);
      checked++;
    });
  }
  assert.ok(checked >= 16, `${checked} cells checked`);
  // The hugepage rows held 2 MiB mappings on both backends; the 4 KiB ones none.
  const thp = g.rows.find((r) => r.name === 'ro-page/thp');
  const small = g.rows.find((r) => r.name === 'ro-page/4k');
  assert.ok(thp?.cells.every((x) => (x.hugeMappings ?? 0) > 0));
  assert.ok(small?.cells.every((x) => x.hugeMappings === 0));
  // A 4 KiB read-only page takes a fault per first touch; userspace-exit's hole reads take MMIO faults too.
  assert.ok(small?.cells.every((x) => (x.faultsPerHole ?? 0) > 0.9), 'ro-page/4k faults about once per hole access');
  assert.ok(small?.cells.every((x) => (x.setupMs ?? 0) > 0), 'ro-page/4k fills its page in setup');
  assert.equal(g.chart?.unit, 'ratio', 'the comparison charts speed-ups, not absolute times');
  assert.ok(g.chart?.datasets.some((d) => /emulated \(TCG\)/.test(d.label)));
});

test('the comparison page labels emulated timing and shows the columns', async () => {
  const { pvm, amd } = await baselines();
  const html = renderReport([pvm, amd], { labels: ['pvm.json', 'amd.json'], generatedAt: 'T' });
  const cmp = html.slice(html.indexOf('<section id="comparison">'), html.indexOf('</section>', html.indexOf('<section id="comparison">')));
  for (const s of ['kvm_pvm', 'kvm_amd', 'emulated (TCG)', 'VMM exits<br>/ hole', 'KVM faults<br>/ hole', '2 MiB maps<br>held', 'setup<br>', 'speed-up vs first file', 'gate verdict, p']) assert.ok(cmp.includes(s), s);
});

test('the same file twice is warned about', async () => {
  const { pvm } = await baselines();
  const c = compareResults([{ label: 'a.json', results: pvm }, { label: 'b.json', results: JSON.parse(JSON.stringify(pvm)) }]);
  assert.match(c.duplicates.join(), /b\.json is the same results as a\.json/);
  const twice = compareResults([{ label: 'a.json', results: pvm }, { label: 'a.json', results: pvm }]);
  assert.match(twice.duplicates.join(), /a\.json is given twice/);
  assert.deepEqual(compareResults([{ label: 'a', results: pvm }, { label: 'b', results: { ...pvm, createdAt: 'other' } }]).duplicates, []);
});
