// The guest's runtime: config-access routines for ECAM or type-1 port I/O, probe counting,
// phase marks (rdtsc), discovery records and the "done" signal. Scan programs (workloads/)
// are written against this and never see which access method or strategy is in use.
//
// Register conventions (set by the harness at entry, see runner/guest/guest-image.ts):
//   r10 = info page (boot info)      r14 = this vCPU's marks block
//   r11 = next discovery record      r13 = config accesses made
//   r12 = hole accesses (probes that found nothing)
//   r15 = config base, loaded by the program from the info page
// Routines take edi = bus<<8 | devfn, esi = register, ecx = value to write; they return
// eax and clobber rax, rcx, rdx only.
import { Asm, mem, r, type Label, type Mem, type Reg } from './x86.js';
import { CODE, PORT_DONE, PORT_YIELD, info, SCRATCH } from './guest-layout.js';
import type { Access } from '../shared/access.js';

export type Width = 8 | 16 | 32;
const ones = { 8: 0xff, 16: 0xffff, 32: -1 } as const;

/** Byte offset of the marks block's last u64: where the guest stores its final record pointer. */
export const RECORD_END_SLOT = 0x7f8;
/** Scratch: known-bus bitmap (256 bytes), then the highest bus number assigned so far. */
export const KNOWN_BUSES = SCRATCH;
export const MAX_BUS = SCRATCH + 0x100;
/** Scratch: the start barrier counter for multi-vCPU workloads. */
export const BARRIER = SCRATCH + 0x200;
/** Scratch: the type-1 config lock of SMP programs (ticket counter, then now-serving; u32 each). */
export const CONF1_LOCK = SCRATCH + 0x240;

/** Lock spins before a waiting vCPU yields its host CPU (a few µs natively). */
export const LOCK_SPINS = 4096;

/** Program options. */
export interface GuestProgramOptions {
  /** Several vCPUs run the program: the 0xCF8/0xCFC pair is taken under a lock, as Linux's
   *  pci_config_lock does (arch/x86/pci/direct.c); ECAM accesses stay lockless (x86 selects
   *  PCI_LOCKLESS_CONFIG). Single-vCPU programs leave it out (it would be uncontended). */
  smp?: boolean;
}

export class GuestProgram {
  readonly a = new Asm(CODE);
  readonly read: Record<Width, Label>;
  readonly write: Record<Width, Label>;
  /** Read at offset 0 that counts an all-ones answer as a hole access. */
  readonly probe: Record<16 | 32, Label>;
  readonly mark: Label;
  readonly record: Label;
  private readonly main: Label;

  constructor(
    readonly access: Access,
    readonly options: GuestProgramOptions = {},
  ) {
    const a = this.a;
    this.read = { 8: a.label('read8'), 16: a.label('read16'), 32: a.label('read32') };
    this.write = { 8: a.label('write8'), 16: a.label('write16'), 32: a.label('write32') };
    this.probe = { 16: a.label('probe16'), 32: a.label('probe32') };
    this.mark = a.label('mark');
    this.record = a.label('record');
    this.main = a.label('main');
    a.jmp(this.main);
    this.emitRoutines();
    a.bind(this.main);
    // The config base arrives in the boot info, as MCFG tells Linux where ECAM is.
    a.mov(r.r15, mem(r.r10, info.configBase));
  }

  /** Ends the program: stores the record pointer, signals done, and traps if resumed. */
  finish(): Uint8Array {
    const a = this.a;
    a.mov(mem(r.r14, RECORD_END_SLOT), r.r11);
    a.movImm(r.edx, PORT_DONE).outDx(8);
    a.bytesRaw([0x0f, 0x0b]); // ud2: never resumed
    return a.assemble();
  }

  /** Loads edi = bus<<8 | devfn from registers (bus, devfn 32-bit), esi = reg. */
  bdf(bus: Reg, devfn: Reg | number, reg = 0): this {
    const a = this.a;
    a.mov(r.edi, bus).shl(r.edi, 8);
    if (typeof devfn === 'number') a.or(r.edi, devfn);
    else a.or(r.edi, devfn);
    a.movImm(r.esi, reg);
    return this;
  }

  /** for (reg = from; reg < to; reg += step) body — `from` may be a register, `to` a register or a
   *  memory operand (then eax is loaded from it at the top of every iteration: rax is clobbered there). */
  loop(reg: Reg, from: number | Reg, to: number | Reg | Mem, step: number, body: (brk: Label, next: Label) => void, inclusive = false): this {
    const a = this.a;
    const top = a.label();
    const next = a.label();
    const brk = a.label();
    if (typeof from === 'number') a.movImm(reg, from);
    else if (from.n !== reg.n) a.mov(reg, from);
    a.bind(top);
    if (typeof to === 'object' && to.kind === 'mem') {
      if (reg.n === r.eax.n) throw new Error('loop: a memory bound is loaded into eax, so the counter cannot be eax');
      a.mov(r.eax, { ...to, w: 32 });
      a.cmp(reg, r.eax);
    } else a.cmp(reg, to);
    a.j(inclusive ? 'g' : 'ge', brk);
    body(brk, next);
    a.bind(next);
    a.add(reg, step);
    a.jmp(top);
    a.bind(brk);
    return this;
  }

