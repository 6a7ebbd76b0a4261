// The PCI device model for present functions, served from userspace under every strategy.
// Type-0 and type-1 headers (PCI Local Bus 3.0 ch. 6, PCI-to-PCI Bridge 1.2 ch. 3), BAR
// size probing, capability lists, and bus-number routing through bridges: a bridge's
// secondary bus is whatever the guest programmed, as on real hardware.
import {
  PCI_BARS_BRIDGE,
  PCI_BARS_TYPE0,
  PCI_BASE_ADDRESS_0,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_SIZE,
  PCI_CLASS_REVISION,
  PCI_COMMAND,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_MFD,
  PCI_INTERRUPT_LINE,
  PCI_PRIMARY_BUS,
  PCI_SECONDARY_BUS,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  PCI_SUBORDINATE_BUS,
  PCI_VENDOR_ID,
} from './pci-regs.js';

/** A BAR as the device declares it. */
export interface BarSpec {
  /** Power of two, in bytes. */
  size: number;
  kind: 'mem32' | 'mem64' | 'io';
  prefetchable?: boolean;
}

/** A standard capability: id and the payload after the (id, next) pair. */
export interface CapSpec {
  id: number;
  /** Bytes after the 2-byte header. */
  body?: number[];
}

/** One present PCI function as a topology declares it. */
export interface FunctionSpec {
  dev: number;
  fn: number;
  vendor: number;
  device: number;
  /** class << 16 | subclass << 8 | prog-if */
  classCode: number;
  /** Short human name (e.g. "ICH9 LPC"). */
  name: string;
  multifunction?: boolean;
  bars?: BarSpec[];
  caps?: CapSpec[];
  /** Extended capability ids placed from 0x100 (only reachable through ECAM). */
  extCaps?: number[];
  /** A PCI-to-PCI bridge (header type 1) with the functions on its secondary bus. */
  bridge?: { children: FunctionSpec[] };
}

export const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;


/** Where a model keeps its functions' configuration spaces when several threads share it. */
export interface SharedStorage {
  /** The next function's 4 KiB (functions are allocated depth-first, in topology order). */
  alloc(): Uint8Array;
  /** true: write the reset values (the first model over this buffer); false: attach to it as it is. */
  init: boolean;
}

/** One function's 4 KiB configuration space with its write semantics. */
export class PciFunction {
  readonly config: Uint8Array = new Uint8Array(4096);
  private readonly dv: DataView = new DataView(this.config.buffer);
  /** Per BAR register index: the size mask (0 = not a BAR or upper half handled by mask too). */
  private readonly barMask = new Map<number, number>();
  readonly children: PciFunction[] = [];

  constructor(
    readonly spec: FunctionSpec,
    shared?: SharedStorage,
  ) {
    const storage = shared?.alloc();
    this.build(spec);
    if (storage) {
      // The reset values were built in a private page; shared state lives in the shared page.
      if (shared?.init) storage.set(this.config);
      this.config = storage;
      this.dv = new DataView(storage.buffer, storage.byteOffset, storage.byteLength);
    }
    for (const c of spec.bridge?.children ?? []) this.children.push(new PciFunction(c, shared));
  }

  private build(spec: FunctionSpec): void {
    const d = this.dv;
    d.setUint16(PCI_VENDOR_ID, spec.vendor, true);
    d.setUint16(PCI_DEVICE_ID, spec.device, true);
    d.setUint32(PCI_CLASS_REVISION, (spec.classCode << 8) | 0x01, true); // revision 1
    const isBridge = !!spec.bridge;
    this.config[PCI_HEADER_TYPE] = (isBridge ? PCI_HEADER_TYPE_BRIDGE : 0) | (spec.multifunction ? PCI_HEADER_TYPE_MFD : 0);
    this.placeBars(spec.bars ?? [], isBridge ? PCI_BARS_BRIDGE : PCI_BARS_TYPE0);
    this.placeCaps(spec.caps ?? []);
    this.placeExtCaps(spec.extCaps ?? []);
  }

  get isBridge(): boolean {
    return !!this.spec.bridge;
  }
  get secondaryBus(): number {
    return this.config[PCI_SECONDARY_BUS];
  }
  get subordinateBus(): number {
    return this.config[PCI_SUBORDINATE_BUS];
  }

  private placeBars(bars: BarSpec[], slots: number): void {
    let i = 0;
    for (const b of bars) {
      if (i + (b.kind === 'mem64' ? 2 : 1) > slots) throw new Error(`${this.spec.name}: too many BARs`);
      const reg = PCI_BASE_ADDRESS_0 + 4 * i;
      const flags = b.kind === 'io' ? 1 : (b.kind === 'mem64' ? 4 : 0) | (b.prefetchable ? 8 : 0);
      this.dv.setUint32(reg, flags, true);
      // Low dword: address bits above the size are writable, flag bits are read-only.
      this.barMask.set(reg, (~(b.size - 1) >>> 0) & (b.kind === 'io' ? 0xfffffffc : 0xfffffff0));
      if (b.kind === 'mem64') {
        this.barMask.set(reg + 4, b.size > 0x100000000 ? ~(b.size / 0x100000000 - 1) >>> 0 : 0xffffffff);
        i++;
      }
      i++;
    }
  }

