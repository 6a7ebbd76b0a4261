// The host limits raised for a run (host.raisedLimits): optional in results.json (older files load
// and say "not recorded"), checked when present (bad → one-line bad input), and shown in the
// report's fingerprint next to the values before the run, and in words for `bench run`'s footer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeResults } from './fixtures.js';
import { validateResults, type RaisedLimit, type ResultsFile } from '../runner/results/schema.js';
import { renderReport } from '../reports/html/page.js';
import { raisedLimitsText, MAX_MAP_COUNT_NAME } from '../runner/results/host-limits.js';
import { HUGEPAGES_2M_NAME } from '../runner/host/hugetlb.js';
import { loadResults } from '../runner/results/load-results.js';
import { UsageError } from '../runner/shared/errors.js';

const withLimits = (limits: unknown): ResultsFile => {
  const f = makeResults();
  (f.host as unknown as Record<string, unknown>).raisedLimits = limits;
  return f;
};
/** The fingerprint table row with this header, as text. */
const fingerprintRow = (html: string, th: string): string => {
  const m = html.match(new RegExp(`<tr><th>${th}</th><td>(.*?)</td></tr>`));
  assert.ok(m, `no fingerprint row ${th}`);
  return m[1].replace(/<[^>]+>/g, '');
};

describe('limits raised for the run', () => {
  const base = makeResults();
  const mapTo = base.host.maxMapCount + 8198;
  const pagesTo = base.host.hugetlb.nrHugepages + 129;
  const raised: RaisedLimit[] = [
    { name: MAX_MAP_COUNT_NAME, from: base.host.maxMapCount, to: mapTo, restored: true },
    { name: HUGEPAGES_2M_NAME, from: base.host.hugetlb.nrHugepages, to: pagesTo, restored: false },
  ];

  test('a file without the field (written before it existed) loads, and the report says they were not recorded', () => {
    assert.equal(base.host.raisedLimits, undefined);
    const html = renderReport([base]);
    assert.match(fingerprintRow(html, 'limits raised for the run'), /^not recorded/);
    assert.equal(fingerprintRow(html, 'vm.max_map_count'), String(base.host.maxMapCount));
  });

  test('the report shows each limit before and during the run, and whether it was put back', () => {
    const f = withLimits(raised);
    const html = renderReport([validateResults(JSON.parse(JSON.stringify(f)))]);
    assert.equal(fingerprintRow(html, 'vm.max_map_count'), `${base.host.maxMapCount} before the run, ${mapTo} during it`);
    assert.match(fingerprintRow(html, 'hugetlb'), new RegExp(` before the run, ${pagesTo} during it$`));
    const row = fingerprintRow(html, 'limits raised for the run');
    assert.ok(row.includes(`${MAX_MAP_COUNT_NAME} ${base.host.maxMapCount} → ${mapTo} during the run, restored after`), row);
    assert.ok(row.includes(`${HUGEPAGES_2M_NAME} ${base.host.hugetlb.nrHugepages} → ${pagesTo} during the run, NOT restored`), row);
  });

  test('footer text: none raised, one still in force (interrupted), and not recorded differ', () => {
    assert.match(raisedLimitsText([]), /^none/);
    assert.match(raisedLimitsText([{ name: 'x', from: 1, to: 2 }]), /x 1 → 2 during the run, restore not recorded/);
    assert.match(raisedLimitsText(undefined), /^not recorded/);
  });

  for (const [what, bad, says] of [
    ['not an array', { name: 'x' }, /host\.raisedLimits is not an array/],
    ['a value that is not a number', [{ name: 'x', from: 1, to: '2' }], /host\.raisedLimits\[0\]\.to is not a number/],
    ['a nameless entry', [{ from: 1, to: 2 }], /host\.raisedLimits\[0\]\.name is not a string/],
    ['restored not a boolean', [{ name: 'x', from: 1, to: 2, restored: 'yes' }], /host\.raisedLimits\[0\]\.restored/],
  ] as const) {
    test(`bad input (${what}) is refused in one line`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pcihole-limits-'));
      try {
        const path = join(dir, 'results.json');
        writeFileSync(path, JSON.stringify(withLimits(bad)));
        await assert.rejects(loadResults(path, 'report'), (e: unknown) => {
          assert.ok(e instanceof UsageError);
          assert.match(e.message, says);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
