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
//
// Options (ScanOptions) give the other workloads their programs from the same code:
//   setup 'full'       every present function gets Linux's device setup (workloads/device-setup.ts:
//                      BAR sizing, capability and extended-capability walks), and the bus behind a
//                      PCIe root/downstream port is scanned for device 0 only (only_one_child())
//   busScan 'every-devfn'  the bus scan reads all 256 devfns (firmware brute force / Jailhouse)
//   peerStride 1       the peer-bridge fixup reads every devfn (Jailhouse's pcibios_scan_specific_bus)
//   vcpus > 1          vCPU 0 scans bus 0 alone, all vCPUs meet at a start barrier (lock xadd on a
//                      counter in guest memory, pause-spin), then each takes a contiguous share of
//                      buses 1..lastBus in the peer-bridge phase; type-1 accesses take a lock
//                      (pci_config_lock), so under conf1 the vCPUs' probes serialise as in Linux
import { BARRIER, GuestProgram, KNOWN_BUSES, MAX_BUS } from '../runner/guest/guest-program.js';
import { STACK_SIZE, info } from '../runner/guest/guest-layout.js';
import { mem, r, type Label, type Mem } from '../runner/guest/x86.js';
import type { FunctionSpec } from '../runner/devices/pci-model.js';
import {
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_MASK,
  PCI_HEADER_TYPE_MFD,
  PCI_PRIMARY_BUS,
  PCI_SUBORDINATE_BUS,
  PCI_VENDOR_ID,
} from '../runner/devices/pci-regs.js';
import type { Access } from '../runner/shared/access.js';
import type { ExpectedCounts, GuestKind } from './types.js';
import { SETUP_DOWNSTREAM, emitDeviceSetup, isDownstreamPort, setupAccesses } from './device-setup.js';

export interface ScanOptions {
  /** Devfn stride of the peer-bridge fixup: 8 (Linux) or 1 (Jailhouse; ecam-exhaustive). */
  peerStride?: 1 | 8;
  /** 'linux': slots, then functions 1..7 of multifunction devices. 'every-devfn': all 256 devfns of a bus. */
  busScan?: 'linux' | 'every-devfn';
  /** 'header': vendor and header type per present function. 'full': plus Linux's device setup. */
  setup?: 'header' | 'full';
  /** vCPUs running the program (the workload's vcpus); > 1 splits the peer-bridge phase. */
  vcpus?: number;
}

export const LINUX_PHASES = ['bus-scan', 'peer-bridge'];
/** The start barrier of the multi-vCPU program: an untimed phase (Workload.untimedPhases). */
export const BARRIER_PHASE = 'barrier';
/** Multi-vCPU: vCPU 0 scans bus 0; everyone waits at the barrier; everyone scans its share of the peer buses. */
export const PARALLEL_PHASES = ['bus-scan', BARRIER_PHASE, 'peer-bridge'];

/** Bridges scan_bus remembers per bus: its stack frame holds one u64 per bridge. */
export const MAX_BRIDGES_PER_BUS = 32;
/** Stack bytes per level of bus nesting: the caller's saved bridge, the return address,
 *  scan_bus's four saved registers, its bridge slots and the saved devfn limit. */
const SCAN_BUS_STACK = 8 + 8 + 4 * 8 + MAX_BRIDGES_PER_BUS * 8 + 8;
/** Stack the pass loop and the leaf routines (found, config accessors, device setup) need
 *  below the deepest scan_bus frame (they use under 200 bytes). */
const STACK_RESERVE = 512;

/** Workload.checkTopology of the scan programs: throws when scan_bus would overrun its frame
 *  (more than MAX_BRIDGES_PER_BUS bridges on one bus) or the vCPU's stack (bridges nested too
 *  deep), instead of letting the guest corrupt its stack. Counts every bridge of a bus, as
 *  scanExpected walks them. */
