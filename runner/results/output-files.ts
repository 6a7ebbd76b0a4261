// Files the report and the gate write: checked before any work is printed (a bad path is one
// line, exit 2, and nothing else happens), never one of the command's inputs, written atomically
// through a temporary file beside the target that is removed on every failure.

import { realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UsageError } from '../shared/errors.js';
import { errnoText } from './load-results.js';

/** The canonical form of a path: realpath of the file, else of its folder plus its name. */
function canonical(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return resolve(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/**
 * Refuses an output path that names an input, an existing directory, or a file in a folder
 * that does not exist: one line naming the flag, exit status 2.
 */
export function checkOutput(path: string, inputs: readonly string[], flag: string): string {
  const out = canonical(path);
  const clash = inputs.find((i) => canonical(i) === out || canonical(resolve(i, 'results.json')) === out);
  if (clash !== undefined) throw new UsageError(`${flag}: ${path} is an input of this command (${clash}); write the output elsewhere`);
  const st = statOrNull(out);
  if (st?.isDirectory()) throw new UsageError(`${flag}: ${path} is a directory; give a file name inside it`);
  const dir = statOrNull(dirname(out));
  if (!dir) throw new UsageError(`${flag}: cannot write ${path}: folder ${dirname(path) || '.'} does not exist`);
  if (!dir.isDirectory()) throw new UsageError(`${flag}: cannot write ${path}: ${dirname(path)} is not a directory`);
  return out;
}

/** Writes `text` to `path` through PATH.tmp-PID and a rename; the temporary file never outlives a failure. */
export function writeOutput(path: string, text: string, flag: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`${flag}: cannot write ${path}: ${errnoText(e)}`);
  }
}

function statOrNull(p: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
