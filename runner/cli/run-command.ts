// `bench run`: the matrix, incremental results, a progress bar, the table and the report.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { UsageError } from '../shared/errors.js';
import { openHost } from '../measure/admit.js';
import { ICOUNT_SETTLE_MS, activeWorkers, defaultOrder, expandMatrix, runMatrix } from '../measure/run-matrix.js';
import { createRunDir, writeAtomic, writeResults } from './results-store.js';
import { renderTable } from './table.js';
import { raisedLimits, restoreAndRecord, restoreOnExit } from '../host/host-prep.js';
import { raisedLimitsText } from '../results/host-limits.js';
import { parseCount, parsePositive, pickIds } from '../shared/args.js';
import { strategies } from '../../strategies/index.js';
import type { StrategyOptions } from '../../strategies/types.js';
import { allWorkloads } from '../measure/workload-registry.js';
import { renderReport } from '../../reports/html/page.js';
import { SCHEMA_ID, SCHEMA_VERSION, type Access, type ResultsFile } from '../results/schema.js';
import { DEFAULT_ALPHA, gateResults, parsePercent } from './gate-command.js';
import { loadResults } from '../results/load-results.js';
import { BASELINE_STRATEGY } from '../results/row-metrics.js';
import { timingBasis, timingLabel } from '../results/timing.js';
import { harnessCostText } from '../results/harness-cost-text.js';
import { measureHarnessCost } from '../measure/harness-cost.js';
import { labFromEnv } from '../host/lab-env.js';

/**
 * Seconds a sample may take. Under the icount lab QEMU runs with sleep=off: whenever the lab VM
 * idles (waiting on the host's 9p server, slow when the host is loaded) its clock jumps to the
 * next timer deadline, so 60 s of the lab's clock can pass in a second of real time and killed
 * sound samples on a loaded host. There the budget is 900 s; bench lab --timeout, on the host's
 * clock, still stops a hung lab.
 */
export function defaultTimeoutS(env: NodeJS.ProcessEnv = process.env): number {
  return labFromEnv(env)?.clock === 'icount' ? 900 : 60;
}

/** Fresh VMs per row when a run is gated and --samples is not given (docs/gate.md: with fewer,
 *  a 10 % slowdown passes unseen about half the time). */
const GATE_SAMPLES = 100;

/** Fresh VMs per row: --samples, else 10, or GATE_SAMPLES for a gated run. */
export function samplesFor(flag: string | undefined, gated: boolean): number {
  return parseCount('--samples', flag ?? String(gated ? GATE_SAMPLES : 10), 1, 100000);
}

/** Fresh VMs of each loop in the closing calibration (a few seconds in the lab, ms on hardware). */
const HARNESS_COST_ROUNDS = 3;

export const RUN_HELP = `usage: bench run [--strategy ID|all] [--workload ID|all] [--variant V] [--access ecam|conf1|all]
                 [--samples N] [--timeout SECONDS] [--out DIR] [--gate BASELINE.json] [--no-report]

Creates a fresh VM per sample on /dev/kvm, runs the workload's guest PCI scan under each
strategy, and writes DIR/<timestamp>-<id>/{results.json,results.csv,report.html}.

  --strategy   a strategy id from 'bench list', or all (default: all)
  --workload   a workload id from 'bench list', or all (default: linux-q35-boot)
  --variant    only this variant of the chosen strategies (e.g. 4k, thp, hugetlb, 2m)
  --access     config access method: ecam (MMIO, default), conf1 (port 0xCF8/0xCFC), or all
  --samples    fresh VMs per row (default: 10, a quick look; with --gate: ${GATE_SAMPLES}, what the
               gate-eval table of docs/gate.md shows a 5 % gate needs to catch a 10 % change with no
               false alarm); figures are medians over them
  --timeout    seconds a sample may run before it is killed and reported (default: 60; 900
               in the icount lab, whose clock jumps ahead whenever its VM idles)
  --order      interleaved (default on hardware: one fresh VM of every row per round, so host
               drift hits every row alike) or blocked (default in the icount lab, where time is
               instructions and does not drift: all samples of a row in a worker process of
               its own, then the next, so no row's JIT state lands in another's figures)
  --out        folder for run folders (default: results)
  --gate       after the run, gate it against a baseline results file (see 'bench gate --help');
               a baseline from another host is compared through speed-ups (--ratios)
  --gate-threshold  the gate's time threshold (default 5%)
  --no-report  skip report.html
  --no-harness-cost
               skip the closing calibration: ${HARNESS_COST_ROUNDS} fresh VMs each of a minimal C KVM_RUN
               loop, the koffi floor and this harness on linux-q35-boot, recorded as harnessCost
               (what the harness adds to every userspace exit, so to every speed-up's baseline)
  --pci-hole-cap N --pci-hole-flag B
               run memslot-flag for real on a kernel with the KVM_MEM_PCI_HOLE series: its
               capability number and memslot flag bit (otherwise memslot-flag is a proxy)

What is timed: the guest's own TSC around each scan phase (rdtsc at CPL3, natively), so the
figures exclude VM creation; ns/access is the hole-only phase (peer-bridge fixup) divided by
its hole reads. Setup (e.g. filling a 0xff backing) is reported separately.

linux-kernel-q35 boots a real kernel instead (Debian's: $PCIHOLE_GUEST_KERNEL, else
/boot/vmlinuz-$(uname -r), else the newest /boot/vmlinuz-*-amd64) to its no-root panic. Its phases
are timed by the VMM's clock at the kernel's accesses to present functions, which bound them; a
first boot with nothing in the window (the reference, cached) finds those bounds. On kvm_pvm it is
unsupported; run it in the lab: bench lab -- run --workload linux-kernel-q35 --access all.`;

