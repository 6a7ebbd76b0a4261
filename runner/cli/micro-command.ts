// bench micro: the harness's own per-exit costs (runner/measure/micro.ts), timed with tinybench.
// Needs no /dev/kvm: the exit loop is fed the exits a vCPU would return.
import { parseArgs } from 'node:util';
import { UsageError } from '../shared/errors.js';
import { parseCount } from '../shared/args.js';
import { microCosts } from '../measure/micro.js';
import { q35Topology } from '../../workloads/q35-topology.js';

export const MICRO_HELP = `usage: bench micro [--time MS] [--json]

The harness's own costs per exit, apart from KVM, timed with tinybench in this process: a koffi
call into libc, and one hole read (an ECAM read of an absent function) through the exit loop and
the q35 PCI model. Mean, p50 and p99 in ns, rme = relative margin of error of the mean.
No /dev/kvm needed. The fresh-VM rows of 'bench run' are sampled by hand (docs/methodology.md).

  --time MS   tinybench's time budget per task (default 500, 10..60000)
  --json      the figures as JSON`;

export function microCommand(args: string[]): number {
  let v;
  try {
    v = parseArgs({ args, options: { time: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.help) {
    console.log(MICRO_HELP);
    return 0;
  }
  const time = v.time === undefined ? 500 : parseCount('--time', v.time, 10, 60000);
  const costs = microCosts(q35Topology, time);
  if (v.json) {
    console.log(JSON.stringify(costs, null, 1));
    return 0;
  }
  for (const c of costs) console.log(`${c.name.padEnd(16)} mean ${c.meanNs.toFixed(0).padStart(6)} ns  p50 ${c.p50Ns.toFixed(0).padStart(6)} ns  p99 ${c.p99Ns.toFixed(0).padStart(6)} ns  ±${c.rme.toFixed(1)} %  (${c.samples} samples)  ${c.what}`);
  return 0;
}