  private emitRoutines(): void {
    const a = this.a;
    for (const w of [8, 16, 32] as const) {
      a.bind(this.read[w]);
      this.emitAccess(w, false);
      a.bind(this.write[w]);
      this.emitAccess(w, true);
    }
    for (const w of [16, 32] as const) {
      const skip = a.label();
      a.bind(this.probe[w]);
      a.call(this.read[w]);
      a.cmp(r.eax, ones[w]).j('ne', skip);
      a.inc(r.r12);
      a.bind(skip).ret();
    }
    // mark: store { tsc, accesses, holes } at the marks block's write pointer ([r14]).
    a.bind(this.mark);
    a.lfence().rdtsc().shl(r.rdx, 32).or(r.rax, r.rdx);
    a.mov(r.rcx, mem(r.r14));
    a.mov(mem(r.rcx, 0), r.rax).mov(mem(r.rcx, 8), r.r13).mov(mem(r.rcx, 16), r.r12);
    a.add(r.rcx, 24).mov(mem(r.r14), r.rcx).ret();
    // record: { bdf u32, id u32, header type u32, 0 } at r11.
    a.bind(this.record);
    a.mov(mem(r.r11, 0, 32), r.edi).mov(mem(r.r11, 4, 32), r.eax).mov(mem(r.r11, 8, 32), r.ecx);
    a.add(r.r11, 16).ret();
  }

  private emitAccess(w: Width, isWrite: boolean): void {
    const a = this.a;
    a.inc(r.r13);
    const reg = w === 8 ? r.al : w === 16 ? r.ax : r.eax;
    if (this.access === 'ecam') {
      // address = base + (bus << 20 | devfn << 12 | reg)
      a.mov(r.eax, r.edi).shl(r.eax, 12).or(r.eax, r.esi).add(r.rax, r.r15);
      if (isWrite) {
        a.mov(mem(r.rax, 0, w), w === 8 ? r.cl : w === 16 ? r.cx : r.ecx);
      } else if (w === 32) {
        a.mov(r.eax, mem(r.rax, 0, 32));
      } else {
        a.movzx(r.eax, mem(r.rax, 0, w));
      }
      a.ret();
      return;
    }
    if (this.options.smp) {
      // Ticket lock: take a ticket (lock xadd), spin with pause until it is served. The write
      // value (ecx) is kept across it.
      // After LOCK_SPINS spins the waiter gives its host CPU away (PORT_YIELD), as a paravirt
      // spinlock waiter halts: on an overcommitted host the holder may be waiting for that CPU.
      const top = a.label();
      const spin = a.label();
      const got = a.label();
      a.push(r.rcx).push(r.rsi);
      a.movImm(r.rdx, CONF1_LOCK).movImm(r.ecx, 1).lockXadd(mem(r.rdx, 0, 32), r.ecx);
      a.bind(top).movImm(r.esi, LOCK_SPINS);
      a.bind(spin).mov(r.eax, mem(r.rdx, 4, 32)).cmp(r.eax, r.ecx).j('e', got);
      a.pause().dec(r.esi).j('ne', spin);
      a.push(r.rdx).movImm(r.edx, PORT_YIELD).outDx(8).pop(r.rdx).jmp(top);
      a.bind(got).pop(r.rsi).pop(r.rcx);
    }
    // Type 1: 0x80000000 | bus << 16 | devfn << 8 | (reg & 0xfc) to 0xCF8, data at 0xCFC + (reg & 3).
    a.mov(r.eax, r.edi).shl(r.eax, 8).mov(r.edx, r.esi).and(r.edx, 0xfc).or(r.eax, r.edx).or(r.eax, 0x80000000 | 0);
    a.movImm(r.edx, 0xcf8).outDx(32);
    a.mov(r.edx, r.esi).and(r.edx, 3).add(r.edx, 0xcfc);
    if (isWrite) {
      a.mov(r.eax, r.ecx).outDx(w);
    } else {
      a.inDx(w);
      if (w !== 32) a.movzx(r.eax, reg);
    }
    if (this.options.smp) a.movImm(r.rdx, CONF1_LOCK).inc(mem(r.rdx, 4, 32)); // unlock: serve the next ticket
    a.ret();
  }
}
