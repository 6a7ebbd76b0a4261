// The rooms of runner/ and their one-way imports (docs/architecture.md): every relative import of
// runner/, strategies/, workloads/ and reports/ is read from the sources and checked against the
// allowed arrows, and no two runner/ files import each other, directly or round a circle.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Which runner/ rooms each top-level folder or runner/ room may import (its own room is always allowed). */
export const ALLOWED: Record<string, string[]> = {
  'runner/shared': [],
  'runner/vmm': ['runner/shared'],
  'runner/guest': ['runner/shared', 'runner/vmm'],
  'runner/host': ['runner/shared', 'runner/vmm'],
  'runner/devices': ['runner/shared', 'runner/vmm', 'runner/guest'],
  'runner/measure': ['runner/shared', 'runner/vmm', 'runner/guest', 'runner/host', 'runner/devices'],
  'runner/lab': ['runner/shared'],
  'runner/kvm-build': ['runner/shared', 'runner/lab'],
  'runner/cli': ['runner/shared', 'runner/vmm', 'runner/guest', 'runner/host', 'runner/devices', 'runner/measure', 'runner/lab', 'runner/kvm-build'],
  strategies: ['runner/shared', 'runner/vmm', 'runner/guest', 'runner/host', 'runner/devices'],
  workloads: ['runner/shared', 'runner/guest', 'runner/devices'],
  reports: ['runner/shared'],
};

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}
const roomOf = (file: string) => {
  const parts = relative(root, file).split('/');
  return parts[0] === 'runner' && parts.length > 2 ? `runner/${parts[1]}` : parts[0];
};
const files = ['runner', 'strategies', 'workloads', 'reports'].flatMap((d) => sources(join(root, d)));
const imports = new Map(files.map((f) => [f, [...readFileSync(f, 'utf8').matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)\.js['"]/g)].map((m) => resolve(dirname(f), m[1] + '.ts'))]));

describe('architecture: rooms and one-way imports', () => {
  it('runner/ has no loose files: every source sits in a room', () => {
    // runner/cli.ts only forwards to runner/cli/cli.ts (the entry point's path before the rooms).
    assert.deepEqual(files.filter((f) => roomOf(f) === 'runner').map((f) => relative(root, f)), ['runner/cli.ts']);
    assert.match(readFileSync(join(root, 'runner', 'cli.ts'), 'utf8'), /^(?:#!.*\n)?(?:\/\/.*\n)*import '\.\/cli\/cli\.js';\n$/);
  });

  it('every import between rooms follows an allowed arrow', () => {
    const bad: string[] = [];
    for (const [f, deps] of imports) {
      const from = roomOf(f);
      for (const d of deps) {
        const to = roomOf(d);
        if (to !== from && to.startsWith('runner/') && !(ALLOWED[from] ?? []).includes(to)) bad.push(`${relative(root, f)} → ${relative(root, d)}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('no import circle among runner/ files', () => {
    const state = new Map<string, 1 | 2>();
    const circles: string[] = [];
    const visit = (f: string, path: string[]) => {
      state.set(f, 1);
      path.push(f);
      for (const d of imports.get(f) ?? []) {
        if (!d.startsWith(join(root, 'runner'))) continue;
        if (state.get(d) === 1) circles.push(path.slice(path.indexOf(d)).map((x) => relative(root, x)).join(' → '));
        else if (!state.has(d)) visit(d, path);
      }
      path.pop();
      state.set(f, 2);
    };
    for (const f of files) if (f.startsWith(join(root, 'runner')) && !state.has(f)) visit(f, []);
    assert.deepEqual(circles, []);
  });
});
