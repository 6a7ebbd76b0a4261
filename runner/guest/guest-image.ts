// Lays out guest RAM (page tables, boot info, program) and puts vCPUs in 64-bit long mode at CPL3.
// Why CPL3: on paravirtual KVM backends (kvm_pvm) CPL0 guest code is emulated instruction by
// instruction, ~10 000x slower; user-mode long-mode code runs natively everywhere.
import {
  CODE,
  CODE_MAX,
  INFO,
  INFO_MAGIC,
  MARKS,
  MARKS_STRIDE,
  PML4,
  PRESENT_LIST,
  PRESENT_MAX,
  RECORDS,
  RECORDS_STRIDE,
  STACK_SIZE,
  STACK_TOP,
  entry,
  info,
} from './guest-layout.js';
import { buildPageTables, type Remap4k } from './page-tables.js';
import type { Vcpu, Segment } from '../vmm/vcpu.js';
import { KVM_MP_STATE_RUNNABLE } from '../vmm/kvm-abi.js';

/** A present function as the VMM publishes it (bus numbers as Linux assigns them). */
export interface PresentFunction {
  bus: number;
  devfn: number;
  /** For bridges: the secondary/subordinate buses Linux assigns; 0 otherwise. */
  secondary: number;
  subordinate: number;
}

export interface BootInfo {
  configBase: number;
  lastBus: number;
  vcpus: number;
  passes: number;
  /** Published only for the enlightened guest. */
  present?: PresentFunction[];
}

/** Writes page tables, boot info and the program into guest RAM (which starts zeroed). */
export function writeImage(ram: Uint8Array, program: Uint8Array, boot: BootInfo, remap?: Remap4k): void {
  if (program.length > CODE_MAX - CODE) throw new Error(`guest program is ${program.length} bytes, the code area holds ${CODE_MAX - CODE}`);
  const dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  buildPageTables(dv, remap);
  const put = (field: number, v: number | bigint) => dv.setBigUint64(INFO + field, BigInt(v), true);
  put(info.magic, INFO_MAGIC);
  put(info.configBase, boot.configBase);
  put(info.lastBus, boot.lastBus);
  put(info.vcpus, boot.vcpus);
  put(info.passes, boot.passes);
  const present = boot.present ?? [];
  if (present.length > PRESENT_MAX) throw new Error(`too many present functions to publish (${present.length})`);
  put(info.presentCount, present.length);
  put(info.presentList, PRESENT_LIST);
  present.forEach((p, i) => dv.setUint32(PRESENT_LIST + 4 * i, ((p.bus << 8) | p.devfn | (p.secondary << 16) | (p.subordinate << 24)) >>> 0, true));
  for (let v = 0; v < boot.vcpus; v++) {
    // The marks block starts with its own write pointer.
    dv.setBigUint64(MARKS + v * MARKS_STRIDE, BigInt(MARKS + v * MARKS_STRIDE + 8), true);
  }
  ram.set(program, CODE);
}

const userCode: Segment = { base: 0, limit: 0xffffffff, selector: 0x1b, type: 11, present: 1, dpl: 3, db: 0, s: 1, l: 1, g: 1, avl: 0 };
const userData: Segment = { base: 0, limit: 0xffffffff, selector: 0x23, type: 3, present: 1, dpl: 3, db: 1, s: 1, l: 0, g: 1, avl: 0 };

/** Long mode, paging on, CPL3 segments, IOPL 3; no GDT/IDT is needed while the guest takes no exception.
 *  A vCPU other than 0 is an AP: with an in-kernel local APIC (KVM_CREATE_IRQCHIP, the IOAPIC
 *  proxy strategies) it would wait for INIT/SIPI in KVM_RUN forever, so it is made runnable. */
export function enterLongModeCpl3(vcpu: Vcpu, cpuid: Buffer, index: number): void {
  if (index > 0) vcpu.setMpState(KVM_MP_STATE_RUNNABLE);
  vcpu.setCpuid(cpuid);
  vcpu.setSregs({
    segments: { cs: userCode, ds: userData, es: userData, fs: userData, gs: userData, ss: userData },
    cr0: entry.cr0,
    cr3: PML4,
    cr4: entry.cr4,
    efer: entry.efer,
  });
  vcpu.setRegs({
    rip: CODE,
    rflags: entry.rflags,
    rsp: STACK_TOP - index * STACK_SIZE,
    rsi: INFO,
    rdi: index,
    r10: INFO,
    r11: RECORDS + index * RECORDS_STRIDE,
    r14: MARKS + index * MARKS_STRIDE,
    r12: 0,
    r13: 0,
  });
}
