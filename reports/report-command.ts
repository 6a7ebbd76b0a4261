// `bench report [RESULTS.json|RUN_DIR ...] [--out FILE] [--open]`: reads results files,
// validates them, writes the HTML report atomically and prints its path.

import { statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { UsageError } from '../runner/errors.js';
import { writeAtomic } from '../runner/results-store.js';
import { renderReport } from './html.js';
import { errnoText, firstLine, loadResults } from './load-results.js';

/** The usage line printed with argument errors. */
export const REPORT_USAGE = 'usage: bench report [RESULTS.json|RUN_DIR ...] [--out FILE] [--open]';

/**
 * Writes the report atomically (runner/results-store.ts writeAtomic: a temporary file beside
 * it, then rename); a failure is a one-line UsageError.
 */
function writeReport(path: string, html: string): void {
  try {
    writeAtomic(path, html);
  } catch (e) {
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
  const loaded = [];
  // The report draws every row it is given: duplicate rows are not an error here (the gate refuses them).
  for (const input of inputs) loaded.push(await loadResults(input, undefined, { uniqueRows: false }));
  if (values.out === '') throw new UsageError(`--out needs a file name; ${REPORT_USAGE}`);
  const out = resolve(values.out ?? defaultOut(inputs));

  const html = renderReport(
    loaded.map((l) => l.file),
    { labels: loaded.map((l) => displayPath(l.path)) },
  );
  writeReport(out, html);
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
