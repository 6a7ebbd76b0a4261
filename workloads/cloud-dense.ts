import type { FunctionSpec } from '../runner/devices/pci-model.js';
import type { ScanOptions } from './linux-scan.js';
import { linuxWorkload } from './linux-workload.js';
import { q35Topology } from './q35-topology.js';
import { EXT_ATS, pcieSwitch, rootPort, virtio, virtioSlot } from './virtio-devices.js';

const q35 = (dev: number) => q35Topology.filter((f) => f.dev === dev);

/**
 * A dense cloud VM on q35 (what libvirt/OpenStack generate: a pcie-root-port per device,
 * multifunction root-port slots, spare ports for hotplug, one switch for a disk shelf).
 * Bus numbers are what Linux assigns depth-first (the guest assigns them):
 *
 *   00:00.0 host bridge   00:01.0 VGA   00:1f.0/.2/.3 ICH9 LPC, AHCI, SMBus
 *   00:02.0-7 root ports (multifunction slot)      00:03.0-5 root ports (multifunction slot)
 *     00:02.0 → 01:00.0-3  virtio-net x4 (one multifunction slot)
 *     00:02.1 → 02:00.0-7  virtio-blk x8 (one multifunction slot)
 *     00:02.2 → 03 virtio-scsi   00:02.3 → 04 virtio-console   00:02.4 → 05 virtio-balloon
 *     00:02.5 → 06 virtio-rng
 *     00:02.6 → 07:00.0 switch upstream port → 08:00.0-07.0 downstream ports → 09..16 virtio-blk (ATS)
 *     00:02.7 → 17 virtio-gpu
 *     00:03.0 → 18:00.0-1 virtio-net x2   00:03.1 → 19 virtio-vsock   00:03.2 → 20 virtio-fs
 *     00:03.3 → 21:00.0-1 virtio-input x2  00:03.4 → 22 (empty)   00:03.5 → 23 (empty)
 *
 * 31 virtio functions, 14 root ports, a switch with 8 downstream ports: 59 functions on buses 0..23.
 */
export const cloudDenseTopology: FunctionSpec[] = [
  ...q35(0),
  ...q35(1),
  rootPort(2, 0, virtioSlot('net', 0, 4, true), true),
  rootPort(2, 1, virtioSlot('blk', 0, 8, true)),
  rootPort(2, 2, [virtio('scsi', 0, 0, { express: true })]),
  rootPort(2, 3, [virtio('console', 0, 0, { express: true })]),
  rootPort(2, 4, [virtio('balloon', 0, 0, { express: true })]),
  rootPort(2, 5, [virtio('rng', 0, 0, { express: true })]),
  rootPort(2, 6, [pcieSwitch(Array.from({ length: 8 }, () => [virtio('blk', 0, 0, { express: true, extCaps: [EXT_ATS] })]))]),
  rootPort(2, 7, [virtio('gpu', 0, 0, { express: true })]),
  rootPort(3, 0, virtioSlot('net', 0, 2, true), true),
  rootPort(3, 1, [virtio('vsock', 0, 0, { express: true })]),
  rootPort(3, 2, [virtio('fs', 0, 0, { express: true })]),
  rootPort(3, 3, virtioSlot('input', 0, 2, true)),
  rootPort(3, 4, []),
  rootPort(3, 5, []),
  ...q35(0x1f),
];

export const SCAN: ScanOptions = { setup: 'full' };

/** Full Linux enumeration of a dense cloud VM: present devices dominate the bus-scan phase. */
export const cloudDense = linuxWorkload({
  id: 'cloud-dense',
  summary:
    'q35 + 14 root ports, a switch, 31 virtio fns on buses 0..23: full Linux enumeration (BARs, caps, ext caps) + peer-bridge fixup (7500 hole reads)',
  topology: cloudDenseTopology,
  scan: SCAN,
  accessNote: 'conf1 reaches only the first 256 bytes: the extended-capability walk is skipped, as Linux does without MMCONFIG',
});
