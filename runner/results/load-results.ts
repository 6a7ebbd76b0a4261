// Reading a results file from the command line: the one loader of `bench report`, `bench gate`,
// `bench gate-eval` and `bench run --gate`. Any problem is a one-line UsageError (exit status 2)
// naming the file, prefixed with the flag or command it came from when one is given.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../shared/errors.js';
import { validateResults, type ResultsFile } from './schema.js';
import { rowKey, rowKeyLabel } from './row-metrics.js';
import { reconcileStats } from './stats-check.js';

/** A results file as read from disk, with the path it was read from (DIR/results.json for a run folder). */
export interface LoadedResults {
  path: string;
  file: ResultsFile;
}

/** How strict loadResults is. */
export interface LoadOptions {
  /**
   * Refuse a file in which two rows share (strategy, variant, workload, access): the gate
   * matches rows on that key. Default true; the report, which only draws the rows, passes false.
   */
  uniqueRows?: boolean;
}

/**
 * Reads and validates one results file; a directory stands for DIR/results.json. `where` (a
 * flag such as "--baseline", or a command name) prefixes every error message.
 */
export async function loadResults(arg: string, where?: string, opts: LoadOptions = {}): Promise<LoadedResults> {
  const fail = (what: string): never => {
    throw new UsageError(where ? `${where}: ${what}` : what);
  };
  let path = arg;
  const st = await stat(arg).catch((e: unknown) => fail(`${arg}: ${errnoText(e)}`));
  if (st.isDirectory()) {
    path = join(arg, 'results.json');
    if (!(await stat(path).catch(() => null))?.isFile()) fail(`${arg} is a directory without results.json`);
  }
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    fail(`cannot read ${path}: ${errnoText(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`${path}: not valid JSON (${firstLine(e)})`);
  }
  return { path, file: checkResults(json, path, where, opts) };
}

/**
 * The checks of loadResults on a file already parsed (or still in memory, as `bench run --gate`
 * has it): the schema, stats against samples (recomputed in place), unique rows. `path` names the
 * file in messages, `where` prefixes them; a problem is a one-line UsageError.
 */
export function checkResults(json: unknown, path: string, where?: string, opts: LoadOptions = {}): ResultsFile {
  const fail = (what: string): never => {
    throw new UsageError(where ? `${where}: ${what}` : what);
  };
  let file: ResultsFile | null = null;
  try {
    file = validateResults(json, path);
  } catch (e) {
    // validateResults already names the file.
    fail(firstLine(e));
  }
  const results = file as ResultsFile;
  // Every reader sees the figures of the samples: stats are recomputed, a disagreeing one refused.
  const mismatch = reconcileStats(results, path);
  if (mismatch) fail(mismatch);
  if (opts.uniqueRows !== false) {
    const dup = duplicateRow(results, path);
    if (dup) fail(dup);
  }
  return results;
}

/** A short reason for a failed file-system call. */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ENOTDIR') return 'a path component is not a directory';
  return code ?? firstLine(e);
}

/** The first line of an error's message, trimmed. */
export function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0].trim();
}

/** A one-line problem when two rows of `file` share a key, else null. */
export function duplicateRow(file: ResultsFile, name: string): string | null {
  const seen = new Set<string>();
  for (const r of file.rows) {
    if (seen.has(rowKey(r))) return `${name}: duplicate row ${rowKeyLabel(r)}`;
    seen.add(rowKey(r));
  }
  return null;
}
