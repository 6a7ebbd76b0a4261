// Resource hygiene: many fresh VMs in one process must leave fds, mappings and RSS flat.
import { readdirSync, readFileSync } from 'node:fs';
import { Kvm } from './kvm.js';
import { runSample } from './sample.js';
import type { Strategy } from '../strategies/types.js';
import type { Workload } from '../workloads/types.js';

export interface SoakPoint {
  vms: number;
  fds: number;
  /** VMAs of this process (/proc/self/maps lines). */
  maps: number;
  rssBytes: number;
}

export function processPoint(vms: number): SoakPoint {
  const status = readFileSync('/proc/self/status', 'utf8');
  return {
    vms,
    fds: readdirSync('/proc/self/fd').length,
    maps: readFileSync('/proc/self/maps', 'utf8').split('\n').filter(Boolean).length,
    rssBytes: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024,
  };
}

/** Runs `vms` fresh VMs one after another in this process; a point every `every` VMs (and after the first). */
export function soak(strategy: Strategy, variant: string, workload: Workload, vms: number, every: number, onPoint?: (p: SoakPoint) => void): SoakPoint[] {
  const kvm = Kvm.open();
  const cpuid = kvm.supportedCpuid();
  const points: SoakPoint[] = [];
  const mark = (n: number) => {
    const p = processPoint(n);
    points.push(p);
    onPoint?.(p);
  };
  try {
    for (let i = 1; i <= vms; i++) {
      runSample({ kvm, cpuid, strategy, variant, workload, access: 'ecam', options: {} });
      // The first VM pays one-time costs (JIT, thread pools, stats fds of koffi): measure from there.
      if (i === 1 || i % every === 0 || i === vms) mark(i);
    }
  } finally {
    kvm.close();
  }
  return points;
}
