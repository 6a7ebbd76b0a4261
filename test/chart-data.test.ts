// The pure derivations behind the HTML report: chart specs, headlines, the 2020 comparison
// and the multi-file comparison.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workloadSections } from '../reports/charts/chart-data.js';
import type { BarChartSpec, DotChartSpec, MemoryChartSpec } from '../reports/charts/chart-specs.js';
import { AXIS_MARGIN } from '../reports/charts/chart-dots.js';
import { headlines, pairSpeedup, prefetchFigures, windowPieces2M } from '../reports/findings/headlines.js';
import { kvmStatMedian, nsPerAccess, ratio } from '../runner/results/row-metrics.js';
import { speedupOf } from '../runner/results/speedup.js';
import { summarize } from '../runner/results/summary.js';
import type { ResultRow } from '../runner/results/schema.js';
import { seriesComparison } from '../reports/findings/series-2020.js';
import { compareResults } from '../reports/findings/compare.js';
import { DEFAULT_ROWS, makeResults } from './fixtures.js';
import { fmtCount, fmtMs, fmtNs, fmtRatio } from '../runner/shared/format.js';

type Section = ReturnType<typeof workloadSections>[number];
const chart = (s: Section, suffix: string) => {
  const c = s.charts.find((x) => x.id.endsWith(`-${suffix}`));
  assert.ok(c, `chart ${suffix}`);
  return c;
};
const bar = (s: Section, suffix: string): BarChartSpec => {
  const c = chart(s, suffix);
  assert.equal(c.kind, 'hbar');
  return c as BarChartSpec;
};
const dots = (s: Section, suffix: string): DotChartSpec => {
  const c = chart(s, suffix);
  assert.equal(c.kind, 'dots');
  return c as DotChartSpec;
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

test('time per access: every fresh VM a dot, median and IQR from the stats, log range from the data, only rows with a per-access figure', () => {
  const file = makeResults();
  const [ecam] = workloadSections(file);
  const c = dots(ecam, 'access');
  assert.match(c.caption, /interquartile range/);
  assert.equal(c.labels.length, 4, 'userspace-exit, memslot-flag, ro-page/4k, ro-page/thp');
  assert.ok(!c.labels.some((l) => l.startsWith('spte-prefetch') || l.startsWith('guest-enlightenment')));
  assert.ok(c.labels.some((l) => l.startsWith('memslot-flag [proxy]')));
  const [cold] = c.series;
  const drawn: number[] = [];
  cold.points.forEach((p, i) => {
    const row = file.rows.find((r) => c.labels[i].startsWith(r.variant ? `${r.strategy}/${r.variant}` : r.strategy));
    assert.ok(row && p);
    assert.equal(p.median, row.stats.nsPerAccess?.median);
    assert.equal(p.lo, row.stats.nsPerAccess?.p25);
    assert.equal(p.hi, row.stats.nsPerAccess?.p75);
    assert.deepEqual(p.samples, row.samples.map((s) => s.scans[0].nsPerAccess));
    drawn.push(...p.samples, p.lo, p.hi);
  });
  // The axis reaches just beyond the data, not to a round decade below it.
  assert.equal(c.min, Math.min(...drawn) / AXIS_MARGIN);
  assert.equal(c.max, Math.max(...drawn) * AXIS_MARGIN);
  assert.equal(c.series.length, 1, 'no warm series when no workload rescans');
  assert.ok(ecam.notes.some((n) => n.includes('spte-prefetch: unsupported: KVM_PRE_FAULT_MEMORY')));
  assert.ok(ecam.notes.some((n) => n.includes('guest-enlightenment') && n.includes('whole scan')));
});

test('speed-ups over userspace-exit are in the labels, in full', () => {
  const [ecam] = workloadSections(makeResults());
  const labels = dots(ecam, 'access').labels;
  assert.ok(labels.some((l) => /^ro-page\/thp \(\d+×\u00a0faster\)$/.test(l)), labels.join(' | '));
  assert.ok(labels.includes('userspace-exit'));
});

test('exits and faults per hole access on a linear axis; setup with its spread; 2 MiB mappings from the gauge', () => {
  const file = makeResults();
  const [ecam] = workloadSections(file);
  const per = bar(ecam, 'exits');
  assert.equal(per.log, false);
  assert.equal(per.unit, 'rate');
  const ue = file.rows.find((r) => r.strategy === 'userspace-exit' && r.access === 'ecam');
  assert.ok(ue);
  const vmm = per.datasets.find((d) => d.label.startsWith('exits to the VMM'));
  const ueExits = ue.samples.map((s) => Object.entries(s.exits).filter(([k]) => k !== 'harness').reduce((a, [, v]) => a + v, 0)).sort((a, b) => a - b);
  assert.equal(vmm?.values[per.labels.indexOf('userspace-exit')], ueExits[Math.floor(ueExits.length / 2)] / ue.holeAccesses);
  assert.ok(ecam.notes.some((n) => n.includes('guest-enlightenment') && n.includes('no hole accesses')));
  assert.ok(!per.labels.includes('guest-enlightenment'), 'a row without hole accesses has nothing per access');
  const setup = dots(ecam, 'setup');
  assert.equal(setup.unit, 'ms');
  const i = setup.labels.indexOf('ro-page/4k');
  const ro4k = file.rows.find((r) => r.strategy === 'ro-page' && r.variant === '4k' && r.access === 'ecam');
  assert.deepEqual(setup.series[0].points[i]?.samples, ro4k?.samples.map((s) => s.setupMs));
  assert.ok(setup.series.some((x) => x.label.startsWith('cold scan')));
  const huge = bar(ecam, 'kvm');
  assert.deepEqual(huge.datasets.map((d) => d.label), ['vm.pages_2m_now']);
  assert.equal(huge.datasets[0].values[huge.labels.indexOf('ro-page/thp')], 128);
  assert.ok(ecam.kvmTable.stats.some((s) => s.name === 'vm.pages_2m'));
  assert.ok(ecam.kvmTable.stats.some((s) => s.name === 'vm.pages_2m_now'));
  assert.equal(ecam.kvmTable.rows.length, 5, 'rows with samples only');
});

test('memory chart: 0 B in a band of its own left of the log axis, no point hidden under another, the Pareto front marked', () => {
  const file = makeResults({
    rows: [
      { strategy: 'userspace-exit', nsPerAccess: 20_000 },
      { strategy: 'memslot-flag', status: 'proxy', nsPerAccess: 6_500 },
      { strategy: 'mmio-bus-device', status: 'proxy', nsPerAccess: 7_000 },
      { strategy: 'ro-page', variant: '4k', nsPerAccess: 6_800, memoryBytes: 256 * 2 ** 20 },
      { strategy: 'ro-page', variant: 'thp', nsPerAccess: 140, memoryBytes: 256 * 2 ** 20 },
      { strategy: 'ro-page', variant: 'hugetlb', nsPerAccess: 150, memoryBytes: 256 * 2 ** 20 },
      { strategy: 'shared-hva', variant: '2m', nsPerAccess: 130, memoryBytes: 2 * 2 ** 20 },
    ],
  });
  const [ecam] = workloadSections(file);
  const m = chart(ecam, 'memory') as MemoryChartSpec;
  assert.equal(m.kind, 'memory');
  const at = (label: string) => {
    const p = m.points.find((x) => x.label.startsWith(label));
    assert.ok(p, label);
    return p;
  };
  // 0 B is in the band, left of every tick of the log part, and labelled 0 B.
  const firstTick = Math.min(...m.ticks.filter((t) => t.label !== '0 B').map((t) => t.pos));
  assert.equal(m.ticks[0].label, '0 B');
  assert.ok(m.band.centre + m.band.half < firstTick);
  assert.ok(Math.abs(at('userspace-exit').pos - m.band.centre) <= m.band.half);
  assert.equal(at('ro-page/thp').bytes, 256 * 2 ** 20);
  // Overlapping pairs are moved apart and labelled on opposite sides; a lone point stays put.
  for (const [a, b] of [['memslot-flag', 'mmio-bus-device'], ['ro-page/thp', 'ro-page/hugetlb']]) {
    assert.notEqual(at(a).pos, at(b).pos, `${a} and ${b} apart`);
    assert.ok(Math.abs(at(a).labelDy - at(b).labelDy) >= 10, `${a} and ${b} labels stacked apart`);
  }
  assert.equal(at('ro-page/4k').dx, 0);
  assert.equal(at('shared-hva/2m').pos, 21);
  // The front: memslot-flag (0 B, fastest of 0 B), shared-hva/2m; not ro-page (more memory, slower).
  assert.deepEqual(m.points.filter((p) => p.pareto).map((p) => p.label), ['memslot-flag [proxy]', 'shared-hva/2m']);
  assert.ok(m.yMin < 130 && m.yMax > 20_000);
  assert.match(m.caption, /userspace-exit: 0 B/);
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
  const c = dots(workloadSections(file)[0], 'access');
  assert.equal(c.series.length, 2);
  assert.match(c.series[1].label, /warm/);
  const ro = file.rows[1];
  assert.deepEqual(c.series[1].points[1]?.samples, ro.samples.map((s) => s.scans[2].nsPerAccess), 'warm dots are each VM\'s last scan');
  assert.equal(c.series[1].points[1]?.median, ro.stats.warmNsPerAccess?.median);
});

test('headlines are computed from the rows, and change when the rows change', () => {
  const h = headlines(makeResults());
  const ik = h.find((x) => x.id === 'in-kernel-vs-userspace');
  assert.ok(ik);
  const text = ik.answer.join(' ');
  assert.match(text, /memslot-flag \[proxy\]/);
  assert.match(text, /10\.\d× less per access/, text);
  // The per-boot figures are the rows' medians times the hole reads of one scan.
  const file0 = makeResults();
  const [ue, mf] = file0.rows;
  const [b, k] = [ue, mf].map((r) => (r.stats.nsPerAccess?.median as number) * ue.holeAccesses);
  assert.ok(text.includes(`memslot-flag [proxy]: `) && text.includes(`${fmtNs(b)} → ${fmtNs(k)}, ${fmtNs(b - k)} saved per boot (a stand-in`), text);

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
  const [ro4k, roThp] = [2, 3].map((i) => file0.rows[i]);
  const setups = [ro4k, roThp].map((r) => fmtMs(r.stats.setupMs?.median)).join(' → ');
  assert.match(hugeText, /ro-page on linux-q35-boot \(ecam\): thp is \d+\.\d× faster per access than 4k; host memory the same \(256 MiB\)/, hugeText);
  assert.ok(hugeText.includes(`setup ${setups} per VM`), hugeText);
  assert.match(hugeText, /KVM did map it with 2 MiB pages \(vm\.pages_2m_now > 0\)/);
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
      { strategy: 'spte-prefetch', variant: '', nsPerAccess: 80, pagesTwoM: 0, pagesTwoMInSetup: 64 },
    ],
  });
  assert.equal(file.rows[2].samples[0].kvmStats?.['vm.pages_2m'], 0, 'the scan delta is 0');
  const h = headlines(file);
  const hugeText = h.find((x) => x.id === 'huge-spte-cost')?.answer.join(' ') ?? '';
  assert.match(hugeText, /KVM did map it with 2 MiB pages/, hugeText);
  assert.doesNotMatch(hugeText, /no 2 MiB mapping/);
  const hpText = h.find((x) => x.id === 'hugepage-vs-prefetch')?.answer.join(' ') ?? '';
  assert.match(hpText, /spte-prefetch is 3[0-9.]+× as fast per access as ro-page\/thp|ro-page\/thp is 1\.\d+× as fast per access as spte-prefetch/, hpText);

  // No 2 MiB mapping at all (the gauge is 0): the headline says so.
  const none = headlines(makeResults({ rows: [{ strategy: 'ro-page', variant: '4k', nsPerAccess: 2_600 }, { strategy: 'ro-page', variant: 'thp', nsPerAccess: 2_500 }] }));
  assert.match(none.find((x) => x.id === 'huge-spte-cost')?.answer.join(' ') ?? '', /vm\.pages_2m_now is 0: KVM held no 2 MiB mapping after the scan \(only 64 4 KiB mappings, vm\.pages_4k_now\)/);

  // An older file without the gauge: a positive scan delta still proves a mapping; a zero delta says nothing.
  const old = makeResults({ rows: [{ strategy: 'ro-page', variant: '4k', nsPerAccess: 2_600 }, { strategy: 'ro-page', variant: 'thp', nsPerAccess: 76, pagesTwoM: 0 }] });
  for (const r of old.rows) for (const s of r.samples) delete s.kvmStats?.['vm.pages_2m_now'];
  assert.doesNotMatch(headlines(old).find((x) => x.id === 'huge-spte-cost')?.answer.join(' ') ?? '', /2 MiB mapping/);
});

