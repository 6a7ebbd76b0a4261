// `bench report [RESULTS.json|RUN_DIR ...] [--out FILE] [--open] [--fleet B,V]`: reads results files,
// validates them, writes the HTML report atomically and prints its path.

import { statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { UsageError } from '../shared/errors.js';
import { checkOutput, writeOutput } from '../results/output-files.js';
import { renderReport } from '../../reports/html/page.js';
import { firstLine, loadResults } from '../results/load-results.js';
import { parseFleet, type FleetParams } from '../../reports/findings/fleet.js';

/** The usage line printed with argument errors. */
export const REPORT_USAGE = 'usage: bench report [RESULTS.json|RUN_DIR ...] [--out FILE] [--open] [--fleet BOOTS_PER_DAY,VMS_PER_HOST]';

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
      options: { out: { type: 'string', short: 'o' }, open: { type: 'boolean' }, fleet: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  let fleet: FleetParams | undefined;
  if (values.fleet !== undefined) {
    try {
      fleet = parseFleet(values.fleet);
    } catch (e) {
      throw new UsageError(`${firstLine(e)}; ${REPORT_USAGE}`);
    }
  }
  const inputs = positionals.length ? positionals : defaultInputs();
  if (values.out === '') throw new UsageError(`--out needs a file name; ${REPORT_USAGE}`);
  const out = resolve(values.out ?? defaultOut(inputs));
  // Checked before any work: never an input (it would be overwritten with HTML), never a directory.
  checkOutput(out, inputs, values.out === undefined ? 'report' : '--out');
  const loaded = [];
  // The report draws every row it is given: duplicate rows are not an error here (the gate refuses them).
  for (const input of inputs) loaded.push(await loadResults(input, undefined, { uniqueRows: false }));
  const html = renderReport(
    loaded.map((l) => l.file),
    { labels: loaded.map((l) => displayPath(l.path)), ...(fleet ? { fleet } : {}) },
  );
  writeOutput(out, html, values.out === undefined ? 'report' : '--out');
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

/**
 * Where the report goes without --out: into the run folder when the first input is one (a
 * folder, or a file named results.json, as `bench run` writes them), else ./report.html in the
 * working directory (never beside an arbitrary file such as test/perf-baseline.json).
 */
export function defaultOut(inputs: readonly string[]): string {
  const first = inputs[0];
  if (first === undefined) return 'report.html';
  try {
    if (statSync(first).isDirectory()) return join(first, 'report.html');
  } catch {
    /* checked by loadResults */
  }
  return basename(first) === 'results.json' ? join(dirname(first), 'report.html') : 'report.html';
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
