// Linux's x86 PCI enumeration as a guest program, and its analytic access counts.
//
// Phase "bus-scan" = pci_scan_child_bus() from bus 0 (drivers/pci/probe.c): for each slot a
// 32-bit vendor read of function 0 (pci_bus_read_dev_vendor_id), the header type of each
// present function (pci_setup_device), functions 1..7 when function 0 is multifunction
// (pci_scan_slot), then bridges depth-first with bus numbers assigned as pci_scan_bridge
// does (read PCI_PRIMARY_BUS, write primary|secondary|0xff, recurse, write subordinate).
// Phase "peer-bridge" = pcibios_fixup_peer_bridges() (arch/x86/pci/legacy.c): for every
// bus 1..pcibios_last_bus not found yet, 16-bit vendor reads at devfn 0, 8, .., 248 until
// one answers.
import { GuestProgram, KNOWN_BUSES, MAX_BUS } from '../runner/guest-program.js';
import { info } from '../runner/guest-layout.js';
import { mem, r } from '../runner/x86.js';
import type { FunctionSpec } from '../runner/pci-model.js';
import type { Access } from '../reports/schema.js';
import type { ExpectedCounts, GuestKind } from './types.js';

export interface ScanOptions {
  /** Devfn stride of the peer-bridge fixup: 8 (Linux) or 1 (Jailhouse; ecam-exhaustive). */
  peerStride?: 1 | 8;
}

export const LINUX_PHASES = ['bus-scan', 'peer-bridge'];

/** The guest program for a Linux-like scan, or for the enlightened guest that reads the VMM's list. */
export function scanProgram(access: Access, guest: GuestKind, opts: ScanOptions = {}): Uint8Array {
  const g = new GuestProgram(access);
  const a = g.a;
  const scanBus = a.label('scan_bus');
  const found = a.label('found');
  const passTop = a.label('pass');
  const body = a.label('body');
  a.jmp(body);

  // found: edi = bdf of a present function, eax = its id. Records it and returns its header type in eax.
  a.bind(found);
  a.push(r.rax);
  a.movImm(r.esi, 0x0e).call(g.read[8]);
  a.mov(r.ecx, r.eax).pop(r.rax).call(g.record);
  a.mov(r.eax, r.ecx).ret();

  // scan_bus(edi = bus): pci_scan_child_bus
  a.bind(scanBus);
  for (const x of [r.rbx, r.rbp, r.r8, r.r9]) a.push(x);
  a.sub(r.rsp, 32 * 8); // found bridges (bdf), in slot order
  a.mov(r.ebx, r.edi);
  a.movImm(r.rax, KNOWN_BUSES).add(r.rax, r.rbx).movImm(r.ecx, 1).mov(mem(r.rax, 0, 8), r.cl);
  a.movImm(r.r8d, 0); // bridges found
  const noteBridge = () => {
    // eax = header type; remember type-1 functions (edi) for the bridge pass.
    const skip = a.label();
    a.and(r.eax, 0x7f).cmp(r.eax, 1).j('ne', skip);
    a.mov(r.rax, r.r8).shl(r.rax, 3).add(r.rax, r.rsp).mov(mem(r.rax), r.rdi).inc(r.r8d);
    a.bind(skip);
  };
  g.loop(r.ebp, 0, 256, 8, (_brk, next) => {
    g.bdf(r.ebx, r.ebp).a.call(g.probe[32]);
    a.cmp(r.eax, -1).j('e', next);
    a.call(found);
    a.push(r.rax);
    noteBridge();
    a.pop(r.rax);
    a.test(r.eax, 0x80).j('e', next);
    g.loop(r.r9d, 1, 8, 1, (_b, nextFn) => {
      g.bdf(r.ebx, r.ebp).a.or(r.edi, r.r9d).call(g.probe[32]);
      a.cmp(r.eax, -1).j('e', nextFn);
      a.call(found);
      noteBridge();
    });
  });
  // Bridges, depth-first: pci_scan_bridge assigns secondary = ++max, subordinate = max after the child scan.
  g.loop(r.r9d, 0, r.r8d, 1, () => {
    a.mov(r.rax, r.r9).shl(r.rax, 3).add(r.rax, r.rsp).mov(r.rdi, mem(r.rax));
    a.push(r.rdi);
    a.movImm(r.esi, 0x18).call(g.read[32]);
    a.movImm(r.rdx, MAX_BUS).mov(r.rcx, mem(r.rdx)).inc(r.rcx).mov(mem(r.rdx), r.rcx);
    a.and(r.eax, 0xff000000 | 0).or(r.eax, 0xff0000).or(r.eax, r.ebx).shl(r.ecx, 8).or(r.ecx, r.eax);
    a.pop(r.rdi).push(r.rdi);
    a.movImm(r.esi, 0x18).call(g.write[32]);
    a.movImm(r.rdx, MAX_BUS).mov(r.rdi, mem(r.rdx));
    a.call(scanBus);
    a.pop(r.rdi);
    a.movImm(r.rdx, MAX_BUS).mov(r.rcx, mem(r.rdx));
    a.movImm(r.esi, 0x1a).call(g.write[8]);
  });
  a.add(r.rsp, 32 * 8);
  for (const x of [r.r9, r.r8, r.rbp, r.rbx]) a.pop(x);
  a.ret();

  a.bind(body);
  a.mov(r.rbx, mem(r.r10, info.passes));
  a.push(r.rbx);
  a.bind(passTop);
  // A fresh boot each pass: no bus known, no bus number assigned.
  a.movImm(r.rax, KNOWN_BUSES).movImm(r.ecx, 0);
  g.loop(r.edx, 0, 0x108, 8, () => {
    a.mov(mem(r.rax), r.rcx).add(r.rax, 8);
  });
  a.call(g.mark);
  if (guest === 'linux') {
    a.movImm(r.edi, 0).call(scanBus);
    a.call(g.mark);
    const stride = opts.peerStride ?? 8;
    a.mov(r.r8, mem(r.r10, info.lastBus));
    g.loop(r.ebp, 1, r.r8d, 1, (_brk, nextBus) => {
      a.movImm(r.rax, KNOWN_BUSES).add(r.rax, r.rbp).movzx(r.eax, mem(r.rax, 0, 8)).test(r.eax, 1).j('ne', nextBus);
      g.loop(r.ebx, 0, 256, stride, (_b, nextFn) => {
        g.bdf(r.ebp, r.ebx).a.call(g.probe[16]);
        a.cmp(r.eax, 0xffff).j('e', nextFn);
        a.cmp(r.eax, 0).j('e', nextFn);
        a.movImm(r.ecx, 0).call(g.record);
        a.jmp(nextBus); // Linux would now scan the peer bus (pcibios_scan_root)
      });
    }, true);
  } else {
    // The enlightened guest reads the VMM's list: u32 (bus<<8|devfn) | secondary<<16 | subordinate<<24.
    a.mov(r.r8, mem(r.r10, info.presentCount));
    a.mov(r.r9, mem(r.r10, info.presentList));
    g.loop(r.ebp, 0, r.r8d, 1, () => {
      const notBridge = a.label();
      a.mov(r.ebx, mem(r.r9, 0, 32)).add(r.r9, 4);
      a.mov(r.edi, r.ebx).and(r.edi, 0xffff).movImm(r.esi, 0).call(g.read[32]);
      a.call(found);
      a.mov(r.eax, r.ebx).shr(r.eax, 16).j('e', notBridge);
      // secondary and subordinate as the list says, primary = this bus
      a.mov(r.ecx, r.eax).shl(r.ecx, 8).mov(r.eax, r.edi).shr(r.eax, 8).or(r.ecx, r.eax);
      a.movImm(r.esi, 0x18).call(g.write[32]);
      a.bind(notBridge);
    });
    a.call(g.mark);
  }
  a.call(g.mark);
  a.pop(r.rbx).dec(r.rbx).push(r.rbx).j('ne', passTop);
  a.pop(r.rbx);
  return g.finish();
}

