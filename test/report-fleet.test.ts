// "What it costs a fleet" (issue 15, item 7): the rows scaled to boots per day and VMs per host,
// the formula shown, and `bench report --fleet` refusing bad values with one line and exit 2.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_FLEET, FLEET_FORMULA, fleetRows, fleetTable, parseFleet, perBootNs } from '../reports/findings/fleet.js';
import { renderReport } from '../reports/html/page.js';
import { groupRows } from '../runner/results/row-metrics.js';
import { fmtBytes } from '../runner/shared/format.js';
import { makeResults } from './fixtures.js';

const CLI = fileURLToPath(new URL('../runner/cli/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pcihole-report-fleet-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--fleet values: two positive whole numbers, anything else is refused naming what is wrong', () => {
  assert.deepEqual(parseFleet('1000000,50'), { bootsPerDay: 1_000_000, vmsPerHost: 50 });
  assert.deepEqual(parseFleet(' 2e6 , 8 '), { bootsPerDay: 2_000_000, vmsPerHost: 8 });
  for (const [bad, re] of [
    ['', /two numbers/],
    ['1000', /two numbers/],
    ['1,2,3', /two numbers/],
    ['0,50', /BOOTS_PER_DAY must be a positive whole number, got "0"/],
    ['-5,50', /BOOTS_PER_DAY .* got "-5"/],
    ['1000,1.5', /VMS_PER_HOST must be a positive whole number, got "1.5"/],
    ['1000,abc', /VMS_PER_HOST .* got "abc"/],
    ['1e400,5', /BOOTS_PER_DAY/],
    ['Infinity,5', /BOOTS_PER_DAY/],
    ['0x10,5', /BOOTS_PER_DAY/],
  ] as [string, RegExp][])
    assert.throws(() => parseFleet(bad), re, bad);
});

test('CPU-seconds per day and host memory per host follow the formula from the rows', () => {
  const file = makeResults({
    rows: [
      { strategy: 'userspace-exit', nsPerAccess: 25_000, setupMs: 0.05 },
      { strategy: 'ro-page', variant: 'thp', nsPerAccess: 76, memoryBytes: 256 * 2 ** 20, setupMs: 600 },
      { strategy: 'shared-hva', variant: '2m', nsPerAccess: 130, memoryBytes: 2 * 2 ** 20, setupMs: 100 },
      { strategy: 'spte-prefetch', status: 'unsupported', reason: 'no KVM_PRE_FAULT_MEMORY' },
    ],
  });
  file.rows[2].backingShared = true;
  const p = { bootsPerDay: 1_000, vmsPerHost: 10 };
  const rows = fleetRows(groupRows(file.rows)[0], p);
  assert.deepEqual(rows.map((r) => r.label), ['userspace-exit', 'ro-page/thp', 'shared-hva/2m'], 'unsupported rows have nothing to scale');
  const [ue, thp, shared] = rows;
  const scan = (i: number): number => file.rows[i].stats.scanNs?.median as number;
  const setup = (i: number): number => file.rows[i].stats.setupMs?.median as number;
  assert.equal(thp.perBootNs, scan(1) + setup(1) * 1e6);
  assert.equal(thp.cpuSecondsPerDay, (1_000 * (scan(1) + setup(1) * 1e6)) / 1e9);
  assert.equal(thp.memoryPerHost, 10 * 256 * 2 ** 20);
  // A shared backing is set up and held once per host: no setup per boot, memory not multiplied.
  assert.equal(shared.perBootNs, scan(2));
  assert.equal(perBootNs(file.rows[2]), scan(2));
  assert.equal(shared.memoryPerHost, 2 * 2 ** 20);
  assert.equal(ue.savedVsBaseline, 0);
  assert.equal(thp.savedVsBaseline, (ue.cpuSecondsPerDay as number) - (thp.cpuSecondsPerDay as number));
  // Twice the boots, twice the CPU; memory per host does not depend on boots.
  const twice = fleetRows(groupRows(file.rows)[0], { ...p, bootsPerDay: 2_000 });
  assert.equal(twice[1].cpuSecondsPerDay, 2 * (thp.cpuSecondsPerDay as number));
  assert.equal(twice[1].memoryPerHost, thp.memoryPerHost);
  assert.equal(fleetTable(makeResults({ rows: [{ strategy: 'spte-prefetch', status: 'unsupported' }] }), p), null);
});

test('the report shows the section with its formula, the given fleet or a labelled example', () => {
  const file = makeResults();
  const example = renderReport([file], { generatedAt: 'x' });
  assert.match(example, /<h3 id="f0-fleet">What it costs a fleet<\/h3>/);
  assert.match(example, /1\u2009000\u2009000 boots per day, 50 VMs per host \(an example: set your own with <code>bench report --fleet/);
  assert.equal(DEFAULT_FLEET.vmsPerHost, 50);
  for (const f of FLEET_FORMULA) assert.ok(example.includes(f.replace(/</g, '&lt;')), f);
  const given = renderReport([file], { generatedAt: 'x', fleet: { bootsPerDay: 7, vmsPerHost: 3 } });
  assert.match(given, /7 boots per day, 3 VMs per host\. /);
  assert.doesNotMatch(given, /an example/);
  // ro-page/4k: 256 MiB per VM, 768 MiB on a host of 3.
  assert.ok(given.includes(`<td>${fmtBytes(3 * 256 * 2 ** 20)}</td>`), 'memory per host');
});

test('bench report --fleet: bad values are one line and exit 2; good ones reach the report', () => {
  const input = join(dir, 'results.json');
  writeFileSync(input, JSON.stringify(makeResults()));
  const out = join(dir, 'r.html');
  for (const bad of ['abc', '100', '0,5', '100,-1']) {
    const r = spawnSync(process.execPath, [CLI, 'report', input, '--out', out, '--fleet', bad], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /--fleet .*usage: bench report/);
  }
  const ok = spawnSync(process.execPath, [CLI, 'report', input, '--out', out, '--fleet', '2000,16'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(readFileSync(out, 'utf8'), /2\u2009000 boots per day, 16 VMs per host\./);
});
