import type { FunctionSpec } from '../runner/devices/pci-model.js';

/** QEMU q35 with its default devices: host bridge, VGA, e1000e NIC, and the ICH9 LPC/SATA/SMBus
 *  multifunction device at 00:1f (QEMU puts ICH9 SATA at .2 and SMBus at .3). */
export const q35Topology: FunctionSpec[] = [
  { dev: 0, fn: 0, vendor: 0x8086, device: 0x29c0, classCode: 0x060000, name: 'Q35 host bridge' },
  { dev: 1, fn: 0, vendor: 0x1234, device: 0x1111, classCode: 0x030000, name: 'VGA', bars: [{ size: 16 << 20, kind: 'mem32', prefetchable: true }, { size: 4096, kind: 'mem32' }] },
  {
    dev: 2, fn: 0, vendor: 0x8086, device: 0x10d3, classCode: 0x020000, name: 'e1000e NIC',
    bars: [{ size: 128 << 10, kind: 'mem32' }, { size: 128 << 10, kind: 'mem32' }, { size: 32, kind: 'io' }, { size: 16 << 10, kind: 'mem32' }],
    caps: [{ id: 0x01 }, { id: 0x10, body: new Array(58).fill(0) }, { id: 0x11, body: new Array(10).fill(0) }],
  },
  { dev: 0x1f, fn: 0, vendor: 0x8086, device: 0x2918, classCode: 0x060100, name: 'ICH9 LPC', multifunction: true },
  { dev: 0x1f, fn: 2, vendor: 0x8086, device: 0x2922, classCode: 0x010601, name: 'ICH9 AHCI', bars: [{ size: 32, kind: 'io' }, { size: 4096, kind: 'mem32' }], caps: [{ id: 0x05, body: new Array(12).fill(0) }, { id: 0x12, body: [0x10, 0, 0x02, 0, 0, 0] }] },
  { dev: 0x1f, fn: 3, vendor: 0x8086, device: 0x2930, classCode: 0x0c0500, name: 'ICH9 SMBus', bars: [{ size: 64, kind: 'io' }] },
];
