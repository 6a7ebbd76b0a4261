import { linuxWorkload } from './linux-workload.js';
import { q35Topology } from './q35-topology.js';

/** Scans per VM: the first is cold, the others show the steady state (hotplug polling, rescans). */
export const RESCAN_PASSES = 5;

/** linux-q35-boot's scan repeated in one VM: where first-touch costs amortise and where exits never do. */
export const rescan = linuxWorkload({
  id: 'rescan',
  summary: `q35, MCFG 256 buses: the Linux scan ${RESCAN_PASSES}x in one VM (scan 1 cold, warm ns/access from the last; 8193 hole reads each)`,
  topology: q35Topology,
  passes: RESCAN_PASSES,
});
