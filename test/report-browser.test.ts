// The HTML report in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): no console error, no page error, no request but the file itself, every
// canvas drawn, the XSS payload shown as text with no dialog, and a screenshot written.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderReport } from '../reports/html/page.js';
import { XSS_NAME, DEFAULT_ROWS, makeResults } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';

/** Folders this file made; removed when it ends, unless PCIHOLE_KEEP_SCREENSHOTS is set (then printed). */
const dirs: string[] = [];
function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pcihole-report-browser-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) {
    if (process.env.PCIHOLE_KEEP_SCREENSHOTS) console.log(`screenshots kept in ${d} (PCIHOLE_KEEP_SCREENSHOTS is set)`);
    else rmSync(d, { recursive: true, force: true });
  }
});
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What one page load observed. */
interface PageReport {
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
  dialogs: string[];
  canvases: { id: string; width: number; height: number; inked: number; rendered: boolean }[];
  bodyText: string;
  images: number;
  screenshot: string;
  /** document.documentElement.scrollWidth at the viewport width. */
  scrollWidth: number;
  /** The same at 400 px wide: a phone must not scroll the page sideways either. */
  narrowScrollWidth: number;
}

async function load(html: string, dir: string, name: string): Promise<PageReport> {
  const { chromium } = await import('playwright-core');
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;
  const profile = mkdtempSync(join(tmpdir(), 'pcihole-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
    offline: true,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const out: PageReport = { consoleErrors: [], pageErrors: [], requests: [], dialogs: [], canvases: [], bodyText: '', images: 0, screenshot: join(dir, `${name}.png`), scrollWidth: 0, narrowScrollWidth: 0 };
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') out.consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => out.pageErrors.push(String(e)));
    page.on('request', (r) => out.requests.push(r.url()));
    page.on('dialog', (d) => {
      out.dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForTimeout(500); // let any deferred handler (an injected onerror) fire
    out.canvases = await page.evaluate(() =>
      [...document.querySelectorAll('canvas')].map((c) => {
        const ctx = c.getContext('2d');
        let inked = 0;
        if (ctx && c.width > 0 && c.height > 0) {
          const px = ctx.getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) inked++;
        }
        return { id: c.id, width: c.width, height: c.height, inked, rendered: c.getAttribute('data-rendered') === 'true' };
      }),
    );
    out.bodyText = await page.evaluate(() => document.body.innerText);
    out.images = await page.evaluate(() => document.images.length);
    await page.screenshot({ path: out.screenshot, fullPage: true });
    out.scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.setViewportSize({ width: 400, height: 900 });
    await page.waitForTimeout(200);
    out.narrowScrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    return out;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function assertClean(r: PageReport, fileUrl: string): void {
  assert.deepEqual(r.consoleErrors, [], 'console errors or warnings');
  assert.deepEqual(r.pageErrors, [], 'page errors');
  assert.deepEqual(r.dialogs, [], 'a dialog fired');
  const others = r.requests.filter((u) => u !== fileUrl && !u.startsWith('data:'));
  assert.deepEqual(others, [], 'requests other than the report file itself');
  assert.ok(r.canvases.length > 0, 'the page has charts');
  assert.equal(r.narrowScrollWidth, 400, 'at 400 px wide the page does not scroll sideways (tables scroll in their own box)');
  for (const c of r.canvases) {
    assert.ok(c.rendered, `${c.id} not rendered by the page script`);
    assert.ok(c.width > 100 && c.height > 100, `${c.id} is ${c.width}x${c.height}`);
    // A chart draws axes, labels and bars: far more than a few stray pixels.
    assert.ok(c.inked > 2000, `${c.id} is blank (${c.inked} drawn pixels)`);
  }
}

test('the report in headless Chromium: offline, charts drawn, payload inert, screenshot written', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium) to run the browser test`);
    return;
  }
  const dir = workDir();
  const single = makeResults({
    rows: [...DEFAULT_ROWS, { strategy: XSS_NAME, status: 'proxy', reason: '<img src=y onerror=alert(2)>', nsPerAccess: 3_000 }],
  });
  const html = renderReport([single], { labels: ['runs/fixture/results.json'], generatedAt: '2026-11-26T12:00:00Z' });
  const r = await load(html, dir, 'report');
  assertClean(r, pathToFileURL(join(dir, 'report.html')).href);
  assert.ok(r.bodyText.includes(XSS_NAME), 'the payload is shown as text');
  assert.ok(r.bodyText.includes('<img src=y onerror=alert(2)>'));
  assert.equal(r.images, 0, 'no <img> element was created from a results string');
  assert.ok(r.canvases.length >= 10, `${r.canvases.length} canvases`);
  assert.equal(r.scrollWidth, 1280, 'the page itself never scrolls sideways');
});

test('a two-file comparison renders its charts in headless Chromium', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium package to run the browser test`);
    return;
  }
  const dir = workDir();
  const a = makeResults({ hostId: 'host-a' });
  const b = makeResults({ hostId: 'host-b', kernel: '6.12.0', rows: [{ strategy: 'userspace-exit', nsPerAccess: 6_000 }, { strategy: 'memslot-flag', status: 'proxy', nsPerAccess: 1_000 }, { strategy: 'spte-prefetch', variant: '', nsPerAccess: 90, memoryBytes: 256 * 2 ** 20 }] });
  const html = renderReport([a, b], { labels: ['runs/a/results.json', 'runs/b/results.json'], generatedAt: '2026-11-26T12:00:00Z' });
  const r = await load(html, dir, 'compare');
  assertClean(r, pathToFileURL(join(dir, 'compare.html')).href);
  assert.ok(r.canvases.some((c) => c.id.startsWith('cmp-')));
  assert.equal(r.scrollWidth, 1280);
});
