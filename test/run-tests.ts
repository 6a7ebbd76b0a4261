// `npm test`: every test file, with the real-KVM ones on a real KVM. Where /dev/kvm works they all
// run here; where it does not, the KVM files run inside the lab VM (`bench lab`, a real kvm_amd
// or kvm_intel) and the rest here (browser tests belong on the host: a page load under TCG takes
// > 30 s). Ends with one line "tests: N passed, N failed, N skipped" over both runs.
// PCIHOLE_TEST_WHERE=host|lab forces where the KVM files run; CI=true makes a KVM test that
// could run nowhere a failure instead of a skip.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kvmSkipReason } from './helpers-kvm.js';
import { findLabHost } from '../runner/lab/lab-host.js';

/** Test files that need /dev/kvm (all or part of them): these, and any file importing helpers-kvm.
 *  A KVM file missing here shows up as skips, which CI fails. */
export const KVM_TEST_FILES = ['kvm', 'strategies', 'workloads', 'soak', 'cli', 'thp-always'].map((n) => `${n}.test.js`);
const needsKvm = (file: string) => KVM_TEST_FILES.includes(file) || readFileSync(join(here, file), 'utf8').includes("from './helpers-kvm.js'");

interface Counts {
  pass: number;
  fail: number;
  skipped: number;
  todo: number;
  cancelled: number;
}

/** The closing "# pass N" … lines of a TAP report (node's test runner). */
export function tapCounts(tap: string): Counts {
  const n = (k: string) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  return { pass: n('pass'), fail: n('fail'), skipped: n('skipped'), todo: n('todo'), cancelled: n('cancelled') };
}

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'runner', 'cli', 'cli.js');

/** node --test over `files`, spec to the terminal and TAP to `tapFile`; in the lab when `lab`. */
function runFiles(files: string[], tapFile: string, lab: boolean): number {
  const nodeArgs = ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, ...files];
  if (!lab) return spawnSync(process.execPath, nodeArgs, { stdio: 'inherit' }).status ?? 1;
  // The KVM files take 6-10 min in a TCG lab. Now and then the emulated machine stalls for many
  // minutes (seen with other lab VMs on the same cores): bench lab then stops it (exit 2, its
  // own timeout) and the files run once more in a fresh VM, saying so. A test failure (exit 1)
  // is never retried.
  // --clock wall: the test files assert counts, never times, and QEMU's icount (the lab's
  // default, for measuring) ran them about 2x slower (bench soak --vms 12: 125 s vs 59 s).
  const once = () => spawnSync(process.execPath, [cli, 'lab', '--clock', 'wall', '--share', dirname(tapFile), '--timeout', '1500', '--exec', '--', process.execPath, ...nodeArgs], { stdio: 'inherit' }).status ?? 1;
  const first = once();
  if (first !== 2) return first;
  console.log('\nThe lab VM did not finish (bench lab exit 2): running the KVM test files once more in a fresh lab VM.');
  return once();
}

/** Why the lab VM cannot run here (a missing package), or null. */
function labProblem(): string | null {
  try {
    findLabHost({});
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function main(): number {
  const all = readdirSync(here).filter((f) => f.endsWith('.test.js')).sort();
  const kvmFiles = all.filter(needsKvm).map((f) => join(here, f));
  const hostFiles = all.filter((f) => !needsKvm(f)).map((f) => join(here, f));
  const noKvm = kvmSkipReason();
  const where = process.env.PCIHOLE_TEST_WHERE ?? (noKvm ? 'lab' : 'host');
  const tmp = mkdtempSync(join(tmpdir(), 'pcihole-test-'));
  try {
    const runs: { name: string; status: number; counts: Counts }[] = [];
    const run = (name: string, files: string[], lab: boolean) => {
      const tap = join(tmp, `${name}.tap`);
      const status = runFiles(files, tap, lab);
      runs.push({ name, status, counts: existsSync(tap) ? tapCounts(readFileSync(tap, 'utf8')) : { pass: 0, fail: 1, skipped: 0, todo: 0, cancelled: 0 } });
    };
    if (where === 'lab') {
      const problem = labProblem();
      if (problem) {
        console.log(`\nThe real-KVM tests need KVM: ${noKvm || 'PCIHOLE_TEST_WHERE=lab'}; the lab VM cannot run either: ${problem}`);
        if (process.env.CI === 'true') {
          console.log('CI: the KVM tests must run somewhere; failing.');
          return 1;
        }
        run('all', [...hostFiles, ...kvmFiles], false);
      } else {
        console.log(`\n== host: ${hostFiles.length} test files without KVM ==`);
        run('host', hostFiles, false);
        console.log(`\n== lab VM, a real KVM (${noKvm ? 'no usable /dev/kvm on this host' : 'PCIHOLE_TEST_WHERE=lab'}): ${kvmFiles.length} KVM test files ==`);
        run('lab', kvmFiles, true);
      }
    } else {
      run('host', [...hostFiles, ...kvmFiles], false);
    }
    const sum = (k: keyof Counts) => runs.reduce((a, r) => a + r.counts[k], 0);
    for (const r of runs) console.log(`${r.name}: ${r.counts.pass} passed, ${r.counts.fail} failed, ${r.counts.skipped} skipped (exit ${r.status})`);
    const failed = sum('fail') + sum('cancelled') + runs.filter((r) => r.status !== 0 && r.counts.fail === 0).length;
    const kvmRun = runs.find((r) => r.name === 'lab') ?? (noKvm ? undefined : runs[0]);
    if (kvmRun && kvmRun.counts.pass > 0) console.log(`KVM tests ran: ${kvmRun.name === 'lab' ? `in the lab VM (${kvmRun.counts.pass} passed in ${kvmFiles.length} files)` : `on this host's ${process.env.PCIHOLE_KVM_DEVICE ?? '/dev/kvm'}`}`);
    console.log(`tests: ${sum('pass')} passed, ${failed} failed, ${sum('skipped')} skipped`);
    return failed ? 1 : 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = main();
