// bench report never overwrites its input, never leaves a temporary file, refuses a directory
// as --out, and without --out writes into the run folder or the working directory (issue 15).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCommand } from '../runner/cli/report-command.js';
import { writeOutput } from '../runner/results/output-files.js';
import { UsageError } from '../runner/shared/errors.js';
import { makeResults, quiet } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'pcihole-report-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function refused(args: string[], re: RegExp): Promise<void> {
  await assert.rejects(
    () => quiet(() => reportCommand(args)),
    (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.equal(e.exitCode, 2);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    },
  );
}

test('--out naming an input is refused and the input is unchanged', async () => {
  const x = join(dir, 'x.json');
  writeFileSync(x, JSON.stringify(makeResults()));
  const before = readFileSync(x, 'utf8');
  await refused([x, '--out', x], /^--out: .*x\.json is an input of this command/);
  const run = join(dir, 'run');
  mkdirSync(run);
  writeFileSync(join(run, 'results.json'), before);
  await refused([run, '--out', join(run, 'results.json')], /is an input of this command/);
  assert.equal(readFileSync(x, 'utf8'), before);
});

test('--out naming a directory is refused, and no DIR.tmp-PID is left behind', async () => {
  const x = join(dir, 'y.json');
  writeFileSync(x, JSON.stringify(makeResults()));
  const target = join(dir, 'out-dir');
  mkdirSync(target);
  await refused([x, '--out', target], /^--out: .*out-dir is a directory/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
});

test('a failed rename removes the temporary file', () => {
  const target = join(dir, 'occupied');
  mkdirSync(join(target, 'child'), { recursive: true });
  assert.throws(() => writeOutput(target, '<html>', '--out'), (e: unknown) => e instanceof UsageError && /^--out: cannot write .*occupied: /.test(e.message));
  assert.equal(existsSync(`${target}.tmp-${process.pid}`), false);
});

test('without --out: a plain file gives ./report.html in the working directory, a run folder its own report.html', async () => {
  const work = join(dir, 'cwd');
  const inputs = join(dir, 'inputs');
  mkdirSync(work);
  mkdirSync(inputs);
  writeFileSync(join(inputs, 'perf-baseline.json'), JSON.stringify(makeResults()));
  const cwd = process.cwd();
  process.chdir(work);
  try {
    assert.equal(await quiet(() => reportCommand([join(inputs, 'perf-baseline.json')])), 0);
  } finally {
    process.chdir(cwd);
  }
  assert.ok(existsSync(join(work, 'report.html')));
  assert.deepEqual(readdirSync(inputs), ['perf-baseline.json'], 'nothing written beside the input');
});
