// KVM statistics a kernel does not have are n/a, never 0, in the report: no statistics at all
// (no KVM_GET_STATS_FD, Linux < 5.14) or only some (the pf_* counters came later). Fixture
// figures are invented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workloadSections } from '../reports/charts/chart-data.js';
import { headlines } from '../reports/findings/headlines.js';
import { renderReport } from '../reports/html/page.js';
import { kvmStatMedian } from '../runner/results/row-metrics.js';
import type { BarChartSpec } from '../reports/charts/chart-specs.js';
import { makeResults } from './fixtures.js';

/** The chart that draws KVM statistics per hole access (beside the VMM's exits), and the 2 MiB-mappings chart. */
const kvmChart = (file: ReturnType<typeof makeResults>) => workloadSections(file)[0].charts.find((c) => c.title === 'Exits and faults per hole access') as BarChartSpec | undefined;
const hugeChart = (file: ReturnType<typeof makeResults>) => workloadSections(file)[0].charts.find((c) => c.title === '2 MiB mappings after the scan') as BarChartSpec | undefined;
const KVM_SERIES = /vcpu\.exits|pf_taken|pf_fixed/;

test('no KVM_GET_STATS_FD: every section says the statistics are n/a and why; no KVM chart, no zeros', () => {
  const file = makeResults({ kvmStats: 'none' });
  assert.equal(kvmStatMedian(file.rows[0], 'exits'), null, 'n/a, not 0');
  const [ecam] = workloadSections(file);
  assert.ok(ecam.notes.includes('KVM statistics n/a for every row: this kernel has no KVM_GET_STATS_FD (KVM_CAP_BINARY_STATS_FD is 0, Linux < 5.14).'), ecam.notes.join('\n'));
  assert.deepEqual(kvmChart(file)?.datasets.filter((d) => KVM_SERIES.test(d.label)), [], 'no KVM series, so no zero bars');
  assert.equal(hugeChart(file), undefined);
  assert.deepEqual(ecam.kvmTable.stats, []);
  const hugeText = headlines(file).find((h) => h.id === 'huge-spte-cost')?.answer.join(' ') ?? '';
  assert.match(hugeText, /whether KVM held 2 MiB mappings is n\/a/);
  assert.doesNotMatch(hugeText, /pages_2m_now is 0/);
});

test('a kernel without the pf_* counters: those are n/a in the notes, the chart and the table; the others are drawn', () => {
  const file = makeResults({ kvmStats: 'without-pf' });
  const [ecam] = workloadSections(file);
  assert.ok(ecam.notes.includes("KVM statistic pf_taken n/a: not among this kernel's KVM statistics (not zero)."), ecam.notes.join('\n'));
  assert.ok(ecam.notes.includes("KVM statistic pf_fixed n/a: not among this kernel's KVM statistics (not zero)."));
  const chart = kvmChart(file);
  assert.ok(chart);
  assert.deepEqual(
    chart.datasets.map((d) => d.label).filter((l) => KVM_SERIES.test(l)),
    ['KVM exits (vcpu.exits)'],
  );
  assert.ok(hugeChart(file));
  assert.ok(!ecam.kvmTable.stats.some((s) => s.name.includes('pf_')), 'no pf_* line with zeros');
});

test('mixed: a statistic missing for one row is n/a in the caption and in the table, not an empty (zero) bar', () => {
  const file = makeResults();
  for (const s of file.rows[1].samples) delete s.kvmStats?.['vcpu.pf_fixed'];
  const [ecam] = workloadSections(file);
  const chart = kvmChart(file);
  assert.ok(chart);
  assert.match(chart.caption, /n\/a \(not recorded by this kernel, not zero\): pages KVM mapped \(pf_fixed; on 6\.1 prefetched ones too\) of memslot-flag \[proxy\]\./);
  const fixed = chart.datasets.find((d) => d.label.includes('pf_fixed'));
  assert.equal(fixed?.values[chart.labels.indexOf('memslot-flag [proxy]')], null, 'n/a is no value, not 0');
  assert.ok(ecam.notes.some((n) => n === "KVM statistic pf_fixed n/a for memslot-flag [proxy]: not among this kernel's KVM statistics (not zero)."));
  const line = ecam.kvmTable.stats.find((s) => s.name === 'vcpu.pf_fixed');
  assert.equal(line?.values[1], null);
  const html = renderReport([file], { generatedAt: 'T' });
  assert.match(html, /<tr><th>vcpu\.pf_fixed<\/th><td>[^<]+<\/td><td class="muted">n\/a<\/td>/);
});