export function checkScanTopology(topology: FunctionSpec[]): void {
  const maxDepth = Math.floor((STACK_SIZE - STACK_RESERVE) / SCAN_BUS_STACK);
  let maxBus = 0;
  const walk = (fns: FunctionSpec[], bus: number, depth: number) => {
    if (depth > maxDepth) throw new Error(`bridges nested ${depth} buses deep (bus ${bus}): the guest's scan_bus recursion fits ${maxDepth} levels in a ${STACK_SIZE}-byte vCPU stack`);
    const bridges = sortByDevfn(fns).filter((f) => f.bridge);
    if (bridges.length > MAX_BRIDGES_PER_BUS) throw new Error(`${bridges.length} bridges on bus ${bus}: the guest's scan_bus keeps at most ${MAX_BRIDGES_PER_BUS} per bus`);
    for (const b of bridges) {
      if (++maxBus > 255) throw new Error('more than 256 buses: bus numbers are 8 bits');
      walk(b.bridge?.children ?? [], maxBus, depth + 1);
    }
  };
  walk(topology, 0, 1);
}

/** The phases scanProgram marks for these options. */
export function scanPhases(opts: ScanOptions = {}): string[] {
  return (opts.vcpus ?? 1) > 1 ? PARALLEL_PHASES : LINUX_PHASES;
}

/** The guest program for a Linux-like scan, or for the enlightened guest that reads the VMM's list. */
export function scanProgram(access: Access, guest: GuestKind, opts: ScanOptions = {}): Uint8Array {
  const parallel = (opts.vcpus ?? 1) > 1;
  const g = new GuestProgram(access, { smp: parallel });
  const body = g.a.label('body');
  g.a.jmp(body);
  const found = emitFound(g, opts.setup === 'full' ? emitDeviceSetup(g) : null);
  const scanBus = emitScanBus(g, found, opts.busScan ?? 'linux');
  g.a.bind(body);
  emitPasses(g, () => {
    // bus-scan, on vCPU 0: Linux's scan from bus 0, or the enlightened guest's walk of the VMM's list.
    if (guest === 'linux') onlyVcpu0(g, () => g.a.movImm(r.edi, 0).movImm(r.esi, 256).call(scanBus));
    else onlyVcpu0(g, () => emitPresentList(g, found));
    g.a.call(g.mark);
    // barrier (several vCPUs), then peer-bridge, each vCPU its share (the enlightened guest has none).
    if (parallel) emitBarrier(g);
    if (guest === 'linux') emitPeerBridge(g, opts.peerStride ?? 8);
  });
  return g.finish();
}

/**
 * found: edi = bdf of a present function, eax = its id. Records it (with its header type) and
 * returns the header type in eax, with the setup routine's flags in bits 8.. when `setup` is given.
 */
function emitFound(g: GuestProgram, setup: Label | null): Label {
  const a = g.a;
  const found = a.label('found');
  a.bind(found);
  a.push(r.rax);
  a.movImm(r.esi, PCI_HEADER_TYPE).call(g.read[8]);
  a.mov(r.ecx, r.eax).pop(r.rax).call(g.record);
  a.mov(r.eax, r.ecx);
  if (setup) a.call(setup);
  a.ret();
  return found;
}

/**
 * scan_bus(edi = bus, esi = devfn limit: 256, or 8 behind a PCIe downstream port): pci_scan_child_bus.
 * Found bridges: bdf | downstream << 16, in devfn order; then the limit. No bounds check in the
 * guest: checkScanTopology rejects topologies with more bridges on a bus before any VM runs.
 */
function emitScanBus(g: GuestProgram, found: Label, busScan: NonNullable<ScanOptions['busScan']>): Label {
  const a = g.a;
  const scanBus = a.label('scan_bus');
  const FRAME = MAX_BRIDGES_PER_BUS * 8;
  a.bind(scanBus);
  for (const x of [r.rbx, r.rbp, r.r8, r.r9]) a.push(x);
  a.sub(r.rsp, FRAME + 8);
  a.mov(mem(r.rsp, FRAME), r.rsi);
  const limit = mem(r.rsp, FRAME, 32);
  a.mov(r.ebx, r.edi);
  a.movImm(r.rax, KNOWN_BUSES).add(r.rax, r.rbx).movImm(r.ecx, 1).mov(mem(r.rax, 0, 8), r.cl);
  a.movImm(r.r8d, 0); // bridges found
  emitSlotScan(g, found, busScan, limit);
  emitBridges(g, scanBus);
  a.add(r.rsp, FRAME + 8);
  for (const x of [r.r9, r.r8, r.rbp, r.rbx]) a.pop(x);
  a.ret();
  return scanBus;
}

