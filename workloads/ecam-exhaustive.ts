import type { ScanOptions } from './linux-scan.js';
import { linuxWorkload } from './linux-workload.js';
import { q35Topology } from './q35-topology.js';

// Every devfn of bus 0 (firmware brute force; Linux with isolated functions), then every devfn
// of every bus not found (Jailhouse: stride 1 in pcibios_scan_specific_bus). On q35 that is
// 256 + 255 * 256 = 65 536 vendor reads, of which all but the 6 present functions are holes.
export const SCAN: ScanOptions = { busScan: 'every-devfn', peerStride: 1 };

/** The brute-force sweep: 65 536 vendor reads over all 256 buses (peer-bridge phase: 65 280 holes). */
export const ecamExhaustive = linuxWorkload({
  id: 'ecam-exhaustive',
  summary: 'q35, MCFG 256 buses: every devfn of every bus, 65 536 vendor reads (65 530 hole reads; Jailhouse stride 1)',
  topology: q35Topology,
  scan: SCAN,
});
