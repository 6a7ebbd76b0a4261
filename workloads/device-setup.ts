// Linux's per-function setup as a guest routine, and the config accesses it makes.
//
// What Linux does for every function pci_scan_device() finds (drivers/pci/probe.c), reduced to
// one pass over each structure it reads:
//   pci_setup_device    class/revision dword (0x08); set_pcie_port_type: the capability walk
//                       finds PCI_CAP_ID_EXP and reads its flags word (port type, bits 7:4)
//   pci_read_bases      PCI_COMMAND (decode is switched off around the sizing only when the
//                       firmware enabled it; the model's command register is 0 after reset, so
//                       those two writes never happen here), then for each BAR slot (6 on a
//                       type-0 header, 2 on a bridge) __pci_read_base: read the BAR, write
//                       all-ones, read the size mask back, restore the original; a 64-bit memory
//                       BAR sizes its upper dword the same way in the next slot. The ROM BAR
//                       (0x30, 0x38 on a bridge) is sized with PCI_ROM_ADDRESS_MASK.
//   capability list     PCI_STATUS bit 4, the pointer at 0x34, then each entry's id/next word
//                       (__pci_find_next_cap_ttl: stop below 0x40, on id 0xff, after 48 hops)
//   extended caps       only for PCIe functions and only through ECAM (under type-1 port I/O
//                       Linux's cfg_size is 256 and pci_find_ext_capability reads nothing):
//                       the header dword at 0x100, then each next pointer (stop on 0, on
//                       all-ones, below 0x100, after 480 hops)
// Linux walks these lists many more times (pci_init_capabilities looks up each capability
// from the start of the list); one walk each keeps the count analytic and the cost honest.
import type { GuestProgram } from '../runner/guest/guest-program.js';
import type { FunctionSpec } from '../runner/devices/pci-model.js';
import {
  PCI_BARS_BRIDGE,
  PCI_BARS_TYPE0,
  PCI_BASE_ADDRESS_0,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_SIZE,
  PCI_CLASS_REVISION,
  PCI_COMMAND,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_MASK,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS1,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
} from '../runner/devices/pci-regs.js';
import { r, type Label } from '../runner/guest/x86.js';
import type { Access } from '../runner/shared/access.js';

/** Bits the setup routine ORs into the header type it returns in eax. */
export const SETUP_PCIE = 0x200;
/** A PCIe root port, switch downstream port or PCIe-to-PCI bridge: Linux scans only device 0
 *  behind it (only_one_child(): the link below has a single device). */
export const SETUP_DOWNSTREAM = 0x100;

const PCI_CAP_ID_EXP = 0x10;
/** PCI_EXP_TYPE_ROOT_PORT, _DOWNSTREAM, _PCIE_BRIDGE (pcie_downstream_port()). */
const DOWNSTREAM_TYPES = [4, 6, 8];
const PCI_ROM_ADDRESS_MASK = 0xfffff800;
/** The end of the BAR slots: 0x28 in a type-0 header, 0x18 in a bridge's. */
const BARS_END_TYPE0 = PCI_BASE_ADDRESS_0 + 4 * PCI_BARS_TYPE0;
const BARS_END_BRIDGE = PCI_BASE_ADDRESS_0 + 4 * PCI_BARS_BRIDGE;

/** Emits the routine. In: edi = bus<<8 | devfn, eax = header type. Out: eax = header type |
 *  SETUP_PCIE | SETUP_DOWNSTREAM as found. Preserves rbx, rbp, rdi, r8, r9 (and r10..r15). */