/** scan_bus's device loop over bus ebx: every devfn, or Linux's slots and then functions 1..7 of
 *  multifunction devices; each present function goes to `found` and type-1 ones into the frame. */
function emitSlotScan(g: GuestProgram, found: Label, busScan: NonNullable<ScanOptions['busScan']>, limit: Mem): void {
  const a = g.a;
  const noteBridge = () => {
    // eax = header type (+ setup flags); remember type-1 functions (edi) for the bridge pass.
    const skip = a.label();
    a.mov(r.ecx, r.eax).and(r.ecx, PCI_HEADER_TYPE_MASK).cmp(r.ecx, PCI_HEADER_TYPE_BRIDGE).j('ne', skip);
    a.mov(r.ecx, r.eax).and(r.ecx, SETUP_DOWNSTREAM).shl(r.ecx, 8).or(r.ecx, r.edi);
    a.mov(r.rdx, r.r8).shl(r.rdx, 3).add(r.rdx, r.rsp).mov(mem(r.rdx), r.rcx).inc(r.r8d);
    a.bind(skip);
  };
  if (busScan === 'every-devfn') {
    g.loop(r.ebp, 0, limit, 1, (_brk, next) => {
      g.bdf(r.ebx, r.ebp).a.call(g.probe[32]);
      a.cmp(r.eax, -1).j('e', next);
      a.call(found);
      noteBridge();
    });
  } else {
    g.loop(r.ebp, 0, limit, 8, (_brk, next) => {
      g.bdf(r.ebx, r.ebp).a.call(g.probe[32]);
      a.cmp(r.eax, -1).j('e', next);
      a.call(found);
      noteBridge(); // keeps eax
      a.test(r.eax, PCI_HEADER_TYPE_MFD).j('e', next);
      g.loop(r.r9d, 1, 8, 1, (_b, nextFn) => {
        g.bdf(r.ebx, r.ebp).a.or(r.edi, r.r9d).call(g.probe[32]);
        a.cmp(r.eax, -1).j('e', nextFn);
        a.call(found);
        noteBridge();
      });
    });
  }
}

/** scan_bus's bridge pass, depth-first: pci_scan_bridge assigns secondary = ++max, subordinate = max after the child scan. */
function emitBridges(g: GuestProgram, scanBus: Label): void {
  const a = g.a;
  g.loop(r.r9d, 0, r.r8d, 1, () => {
    a.mov(r.rax, r.r9).shl(r.rax, 3).add(r.rax, r.rsp).mov(r.rdi, mem(r.rax));
    a.push(r.rdi);
    a.and(r.edi, 0xffff);
    a.movImm(r.esi, PCI_PRIMARY_BUS).call(g.read[32]);
    a.movImm(r.rdx, MAX_BUS).mov(r.rcx, mem(r.rdx)).inc(r.rcx).mov(mem(r.rdx), r.rcx);
    a.and(r.eax, 0xff000000 | 0).or(r.eax, 0xff0000).or(r.eax, r.ebx).shl(r.ecx, 8).or(r.ecx, r.eax);
    a.mov(r.rdi, mem(r.rsp)).and(r.edi, 0xffff);
    a.movImm(r.esi, PCI_PRIMARY_BUS).call(g.write[32]);
    const allSlots = a.label();
    const go = a.label();
    a.mov(r.rsi, mem(r.rsp)).test(r.esi, SETUP_DOWNSTREAM << 8).j('e', allSlots);
    a.movImm(r.esi, 8).jmp(go);
    a.bind(allSlots).movImm(r.esi, 256);
    a.bind(go);
    a.movImm(r.rdx, MAX_BUS).mov(r.rdi, mem(r.rdx));
    a.call(scanBus);
    a.pop(r.rdi).and(r.edi, 0xffff);
    a.movImm(r.rdx, MAX_BUS).mov(r.rcx, mem(r.rdx));
    a.movImm(r.esi, PCI_SUBORDINATE_BUS).call(g.write[8]);
  });
}

/** Emits code that runs only on vCPU 0 (the vCPU index is at [rsp + 8] inside the pass loop). */
function onlyVcpu0(g: GuestProgram, emit: () => void): void {
  const a = g.a;
  const skip = a.label();
  a.mov(r.rax, mem(r.rsp, 8)).cmp(r.eax, 0).j('ne', skip);
  emit();
  a.bind(skip);
}

