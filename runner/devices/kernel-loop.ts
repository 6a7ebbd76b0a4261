// The KVM_RUN loop of a real Linux boot (runner/measure/kernel-sample.ts): PCI config space on
// conf1 or on ECAM with conf1 hidden, the UART, the CMOS RTC, all-ones for every other port and
// MMIO address, until the console prints the end marker. Every config access the VMM sees goes
// into a preallocated log (no allocation per exit); the host clock is read only at accesses to
// present functions, whose sequence is the same under every strategy and brackets the phases.
import { performance } from 'node:perf_hooks';
import { SerialConsole } from './serial.js';
import { CmosRtc } from './cmos-rtc.js';
import { getLE, putLE, type Fault, type RunnableVcpu } from './exit-loop.js';
import type { PciModel } from './pci-model.js';

/** Exits seen by the VMM, by kind. */
export class KernelExitCounts {
  mmio_read = 0;
  mmio_write = 0;
  io_in = 0;
  io_out = 0;
  /** Of those, UART and CMOS RTC accesses. */
  serial = 0;
  rtc = 0;
  /** conf1 ports under ECAM, hidden as on a machine without conf1 (0xCF8 does not read back). */
  hidden_conf1 = 0;
  /** Everything else, answered all-ones or dropped. */
  other = 0;
  toRecord(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}

export const LOG_WRITE = 0x10;
export const LOG_HOLE = 0x20;

/** Every config access the VMM saw, in order: where (bus << 20 | devfn << 12 | reg), flags (length |
 *  LOG_WRITE | LOG_HOLE), and for accesses to present functions the host clock in ns since the start. */
export class ConfigLog {
  n = 0;
  /** Accesses past the capacity (counted, not logged). */
  dropped = 0;
  readonly where: Int32Array;
  readonly flags: Uint8Array;
  readonly ns: Float64Array;
  constructor(readonly capacity: number) {
    this.where = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.ns = new Float64Array(capacity);
  }
}

export interface KernelLoopOptions {
  pci: PciModel;
  /** The ECAM window (conf1 hidden), or null: conf1 ports. */
  ecam: { base: number; size: number } | null;
  /** The console line that ends the boot (e.g. the no-root panic). */
  endMarker: string;
  logCapacity: number;
  /** KVM's vCPU exit counter, read at the present-function accesses `exitsAt` lists (indices in
   *  their sequence), or at every one when `exitsAt` is null. */
  readExits: (() => number) | null;
  exitsAt: readonly number[] | null;
  /** A port whose write also ends the run (the suite's scan program signals done there when it
   *  warms this loop up: runner/measure/kernel-warmup.ts). */
  donePort?: number;
}

export type KernelStop = { kind: 'end' } | Fault;

export class KernelLoop {
  readonly counts = new KernelExitCounts();
  readonly log: ConfigLog;
  readonly serial: SerialConsole;
  readonly rtc = new CmosRtc();
  /** KVM's exit counter at present access i (NaN where it was not read). */
  readonly exitsAtPresent: Float64Array;
  /** Host ns since the start when the end marker was printed; NaN before. */
  endNs = NaN;
  presentCount = 0;
  private t0 = 0;
  private readonly wanted: Uint8Array;

  constructor(private readonly o: KernelLoopOptions) {
    this.log = new ConfigLog(o.logCapacity);
    this.exitsAtPresent = new Float64Array(o.logCapacity).fill(NaN);
    this.wanted = new Uint8Array(o.logCapacity);
    for (const i of o.exitsAt ?? []) if (i >= 0 && i < o.logCapacity) this.wanted[i] = 1;
    this.serial = new SerialConsole((line) => {
      if (Number.isNaN(this.endNs) && line.includes(o.endMarker)) this.endNs = performance.now() * 1e6 - this.t0;
    });
  }

  /** Runs the vCPU until the end marker (returns {kind: 'end'}) or another stop (the fault). */
  run(vcpu: RunnableVcpu): KernelStop {
    this.t0 = performance.now() * 1e6;
    for (;;) {
      const e = vcpu.run();
      if (e.kind === 'io') this.io(e.port, e.size, e.isOut, e.data);
      else if (e.kind === 'mmio') this.mmio(e.addr, e.len, e.isWrite, e.data);
      else return e;
      if (!Number.isNaN(this.endNs)) return { kind: 'end' };
    }
  }

  private io(port: number, size: number, out: boolean, data: Uint8Array): void {
    const c = this.counts;
    if (out) c.io_out++;
    else c.io_in++;
    if (out && port === this.o.donePort) {
      this.endNs = performance.now() * 1e6 - this.t0;
      return;
    }
    if (this.serial.owns(port)) {
      c.serial++;
      if (out) this.serial.write(port, data[0]);
      else data[0] = this.serial.read(port);
      return;
    }
    if (this.rtc.owns(port)) {
      c.rtc++;
      if (out) this.rtc.write(port, data[0]);
      else data[0] = this.rtc.read(port);
      return;
    }
    if (port >= 0xcf8 && port <= 0xcff) {
      if (this.o.ecam) {
        c.hidden_conf1++;
        if (!out) data.fill(0xff);
        return;
      }
      if (port >= 0xcfc) {
        const a = this.o.pci.portRead(0xcf8, 4) as number;
        if (a & 0x80000000) {
          this.config((((a >>> 16) & 0xff) << 20) | (((a >>> 8) & 0xff) << 12) | ((a & 0xfc) + (port - 0xcfc)), size, out, data);
          return;
        }
      }
      // 0xCF8 is a 4-byte register: byte and word accesses of 0xCF8-0xCFB are not the model's
      // (answered all-ones, as ExitLoop does: pci_check_type2 would take 0 for a type-2 bridge).
      if (out) {
        if (!this.o.pci.portWrite(port, size, getLE(data, size))) c.other++;
      } else {
        const v = this.o.pci.portRead(port, size);
        if (v === undefined) {
          c.other++;
          data.fill(0xff);
        } else putLE(data, size, v);
      }
      return;
    }
    c.other++;
    if (!out) data.fill(0xff);
  }

  private mmio(addr: number, len: number, write: boolean, data: Uint8Array): void {
    const c = this.counts;
    if (write) c.mmio_write++;
    else c.mmio_read++;
    const w = this.o.ecam;
    const off = w ? addr - w.base : -1;
    if (w && off >= 0 && off < w.size) return this.config(off, len, write, data);
    c.other++;
    if (!write) data.fill(0xff);
  }

  /** One config access at ECAM-style offset `where` (bus[27:20] devfn[19:12] reg[11:0]). */
  private config(where: number, len: number, write: boolean, data: Uint8Array): void {
    const pci = this.o.pci;
    const holesBefore = pci.counters.holeReads + pci.counters.holeWrites;
    if (write) pci.ecamWrite(where, len, getLE(data, len));
    else putLE(data, len, pci.ecamRead(where, len));
    const hole = pci.counters.holeReads + pci.counters.holeWrites !== holesBefore;
    const log = this.log;
    if (log.n === log.capacity) {
      log.dropped++;
      return;
    }
    const i = log.n++;
    log.where[i] = where;
    log.flags[i] = len | (write ? LOG_WRITE : 0) | (hole ? LOG_HOLE : 0);
    if (hole) return;
    log.ns[i] = performance.now() * 1e6 - this.t0;
    const p = this.presentCount++;
    const read = this.o.readExits;
    if (read && (this.o.exitsAt === null || this.wanted[p])) this.exitsAtPresent[p] = read();
  }
}
