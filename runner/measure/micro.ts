// The harness's own per-exit costs, timed with tinybench: what this VMM adds to every exit it
// serves, apart from KVM. These are microbenchmarks in one warm process (many iterations of a
// call that takes nanoseconds), the case tinybench's statistics (mean, percentiles, rme) are made
// for. The rows of `bench run` are not: each sample is one fresh VM (a new KVM VM, memory, page
// tables, one cold scan), timed inside the guest by its TSC, and summarised by runner/results/summary.ts
// (the statistics the gate re-computes from the samples on load).
import { Bench } from 'tinybench';
import { close } from '../vmm/libc.js';
import type { MmioExit, VcpuExit } from '../vmm/vcpu.js';
import { PciModel, type FunctionSpec } from '../devices/pci-model.js';
import { ExitLoop, type RunnableVcpu } from '../devices/exit-loop.js';
import { PORT_DONE } from '../guest/guest-layout.js';

export interface MicroCost {
  name: string;
  /** What one iteration does. */
  what: string;
  /** tinybench's latency statistics, in nanoseconds. */
  meanNs: number;
  p50Ns: number;
  p99Ns: number;
  /** Relative margin of error of the mean, %. */
  rme: number;
  samples: number;
}

const ECAM = { base: 0xb000_0000, size: 256 << 20, configOffset: 0 };

/** A stand-in vCPU: each run() returns one ECAM read of an absent function on bus 255 (a hole
 *  access), then the guest's done port, as kvm_run decoding would hand them to the exit loop. */
function holeReadVcpu(): RunnableVcpu {
  const mmio: MmioExit = { kind: 'mmio', addr: ECAM.base + (255 << 20), len: 4, isWrite: false, data: new Uint8Array(8) };
  const done: VcpuExit = { kind: 'io', port: PORT_DONE, size: 1, count: 1, isOut: true, data: new Uint8Array(1) };
  let n = 0;
  return { run: () => (n++ % 2 === 0 ? mmio : done), drainCoalesced: () => 0 };
}

/** Times a koffi call into libc (close(-1): one FFI crossing, one failing syscall) and one hole
 *  read through the exit loop and the PCI model. `timeMs` per task (tinybench's time budget). */
export function microCosts(topology: FunctionSpec[], timeMs = 500): MicroCost[] {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs), throws: true });
  const loop = new ExitLoop(new PciModel(topology), ECAM);
  const vcpu = holeReadVcpu();
  const tasks = [
    { name: 'koffi libc call', what: 'close(-1) through koffi: one FFI call and one failing syscall', fn: () => void close(-1) },
    { name: 'hole read exit', what: 'one ECAM read of an absent function through ExitLoop and PciModel, then the done exit', fn: () => void loop.run(vcpu) },
  ];
  for (const t of tasks) bench.add(t.name, t.fn, { async: false });
  bench.runSync();
  return tasks.map((t) => {
    const r = bench.getTask(t.name)?.result;
    if (!r || (r.state !== 'completed' && r.state !== 'aborted-with-statistics')) throw new Error(`${t.name}: tinybench did not complete (${r?.state ?? 'no result'})`);
    const l = r.latency;
    return { name: t.name, what: t.what, meanNs: l.mean * 1e6, p50Ns: l.p50 * 1e6, p99Ns: l.p99 * 1e6, rme: l.rme, samples: l.samplesCount };
  });
}