export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      strategy: { type: 'string', default: 'all' },
      workload: { type: 'string', default: 'linux-q35-boot' },
      variant: { type: 'string' },
      access: { type: 'string', default: 'ecam' },
      samples: { type: 'string' },
      timeout: { type: 'string' },
      order: { type: 'string' },
      out: { type: 'string', default: 'results' },
      gate: { type: 'string' },
      'gate-threshold': { type: 'string', default: '5%' },
      'pci-hole-cap': { type: 'string' },
      'pci-hole-flag': { type: 'string' },
      'no-report': { type: 'boolean', default: false },
      'no-harness-cost': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(RUN_HELP);
    return 0;
  }
  const strats = pickIds('--strategy', values.strategy, strategies);
  const works = pickIds('--workload', values.workload, allWorkloads());
  const access = (values.access === 'all' ? ['ecam', 'conf1'] : [values.access]) as Access[];
  if (!access.every((a) => a === 'ecam' || a === 'conf1')) throw new UsageError(`--access ${values.access}: expected ecam, conf1 or all`);
  const samples = samplesFor(values.samples, values.gate !== undefined);
  const timeoutMs = parsePositive('--timeout', values.timeout ?? String(defaultTimeoutS()), 86_400) * 1000;
  const gateThreshold = parsePercent(values['gate-threshold'], '--gate-threshold');
  const options: StrategyOptions = {};
  if (values['pci-hole-cap'] !== undefined) options.pciHoleCap = parseCount('--pci-hole-cap', values['pci-hole-cap'], 1, 100000);
  if (values['pci-hole-flag'] !== undefined) options.pciHoleFlag = parseCount('--pci-hole-flag', values['pci-hole-flag'], 0, 31);
  if ((options.pciHoleCap === undefined) !== (options.pciHoleFlag === undefined)) throw new UsageError('--pci-hole-cap and --pci-hole-flag go together (the patched kernel\'s capability number and memslot flag bit)');
  if (values.order !== undefined && values.order !== 'interleaved' && values.order !== 'blocked') throw new UsageError(`--order ${values.order}: expected interleaved or blocked`);
  let matrix = expandMatrix(strats, works, access);
  if (values.variant !== undefined) {
    // The baseline stays in, so that speed-ups can still be shown.
    matrix = matrix.filter((r) => r.variant === values.variant || r.strategy.id === BASELINE_STRATEGY);
    if (!matrix.some((r) => r.variant === values.variant)) {
      const known = [...new Set(strats.flatMap((s) => s.variants).filter(Boolean))];
      throw new UsageError(`--variant ${values.variant}: not a variant of the chosen strategies (${known.join(', ') || 'they have none'})`);
    }
  }

  // Read the baseline before spending minutes on the run: a bad file is bad input now.
  const gateBase = values.gate ? await loadResults(values.gate, '--gate') : null;
  const host = openHost('run', options);
  const dir = createRunDir(values.out);
  const file: ResultsFile = {
    schema: SCHEMA_ID,
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'pcihole-bench', version: '0.1.0' },
    createdAt: new Date().toISOString(),
    complete: false,
    host: host.fingerprint,
    config: { samples, scans: Math.max(...works.map((w) => w.passes)), strategies: strats.map((s) => s.id), workloads: works.map((w) => w.id), access },
    rows: [],
  };
  writeResults(dir, file);

  let interrupted = false;
  restoreOnExit((sig) => {
    interrupted = true;
    for (const w of activeWorkers) w.kill();
    file.host.raisedLimits = restoreAndRecord(); // before saving, so the file says whether they were put back
    writeResults(dir, file);
    process.stderr.write(`\n${sig}: stopped; the samples finished so far are saved in ${dir} (results.json marked incomplete)\n`);
  });

  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar({ format: ' {bar} {value}/{total} fresh VMs | {row}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(matrix.length * samples, 0, { row: '' });
  let lastWrite = 0;
  let lastLine = 0;
  const basis = timingBasis(host.fingerprint);
  file.rows = await runMatrix(host, matrix, {
    samples,
    timeoutMs,
    order: (values.order as 'interleaved' | 'blocked' | undefined) ?? defaultOrder(basis),
    settleMs: basis === 'instructions' ? ICOUNT_SETTLE_MS : 0,
    stopped: () => interrupted,
    onProbed: (runnable) => bar?.setTotal(runnable * samples),
    onProgress(rows, done, current) {
      file.rows = rows;
      file.host.raisedLimits = raisedLimits(); // in force while these rows were measured
      bar?.update(done, { row: current });
      const now = Date.now();
      if (now - lastWrite > 1000) {
        writeResults(dir, file); // incremental: an interrupted run keeps its finished samples
        lastWrite = now;
      }
      if (!tty && now - lastLine > 5000) {
        process.stderr.write(`${done} fresh VMs done (${current})\n`);
        lastLine = now;
      }
    },
  });
  bar?.stop();
  if (!interrupted && !values['no-harness-cost']) {
    process.stderr.write(`harness cost per exit: ${HARNESS_COST_ROUNDS} fresh VMs each of a C loop, the koffi floor and the harness\n`);
    file.harnessCost = measureHarnessCost(host.kvm, HARNESS_COST_ROUNDS);
  }
  file.complete = true;
  host.kvm.close();
  file.host.raisedLimits = restoreAndRecord();
  writeResults(dir, file);

  const timing = timingBasis(file.host);
  console.log(renderTable(file.rows, samples, timing));
  const lab = file.host.lab ? `, in bench lab (${file.host.lab.accel}, QEMU ${file.host.lab.qemu} on ${file.host.lab.outerKernel})` : '';
  console.log(`\nhost ${file.host.id}: ${file.host.kernel}, ${file.host.kvmBackend}, ${file.host.cpuModel}${lab}; timing ${timingLabel(timing)}`);
  console.log(`limits raised for the run: ${raisedLimitsText(file.host.raisedLimits)}`);
  if (file.harnessCost) console.log(`harness cost per userspace exit: ${harnessCostText(file.harnessCost)}`);
  console.log(`results: ${join(dir, 'results.json')}`);
  console.log(`csv:     ${join(dir, 'results.csv')}`);
  if (!values['no-report']) {
    const html = join(dir, 'report.html');
    writeAtomic(html, renderReport([file], { labels: [dir] }));
    console.log(`report:  ${html}`);
  }
  const failed = file.rows.filter((r) => r.status === 'failed').length;
  if (gateBase) {
    // A baseline from another host, or of another timing basis, can only be compared through speed-ups (--ratios).
    const base = gateBase.file;
    const ratios = base.host.id !== file.host.id || timingBasis(base.host) !== timing;
    if (ratios) console.log(`\ngate: baseline host ${base.host.id} (${timingLabel(timingBasis(base.host))}) differs from this host ${file.host.id} (${timingLabel(timing)}): comparing speed-ups (--ratios)`);
    const current = { path: join(dir, 'results.json'), file };
    const code = await gateResults(gateBase, current, { thresholdPct: gateThreshold, alpha: DEFAULT_ALPHA, ratios, allowUntested: false });
    if (code !== 0) return code;
  }
  return failed ? 1 : 0;
}
