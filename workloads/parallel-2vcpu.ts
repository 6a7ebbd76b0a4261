import { BARRIER_PHASE, PARALLEL_PHASES, type ScanOptions } from './linux-scan.js';
import { linuxWorkload } from './linux-workload.js';
import { q35Topology } from './q35-topology.js';

export const SCAN: ScanOptions = { vcpus: 2 };

/**
 * Two vCPUs on q35: vCPU 0 scans bus 0 alone (the only present-device traffic), both meet at a
 * guest start barrier, then each probes half of buses 1..255 (vCPU 0: 1..128, vCPU 1: 129..255)
 * at the same time: contention in KVM's fault path (mmu_lock) and in the VMM.
 * Figures (runner/measure/sample.ts combineScans): phase ns = the longest vCPU, accesses summed, so
 * ns/access is wall time per hole read of both vCPUs together (perfect scaling: half of
 * linux-q35-boot's).
 */
export const parallel2Vcpu = linuxWorkload({
  id: 'parallel-2vcpu',
  summary: 'q35, 2 vCPUs: bus 0 by vCPU 0, start barrier, each vCPU probes half of buses 1..255 concurrently (8193 hole reads in all)',
  topology: q35Topology,
  scan: SCAN,
  vcpus: 2,
  passes: 1, // the barrier counter is never reset
  phases: PARALLEL_PHASES,
  untimedPhases: [BARRIER_PHASE],
});
