// The browser builds of chart.js and chartjs-chart-error-bars, read from node_modules so the
// report can inline them, and the escaping that makes inline <script> content safe.

import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';

const require = createRequire(import.meta.url);
const cache = new Map<string, string>();

/**
 * The minified UMD build of an installed package. The packages' exports maps block deep
 * imports, so this resolves the main entry, walks up to the package root and follows the
 * root package.json's `unpkg` / `jsdelivr` field (the CDN build, which is the UMD one).
 */
export function umdSource(pkg: 'chart.js' | 'chartjs-chart-error-bars'): string {
  const hit = cache.get(pkg);
  if (hit !== undefined) return hit;
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      const meta = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; unpkg?: string; jsdelivr?: string };
      if (meta.name === pkg) {
        const rel = meta.unpkg ?? meta.jsdelivr;
        if (!rel) throw new Error(`${pkg}: package.json names no browser (unpkg) build`);
        const src = readFileSync(join(dir, rel), 'utf8');
        cache.set(pkg, src);
        return src;
      }
    }
    if (dir === parse(dir).root) throw new Error(`${pkg}: package root not found above ${require.resolve(pkg)}`);
    dir = dirname(dir);
  }
}

/**
 * Makes JavaScript safe to place between <script> and </script>: an HTML parser ends the
 * element at the first "</script" and treats "<!--" specially, so both are broken up with a
 * backslash, which is a no-op inside JS strings, regular expressions and template literals.
 */
export function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/**
 * JSON for a <script type="application/json"> block: every <, >, & and the JS line
 * separators U+2028/U+2029 become \u escapes, so no string in the data can close the element
 * or open a comment. JSON.parse reads it back unchanged. Non-finite numbers become null.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
