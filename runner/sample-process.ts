// The sample worker process. The orchestrator keeps one alive and sends it requests; a guest
// that never signals done (KVM_RUN never returns) is handled by killing this process on a
// timeout, and a crash loses only the sample in flight. Each request is timed with tinybench
// (runSync, retained samples; the guest-TSC scan time is reported through overriddenDuration).
import { Bench } from 'tinybench';
import { Kvm } from './kvm.js';
import { GuestFault, runSample } from './sample.js';
import { strategies } from '../strategies/index.js';
import { allWorkloads } from './workload-registry.js';
import type { Access, Sample } from '../reports/schema.js';
import type { StrategyOptions } from '../strategies/types.js';

export interface RunRequest {
  strategy: string;
  variant: string;
  workload: string;
  access: Access;
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
 *  the first sample of each worker is run and discarded. */
let warmedUp = false;

function send(m: ChildMessage): void {
  process.send?.(m);
}

function serve(req: RunRequest): void {
  const strategy = strategies.find((s) => s.id === req.strategy);
  const workload = allWorkloads().find((w) => w.id === req.workload);
  if (!strategy || !workload) throw new Error(`unknown strategy or workload: ${req.strategy}, ${req.workload}`);
  kvm ??= Kvm.open();
  cpuid ??= kvm.supportedCpuid();
  const k = kvm;
  const c = cpuid;
  if (!warmedUp) {
    try {
      runSample({ kvm: k, cpuid: c, strategy, variant: req.variant, workload, access: req.access, options: req.options });
    } catch {
      /* a faulting guest faults again below, where it is reported */
    }
    warmedUp = true;
  }
  const bench = new Bench({ iterations: req.samples, time: 0, warmup: false, retainSamples: true, throws: true });
  bench.add(
    `${req.strategy}/${req.variant}`,
    () => {
      try {
        const sample = runSample({ kvm: k, cpuid: c, strategy, variant: req.variant, workload, access: req.access, options: req.options });
        send({ type: 'sample', sample });
        return { overriddenDuration: sample.scans[0].ns / 1e6 };
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
        send({ type: 'sample-error', message: e.message });
        return { overriddenDuration: 0 };
      }
    },
    { async: false }, // declared sync: tinybench would otherwise call it once more to find out
  );
  bench.runSync();
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
