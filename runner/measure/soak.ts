// Resource hygiene: many fresh VMs in one process must leave fds, mappings and RSS flat.
import { readdirSync, readFileSync } from 'node:fs';
import { Kvm } from '../vmm/kvm.js';
import { runSample } from './sample.js';
import type { Strategy } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';

export interface SoakPoint {
  vms: number;
  fds: number;
  /** VMAs of this process (/proc/self/maps lines); grows a little as glibc and V8 add arenas. */
  maps: number;
  /** VMAs a VM leaves behind if it leaks: kvm_run mappings, memfds, and anonymous read-write
   *  mappings of 8 MiB or more (guest RAM, 0xff backings). Must not grow at all. */
  vmMaps: number;
  rssBytes: number;
}

export function processPoint(vms: number): SoakPoint {
  const status = readFileSync('/proc/self/status', 'utf8');
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n').filter(Boolean);
  return {
    vms,
    fds: readdirSync('/proc/self/fd').length,
    maps: maps.length,
    vmMaps: maps.filter(isVmMapping).length,
    rssBytes: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024,
  };
}

function isVmMapping(line: string): boolean {
  if (/kvm|memfd:/.test(line)) return true;
  const [range, perms, , , inode, path] = line.split(/\s+/);
  if (perms !== 'rw-p' && perms !== 'rw-s') return false;
  if (inode !== '0' || (path ?? '') !== '') return false;
  const [lo, hi] = range.split('-').map((x) => BigInt(`0x${x}`));
  return hi - lo >= 8n << 20n;
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