/**
 * The pass loop, info.passes times: a fresh boot each pass (no bus known, no bus number
 * assigned), a mark, then `phases` (which marks between its phases), a closing mark.
 * (Parallel: one pass only, see emitBarrier.)
 */
function emitPasses(g: GuestProgram, phases: () => void): void {
  const a = g.a;
  const passTop = a.label('pass');
  a.push(r.rdi); // vCPU index (the harness passes it in rdi): [rsp + 8] inside the pass loop
  a.mov(r.rbx, mem(r.r10, info.passes));
  a.push(r.rbx);
  a.bind(passTop);
  onlyVcpu0(g, () => {
    a.movImm(r.rax, KNOWN_BUSES).movImm(r.ecx, 0);
    g.loop(r.edx, 0, 0x108, 8, () => {
      a.mov(mem(r.rax), r.rcx).add(r.rax, 8);
    });
  });
  a.call(g.mark);
  phases();
  a.call(g.mark);
  a.pop(r.rbx).dec(r.rbx).push(r.rbx).j('ne', passTop);
  a.pop(r.rbx).pop(r.rdi);
}

/** The enlightened guest reads the VMM's list: u32 (bus<<8|devfn) | secondary<<16 | subordinate<<24. */
function emitPresentList(g: GuestProgram, found: Label): void {
  const a = g.a;
  a.mov(r.r8, mem(r.r10, info.presentCount));
  a.mov(r.r9, mem(r.r10, info.presentList));
  g.loop(r.ebp, 0, r.r8d, 1, () => {
    const notBridge = a.label();
    a.mov(r.ebx, mem(r.r9, 0, 32)).add(r.r9, 4);
    a.mov(r.edi, r.ebx).and(r.edi, 0xffff).movImm(r.esi, PCI_VENDOR_ID).call(g.read[32]);
    a.call(found);
    a.mov(r.eax, r.ebx).shr(r.eax, 16).j('e', notBridge);
    // secondary and subordinate as the list says, primary = this bus
    a.mov(r.ecx, r.eax).shl(r.ecx, 8).mov(r.eax, r.edi).shr(r.eax, 8).or(r.ecx, r.eax);
    a.movImm(r.esi, PCI_PRIMARY_BUS).call(g.write[32]);
    a.bind(notBridge);
  });
}

/**
 * Start barrier: arrive (lock xadd), then spin until every vCPU has arrived; a mark. The counter
 * is never reset, so the program runs one pass (the workload says passes: 1). A vCPU that never
 * arrives (its thread failed) must not hang the others: after 2^28 spins the guest stops with
 * ud2 (a shutdown exit the runner reports as a fault).
 */
function emitBarrier(g: GuestProgram): void {
  const a = g.a;
  const spin = a.label();
  const released = a.label();
  const stuck = a.label();
  a.movImm(r.rax, BARRIER).movImm(r.ecx, 1).lockXadd(mem(r.rax, 0, 32), r.ecx);
  a.mov(r.rdx, mem(r.r10, info.vcpus));
  a.movImm(r.r9d, 1 << 28);
  a.bind(spin);
  a.mov(r.ecx, mem(r.rax, 0, 32)).cmp(r.ecx, r.edx).j('ge', released);
  a.pause().dec(r.r9d).j('ne', spin);
  a.bind(stuck).bytesRaw([0x0f, 0x0b]); // ud2
  a.bind(released);
  a.call(g.mark);
}

/**
 * pcibios_fixup_peer_bridges over this vCPU's share of buses 1..lastBus: chunk = ceil(lastBus /
 * vcpus), lo = 1 + index*chunk, hi = min(lo + chunk - 1, lastBus) (one vCPU: 1..lastBus). Each
 * bus not known yet is probed at devfn 0, stride, .. until one answers.
 */
