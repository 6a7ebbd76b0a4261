import { linuxWorkload } from './linux-workload.js';
import { q35Topology } from './q35-topology.js';

/** A q35 direct-kernel boot's PCI enumeration: bus-0 scan, then the peer-bridge fixup over buses 1..255. */
export const linuxQ35Boot = linuxWorkload({
  id: 'linux-q35-boot',
  summary: 'q35 (6 functions on bus 0), MCFG 256 buses at 0xB0000000: Linux bus-0 scan + peer-bridge fixup (8193 hole reads)',
  topology: q35Topology,
});
