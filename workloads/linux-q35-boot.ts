import type { Workload } from './types.js';
import { LINUX_PHASES, checkScanTopology, scanExpected, scanProgram } from './linux-scan.js';
import { q35Topology } from './q35-topology.js';

/** A q35 direct-kernel boot's PCI enumeration: bus-0 scan, then the peer-bridge fixup over buses 1..255. */
export const linuxQ35Boot: Workload = {
  id: 'linux-q35-boot',
  summary: 'q35 (6 functions on bus 0), MCFG 256 buses at 0xB0000000: Linux bus-0 scan + peer-bridge fixup (8193 hole reads)',
  window: { base: 0xb0000000, buses: 256 },
  topology: q35Topology,
  access: ['ecam', 'conf1'],
  vcpus: 1,
  passes: 1,
  phases: LINUX_PHASES,
  holePhase: 'peer-bridge',
  checkTopology: checkScanTopology,
  program: (access, guest) => scanProgram(access, guest),
  expected: (lastBus, guest) => scanExpected(q35Topology, lastBus, guest),
};
