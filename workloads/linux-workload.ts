import type { FunctionSpec } from '../runner/devices/pci-model.js';
import type { Workload } from './types.js';
import { LINUX_PHASES, checkScanTopology, scanExpected, scanProgram, type ScanOptions } from './linux-scan.js';

/** What distinguishes one Linux-scan workload from another; the rest is the same for all. */
export interface LinuxWorkloadSpec extends Pick<Workload, 'id' | 'summary' | 'topology'> {
  /** Default: q35's MCFG, 256 buses at 0xB0000000. */
  window?: Workload['window'];
  scan?: ScanOptions;
  access?: Workload['access'];
  accessNote?: string;
  vcpus?: number;
  passes?: number;
  phases?: string[];
  untimedPhases?: string[];
}

/** A workload made of a topology and linux-scan.ts's program, with its analytic counts. */
export function linuxWorkload(s: LinuxWorkloadSpec): Workload {
  const topology: FunctionSpec[] = s.topology;
  const scan = s.scan ?? {};
  return {
    id: s.id,
    summary: s.summary,
    window: s.window ?? { base: 0xb0000000, buses: 256 },
    topology,
    access: s.access ?? ['ecam', 'conf1'],
    accessNote: s.accessNote,
    vcpus: s.vcpus ?? 1,
    passes: s.passes ?? 1,
    phases: s.phases ?? LINUX_PHASES,
    holePhase: 'peer-bridge',
    untimedPhases: s.untimedPhases,
    checkTopology: checkScanTopology,
    program: (access, guest) => scanProgram(access, guest, scan),
    expected: (lastBus, guest, access = 'ecam') => scanExpected(topology, lastBus, guest, scan, access),
  };
}