  private placeCaps(caps: CapSpec[]): void {
    if (!caps.length) return;
    this.dv.setUint16(PCI_STATUS, PCI_STATUS_CAP_LIST, true);
    let at = PCI_STD_HEADER_SIZEOF;
    this.config[PCI_CAPABILITY_LIST] = at;
    caps.forEach((c, i) => {
      const len = 2 + (c.body?.length ?? 2);
      if (at + len > PCI_CFG_SPACE_SIZE) throw new Error(`${this.spec.name}: capabilities overflow the 256-byte header (cap 0x${c.id.toString(16)} at 0x${at.toString(16)})`);
      const next = i + 1 < caps.length ? (at + len + 3) & ~3 : 0;
      this.config[at] = c.id;
      this.config[at + 1] = next;
      (c.body ?? [0, 0]).forEach((x, j) => (this.config[at + 2 + j] = x));
      at = next;
    });
  }

  private placeExtCaps(ids: number[]): void {
    ids.forEach((id, i) => {
      const at = PCI_CFG_SPACE_SIZE + i * 0x40;
      const next = i + 1 < ids.length ? at + 0x40 : 0;
      // PCIe extended capability header: id[15:0], version[19:16] = 1, next[31:20]
      this.dv.setUint32(at, id | (1 << 16) | (next << 20), true);
    });
  }

  read(reg: number, len: number): number {
    if (reg + len > 4096) return ALL_ONES[len];
    if (len === 1) return this.config[reg];
    if (len === 2) return this.dv.getUint16(reg, true);
    return this.dv.getUint32(reg, true);
  }

  /** Config write with the registers' write masks; everything not modelled as writable is read-only. */
  write(reg: number, len: number, value: number): void {
    for (let i = 0; i < len; i++) this.writeByte(reg + i, (value >>> (8 * i)) & 0xff);
  }

  private writeByte(reg: number, v: number): void {
    const dword = reg & ~3;
    const mask = this.barMask.get(dword);
    if (mask !== undefined) {
      const shift = 8 * (reg & 3);
      const m = (mask >>> shift) & 0xff;
      this.config[reg] = (this.config[reg] & ~m) | (v & m);
      return;
    }
    if (reg === PCI_COMMAND || reg === PCI_COMMAND + 1) this.config[reg] = v;
    else if (this.isBridge && reg >= PCI_PRIMARY_BUS && reg <= PCI_SUBORDINATE_BUS) this.config[reg] = v;
    else if (reg === PCI_INTERRUPT_LINE) this.config[reg] = v;
  }
}

/** Counts kept by the model: what reached userspace. */
export interface PciCounters {
  reads: number;
  writes: number;
  /** Reads of absent functions answered with all-ones here (i.e. hole reads that exited). */
  holeReads: number;
  holeWrites: number;
}

/** Number of functions in a topology, bridges' children included. */
export function countFunctions(topology: FunctionSpec[]): number {
  return topology.reduce((n, f) => n + 1 + countFunctions(f.bridge?.children ?? []), 0);
}

/** Control words at the start of a shared model buffer (Int32 indexes). */
const CTL_LOCK = 0;
const CTL_CF8 = 1;

/** The whole PCI hierarchy of one VM: root bus 0 plus bridges.
 *
 *  Several vCPU threads share one model this way: the configuration spaces, the 0xCF8 latch and
 *  a lock live in a SharedArrayBuffer (sharedBuffer()); each thread builds a PciModel over it
 *  (the first with init = true), and takes acquire()/release() around every access, as a VMM
 *  serialises its device model (QEMU: the BQL). Counters stay per thread: sum them. */
export class PciModel {
  readonly root: PciFunction[];
  readonly counters: PciCounters = { reads: 0, writes: 0, holeReads: 0, holeWrites: 0 };
  /** type-1 config address latch (port 0xCF8), when not shared */
  private latch = 0;
  private readonly ctl: Int32Array | null = null;

  /** A buffer for `shared`: one page of control words, then 4 KiB per function. */
  static sharedBuffer(topology: FunctionSpec[]): SharedArrayBuffer {
    return new SharedArrayBuffer(4096 * (1 + countFunctions(topology)));
  }

  constructor(topology: FunctionSpec[], shared?: { buffer: SharedArrayBuffer; init: boolean }) {
    if (!shared) {
      this.root = topology.map((s) => new PciFunction(s));
      return;
    }
    const { buffer, init } = shared;
    if (buffer.byteLength < 4096 * (1 + countFunctions(topology))) throw new Error('shared PCI model buffer is too small for the topology');
    this.ctl = new Int32Array(buffer, 0, 2);
    let page = 1;
    const storage: SharedStorage = { alloc: () => new Uint8Array(buffer, 4096 * page++, 4096), init };
    this.root = topology.map((s) => new PciFunction(s, storage));
  }

