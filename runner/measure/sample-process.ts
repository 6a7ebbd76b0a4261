// The sample worker process. The orchestrator keeps one alive and sends it requests; a guest
// that never signals done (KVM_RUN never returns) is handled by killing this process on a
// timeout, and a crash loses only the sample in flight. Each sample is one fresh VM timed by the
// guest's TSC and sent as it completes; the loop is plain code, not a benchmark library: a
// fresh-VM sample is seconds of set-up and one cold scan, its statistics are runner/results/summary.ts's
// over samples that can come from several worker processes (a timeout restarts the worker).
// tinybench times the harness's own micro-costs instead (runner/measure/micro.ts, bench micro).
import { Kvm } from '../vmm/kvm.js';
import { runSample } from './sample.js';
import { GuestFault } from './guest-readback.js';
import { warmKernelLoop } from './kernel-warmup.js';
import { strategies } from '../../strategies/index.js';
import { allWorkloads } from './workload-registry.js';
import type { Sample } from '../results/schema.js';
import type { StrategyOptions } from '../../strategies/types.js';
import type { RowId } from '../shared/row-id.js';

export interface RunRequest extends RowId {
  samples: number;
  options: StrategyOptions;
}

export type ChildMessage =
  | { type: 'sample'; sample: Sample }
  | { type: 'sample-error'; message: string }
  | { type: 'done' }
  | { type: 'error'; message: string };

let kvm: Kvm | null = null;
let cpuid: Buffer | null = null;
/** A fresh process runs its first VMs 1.5-2x slower (V8 has not compiled the exit loop yet):
 *  the first samples of each worker are run and discarded until two in a row agree within
 *  WARM_WITHIN (at least WARMUP_MIN, at most WARMUP_MAX). In the icount lab, where a scan's
 *  instructions are counted exactly, the userspace exits of a fresh worker's early VMs cost
 *  ~15 200, ~11 800 or ~10 100 instructions each before settling at ~8 050, from the third to the
 *  fifth VM on (seen in runs of 2026-12-03): V8 kept optimising the exit loop over several scans. */
const WARMUP_MIN = 2;
const WARMUP_MAX = 8;
const WARM_WITHIN = 0.01;
let warmedUp = false;

/** The figure a warm-up compares: ns per hole access, or the whole scan where there is none. */
const figure = (s: Sample) => s.scans[0]?.nsPerAccess ?? s.scans[0]?.ns ?? NaN;

/** Runs and discards fresh VMs until the figure is steady (or WARMUP_MAX); a faulting guest stops it. */
function warmUp(one: Parameters<typeof runSample>[0]): void {
  let last = NaN;
  for (let i = 0; i < WARMUP_MAX; i++) {
    let x: number;
    try {
      x = figure(runSample(one));
    } catch {
      return; // a faulting guest faults again in the measured loop, where it is reported
    }
    if (i + 1 >= WARMUP_MIN && Math.abs(x - last) <= WARM_WITHIN * last) return;
    last = x;
  }
}

/** A real kernel: its exit loop warmed on the scan program (runner/measure/kernel-warmup.ts), then
 *  one discarded boot of the row (its own first-boot costs: the vmlinux read, the reference). */
function warmUpBoot(one: Parameters<typeof runSample>[0]): void {
  try {
    warmKernelLoop(one.kvm, one.cpuid, one.access);
  } catch {
    // the scan program failing here fails its own rows; the boot below still warms the loop
  }
  try {
    runSample(one);
  } catch {
    // a failing boot fails again in the measured loop, where it is reported
  }
}

function send(m: ChildMessage): void {
  process.send?.(m);
}

function serve(req: RunRequest): void {
  const strategy = strategies.find((s) => s.id === req.strategy);
  const workload = allWorkloads().find((w) => w.id === req.workload);
  if (!strategy || !workload) throw new Error(`unknown strategy or workload: ${req.strategy}, ${req.workload}`);
  kvm ??= Kvm.open();
  cpuid ??= kvm.supportedCpuid();
  const one = { kvm, cpuid, strategy, variant: req.variant, workload, access: req.access, options: req.options };
  if (!warmedUp) (workload.kernel ? warmUpBoot : warmUp)(one);
  warmedUp = true;
  for (let i = 0; i < req.samples; i++) {
    try {
      send({ type: 'sample', sample: runSample(one) });
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      send({ type: 'sample-error', message: e.message });
    }
  }
  send({ type: 'done' });
}

process.on('message', (req: RunRequest) => {
  try {
    serve(req);
  } catch (e) {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
});
process.on('disconnect', () => process.exit(0));