function emitPeerBridge(g: GuestProgram, stride: number): void {
  const a = g.a;
  a.mov(r.r8, mem(r.r10, info.lastBus));
  a.mov(r.rdx, mem(r.r10, info.vcpus));
  const chunkTop = a.label();
  const chunkDone = a.label();
  a.movImm(r.eax, 0).movImm(r.ecx, 0);
  a.bind(chunkTop).cmp(r.eax, r.r8d).j('ge', chunkDone);
  a.add(r.eax, r.edx).inc(r.ecx).jmp(chunkTop);
  a.bind(chunkDone);
  a.movImm(r.r9d, 1);
  a.mov(r.rax, mem(r.rsp, 8));
  g.loop(r.edx, 0, r.eax, 1, () => {
    a.add(r.r9d, r.ecx);
  });
  a.mov(r.eax, r.r9d).add(r.eax, r.ecx).dec(r.eax);
  const keepHi = a.label();
  a.cmp(r.eax, r.r8d).j('ge', keepHi);
  a.mov(r.r8d, r.eax);
  a.bind(keepHi);
  g.loop(r.ebp, r.r9d, r.r8d, 1, (_brk, nextBus) => {
    a.movImm(r.rax, KNOWN_BUSES).add(r.rax, r.rbp).movzx(r.eax, mem(r.rax, 0, 8)).test(r.eax, 1).j('ne', nextBus);
    g.loop(r.ebx, 0, 256, stride, (_b, nextFn) => {
      g.bdf(r.ebp, r.ebx).a.call(g.probe[16]);
      a.cmp(r.eax, 0xffff).j('e', nextFn);
      a.cmp(r.eax, 0).j('e', nextFn);
      a.movImm(r.ecx, 0).call(g.record);
      a.jmp(nextBus); // Linux would now scan the peer bus (pcibios_scan_root)
    });
  }, true);
}

/** Analytic counts of one pass of scanProgram over `topology` with buses 0..lastBus declared.
 *  The access method matters only with full setup (extended capabilities are ECAM-only). */
export function scanExpected(topology: FunctionSpec[], lastBus: number, guest: GuestKind, opts: ScanOptions = {}, access: Access = 'ecam'): ExpectedCounts {
  const phases = scanPhases(opts);
  const zero = () => Object.fromEntries(phases.map((p) => [p, 0]));
  const out: Required<ExpectedCounts> = { accesses: zero(), holes: zero(), writes: zero() };
  const full = opts.setup === 'full';
  // Accesses on a present function after its id read: header type, then the setup.
  const present = (f: FunctionSpec) => {
    let n = 1;
    if (full) {
      const s = setupAccesses(f, access);
      n += s.reads + s.writes;
      out.writes['bus-scan'] += s.writes;
    }
    out.accesses['bus-scan'] += n;
  };
  if (guest === 'enlightened') {
    const walk = (fns: FunctionSpec[]) => {
      for (const f of fns) {
        out.accesses['bus-scan'] += 1; // id
        present(f);
        if (f.bridge) {
          out.accesses['bus-scan'] += 1; // bus-number write
          out.writes['bus-scan'] += 1;
          walk(f.bridge.children);
        }
      }
    };
    walk(sortByDevfn(topology));
    return out;
  }
  let buses = 0;
  const probe = (f: FunctionSpec | undefined) => {
    out.accesses['bus-scan']++;
    if (!f) out.holes['bus-scan']++;
    else present(f);
  };
  const walk = (fns: FunctionSpec[], devfnLimit: number) => {
    buses++;
    const at = (devfn: number) => fns.find((f) => f.dev * 8 + f.fn === devfn);
    if (opts.busScan === 'every-devfn') {
      for (let devfn = 0; devfn < devfnLimit; devfn++) probe(at(devfn));
    } else {
      for (let devfn = 0; devfn < devfnLimit; devfn += 8) {
        const f0 = at(devfn);
        probe(f0);
        if (!f0?.multifunction) continue;
        for (let fn = 1; fn < 8; fn++) probe(at(devfn + fn));
      }
    }
    for (const f of sortByDevfn(fns)) {
      if (!f.bridge) continue;
      out.accesses['bus-scan'] += 3; // read the primary-bus dword, write it, write the subordinate
      out.writes['bus-scan'] += 2;
      walk(f.bridge.children, full && isDownstreamPort(f) ? 8 : 256);
    }
  };
  walk(topology, 256);
  const stride = opts.peerStride ?? 8;
  const peerBuses = Math.max(0, lastBus + 1 - buses);
  out.accesses['peer-bridge'] = out.holes['peer-bridge'] = peerBuses * (256 / stride);
  return out;
}

function sortByDevfn(fns: FunctionSpec[]): FunctionSpec[] {
  return [...fns].sort((x, y) => x.dev * 8 + x.fn - (y.dev * 8 + y.fn));
}
