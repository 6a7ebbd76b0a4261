// The pure derivations behind the HTML report: chart specs, headlines, the 2020 comparison
// and the multi-file comparison.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEMORY_FLOOR, workloadSections } from '../reports/chart-data.js';
import type { BarChartSpec, ScatterChartSpec } from '../reports/chart-data.js';
import { headlines } from '../reports/headlines.js';
import { seriesComparison } from '../reports/series-2020.js';
import { compareResults } from '../reports/compare.js';
import { makeResults } from './fixtures.js';

const bar = (s: ReturnType<typeof workloadSections>[number], suffix: string): BarChartSpec => {
  const c = s.charts.find((x) => x.id.endsWith(suffix));
  assert.ok(c, `chart ${suffix}`);
  assert.equal(c.kind, 'hbar');
  return c as BarChartSpec;
};

test('one section per (workload, access), in file order, each chart id unique', () => {
  const sections = workloadSections(makeResults(), 'f0');
  assert.deepEqual(
    sections.map((s) => s.title),
    ['linux-q35-boot (ecam)', 'linux-q35-boot (conf1)'],
  );
  const ids = sections.flatMap((s) => s.charts.map((c) => c.id));
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(
    sections[0].charts.map((c) => c.id.split('-').pop()),
    ['access', 'scan', 'exits', 'setup', 'kvm', 'memory'],
  );
});

test('time per access: log axis, IQR error bars, only rows with a per-access figure, proxies labelled', () => {
  const file = makeResults();
  const [ecam] = workloadSections(file);
  const c = bar(ecam, 'access');
  assert.equal(c.log, true);
  assert.equal(c.errorBars, true);
  assert.match(c.caption, /interquartile range/);
  assert.equal(c.labels.length, 4, 'userspace-exit, memslot-flag, ro-page/4k, ro-page/thp');
  assert.ok(!c.labels.some((l) => l.startsWith('spte-prefetch') || l.startsWith('guest-enlightenment')));
  assert.ok(c.labels.some((l) => l.startsWith('memslot-flag [proxy]')));
  const d = c.datasets[0];
  d.values.forEach((v, i) => {
    const row = file.rows.find((r) => c.labels[i].startsWith(r.variant ? `${r.strategy}/${r.variant}` : r.strategy));
    assert.ok(row);
    assert.equal(v, row.stats.nsPerAccess?.median);
    assert.equal(d.lo?.[i], row.stats.nsPerAccess?.p25);
    assert.equal(d.hi?.[i], row.stats.nsPerAccess?.p75);
    assert.ok((d.lo?.[i] as number) <= (v as number) && (v as number) <= (d.hi?.[i] as number));
  });
  assert.equal(c.datasets.length, 1, 'no warm series when no workload rescans');
  assert.ok(ecam.notes.some((n) => n.includes('spte-prefetch/2m: unsupported: KVM_PRE_FAULT_MEMORY')));
  assert.ok(ecam.notes.some((n) => n.includes('guest-enlightenment') && n.includes('whole scan')));
});

test('speed-ups over userspace-exit are in the bar labels', () => {
  const [ecam] = workloadSections(makeResults());
  const labels = bar(ecam, 'access').labels;
  assert.ok(labels.some((l) => /^ro-page\/thp \(\d+× faster\)$/.test(l)), labels.join(' | '));
  assert.ok(labels.includes('userspace-exit'));
});

test('exits by kind, setup beside scan, KVM stats come from the samples', () => {
  const file = makeResults();
  const [ecam] = workloadSections(file);
  const exits = bar(ecam, 'exits');
  assert.deepEqual(
    exits.datasets.map((d) => d.label),
    ['mmio_read', 'io_out'],
  );
  const setup = bar(ecam, 'setup');
  assert.equal(setup.unit, 'ms');
  const i = setup.labels.indexOf('ro-page/4k');
  assert.ok(Math.abs((setup.datasets[0].values[i] as number) - 375) < 375 * 0.06);
  const scanMs = setup.datasets.find((d) => d.label.startsWith('cold scan'));
  assert.ok(scanMs);
  const kvm = bar(ecam, 'kvm');
  // The chart shows the gauge pages_2m_now (setup included), not the scan delta pages_2m.
  assert.ok(!kvm.datasets.some((d) => d.label === 'pages_2m'));
  const p2 = kvm.datasets.find((d) => d.label === 'pages_2m_now');
  assert.equal(p2?.values[kvm.labels.indexOf('ro-page/thp')], 128);
  assert.match(kvm.caption, /deltas over the scan \(setup excluded\)/);
  assert.ok(ecam.kvmTable.stats.some((s) => s.name === 'vm.pages_2m'));
  assert.ok(ecam.kvmTable.stats.some((s) => s.name === 'vm.pages_2m_now'));
  assert.equal(ecam.kvmTable.rows.length, 5, "rows with samples only");
});