  /** True when the model is shared between threads (acquire/release do something). */
  get shared(): boolean {
    return this.ctl !== null;
  }

  /** Takes the model's lock (shared models only): spin briefly, then sleep on the lock word. */
  acquire(): void {
    const c = this.ctl;
    if (!c) return;
    for (let spins = 0; Atomics.compareExchange(c, CTL_LOCK, 0, 1) !== 0; spins++) {
      if (spins > 100) Atomics.wait(c, CTL_LOCK, 1, 1);
    }
  }

  release(): void {
    const c = this.ctl;
    if (!c) return;
    Atomics.store(c, CTL_LOCK, 0);
    Atomics.notify(c, CTL_LOCK, 1);
  }

  private get cf8(): number {
    return this.ctl ? Atomics.load(this.ctl, CTL_CF8) >>> 0 : this.latch;
  }
  private set cf8(v: number) {
    if (this.ctl) Atomics.store(this.ctl, CTL_CF8, v | 0);
    else this.latch = v;
  }

  /** The function at bus/devfn, routed through bridges as the guest programmed them; null for the hole. */
  find(bus: number, devfn: number): PciFunction | null {
    return findOn(this.root, 0, bus, devfn);
  }

  read(bus: number, devfn: number, reg: number, len: number): number {
    this.counters.reads++;
    const f = this.find(bus, devfn);
    if (!f) {
      this.counters.holeReads++;
      return ALL_ONES[len];
    }
    return f.read(reg, len);
  }

  write(bus: number, devfn: number, reg: number, len: number, value: number): void {
    this.counters.writes++;
    const f = this.find(bus, devfn);
    if (!f) this.counters.holeWrites++;
    else f.write(reg, len, value);
  }

  /** ECAM access at `offset` from the config base: bus[27:20] devfn[19:12] reg[11:0]. */
  ecamRead(offset: number, len: number): number {
    return this.read((offset >>> 20) & 0xff, (offset >>> 12) & 0xff, offset & 0xfff, len);
  }
  ecamWrite(offset: number, len: number, value: number): void {
    this.write((offset >>> 20) & 0xff, (offset >>> 12) & 0xff, offset & 0xfff, len, value);
  }

  /** Type-1 mechanism: 0xCF8 address latch, 0xCFC..0xCFF data. Returns undefined for ports it does not own. */
  portRead(port: number, len: number): number | undefined {
    if (port === 0xcf8 && len === 4) return this.cf8;
    if (port >= 0xcfc && port <= 0xcff) {
      if (!(this.cf8 & 0x80000000)) return ALL_ONES[len];
      const a = this.cf8;
      return this.read((a >>> 16) & 0xff, (a >>> 8) & 0xff, (a & 0xfc) + (port - 0xcfc), len);
    }
    return undefined;
  }
  portWrite(port: number, len: number, value: number): boolean {
    if (port === 0xcf8 && len === 4) {
      this.cf8 = value >>> 0;
      return true;
    }
    if (port >= 0xcfc && port <= 0xcff) {
      const a = this.cf8;
      if (a & 0x80000000) this.write((a >>> 16) & 0xff, (a >>> 8) & 0xff, (a & 0xfc) + (port - 0xcfc), len, value);
      return true;
    }
    return false;
  }
}

function findOn(fns: PciFunction[], onBus: number, bus: number, devfn: number): PciFunction | null {
  for (const f of fns) {
    if (bus === onBus && (f.spec.dev << 3) + f.spec.fn === devfn) return f;
    // A bridge forwards buses in [secondary, subordinate] (PCI-to-PCI Bridge spec 3.2.5.3).
    if (f.isBridge && f.secondaryBus !== 0 && bus >= f.secondaryBus && bus <= f.subordinateBus) {
      return findOn(f.children, f.secondaryBus, bus, devfn);
    }
  }
  return null;
}

/** A present function with the bus number Linux assigns it; bridges carry their bus range. */
export interface Enumerated {
  bus: number;
  devfn: number;
  spec: FunctionSpec;
  secondary: number;
  subordinate: number;
}

/** Every present function with the bus numbers Linux would assign (depth-first, pci_scan_bridge). */
export function enumerate(topology: FunctionSpec[]): Enumerated[] {
  const out: Enumerated[] = [];
  let maxBus = 0;
  const walk = (fns: FunctionSpec[], bus: number) => {
    const sorted = [...fns].sort((a, b) => a.dev * 8 + a.fn - (b.dev * 8 + b.fn));
    const here = sorted.map((s) => ({ bus, devfn: s.dev * 8 + s.fn, spec: s, secondary: 0, subordinate: 0 }));
    out.push(...here);
    for (const e of here) {
      if (!e.spec.bridge) continue;
      e.secondary = ++maxBus;
      walk(e.spec.bridge.children, e.secondary);
      e.subordinate = maxBus;
    }
  };
  walk(topology, 0);
  return out;
}