test('the headline cards repeat none of the summary table\'s figures: no row\'s time per access, IQR, or 2 MiB mapping count', () => {
  const file = makeResults({
    rows: [
      ...DEFAULT_ROWS.filter((r) => r.strategy !== 'spte-prefetch'),
      { strategy: 'spte-prefetch', variant: '', nsPerAccess: 80, pagesTwoMInSetup: 64, memoryBytes: 256 * 2 ** 20 },
    ],
  });
  const text = headlines(file).flatMap((h) => h.answer).join('\n');
  assert.doesNotMatch(text, /IQR/);
  for (const r of file.rows) {
    const ns = r.stats.nsPerAccess?.median;
    if (ns !== undefined) assert.ok(!text.includes(`${fmtNs(ns)} per access`) && !text.includes(` ${fmtNs(ns)} `), `${r.strategy}/${r.variant}: ${fmtNs(ns)} repeated:\n${text}`);
  }
  assert.doesNotMatch(text, /\d+ 2 MiB (and \d+ 4 KiB )?mappings held/);
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

test('hugepage vs 2 MiB prefetch: every variant that exists, per row faults per 2 MiB, SPTEs, setup and memory; n/a, never 0, without the statistics', () => {
  const rows = [
    { strategy: 'userspace-exit', nsPerAccess: 25_000 },
    { strategy: 'ro-page', variant: 'thp', nsPerAccess: 1_370, pfFixed: 173, pagesTwoM: 127, pagesFourK: 75, memoryBytes: 256 * 2 ** 20, setupMs: 1300 },
    { strategy: 'ro-page', variant: 'hugetlb', nsPerAccess: 1_380, pfFixed: 173, pagesTwoM: 127, memoryBytes: 256 * 2 ** 20 },
    { strategy: 'shared-hva', variant: '2m', nsPerAccess: 2_690, memoryBytes: 2 * 2 ** 20 },
    { strategy: 'shared-hva', variant: 'flag-4k', nsPerAccess: 39_600, pfFixed: 6841, pagesFourK: 8203, memoryBytes: 4096 },
    { strategy: 'shared-hva', variant: 'flag-2m', nsPerAccess: 990, pfFixed: 173, pagesTwoM: 127, memoryBytes: 2 * 2 ** 20, setupMs: 22 },
    { strategy: 'spte-prefetch', variant: '', nsPerAccess: 660, pfFixed: 13, pagesFourK: 10, pagesFourKNow: 65_540, memoryBytes: 256 * 2 ** 20 },
    { strategy: 'spte-prefetch', variant: 'fault-2m', nsPerAccess: 34_500, pfFixed: 122, pagesFourK: 65_526, memoryBytes: 256 * 2 ** 20 },
  ] as const;
  const file = makeResults({ rows: rows.map((r) => ({ ...r })) });
  const hp = headlines(file).find((x) => x.id === 'hugepage-vs-prefetch');
  assert.ok(hp?.table, 'the card has its table');
  assert.deepEqual(
    hp.table.rows.map((r) => r[0]),
    ['ro-page/thp', 'ro-page/hugetlb', 'shared-hva/2m', 'shared-hva/flag-2m', 'shared-hva/flag-4k', 'spte-prefetch', 'spte-prefetch/fault-2m'],
  );
  const g = { workload: 'linux-q35-boot', access: 'ecam' as const, rows: file.rows };
  assert.equal(windowPieces2M('linux-q35-boot'), 128, 'the 256 MiB window is 128 × 2 MiB');
  const figs = prefetchFigures(g);
  for (const f of figs) {
    const pf = kvmStatMedian(f.row, 'pf_taken') as number;
    assert.equal(f.faultsPer2M, pf / 128, `${f.row.strategy}/${f.row.variant}`);
    assert.equal(f.held4k, kvmStatMedian(f.row, 'pages_4k_now'));
    assert.equal(f.setupMs, f.row.stats.setupMs?.median);
  }
  const pre = figs.find((f) => f.row.strategy === 'spte-prefetch' && f.row.variant === '') as (typeof figs)[number];
  assert.deepEqual([pre.scan4k, pre.held4k], [10, 65_540]);
  const preLine = hp.table.rows.find((r) => r[0] === 'spte-prefetch') as string[];
  assert.equal(preLine[4], `${fmtCount(65_540)} / 0`);
  assert.equal(preLine[6], '256 MiB');
  // The comparison names the fastest hugepage row and the fastest prefetching one.
  assert.match(hp.answer.join(' '), /spte-prefetch is 1\.\d+× as fast per access as shared-hva\/flag-2m/, hp.answer.join(' '));

  // A kernel without KVM statistics: n/a, never 0.
  const bare = headlines(makeResults({ rows: rows.map((r) => ({ ...r })), kvmStats: 'none' })).find((x) => x.id === 'hugepage-vs-prefetch');
  assert.ok(bare?.table);
  for (const r of bare.table.rows) assert.deepEqual([r[2], r[3], r[4]], ['n/a', 'n/a', 'n/a'], r.join(' | '));
  // Without a prefetching row, both variants are named with why they are missing.
  const noPre = headlines(makeResults({ rows: [rows[1]].map((r) => ({ ...r })) })).find((x) => x.id === 'hugepage-vs-prefetch');
  assert.match(noPre?.answer.join(' ') ?? '', /spte-prefetch: not measured in this file; spte-prefetch\/fault-2m: not measured in this file/);
});

/** Sets a row's cold ns per access per fresh VM (and its stats), so per-round ratios and medians part ways. */
function setColdNs(row: ResultRow, values: number[]): void {
  row.samples.forEach((s, i) => (s.scans[0].nsPerAccess = values[i]));
  row.stats.nsPerAccess = summarize(values);
}

test('pairwise ratios in the headline cards, the 2020 table and the chart labels are the median of per-round ratios (runner/results/speedup.ts), not a ratio of medians', () => {
  const file = makeResults({
    rows: [
      { strategy: 'userspace-exit', nsPerAccess: 25_000 },
      { strategy: 'memslot-flag', status: 'proxy', nsPerAccess: 2_000 },
      { strategy: 'ro-page', variant: '4k', nsPerAccess: 30 },
      { strategy: 'ro-page', variant: 'thp', nsPerAccess: 1 },
      { strategy: 'spte-prefetch', variant: '', nsPerAccess: 30 },
    ],
  });
  const [ue, mf, small, huge, pre] = file.rows;
  // Per-round ratios 10, 20, 30, 1, 1 (median 10) where the medians give 30 / 1 = 30.
  setColdNs(small, [10, 20, 30, 40, 50]);
  setColdNs(huge, [1, 1, 1, 40, 50]);
  setColdNs(pre, [10, 20, 30, 40, 50]);
  setColdNs(ue, [1000, 2000, 3000, 4000, 5000]);
  setColdNs(mf, [1000, 1000, 1000, 100, 100]);
  const one = speedupOf(small, huge, 'nsPerAccess')?.median;
  assert.equal(one, 10);
  assert.equal(ratio(nsPerAccess(small), nsPerAccess(huge)), 30, 'the two definitions differ here');
  const h = headlines(file);
  const hugeText = h.find((x) => x.id === 'huge-spte-cost')?.answer.join(' ') ?? '';
  assert.match(hugeText, /thp is 10\.0× faster per access than 4k/, hugeText);
  const hpText = h.find((x) => x.id === 'hugepage-vs-prefetch')?.answer.join(' ') ?? '';
  assert.match(hpText, /ro-page\/thp is 10\.0× as fast per access as spte-prefetch/, hpText);
  assert.ok(!hugeText.includes('30.0×') && !hpText.includes('30.0×'));
  // The slower row first: the winner's speed-up is still ≥ 1 and by the same definition.
  assert.deepEqual(pairSpeedup(huge, pre), { win: huge, lose: pre, speedup: 10 });
  // In-kernel vs userspace: per-round 1, 2, 3, 40, 50 → 3 (medians: 3000 / 1000 = 3 too; the label must match speedupOf).
  const inK = speedupOf(ue, mf, 'nsPerAccess')?.median as number;
  const series = seriesComparison(file).find((r) => r.what === 'Userspace ÷ in-kernel');
  assert.equal(series?.ours, `memslot-flag [proxy] ${fmtRatio(inK)}`);
  // Chart labels.
  const c = workloadSections(file)[0].charts.find((x) => x.title === 'Time per hole access') as DotChartSpec;
  const thpLabel = c.labels.find((l) => l.startsWith('ro-page/thp ('));
  const want = speedupOf(ue, huge, 'nsPerAccess')?.median as number;
  assert.notEqual(want, ratio(nsPerAccess(ue), nsPerAccess(huge)));
  assert.equal(thpLabel, `ro-page/thp (${want >= 10 ? want.toFixed(0) : want.toFixed(1)}×\u00a0faster)`);
});
