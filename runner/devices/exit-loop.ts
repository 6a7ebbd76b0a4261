// The KVM_RUN loop: answers MMIO and port-I/O exits from the PCI model until the guest says done.
// Hot path: no allocation per exit (counters are plain fields, data goes through the
// kvm_run-backed Uint8Array that Vcpu.run() hands back).
import { schedYield } from '../vmm/libc.js';
import { PORT_DONE, PORT_YIELD } from '../guest/guest-layout.js';
import type { PciModel } from './pci-model.js';
import type { Vcpu, VcpuExit } from '../vmm/vcpu.js';

/** Exits seen by the VMM, by kind. `harness` is the guest's "done" signal, not PCI traffic. */
export class ExitCounts {
  mmio_read = 0;
  mmio_write = 0;
  io_in = 0;
  io_out = 0;
  /** MMIO or port accesses outside PCI config space (answered all-ones / dropped). */
  other = 0;
  /** Writes KVM queued in the coalesced-MMIO ring instead of exiting. */
  coalesced = 0;
  harness = 0;
  /** Times a vCPU waiting on a guest lock gave its host CPU away (PORT_YIELD → sched_yield). */
  yields = 0;
  toRecord(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}

/** The ECAM window as the VMM decodes it: guest config base = base + configOffset. */
export interface EcamDecode {
  base: number;
  size: number;
  configOffset: number;
}

/** How a vCPU stopped when it did not signal done. */
export type Fault = Exclude<VcpuExit, { kind: 'mmio' } | { kind: 'io' }>;

/** What the loop needs of a vCPU (a Vcpu, on whichever thread runs it). */
export type RunnableVcpu = Pick<Vcpu, 'run' | 'drainCoalesced'>;

export class ExitLoop {
  readonly counts = new ExitCounts();
  constructor(
    private readonly pci: PciModel,
    private readonly ecam: EcamDecode,
    /** Drain KVM's coalesced-MMIO ring after each exit (a strategy registered a zone). */
    private readonly drainCoalesced = false,
  ) {}

  /** Runs the vCPU until the guest writes the done port; returns null then, or the fault that stopped it.
   *  With a model shared between vCPU threads, each exit is handled under the model's lock, the
   *  coalesced ring (one per VM, not per vCPU) drained included.
   *  `stop` is asked after each exit (a vCPU thread whose sample was abandoned): when it says true
   *  the loop throws instead of entering KVM_RUN again. */
  run(vcpu: RunnableVcpu, stop?: () => boolean): Fault | null {
    const pci = this.pci;
    const locked = pci.shared;
    for (;;) {
      const e = vcpu.run();
      let more: boolean;
      if (!locked) more = this.handle(vcpu, e);
      else {
        pci.acquire();
        try {
          more = this.handle(vcpu, e);
        } finally {
          pci.release();
        }
      }
      if (!more) return e.kind === 'io' ? null : (e as Fault);
      if (stop !== undefined && stop()) throw new Error('stopped: the VMM abandoned the sample');
    }
  }

  /** One exit: true when the guest goes on; false when it signalled done or stopped. */
  private handle(vcpu: RunnableVcpu, e: VcpuExit): boolean {
    const c = this.counts;
    // Queued writes happened before this exit: apply them first (as QEMU's and kvmtool's loops do).
    if (this.drainCoalesced) c.coalesced += vcpu.drainCoalesced(this.sink);
    if (e.kind === 'mmio') {
      const cfg = this.configOffsetOf(e.addr);
      if (e.isWrite) {
        c.mmio_write++;
        if (cfg >= 0) this.pci.ecamWrite(cfg, e.len, getLE(e.data, e.len));
        else c.other++;
      } else {
        c.mmio_read++;
        if (cfg >= 0) putLE(e.data, e.len, this.pci.ecamRead(cfg, e.len));
        else {
          c.other++;
          e.data.fill(0xff);
        }
      }
      return true;
    }
    if (e.kind === 'io') {
      if (e.port === PORT_DONE) {
        c.harness++;
        return false;
      }
      if (e.port === PORT_YIELD) {
        c.yields++;
        schedYield();
        return true;
      }
      if (e.isOut) {
        c.io_out++;
        if (!this.pci.portWrite(e.port, e.size, getLE(e.data, e.size))) c.other++;
      } else {
        c.io_in++;
        const v = this.pci.portRead(e.port, e.size);
        if (v === undefined) {
          c.other++;
          e.data.fill(0xff);
        } else putLE(e.data, e.size, v);
      }
      return true;
    }
    return false;
  }

  /** Offset from the guest's config base of a GPA in the ECAM window; -1 outside it. */
  private configOffsetOf(gpa: number): number {
    const off = gpa - this.ecam.base;
    const cfg = off - this.ecam.configOffset;
    return off >= 0 && off < this.ecam.size && cfg >= 0 ? cfg : -1;
  }

  private readonly sink = (addr: number, len: number, value: number): void => {
    const cfg = this.configOffsetOf(addr);
    if (cfg >= 0) this.pci.ecamWrite(cfg, len, value);
  };
}

/** Little-endian value of the first len bytes (len ≤ 4). */
export function getLE(b: Uint8Array, len: number): number {
  let v = 0;
  for (let i = len - 1; i >= 0; i--) v = v * 256 + b[i];
  return v;
}

/** Stores v little-endian in len bytes (len ≤ 8; bytes past 4 are zero). */
export function putLE(b: Uint8Array, len: number, v: number): void {
  for (let i = 0; i < len; i++) {
    b[i] = i < 4 ? (v >>> (8 * i)) & 0xff : 0;
  }
}