test('memory scatter puts zero-memory strategies on the axis floor', () => {
  const [ecam] = workloadSections(makeResults());
  const s = ecam.charts.find((c) => c.kind === 'scatter') as ScatterChartSpec;
  assert.ok(s);
  const u = s.points.find((p) => p.label === 'userspace-exit');
  assert.equal(u?.x, MEMORY_FLOOR);
  assert.equal(s.points.find((p) => p.label === 'ro-page/thp')?.x, 256 * 2 ** 20);
  assert.match(s.caption, /userspace-exit: 0 B/);
});

test('a file with nothing measured emits no empty chart, and says why', () => {
  const file = makeResults({ rows: [{ strategy: 'spte-prefetch', status: 'unsupported', reason: 'no KVM_CAP_PRE_FAULT_MEMORY' }] });
  const [s] = workloadSections(file);
  assert.equal(s.charts.length, 0);
  assert.ok(s.notes.some((n) => n.includes('no KVM_CAP_PRE_FAULT_MEMORY')));
  assert.ok(s.notes.some((n) => n.startsWith('Time per hole access')));
});

test('warm scans become a second series when the workload rescans', () => {
  const file = makeResults({ rows: [{ strategy: 'userspace-exit', scans: 3 }, { strategy: 'ro-page', variant: '4k', nsPerAccess: 2600, scans: 3 }] });
  const c = bar(workloadSections(file)[0], 'access');
  assert.equal(c.datasets.length, 2);
  assert.match(c.datasets[1].label, /warm/);
});

