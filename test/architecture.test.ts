// The rooms of runner/ and reports/ and their one-way imports (docs/architecture.md): every
// relative import of runner/, strategies/, workloads/ and reports/ (type-only ones included) is
// read from the sources and checked against the allowed arrows, the arrows themselves run one way,
// and no two files import each other, directly or round a circle.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const RESULTS = 'runner/results';
const SHARED = 'runner/shared';

/** Which rooms each room may import (its own room is always allowed). A room is a folder of runner/ or reports/, or strategies/ or workloads/. */
export const ALLOWED: Record<string, string[]> = {
  'runner/shared': [],
  'runner/results': [SHARED],
  'runner/vmm': [SHARED],
  'runner/guest': [SHARED, 'runner/vmm'],
  'runner/host': [SHARED, RESULTS, 'runner/vmm'],
  'runner/devices': [SHARED, 'runner/vmm', 'runner/guest'],
  'runner/measure': [SHARED, RESULTS, 'runner/vmm', 'runner/guest', 'runner/host', 'runner/devices', 'strategies', 'workloads'],
  'runner/lab': [SHARED],
  'runner/kvm-build': [SHARED, 'runner/lab'],
  strategies: [SHARED, RESULTS, 'runner/vmm', 'runner/guest', 'runner/host', 'runner/devices', 'workloads'],
  workloads: [SHARED, 'runner/guest', 'runner/devices'],
  'reports/gate': [SHARED, RESULTS],
  'reports/csv': [SHARED, RESULTS],
  'reports/charts': [SHARED, RESULTS],
  'reports/findings': [SHARED, RESULTS, 'reports/charts', 'reports/gate', 'workloads'],
  'reports/html': [SHARED, RESULTS, 'reports/charts', 'reports/findings', 'reports/gate'],
  'runner/cli': [
    SHARED,
    RESULTS,
    'runner/vmm',
    'runner/guest',
    'runner/host',
    'runner/devices',
    'runner/measure',
    'runner/lab',
    'runner/kvm-build',
    'strategies',
    'workloads',
    'reports/csv',
    'reports/gate',
    'reports/findings',
    'reports/html',
  ],
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
  return (parts[0] === 'runner' || parts[0] === 'reports') && parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
};

/** The relative imports of a source text, type-only and re-exports included, as paths of .ts files. */
export function importsOf(file: string, text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)\.js['"]/g)].map((m) => resolve(dirname(file), m[1] + '.ts'));
}

/** Every circle of a graph of files, each as "a → b → a". */
export function circlesOf(imports: Map<string, string[]>): string[] {
  const state = new Map<string, 1 | 2>();
  const circles: string[] = [];
  const visit = (f: string, path: string[]) => {
    state.set(f, 1);
    path.push(f);
    for (const d of imports.get(f) ?? []) {
      if (state.get(d) === 1) circles.push([...path.slice(path.indexOf(d)), d].map((x) => relative(root, x)).join(' → '));
      else if (!state.has(d)) visit(d, path);
    }
    path.pop();
    state.set(f, 2);
  };
  for (const f of imports.keys()) if (!state.has(f)) visit(f, []);
  return circles;
}

const files = ['runner', 'strategies', 'workloads', 'reports'].flatMap((d) => sources(join(root, d)));
const imports = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));

describe('architecture: rooms and one-way imports', () => {
  it('runner/ has no loose files: every source sits in a room', () => {
    // runner/cli.ts only forwards to runner/cli/cli.ts (the entry point's path before the rooms).
    assert.deepEqual(files.filter((f) => roomOf(f) === 'runner').map((f) => relative(root, f)), ['runner/cli.ts']);
    assert.match(readFileSync(join(root, 'runner', 'cli.ts'), 'utf8'), /^(?:#!.*\n)?(?:\/\/.*\n)*import '\.\/cli\/cli\.js';\n$/);
  });

  it('reports/ has no loose files: every source sits in a room (an index.ts at most)', () => {
    assert.deepEqual(files.filter((f) => roomOf(f) === 'reports' && relative(root, f) !== 'reports/index.ts').map((f) => relative(root, f)), []);
  });

  it('every source sits in a room that has its arrows written down', () => {
    const rooms = new Set(files.map(roomOf).filter((r) => r !== 'runner' && r !== 'reports'));
    assert.deepEqual([...rooms].filter((r) => !(r in ALLOWED)).sort(), []);
  });

  it('every import between rooms follows an allowed arrow', () => {
    const bad: string[] = [];
    for (const [f, deps] of imports) {
      const from = roomOf(f);
      if (from === 'runner') continue; // runner/cli.ts, the forwarder (first test)
      for (const d of deps) {
        const to = roomOf(d);
        if (to !== from && !(ALLOWED[from] ?? []).includes(to)) bad.push(`${relative(root, f)} → ${relative(root, d)}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('the arrows between rooms run one way: no room reaches itself', () => {
    const graph = new Map(Object.entries(ALLOWED).map(([room, to]) => [join(root, room), to.map((t) => join(root, t))]));
    assert.deepEqual(circlesOf(graph), []);
  });

  it('no import circle among files, type-only imports included', () => {
    assert.deepEqual(circlesOf(imports), []);
  });

  it('the circle check sees type-only imports and re-exports', () => {
    const a = join(root, 'reports', 'x', 'a.ts');
    const b = join(root, 'reports', 'x', 'b.ts');
    const c = join(root, 'reports', 'x', 'c.ts');
    const g = new Map([
      [a, importsOf(a, "import type { B } from './b.js';\n")],
      [b, importsOf(b, "export type { C } from './c.js';\n")],
      [c, importsOf(c, "import {\n  a,\n} from './a.js';\n")],
    ]);
    assert.deepEqual(circlesOf(g), ['reports/x/a.ts → reports/x/b.ts → reports/x/c.ts → reports/x/a.ts']);
  });
});