export function emitDeviceSetup(g: GuestProgram): Label {
  const a = g.a;
  const setup = a.label('device_setup');
  a.bind(setup);
  for (const x of [r.rbx, r.rbp, r.r8, r.r9]) a.push(x);
  a.mov(r.ebx, r.eax); // header type

  // __pci_read_base on register esi: returns the original value in eax.
  const sizeDword = (mask: number) => {
    a.call(g.read[32]);
    a.push(r.rax);
    a.mov(r.ecx, r.eax).or(r.ecx, mask).call(g.write[32]);
    a.call(g.read[32]);
    a.pop(r.rcx).push(r.rcx).call(g.write[32]);
    a.pop(r.rax);
  };

  a.movImm(r.esi, PCI_CLASS_REVISION).call(g.read[32]);
  // pci_read_bases: decode off while sizing, if it was on.
  a.movImm(r.esi, PCI_COMMAND).call(g.read[16]);
  a.mov(r.r9d, r.eax);
  const noDisable = a.label();
  a.test(r.eax, 3).j('e', noDisable);
  a.mov(r.ecx, r.eax).and(r.ecx, 0xfffc).movImm(r.esi, PCI_COMMAND).call(g.write[16]);
  a.bind(noDisable);
  const type0 = a.label();
  a.movImm(r.r8d, BARS_END_TYPE0); // end of the BAR slots: 0x10..0x24 (type 0) or 0x10..0x14 (type 1)
  a.mov(r.eax, r.ebx).and(r.eax, PCI_HEADER_TYPE_MASK).cmp(r.eax, PCI_HEADER_TYPE_BRIDGE).j('ne', type0);
  a.movImm(r.r8d, BARS_END_BRIDGE);
  a.bind(type0);
  g.loop(r.ebp, PCI_BASE_ADDRESS_0, r.r8d, 4, (brk, next) => {
    a.mov(r.esi, r.ebp);
    sizeDword(-1);
    a.and(r.eax, 7).cmp(r.eax, 4).j('ne', next); // 64-bit memory BAR: the upper dword is the next slot
    a.add(r.ebp, 4).cmp(r.ebp, r.r8d).j('ge', brk);
    a.mov(r.esi, r.ebp);
    sizeDword(-1);
  });
  const romType0 = a.label();
  a.movImm(r.esi, PCI_ROM_ADDRESS).cmp(r.r8d, BARS_END_BRIDGE).j('ne', romType0);
  a.movImm(r.esi, PCI_ROM_ADDRESS1);
  a.bind(romType0);
  sizeDword(PCI_ROM_ADDRESS_MASK);
  const noRestore = a.label();
  a.test(r.r9d, 3).j('e', noRestore);
  a.mov(r.ecx, r.r9d).movImm(r.esi, PCI_COMMAND).call(g.write[16]);
  a.bind(noRestore);

  // Capability list.
  const capsDone = a.label();
  const capLoop = a.label();
  const notExp = a.label();
  const downstream = a.label();
  const notDownstream = a.label();
  a.movImm(r.r8d, 0); // flags to return
  a.movImm(r.esi, PCI_STATUS).call(g.read[16]);
  a.test(r.eax, PCI_STATUS_CAP_LIST).j('e', capsDone);
  a.movImm(r.esi, PCI_CAPABILITY_LIST).call(g.read[8]);
  a.mov(r.ebp, r.eax).movImm(r.r9d, 48);
  a.bind(capLoop);
  a.cmp(r.ebp, PCI_STD_HEADER_SIZEOF).j('b', capsDone);
  a.and(r.ebp, 0xfc).mov(r.esi, r.ebp).call(g.read[16]);
  a.mov(r.ecx, r.eax).and(r.ecx, 0xff).cmp(r.ecx, 0xff).j('e', capsDone);
  a.cmp(r.ecx, PCI_CAP_ID_EXP).j('ne', notExp);
  a.push(r.rax);
  a.mov(r.esi, r.ebp).add(r.esi, 2).call(g.read[16]); // PCI_EXP_FLAGS
  a.or(r.r8d, SETUP_PCIE);
  a.shr(r.eax, 4).and(r.eax, 0xf);
  for (const t of DOWNSTREAM_TYPES) a.cmp(r.eax, t).j('e', downstream);
  a.jmp(notDownstream);
  a.bind(downstream).or(r.r8d, SETUP_DOWNSTREAM);
  a.bind(notDownstream).pop(r.rax);
  a.bind(notExp);
  a.shr(r.eax, 8).and(r.eax, 0xff).mov(r.ebp, r.eax);
  a.dec(r.r9d).j('ne', capLoop);
  a.bind(capsDone);

  if (g.access === 'ecam') {
    const extDone = a.label();
    const extLoop = a.label();
    a.test(r.r8d, SETUP_PCIE).j('e', extDone);
    a.movImm(r.ebp, PCI_CFG_SPACE_SIZE).movImm(r.r9d, (4096 - PCI_CFG_SPACE_SIZE) / 8);
    a.bind(extLoop);
    a.mov(r.esi, r.ebp).call(g.read[32]);
    a.cmp(r.eax, 0).j('e', extDone);
    a.cmp(r.eax, -1).j('e', extDone);
    a.shr(r.eax, 20).mov(r.ebp, r.eax);
    a.cmp(r.ebp, PCI_CFG_SPACE_SIZE).j('b', extDone);
    a.dec(r.r9d).j('ne', extLoop);
    a.bind(extDone);
  }
  a.mov(r.eax, r.ebx).or(r.eax, r.r8d);
  for (const x of [r.r9, r.r8, r.rbp, r.rbx]) a.pop(x);
  a.ret();
  return setup;
}

/** The function's PCIe port type (PCI_EXP_FLAGS bits 7:4), or null without an Express capability. */
export function pcieType(f: FunctionSpec): number | null {
  const c = f.caps?.find((x) => x.id === PCI_CAP_ID_EXP);
  return c ? ((c.body?.[0] ?? 0) >> 4) & 0xf : null;
}

/** Linux scans only device 0 behind this bridge (only_one_child()). */
export function isDownstreamPort(f: FunctionSpec): boolean {
  const t = pcieType(f);
  return t !== null && DOWNSTREAM_TYPES.includes(t);
}

/** Config reads and writes the setup routine makes on `f` (the header-type read is not included). */
export function setupAccesses(f: FunctionSpec, access: Access): { reads: number; writes: number } {
  const slots = f.bridge ? PCI_BARS_BRIDGE : PCI_BARS_TYPE0;
  // class; command; per BAR slot and the ROM: read, write, read, write
  let reads = 1 + 1 + 2 * (slots + 1);
  const writes = 2 * (slots + 1);
  const caps = f.caps ?? [];
  reads += 1; // status
  const pcie = pcieType(f) !== null;
  if (caps.length) reads += 1 + caps.length + (pcie ? 1 : 0); // pointer, each entry, the Express flags
  if (access === 'ecam' && pcie) reads += Math.max(1, f.extCaps?.length ?? 0);
  return { reads, writes };
}
