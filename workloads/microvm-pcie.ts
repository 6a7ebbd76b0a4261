import type { FunctionSpec } from '../runner/devices/pci-model.js';
import type { ScanOptions } from './linux-scan.js';
import { linuxWorkload } from './linux-workload.js';
import { virtio } from './virtio-devices.js';

/** QEMU `-M microvm,pcie=on`: the GPEX host bridge (1b36:0008) and virtio devices on its root
 *  bus (conventional functions there: QEMU gives virtio an Express capability only below a port). */
export const microvmTopology: FunctionSpec[] = [
  { dev: 0, fn: 0, vendor: 0x1b36, device: 0x0008, classCode: 0x060000, name: 'GPEX host bridge' },
  virtio('net', 1, 0),
  virtio('blk', 2, 0),
  virtio('blk', 3, 0),
  virtio('rng', 4, 0),
  virtio('vsock', 5, 0),
];

export const SCAN: ScanOptions = { setup: 'full' };

/** A microvm guest's enumeration: ECAM at 0xE0000000 (256 MiB, MCFG end bus 255), six functions on bus 0. */
export const microvmPcie = linuxWorkload({
  id: 'microvm-pcie',
  summary: 'QEMU microvm,pcie=on: ECAM 256 MiB at 0xE0000000, GPEX + 5 virtio on bus 0, full setup + peer-bridge fixup (8186 hole reads)',
  window: { base: 0xe0000000, buses: 256 },
  topology: microvmTopology,
  scan: SCAN,
  access: ['ecam'],
  accessNote: 'microvm has no 0xCF8/0xCFC: its GPEX host bridge is reachable through ECAM only',
});
