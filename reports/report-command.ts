// `bench report [RESULTS.json|RUN_DIR ...] [--out FILE] [--open]`: reads results files,
// validates them, writes the HTML report atomically and prints its path.

import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { UsageError } from '../runner/errors.js';
import { validateResults } from './schema.js';
import type { ResultsFile } from './schema.js';
import { renderReport } from './html.js';

/** The usage line printed with argument errors. */
export const REPORT_USAGE = 'usage: bench report [RESULTS.json|RUN_DIR ...] [--out FILE] [--open]';

/** A results file as read from disk, with the path it was read from. */
export interface LoadedResults {
  path: string;
  results: ResultsFile;
}

/**
 * Reads and validates one results file; a directory stands for DIR/results.json. Any problem
 * (missing, unreadable, not JSON, wrong schema) is a UsageError with one line naming the file.
 */
export function loadResults(input: string): LoadedResults {
  let path = input;
  try {
    if (statSync(input).isDirectory()) path = join(input, 'results.json');
  } catch (e) {
    throw new UsageError(`${input}: ${errnoText(e)}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${path}: ${errnoText(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${firstLine(e)})`);
  }
  try {
    return { path, results: validateResults(json, path) };
  } catch (e) {
    // validateResults already prefixes the name it was given.
    throw new UsageError(firstLine(e));
  }
}

/** Writes `text` to `path` atomically: a temporary file in the same folder, then rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* the temporary file was never created */
    }
    throw new UsageError(`${path}: cannot write the report (${errnoText(e)})`);
  }
}

/**
 * Runs `bench report`. Returns the exit status (0) after printing the report's path; throws
 * UsageError (one line, exit status 2) for bad arguments and bad or missing results files.
 */
export async function reportCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: { out: { type: 'string', short: 'o' }, open: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    // parseArgs explains '--' at length after the first sentence: keep the sentence.
    throw new UsageError(`${firstLine(e).split(/\.\s/)[0]}; ${REPORT_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(REPORT_USAGE);
    return 0;
  }
  const inputs = positionals.length ? positionals : defaultInputs();
  const loaded = inputs.map(loadResults);
  if (values.out === '') throw new UsageError(`--out needs a file name; ${REPORT_USAGE}`);
  const out = resolve(values.out ?? defaultOut(inputs));

  const html = renderReport(
    loaded.map((l) => l.results),
    { labels: loaded.map((l) => displayPath(l.path)) },
  );
  writeFileAtomic(out, html);
  console.log(out);
  if (values.open) await openInBrowser(out);
  return 0;
}

/** With no inputs: ./results.json if it exists, else a usage error. */
function defaultInputs(): string[] {
  try {
    if (statSync('results.json').isFile()) return ['results.json'];
  } catch {
    /* fall through */
  }
  throw new UsageError(`no results given and no ./results.json; ${REPORT_USAGE}`);
}

/** Next to the first input: DIR/report.html for a run folder or DIR/results.json, else ./report.html. */
export function defaultOut(inputs: readonly string[]): string {
  const first = inputs[0];
  if (first === undefined) return 'report.html';
  try {
    if (statSync(first).isDirectory()) return join(first, 'report.html');
  } catch {
    /* checked by loadResults */
  }
  return join(dirname(first), 'report.html');
}

/** Tries xdg-open; when it is missing or fails, the path printed above is all the user gets. */
function openInBrowser(path: string): Promise<void> {
  return new Promise((done) => {
    try {
      const child = spawn('xdg-open', [path], { stdio: 'ignore', detached: true });
      child.on('error', () => done());
      child.on('spawn', () => {
        child.unref();
        done();
      });
    } catch {
      done();
    }
  });
}

function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ENOTDIR') return 'a path component is not a directory';
  return code ?? firstLine(e);
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
