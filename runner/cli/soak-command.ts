// `bench soak`: hundreds of fresh VMs in one process, fd count and RSS along the way.
import { parseArgs } from 'node:util';
import { parseCount, pickIds } from '../shared/args.js';
import { UsageError } from '../shared/errors.js';
import { strategyLabel } from '../shared/row-id.js';
import { restoreHost, restoreOnExit } from '../host/host-prep.js';
import { admitRow, openHost } from '../measure/admit.js';
import { soak } from '../measure/soak.js';
import { allWorkloads } from '../measure/workload-registry.js';
import { strategies } from '../../strategies/index.js';
import { fmtBytes } from '../shared/format.js';

export const SOAK_HELP = `usage: bench soak [--vms 500] [--strategy ID] [--variant V] [--workload ID] [--every 100]

Creates, runs and tears down --vms fresh VMs one after another in this one process and prints
its open fds, VMAs and RSS after the first VM and every --every VMs. Exit status 1 when, from
the --every'th VM on, the fd count or the VMs' own mappings (kvm_run, memfds, guest RAM and
backings) grew at all, or the process's VMAs grew by more than 16 over the second half of the
run (glibc arenas and V8 reservations appear in one-time steps; a leak grows with every VM).`;

/** VMAs V8 may add or drop as its heap breathes; a per-VM leak exceeds it within a few hundred VMs. */
const VMA_SLACK = 16;

export async function soakCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      vms: { type: 'string', default: '500' },
      every: { type: 'string', default: '100' },
      strategy: { type: 'string', default: 'ro-page' },
      variant: { type: 'string' },
      workload: { type: 'string', default: 'linux-q35-boot' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(SOAK_HELP);
    return 0;
  }
  if (values.strategy === 'all' || values.strategy.includes(',')) throw new UsageError(`--strategy ${values.strategy}: soak takes one strategy id`);
  if (values.workload === 'all' || values.workload.includes(',')) throw new UsageError(`--workload ${values.workload}: soak takes one workload id`);
  const [strategy] = pickIds('--strategy', values.strategy, strategies);
  const [workload] = pickIds('--workload', values.workload, allWorkloads());
  const variant = values.variant ?? strategy.variants[0];
  if (!strategy.variants.includes(variant)) throw new UsageError(`--variant ${variant}: ${strategy.id} has ${strategy.variants.filter(Boolean).join(', ') || 'no variants'}`);
  const vms = parseCount('--vms', values.vms, 1, 1_000_000);
  const every = parseCount('--every', values.every, 1, 1_000_000);
  restoreOnExit();
  const host = openHost('soak');
  const probe = admitRow(host, { strategy, variant, workload, access: 'ecam' });
  host.kvm.close();
  const name = strategyLabel({ strategy: strategy.id, variant });
  if (probe.status === 'unsupported') throw new UsageError(`${name} cannot run here: ${probe.reason}`);
  console.log(`${vms} fresh VMs of ${name} on ${workload.id}, one process:`);
  console.log(`${'VMs'.padStart(7)} ${'fds'.padStart(5)} ${'VMAs'.padStart(6)} ${'VM VMAs'.padStart(8)} ${'RSS'.padStart(10)}`);
  const t0 = Date.now();
  try {
    const points = soak(strategy, variant, workload, vms, every, (p) => console.log(`${String(p.vms).padStart(7)} ${String(p.fds).padStart(5)} ${String(p.maps).padStart(6)} ${String(p.vmMaps).padStart(8)} ${fmtBytes(p.rssBytes).padStart(10)}`));
    // Allocator arenas and V8 reservations appear in one-time steps early on; a leak grows with
    // every VM. So fds and the VMs' own mappings are judged from the second point on, exactly,
    // and the process's total VMAs over the second half of the run, with slack.
    const first = points[Math.min(1, points.length - 1)];
    const mid = points[Math.floor((points.length - 1) / 2)];
    const last = points[points.length - 1];
    const leak = last.fds > first.fds || last.vmMaps > first.vmMaps || last.maps > mid.maps + VMA_SLACK;
    console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s; fds ${first.fds} → ${last.fds}, VM mappings ${first.vmMaps} → ${last.vmMaps}, all VMAs ${mid.maps} → ${last.maps} over the second half, RSS ${fmtBytes(first.rssBytes)} → ${fmtBytes(last.rssBytes)}: ${leak ? 'LEAK' : 'flat'}`);
    return leak ? 1 : 0;
  } finally {
    restoreHost();
  }
}