test('headlines are computed from the rows, and change when the rows change', () => {
  const h = headlines(makeResults());
  const ik = h.find((x) => x.id === 'in-kernel-vs-userspace');
  assert.ok(ik);
  const text = ik.answer.join(' ');
  assert.match(text, /memslot-flag \[proxy\]/);
  assert.match(text, /10\.\d× less per access/, text);
  assert.match(text, /memslot-flag \[proxy\] is a measured stand-in on this host \(proxy: in-kernel KVM_MMIO_BUS/);

  const faster = headlines(makeResults({ rows: [{ strategy: 'userspace-exit', nsPerAccess: 25_000 }, { strategy: 'memslot-flag', status: 'proxy', nsPerAccess: 1_000 }] }));
  assert.match(faster.find((x) => x.id === 'in-kernel-vs-userspace')?.answer.join(' ') ?? '', /2\d\.\d× less per access/);

  const hp = h.find((x) => x.id === 'hugepage-vs-prefetch');
  assert.ok(hp);
  const hpText = hp.answer.join(' ');
  assert.match(hpText, /ro-page\/thp/);
  assert.match(hpText, /spte-prefetch is unsupported on this host: KVM_PRE_FAULT_MEMORY: EOPNOTSUPP/);

  const huge = h.find((x) => x.id === 'huge-spte-cost');
  assert.ok(huge);
  const hugeText = huge.answer.join(' ');
  assert.match(hugeText, /ro-page on linux-q35-boot \(ecam\): 4k 2\.\d+ µs vs thp 7\d\.\d ns per access, 3\d\.\d× faster/, hugeText);
  assert.match(hugeText, /KVM held 128 2 MiB mappings after the scan/);
  assert.match(hugeText, /ro-page 4k vs hugetlb: .*hugetlb: not measured in this file/);
  assert.match(hugeText, /shared-hva\/4k: not measured in this file/);
});

test('a 2 MiB mapping made during setup counts: headlines read the gauge vm.pages_2m_now, not the scan delta', () => {
  // spte-prefetch pre-faults in setup, and a THP backing faulted in before the scan, both leave
  // the delta vm.pages_2m at 0 while the VM holds 2 MiB mappings.
  const file = makeResults({
    rows: [
      { strategy: 'ro-page', variant: '4k', nsPerAccess: 2_600 },
      { strategy: 'ro-page', variant: 'thp', nsPerAccess: 76, pagesTwoM: 0, pagesTwoMInSetup: 128 },
      { strategy: 'spte-prefetch', variant: '2m', nsPerAccess: 80, pagesTwoM: 0, pagesTwoMInSetup: 64 },
    ],
  });
  assert.equal(file.rows[2].samples[0].kvmStats?.['vm.pages_2m'], 0, 'the scan delta is 0');
  const h = headlines(file);
  const hugeText = h.find((x) => x.id === 'huge-spte-cost')?.answer.join(' ') ?? '';
  assert.match(hugeText, /KVM held 128 2 MiB mappings after the scan/, hugeText);
  assert.doesNotMatch(hugeText, /no 2 MiB mapping/);
  const hpText = h.find((x) => x.id === 'hugepage-vs-prefetch')?.answer.join(' ') ?? '';
  assert.match(hpText, /spte-prefetch\/2m: .*, 64 2 MiB and 64 4 KiB mappings held after the scan/, hpText);

  // No 2 MiB mapping at all (the gauge is 0): the headline says so.
  const none = headlines(makeResults({ rows: [{ strategy: 'ro-page', variant: '4k', nsPerAccess: 2_600 }, { strategy: 'ro-page', variant: 'thp', nsPerAccess: 2_500 }] }));
  assert.match(none.find((x) => x.id === 'huge-spte-cost')?.answer.join(' ') ?? '', /vm\.pages_2m_now is 0: KVM held no 2 MiB mapping after the scan \(only 64 4 KiB mappings, vm\.pages_4k_now\)/);

  // An older file without the gauge: a positive scan delta still proves a mapping; a zero delta says nothing.
  const old = makeResults({ rows: [{ strategy: 'ro-page', variant: '4k', nsPerAccess: 2_600 }, { strategy: 'ro-page', variant: 'thp', nsPerAccess: 76, pagesTwoM: 0 }] });
  for (const r of old.rows) for (const s of r.samples) delete s.kvmStats?.['vm.pages_2m_now'];
  assert.doesNotMatch(headlines(old).find((x) => x.id === 'huge-spte-cost')?.answer.join(' ') ?? '', /2 MiB mapping/);
});

test('headlines say "not measured in this file" when the rows are missing', () => {
  const h = headlines(makeResults({ rows: [{ strategy: 'ro-page', variant: '4k', nsPerAccess: 2600 }] }));
  const all = h.map((x) => x.answer.join(' ')).join('\n');
  assert.match(all, /userspace-exit: not measured in this file/);
  assert.match(all, /memslot-flag: not measured in this file/);
  assert.match(all, /spte-prefetch: not measured in this file/);
});

test('the 2020 figures sit beside ours, computed from the file', () => {
  const rows = seriesComparison(makeResults());
  const get = (w: string) => rows.find((r) => r.what.startsWith(w));
  assert.match(get('Hole accesses per q35')?.series ?? '', /8\u2009193/);
  assert.match(get('Hole accesses per q35')?.ours ?? '', /8\u2009160/);
  assert.match(get('Cost per hole access, exit')?.ours ?? '', /2\d\.\d µs/);
  assert.match(get('Cost per hole access, answered')?.ours ?? '', /memslot-flag \[proxy\] 2\.\d+ µs/);
  assert.match(get('Host memory')?.ours ?? '', /ro-page\/4k 256 MiB/);
  const empty = seriesComparison(makeResults({ rows: [{ strategy: 'x', workload: 'other' }] }));
  assert.ok(empty.every((r) => r.ours === 'not measured in this file'));
});

test('comparison of two files: speed-ups per file, ratio to the first, host difference flagged', () => {
  const a = makeResults({ hostId: 'h-a' });
  const b = makeResults({ hostId: 'h-b', rows: [{ strategy: 'userspace-exit', nsPerAccess: 5_000 }, { strategy: 'memslot-flag', status: 'proxy', nsPerAccess: 1_000 }, { strategy: 'right-sized-window', nsPerAccess: null }] });
  const c = compareResults([
    { label: 'a.json', results: a },
    { label: 'b.json', results: b },
  ]);
  assert.equal(c.sameHost, false);
  const ecam = c.groups.find((g) => g.title === 'linux-q35-boot (ecam)');
  assert.ok(ecam);
  const flag = ecam.rows.find((r) => r.name === 'memslot-flag');
  assert.ok(flag);
  assert.ok(Math.abs((flag.cells[1].speedup as number) - 5) < 0.5);
  assert.ok((flag.cells[0].speedup as number) > 9);
  assert.ok((flag.cells[1].vsFirst as number) < 0.5);
  const thp = ecam.rows.find((r) => r.name === 'ro-page/thp');
  assert.equal(thp?.cells[1].status, null, 'not in file b');
  assert.ok(ecam.rows.some((r) => r.name === 'right-sized-window'), 'rows only in the second file appear too');
  assert.equal(ecam.chart?.datasets.length, 2);
  assert.ok(compareResults([{ label: 'a', results: a }, { label: 'a2', results: makeResults({ hostId: 'h-a' }) }]).sameHost);
});
