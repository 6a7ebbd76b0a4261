import type { Workload } from './types.js';
import { LINUX_PHASES, checkScanTopology, scanExpected, scanProgram } from './linux-scan.js';
import { q35Topology } from './q35-topology.js';

/** Scans per VM: the first is cold, the others show the steady state (hotplug polling, rescans). */
export const RESCAN_PASSES = 5;

/** linux-q35-boot's scan repeated in one VM: where first-touch costs amortise and where exits never do. */
export const rescan: Workload = {
  id: 'rescan',
  summary: `q35, MCFG 256 buses: the Linux scan ${RESCAN_PASSES}x in one VM (scan 1 cold, warm ns/access from the last; 8193 hole reads each)`,
  window: { base: 0xb0000000, buses: 256 },
  topology: q35Topology,
  access: ['ecam', 'conf1'],
  vcpus: 1,
  passes: RESCAN_PASSES,
  phases: LINUX_PHASES,
  holePhase: 'peer-bridge',
  checkTopology: checkScanTopology,
  program: (access, guest) => scanProgram(access, guest),
  expected: (lastBus, guest, access = 'ecam') => scanExpected(q35Topology, lastBus, guest, {}, access),
};
