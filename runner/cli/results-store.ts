// The run folder: results.json and results.csv, rewritten atomically after every row, so an
// interrupted run leaves valid files of the finished rows; a new run never reuses a folder.
import { accessSync, constants, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../shared/errors.js';
import { toCsv } from '../../reports/csv/csv.js';
import type { ResultsFile } from '../results/schema.js';

/** Creates a fresh folder OUT/<yyyymmdd-hhmmss>-<random>; a one-line UsageError when OUT is not writable. */
export function createRunDir(outRoot: string): string {
  const root = resolve(outRoot);
  try {
    mkdirParents(root);
    accessSync(root, constants.W_OK);
  } catch (e) {
    throw new UsageError(`--out ${outRoot}: cannot write there (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  for (;;) {
    const dir = join(root, `${stamp}-${randomBytes(3).toString('hex')}`);
    try {
      mkdirSync(dir); // fails if it exists: never overwrite a previous run
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`--out ${outRoot}: cannot create ${dir} (${(e as NodeJS.ErrnoException).code})`);
    }
  }
}

/** mkdir -p, one level at a time: Node's recursive mkdirSync spins forever on some paths (e.g. under /proc). */
function mkdirParents(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) mkdirParents(parent);
  mkdirSync(dir);
}

/** Writes a file so that readers see either the old or the new content, never a part. */
export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** results.json and results.csv in the run folder. */
export function writeResults(dir: string, file: ResultsFile): void {
  writeAtomic(join(dir, 'results.json'), JSON.stringify(file, null, 1) + '\n');
  writeAtomic(join(dir, 'results.csv'), toCsv(file));
}
