// Node flags of the sample worker process. In the icount lab (QEMU TCG counting executed
// instructions, runner/lab/accel.ts) every instruction the lab VM's one vCPU executes during a
// timed scan lands in the figure, whichever thread executes it. V8's background threads
// (concurrent compilation, concurrent marking and sweeping) would add to a scan whenever the
// scheduler runs them, and the set-up's garbage would be collected at a random exit of the next
// scan. So there the worker runs V8 single-threaded (--single-threaded: compilation and GC on the
// main thread, never while it sits in KVM_RUN) and may collect its young generation before each
// timed scan (--expose-gc; runner/measure/sample.ts). On hardware nothing changes: the times there
// are the machine's, background threads included, as any VMM's would be.
import { labFromEnv } from '../host/lab-env.js';
import type { LabInfo } from '../results/schema.js';

export const ICOUNT_WORKER_FLAGS = ['--single-threaded', '--expose-gc'];

/** The extra Node flags of the sample worker in this lab (none outside an icount lab). */
export function workerFlags(lab: LabInfo | undefined = labFromEnv()): string[] {
  return lab?.accel === 'tcg' && lab.clock === 'icount' ? ICOUNT_WORKER_FLAGS : [];
}
