import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CSV_COLUMNS, csvColumnsMarkdown, toCsv } from '../reports/csv/csv.js';
import { fixtureLab, fixtureRow, makeResults } from './fixtures.js';
import { medianOf } from '../runner/results/row-metrics.js';

/** A minimal RFC 4180 reader, so the test does not trust the writer's own library. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    out.push(row);
  }
  return out;
}

function records(csv: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(csv);
  return rows.map((r) => {
    assert.equal(r.length, header.length, `a line has ${r.length} fields, the header ${header.length}`);
    return Object.fromEntries(header.map((h, i) => [h, r[i]]));
  });
}

const REQUIRED = 'strategy,variant,workload,access,status,reason,samples,median_ns,p25_ns,p75_ns,hole_accesses,ns_per_access,mmio_exits,io_exits,memory_bytes,setup_ms'.split(',');

test('the header starts with the sixteen required columns, in order, then the documented extras', () => {
  const csv = toCsv(makeResults());
  const header = parseCsv(csv)[0];
  assert.deepEqual(header.slice(0, REQUIRED.length), REQUIRED);
  assert.deepEqual(header, CSV_COLUMNS.map((c) => c.name));
  for (const extra of ['speedup_vs_userspace_exit', 'warm_ns_per_access', 'origin', 'host_id']) assert.ok(header.includes(extra), extra);
});

test('one line per row, values computed from the row', () => {
  const file = makeResults();
  const recs = records(toCsv(file));
  assert.equal(recs.length, file.rows.length);
  const row = file.rows[0];
  const rec = recs[0];
  assert.equal(rec.strategy, 'userspace-exit');
  assert.equal(rec.samples, String(row.samples.length));
  const r9 = (x: number | undefined): number => Number((x as number).toPrecision(9));
  assert.equal(Number(rec.median_ns), r9(row.stats.scanNs?.median));
  assert.equal(Number(rec.p25_ns), r9(row.stats.scanNs?.p25));
  assert.equal(Number(rec.ns_per_access), r9(row.stats.nsPerAccess?.median));
  assert.equal(Number(rec.setup_ms), r9(row.stats.setupMs?.median));
  const mmio = medianOf(row.samples.map((s) => (s.exits.mmio_read ?? 0) + (s.exits.mmio_write ?? 0))) as number;
  assert.equal(Number(rec.mmio_exits), mmio);
  assert.equal(rec.io_exits, '2', 'io_out only; io_in missing counts 0');
  assert.equal(rec.hole_accesses, '8160');
  assert.equal(rec.host_id, 'h-test-1');
  assert.equal(Number(rec.speedup_vs_userspace_exit), 1);
});

test('speed-up is relative to userspace-exit of the same workload and access', () => {
  const recs = records(toCsv(makeResults()));
  const flag = recs.find((r) => r.strategy === 'memslot-flag');
  assert.ok(flag);
  assert.equal(flag.status, 'proxy');
  const base = recs.find((r) => r.strategy === 'userspace-exit' && r.access === 'ecam');
  assert.ok(base);
  // The one definition (runner/results/speedup.ts): the median of per-round ratios, close to the ratio of medians here.
  const file = makeResults();
  const ratios = file.rows[0].samples.map((s, i) => (s.scans[0].nsPerAccess as number) / (file.rows[1].samples[i].scans[0].nsPerAccess as number)).sort((a, b) => a - b);
  const expected = ratios[Math.floor(ratios.length / 2)];
  assert.equal(ratios.length % 2, 1, 'odd sample count: the median is one ratio');
  assert.ok(Math.abs(Number(flag.speedup_vs_userspace_exit) - expected) < 1e-6, `${flag.speedup_vs_userspace_exit} vs ${expected}`);
  assert.ok(Math.abs(expected - Number(base.ns_per_access) / Number(flag.ns_per_access)) / expected < 0.05);
  const conf1 = recs.find((r) => r.access === 'conf1');
  assert.equal(conf1?.speedup_vs_userspace_exit, '1', 'conf1 userspace-exit is its own baseline');
});

test('unsupported rows have empty numbers; rows without a hole-only phase have an empty ns_per_access', () => {
  const recs = records(toCsv(makeResults()));
  const sp = recs.find((r) => r.strategy === 'spte-prefetch');
  assert.ok(sp);
  assert.equal(sp.status, 'unsupported');
  assert.match(sp.reason, /EOPNOTSUPP/);
  assert.equal(sp.samples, '0');
  for (const k of ['median_ns', 'p25_ns', 'p75_ns', 'hole_accesses', 'ns_per_access', 'mmio_exits', 'io_exits', 'memory_bytes', 'setup_ms', 'speedup_vs_userspace_exit']) {
    assert.equal(sp[k], '', `${k} should be empty on an unsupported row`);
  }
  const en = recs.find((r) => r.strategy === 'guest-enlightenment');
  assert.ok(en);
  assert.equal(en.ns_per_access, '');
  assert.equal(en.speedup_vs_userspace_exit, '');
  assert.ok(Number(en.scan_speedup_vs_userspace_exit) > 1);
  assert.ok(Number(en.median_ns) > 0);
});

test('fields with commas, quotes and newlines round-trip; formula-like text is defused', () => {
  const file = makeResults({
    rows: [
      { strategy: 'userspace-exit' },
      { strategy: 'odd,"name"\nwith newline', status: 'unsupported', reason: 'needs "root", see: a,b' },
      { strategy: '=HYPERLINK("http://x")', status: 'unsupported', reason: '@SUM(1)' },
    ],
  });
  const recs = records(toCsv(file));
  assert.equal(recs[1].strategy, 'odd,"name"\nwith newline');
  assert.equal(recs[1].reason, 'needs "root", see: a,b');
  assert.equal(recs[2].strategy, `'=HYPERLINK("http://x")`);
  assert.equal(recs[2].reason, "'@SUM(1)");
});

test('warm figures appear only when the workload rescans', () => {
  const file = makeResults({ rows: [{ strategy: 'userspace-exit' }, { strategy: 'ro-page', variant: '4k', nsPerAccess: 2600, scans: 3 }] });
  const recs = records(toCsv(file));
  assert.equal(recs[0].warm_ns_per_access, '');
  assert.ok(Number(recs[1].warm_ns_per_access) < Number(recs[1].ns_per_access));
});

test('docs/results-csv.md documents every column (regenerate from csvColumnsMarkdown())', () => {
  const docPath = fileURLToPath(new URL('../../docs/results-csv.md', import.meta.url));
  const doc = readFileSync(docPath, 'utf8');
  for (const c of CSV_COLUMNS) assert.ok(doc.includes(`| \`${c.name}\` |`), `docs/results-csv.md lacks ${c.name}`);
  assert.equal(
    doc,
    csvColumnsMarkdown(),
    'docs/results-csv.md is stale: npx tsc -p . && node -e "import(\'./dist/reports/csv/csv.js\').then(m => process.stdout.write(m.csvColumnsMarkdown()))" > docs/results-csv.md',
  );
});

test('a row with failed status keeps the figures of its finished samples', () => {
  const row = fixtureRow({ strategy: 'shared-hva', variant: '2m', status: 'failed', reason: 'guest fault' });
  const file = makeResults({ rows: [{ strategy: 'userspace-exit' }] });
  file.rows.push(row);
  const recs = records(toCsv(file));
  assert.equal(recs[1].status, 'failed');
  assert.ok(Number(recs[1].ns_per_access) > 0);
});

test('timing column: emulated for a bench lab run under TCG, hardware otherwise and for files that predate it', () => {
  const emulated = records(toCsv(makeResults({ lab: fixtureLab('tcg') })));
  assert.ok(emulated.every((r) => r.timing === 'emulated'));
  const nested = records(toCsv(makeResults({ lab: fixtureLab('kvm') })));
  assert.ok(nested.every((r) => r.timing === 'hardware'));
  const old = makeResults();
  delete old.host.timing;
  assert.ok(records(toCsv(old)).every((r) => r.timing === 'hardware'));
  const doc = CSV_COLUMNS.find((c) => c.name === 'timing')?.doc ?? '';
  assert.match(doc, /emulated \(TCG\): counts are exact, times are relative path lengths, not hardware time/);
});

test('KVM statistics columns: a statistic the kernel lacks is empty (n/a), never 0; a real 0 stays 0', () => {
  const all = records(toCsv(makeResults()));
  const thp = all.find((r) => r.variant === 'thp') as Record<string, string>;
  assert.ok(Number(thp.kvm_pf_taken) > 0 && Number(thp.kvm_pages_2m_now) === 128);
  const userspace = all[0];
  assert.equal(userspace.kvm_pages_2m_now, '0', 'a recorded zero is 0');
  const noPf = records(toCsv(makeResults({ kvmStats: 'without-pf' })));
  for (const r of noPf.filter((x) => x.samples !== '0')) {
    assert.equal(r.kvm_pf_taken, '', `${r.strategy}: pf_taken n/a`);
    assert.equal(r.kvm_pf_fixed, '', `${r.strategy}: pf_fixed n/a`);
    assert.notEqual(r.kvm_exits, '', 'the statistics the kernel has are still there');
  }
  const none = records(toCsv(makeResults({ kvmStats: 'none' })));
  for (const r of none) for (const k of ['kvm_pf_taken', 'kvm_pf_fixed', 'kvm_exits', 'kvm_pages_2m_now']) assert.equal(r[k], '', `${r.strategy} ${k}: no KVM_GET_STATS_FD`);
});