/** Analytic counts of one pass of scanProgram over `topology` with buses 0..lastBus declared. */
export function scanExpected(topology: FunctionSpec[], lastBus: number, guest: GuestKind, opts: ScanOptions = {}): ExpectedCounts {
  if (guest === 'enlightened') {
    let accesses = 0;
    const walk = (fns: FunctionSpec[]) => {
      for (const f of fns) {
        accesses += 2 + (f.bridge ? 1 : 0); // id, header type, bus-number write
        if (f.bridge) walk(f.bridge.children);
      }
    };
    walk(topology);
    return { accesses: { 'bus-scan': accesses, 'peer-bridge': 0 }, holes: { 'bus-scan': 0, 'peer-bridge': 0 } };
  }
  let accesses = 0;
  let holes = 0;
  let buses = 0;
  const walk = (fns: FunctionSpec[]) => {
    buses++;
    for (let dev = 0; dev < 32; dev++) {
      const f0 = fns.find((f) => f.dev === dev && f.fn === 0);
      accesses++;
      if (!f0) {
        holes++;
        continue;
      }
      accesses++; // header type
      if (!f0.multifunction) continue;
      for (let fn = 1; fn < 8; fn++) {
        accesses++;
        if (fns.some((f) => f.dev === dev && f.fn === fn)) accesses++;
        else holes++;
      }
    }
    for (const f of [...fns].sort((x, y) => x.dev * 8 + x.fn - (y.dev * 8 + y.fn))) {
      if (!f.bridge) continue;
      accesses += 3; // read primary-bus dword, write it, write subordinate
      walk(f.bridge.children);
    }
  };
  walk(topology);
  const stride = opts.peerStride ?? 8;
  const peerBuses = Math.max(0, lastBus + 1 - buses);
  const peer = peerBuses * (256 / stride);
  return { accesses: { 'bus-scan': accesses, 'peer-bridge': peer }, holes: { 'bus-scan': holes, 'peer-bridge': peer } };
}
