// The top of the report (issue 15): a ranked summary table and a recommendation per memory
// budget, computed from the rows of a real run (the committed kvm_pvm baseline).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { budgetChoices, decisionRows, MEMORY_BUDGETS, nonProbing } from '../reports/findings/decision.js';
import { renderReport } from '../reports/html/page.js';
import { loadResults } from '../runner/results/load-results.js';
import { preferredGroups } from '../runner/results/row-metrics.js';

const TEST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test');
const load = async () => (await loadResults(join(TEST_DIR, 'perf-baseline.kvm_pvm.json'), 'test', { uniqueRows: false })).file;

test('summary rows are ranked by the whole cold scan; rows without figures come last, unranked', async () => {
  const file = await load();
  const rows = decisionRows(preferredGroups(file)[0]);
  const ranked = rows.filter((d) => d.rank !== null);
  assert.deepEqual(ranked.map((d) => d.rank), ranked.map((_, i) => i + 1));
  for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].scan!.median <= ranked[i].scan!.median);
  const unranked = rows.filter((d) => d.rank === null);
  assert.ok(unranked.every((d) => d.status === 'unsupported' || d.scan === null));
  assert.equal(rows.indexOf(unranked[0]), ranked.length, 'unranked rows follow the ranked ones');
  for (const d of ranked) if (d.row.holeAccesses > 0 && d.userspaceExitsPerHole !== null) assert.ok(d.userspaceExitsPerHole > 0);
});

test('each budget gets the fastest strategy per hole access that fits it; non-probing strategies are named', async () => {
  const file = await load();
  const rows = decisionRows(preferredGroups(file)[0]);
  const choices = budgetChoices(rows);
  assert.deepEqual(choices.map((c) => c.budget), [...MEMORY_BUDGETS]);
  for (const c of choices) {
    const fits = rows.filter((d) => d.perAccess !== null && d.memoryBytes !== null && d.memoryBytes <= c.budget && (d.status === 'measured' || d.status === 'proxy'));
    if (!fits.length) {
      assert.equal(c.best, null);
      continue;
    }
    assert.ok(c.best && c.best.memoryBytes! <= c.budget);
    assert.equal(c.best.perAccess!.median, Math.min(...fits.map((d) => d.perAccess!.median)));
    if (c.best.status === 'proxy') assert.ok(c.bestMeasured === null || c.bestMeasured.status === 'measured');
  }
  // Larger budgets never choose a slower strategy.
  for (let i = 1; i < choices.length; i++) if (choices[i - 1].best && choices[i].best) assert.ok(choices[i].best!.perAccess!.median <= choices[i - 1].best!.perAccess!.median);
  assert.deepEqual(nonProbing(rows).map((d) => d.row.strategy).sort(), ['guest-enlightenment', 'right-sized-window']);
});

test('the page opens with the summary: recommendations and the ranked table before the headline and the charts', async () => {
  const html = renderReport([await load()], { generatedAt: 'T' });
  const at = (s: string) => html.indexOf(s);
  assert.ok(at('id="f0-decision"') > 0);
  assert.ok(at('What to use, by host memory per VM') > at('id="f0-decision"'));
  assert.ok(at('every strategy, ranked') < at('id="f0-headline"'));
  assert.ok(at('id="f0-headline"') < at('<canvas'));
  assert.match(html, /Not probing at all/);
});
