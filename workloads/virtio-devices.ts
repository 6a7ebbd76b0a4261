// Building blocks for virtio-style topologies: virtio 1.0 (modern) PCI functions, PCIe root
// ports and a PCIe switch, with the capabilities QEMU gives them (hw/virtio/virtio-pci.c,
// hw/pci-bridge/pcie_root_port.c, xio3130_upstream.c / xio3130_downstream.c).
import type { CapSpec, FunctionSpec } from '../runner/devices/pci-model.js';

/** PCI_EXP_FLAGS port types (bits 7:4). */
export const PCIE_ENDPOINT = 0;
export const PCIE_ROOT_PORT = 4;
export const PCIE_UPSTREAM = 5;
export const PCIE_DOWNSTREAM = 6;

/** PCI Express capability (v2, 60 bytes) of the given port type; `slot`: the Slot Implemented bit. */
export function pcieCap(type: number, slot = false): CapSpec {
  const body = new Array(58).fill(0);
  body[0] = 0x02 | (type << 4);
  body[1] = slot ? 0x01 : 0;
  return { id: 0x10, body };
}
const pm = (): CapSpec => ({ id: 0x01, body: [0x03, 0x00, 0, 0, 0, 0] });
const msix = (entries: number): CapSpec => ({ id: 0x11, body: [(entries - 1) & 0xff, (entries - 1) >> 8, 0, 0, 0, 0, 0, 0x08, 0, 0] });
const msi = (): CapSpec => ({ id: 0x05, body: [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
const ssvid = (): CapSpec => ({ id: 0x0d, body: [0, 0, 0xf4, 0x1a, 0x00, 0x11] });
/** struct virtio_pci_cap (cfg_type 1 common, 2 notify, 3 isr, 4 device, 5 pci-cfg) in BAR `bar`. */
function virtioCap(cfgType: number, bar: number, offset: number, length: number): CapSpec {
  const extra = cfgType === 2 || cfgType === 5 ? 4 : 0; // notify_off_multiplier / pci_cfg_data
  const le = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
  return { id: 0x09, body: [16 + extra, cfgType, bar, 0, 0, 0, ...le(offset), ...le(length), ...new Array(extra).fill(0)] };
}

/** Extended capability ids. */
export const EXT_AER = 0x0001;
export const EXT_ACS = 0x000d;
export const EXT_ATS = 0x000f;

/** virtio device ids → modern PCI device id 0x1040 + id, and the class QEMU reports. */
export const VIRTIO = {
  net: { id: 1, classCode: 0x020000 },
  blk: { id: 2, classCode: 0x010000 },
  console: { id: 3, classCode: 0x078000 },
  rng: { id: 4, classCode: 0x00ff00 },
  balloon: { id: 5, classCode: 0x00ff00 },
  scsi: { id: 8, classCode: 0x010000 },
  gpu: { id: 16, classCode: 0x038000 },
  input: { id: 18, classCode: 0x098000 },
  vsock: { id: 19, classCode: 0x00ff00 },
  fs: { id: 26, classCode: 0x018000 },
} as const;
export type VirtioKind = keyof typeof VIRTIO;

/** A modern virtio-pci function: MSI-X table in a 32-bit BAR, the virtio structures in a 64-bit
 *  prefetchable BAR (BAR1..2 here), five vendor capabilities; an Express endpoint capability when
 *  it sits behind a PCIe port (`express`), as QEMU does off the root bus. */
export function virtio(kind: VirtioKind, dev: number, fn: number, opts: { express?: boolean; multifunction?: boolean; extCaps?: number[] } = {}): FunctionSpec {
  const v = VIRTIO[kind];
  const caps: CapSpec[] = [
    ...(opts.express ? [pcieCap(PCIE_ENDPOINT), pm()] : []),
    virtioCap(1, 1, 0x0000, 0x1000),
    virtioCap(3, 1, 0x1000, 0x1000),
    virtioCap(4, 1, 0x2000, 0x1000),
    virtioCap(2, 1, 0x3000, 0x1000),
    virtioCap(5, 0, 0, 0),
    msix(kind === 'net' ? 9 : 2),
  ];
  return {
    dev,
    fn,
    vendor: 0x1af4,
    device: 0x1040 + v.id,
    classCode: v.classCode,
    name: `virtio-${kind}`,
    multifunction: opts.multifunction,
    bars: [
      { size: 0x1000, kind: 'mem32' },
      { size: 0x4000, kind: 'mem64', prefetchable: true },
    ],
    caps,
    extCaps: opts.extCaps,
  };
}

/** `count` functions of one virtio kind in one slot (function 0 says multifunction when count > 1). */
export function virtioSlot(kind: VirtioKind, dev: number, count: number, express: boolean): FunctionSpec[] {
  return Array.from({ length: count }, (_, fn) => virtio(kind, dev, fn, { express, multifunction: fn === 0 && count > 1 }));
}

/** QEMU pcie-root-port (1b36:000c) with the functions behind it (device 0 only: a PCIe link). */
export function rootPort(dev: number, fn: number, children: FunctionSpec[], multifunction = false): FunctionSpec {
  return {
    dev,
    fn,
    vendor: 0x1b36,
    device: 0x000c,
    classCode: 0x060400,
    name: 'pcie-root-port',
    multifunction,
    bars: [{ size: 0x1000, kind: 'mem32' }],
    caps: [pcieCap(PCIE_ROOT_PORT, true), msix(1), ssvid(), pm()],
    extCaps: [EXT_AER, EXT_ACS],
    bridge: { children },
  };
}

/** TI XIO3130 switch as QEMU models it: the upstream port (104c:8232) with its downstream ports
 *  (104c:8233) at devices 0..n-1 of its secondary bus, each with the functions behind it. */
export function pcieSwitch(behind: FunctionSpec[][]): FunctionSpec {
  const downstream = behind.map(
    (children, dev): FunctionSpec => ({
      dev,
      fn: 0,
      vendor: 0x104c,
      device: 0x8233,
      classCode: 0x060400,
      name: 'xio3130-downstream',
      caps: [pcieCap(PCIE_DOWNSTREAM, true), msi(), pm(), ssvid()],
      extCaps: [EXT_AER, EXT_ACS],
      bridge: { children },
    }),
  );
  return {
    dev: 0,
    fn: 0,
    vendor: 0x104c,
    device: 0x8232,
    classCode: 0x060400,
    name: 'xio3130-upstream',
    caps: [pcieCap(PCIE_UPSTREAM), msi(), pm(), ssvid()],
    extCaps: [EXT_AER],
    bridge: { children: downstream },
  };
}
