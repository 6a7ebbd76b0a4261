import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport } from '../reports/html/page.js';
import { scriptJson, scriptText } from '../reports/html/assets.js';
import { defaultOut, reportCommand } from '../runner/cli/report-command.js';
import { loadResults } from '../runner/results/load-results.js';
import { UsageError } from '../runner/shared/errors.js';
import { XSS_NAME, makeResults, quiet } from './fixtures.js';

const xssResults = () =>
  makeResults({
    rows: [
      { strategy: 'userspace-exit' },
      { strategy: XSS_NAME, variant: '<b>v</b>', status: 'proxy', reason: '"><script>alert(2)</script>', nsPerAccess: 2_000 },
      { strategy: 'ro-page', variant: '4k', nsPerAccess: 2_600, memoryBytes: 256 * 2 ** 20 },
    ],
    hostId: '<svg onload=alert(3)>',
  });

test('the report is one self-contained file: no network reference, no external script or stylesheet', () => {
  const html = renderReport([makeResults()], { generatedAt: 'T' });
  assert.doesNotMatch(html, /<script[^>]*\ssrc\s*=/i);
  assert.doesNotMatch(html, /<link[^>]*href\s*=\s*["']?(https?:)?\/\//i);
  assert.doesNotMatch(html, /<(img|iframe|link|script|source|video|audio|embed|object)\b[^>]*(src|href|data)\s*=\s*["']?https?:/i);
  assert.doesNotMatch(html, /@import|url\(\s*["']?https?:/i);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/);
  assert.ok(html.length > 200_000, 'chart.js is inlined');
  assert.match(html, /Chart\.js v4/);
});

test('every canvas has a chart spec and every spec a canvas', () => {
  const html = renderReport([makeResults()], { generatedAt: 'T' });
  const canvases = [...html.matchAll(/<canvas id="([^"]+)"/g)].map((m) => m[1]);
  const json = /<script type="application\/json" id="chart-specs">([^<]*)<\/script>/.exec(html);
  assert.ok(json);
  const specs = JSON.parse(json[1]) as { id: string }[];
  assert.deepEqual(canvases.sort(), specs.map((s) => s.id).sort());
  assert.ok(canvases.length >= 10);
});

test('report sections: headline, capability table, host fingerprint, methodology, 2020 figures', () => {
  const html = renderReport([makeResults()], { generatedAt: 'T' });
  for (const s of ['Headline', 'Capabilities on this host', 'Host fingerprint', 'Methodology', "The 2020 series' figures beside ours", 'interquartile range', 'kvm_pvm']) {
    assert.ok(html.includes(s), s);
  }
  assert.match(html, /<span class="status proxy">proxy<\/span>/);
  assert.match(html, /<span class="status unsupported">unsupported<\/span><\/td><td>KVM_PRE_FAULT_MEMORY: EOPNOTSUPP/);
  assert.match(html, /8\u2009193/);
  // KVM statistics are labelled as scan deltas; the hugepage question is read from the gauge.
  assert.match(html, /All KVM statistics \(median per VM: deltas over the scan \(setup excluded\)/);
  assert.match(html, /deltas of KVM's binary statistics .* over the scan \(setup excluded\)/);
  assert.match(html, /vm\.pages_2m_now/);
});

test('an incomplete run is flagged; a file without rows still renders', () => {
  const partial = { ...makeResults(), complete: false };
  assert.match(renderReport([partial], { generatedAt: 'T' }), /This run did not complete/);
  const empty = makeResults({ rows: [] });
  const html = renderReport([empty], { generatedAt: 'T' });
  assert.match(html, /This file has no result rows/);
  assert.match(html, /userspace-exit: not measured in this file/);
  assert.doesNotMatch(html, /<canvas/);
});

test('strings from results files are escaped: the XSS payload never appears raw', () => {
  const html = renderReport([xssResults()], { generatedAt: 'T' });
  assert.ok(!html.includes(XSS_NAME), 'raw payload in HTML');
  assert.ok(!html.includes('<img src=x'), 'raw img tag');
  assert.ok(!html.includes('<svg onload'), 'raw svg tag');
  assert.ok(!html.includes('<b>v</b>'));
  assert.ok(html.includes('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'), 'escaped form shown as text');
  // Every </script> closes one of our own script elements.
  const opens = html.match(/<script\b/g)?.length ?? 0;
  const closes = html.match(/<\/script/gi)?.length ?? 0;
  assert.equal(closes, opens);
  // The JSON block still carries the name, readable by JSON.parse.
  const json = /<script type="application\/json" id="chart-specs">([^<]*)<\/script>/.exec(html);
  assert.ok(json);
  assert.ok(JSON.stringify(JSON.parse(json[1])).includes(XSS_NAME));
});

test('scriptJson and scriptText neutralise element-closing sequences', () => {
  const v = { s: '</script><!-- \u2028 & >' };
  const j = scriptJson(v);
  assert.ok(!/[<>&\u2028]/.test(j));
  assert.deepEqual(JSON.parse(j), v);
  assert.equal(scriptText('a = "</script>"; b = "<!--";'), 'a = "<\\/script>"; b = "<\\!--";');
});

test('several files give a side-by-side comparison labelled by file, host and date', () => {
  const a = makeResults({ hostId: 'host-a', createdAt: '2026-11-01T00:00:00Z' });
  const b = makeResults({ hostId: 'host-b', createdAt: '2026-11-02T00:00:00Z', kernel: '6.12.0-tdp' });
  const html = renderReport([a, b], { labels: ['runs/a/results.json', 'runs/b/results.json'], generatedAt: 'T' });
  assert.match(html, /<section id="comparison">/);
  for (const s of ['runs/a/results.json', 'runs/b/results.json', 'host-a', 'host-b', '2026-11-02T00:00:00Z', '6.12.0-tdp', 'speed-up over userspace-exit', 'different host fingerprints']) {
    assert.ok(html.includes(s), s);
  }
  assert.ok(html.includes('id="f1"'), 'each file keeps its own section');
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'pcihole-report-'));
}

test('bench report: a run folder in, DIR/report.html out, atomically (no temp file left)', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'results.json'), JSON.stringify(makeResults()));
    assert.equal(await quiet(() => reportCommand([dir])), 0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.deepEqual(readdirSync(dir).sort(), ['report.html', 'results.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench report: several files and --out', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'a.json'), JSON.stringify(makeResults({ hostId: 'A' })));
    mkdirSync(join(dir, 'run2'));
    writeFileSync(join(dir, 'run2', 'results.json'), JSON.stringify(makeResults({ hostId: 'B' })));
    const out = join(dir, 'cmp.html');
    assert.equal(await quiet(() => reportCommand([join(dir, 'a.json'), join(dir, 'run2'), '--out', out])), 0);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /Comparison of 2 results files/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench report: default output is the run folder for a run, else the working directory', () => {
  assert.equal(defaultOut(['runs/x/results.json']), join('runs/x', 'report.html'));
  assert.equal(defaultOut(['results.json']), 'report.html');
  assert.equal(defaultOut(['test/perf-baseline.kvm_pvm.json']), 'report.html', 'never beside an arbitrary input file');
});

test('bench report: bad input is a one-line UsageError naming the file', async () => {
  const dir = tmp();
  try {
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"schema": ');
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ schema: 'something-else', rows: [] }));
    const oldVersion = join(dir, 'old.json');
    writeFileSync(oldVersion, JSON.stringify({ ...makeResults(), schemaVersion: 0 }));
    const badRow = join(dir, 'badrow.json');
    const br = makeResults() as unknown as { rows: Record<string, unknown>[] };
    br.rows[0].status = 'great';
    writeFileSync(badRow, JSON.stringify(br));
    const cases: [string[], RegExp][] = [
      [[join(dir, 'missing.json')], /missing\.json: no such file or directory/],
      [[join(dir, 'emptydir-that-is-not-there')], /emptydir-that-is-not-there: no such file/],
      [[dir], /is a directory without results\.json/],
      [[corrupt], /corrupt\.json: not valid JSON/],
      [[wrong], /wrong\.json: not a pcihole-bench results file/],
      [[oldVersion], /old\.json: schema version 0/],
      [[badRow], /badrow\.json: rows\[0\]\.status great is unknown/],
      [['--bogus', corrupt], /Unknown option '--bogus'.*usage: bench report/],
    ];
    for (const [args, re] of cases) {
      await assert.rejects(
        () => quiet(() => reportCommand(args)),
        (e: unknown) => {
          assert.ok(e instanceof UsageError, `${args.join(' ')}: ${String(e)}`);
          assert.match(e.message, re);
          assert.ok(!e.message.includes('\n'), 'one line');
          assert.equal(e.exitCode, 2);
          return true;
        },
      );
    }
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(makeResults()));
    await assert.rejects(() => quiet(() => reportCommand([good, '--out', join(dir, 'no', 'such', 'dir', 'r.html')])), /--out: cannot write .*r\.html: folder .* does not exist$/);
    assert.equal((await loadResults(good)).file.rows.length, 7);
    // One loader for report and gate: the report draws duplicate rows, the gate (default) refuses them.
    const dup = join(dir, 'dup.json');
    const withDup = makeResults();
    withDup.rows.push(withDup.rows[0]);
    writeFileSync(dup, JSON.stringify(withDup));
    assert.equal(await quiet(() => reportCommand([dup, '--out', join(dir, 'dup.html')])), 0);
    await assert.rejects(loadResults(dup, '--baseline'), (e: unknown) => e instanceof UsageError && /^--baseline: .*dup\.json: duplicate row userspace-exit/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
