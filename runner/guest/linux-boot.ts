// A real Linux kernel booted without firmware by the 64-bit boot protocol
// (Documentation/arch/x86/boot.rst "64-bit Boot Protocol", zero-page.rst): the vmlinux segments at
// their physical addresses, a zero page with the bzImage's setup header, the command line and the
// e820 map, an identity map, a GDT with __BOOT_CS 0x10 / __BOOT_DS 0x18, and RSI = zero page.
// Precedents: Firecracker src/vmm/src/arch/x86_64 (regs.rs, msr.rs, mptable-free ACPI boot),
// rust-vmm linux-loader (configurator/x86_64), kvmtool x86/kvm.c.
import { buildPageTables } from './page-tables.js';
import { PML4 } from './guest-layout.js';
import { hdr, type BzImage } from './bzimage.js';
import type { Elf64 } from './elf.js';
import type { Segment, Vcpu } from '../vmm/vcpu.js';

/** Guest-physical layout below the kernel (which the vmlinux places at 16 MiB). */
export const linuxLayout = {
  gdt: 0x500,
  /** buildPageTables' PML4..PD3 sit at 0x1000..0x6fff (guest-layout.ts). */
  zeroPage: 0x7000,
  stackTop: 0x8ff0,
  cmdline: 0x20000,
  /** The EBDA and BIOS area, reserved in e820; the ACPI tables live at its top. */
  reservedLow: 0x9fc00,
  acpi: 0xe0000,
  acpiEnd: 0x100000,
  highRam: 0x100000,
} as const;

/** struct boot_params offsets (zero-page.rst). */
const bp = { acpiRsdpAddr: 0x070, e820Entries: 0x1e8, e820Table: 0x2d0 } as const;
const E820_MAX = 128;
export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

export interface LinuxBoot {
  bzImage: BzImage;
  vmlinux: Elf64;
  cmdline: string;
  ramSize: number;
  /** Ranges besides RAM the kernel must leave alone (e.g. the ECAM window, as firmware reserves it). */
  reserved: Array<{ addr: number; size: number }>;
  /** The ACPI tables' bytes, placed at linuxLayout.acpi, and the RSDP's address; none: acpi=off. */
  acpi?: { bytes: Uint8Array; rsdp: number };
}

/** The e820 map: low RAM, the reserved BIOS area (ACPI tables inside), RAM from 1 MiB, the reserved ranges. */
export function e820Map(ramSize: number, reserved: LinuxBoot['reserved']): E820Entry[] {
  const L = linuxLayout;
  const map: E820Entry[] = [
    { addr: 0, size: L.reservedLow, type: E820_RAM },
    { addr: L.reservedLow, size: L.highRam - L.reservedLow, type: E820_RESERVED },
    { addr: L.highRam, size: ramSize - L.highRam, type: E820_RAM },
    ...reserved.map((r) => ({ ...r, type: E820_RESERVED })),
  ];
  return map.sort((a, b) => a.addr - b.addr);
}

/** The zero page: the setup header copied from the bzImage (boot.rst: a 64-bit loader fills it the
 *  same way as a 32-bit one), type_of_loader 0xff (undefined), the command line and the e820 map. */
export function zeroPage(b: LinuxBoot): Uint8Array {
  const page = new Uint8Array(4096);
  const dv = new DataView(page.buffer);
  page.set(b.bzImage.setupHeader, hdr.setupSects);
  page[hdr.typeOfLoader] = 0xff;
  dv.setUint32(hdr.cmdLinePtr, linuxLayout.cmdline, true);
  const map = e820Map(b.ramSize, b.reserved);
  if (map.length > E820_MAX) throw new Error(`${map.length} e820 entries, the zero page holds ${E820_MAX}`);
  page[bp.e820Entries] = map.length;
  map.forEach((e, i) => {
    const at = bp.e820Table + 20 * i;
    dv.setBigUint64(at, BigInt(e.addr), true);
    dv.setBigUint64(at + 8, BigInt(e.size), true);
    dv.setUint32(at + 16, e.type, true);
  });
  if (b.acpi) dv.setBigUint64(bp.acpiRsdpAddr, BigInt(b.acpi.rsdp), true);
  return page;
}

/** GDT entries: null, null, __BOOT_CS (64-bit code), __BOOT_DS (arch/x86/include/asm/segment.h). */
const GDT = [0n, 0n, 0x00af9b000000ffffn, 0x00cf93000000ffffn];
const bootCode: Segment = { base: 0, limit: 0xffffffff, selector: 0x10, type: 11, present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0 };
const bootData: Segment = { base: 0, limit: 0xffffffff, selector: 0x18, type: 3, present: 1, dpl: 0, db: 1, s: 1, l: 0, g: 1, avl: 0 };

/** Writes the kernel, zero page, command line, GDT, page tables and ACPI tables into guest RAM (zeroed). */
export function writeLinuxImage(ram: Uint8Array, b: LinuxBoot): void {
  const L = linuxLayout;
  const cmd = new TextEncoder().encode(b.cmdline);
  if (cmd.length >= b.bzImage.cmdlineSize) throw new Error(`kernel command line is ${cmd.length} bytes, this kernel takes ${b.bzImage.cmdlineSize - 1}`);
  for (const s of b.vmlinux.segments) {
    if (s.paddr < L.highRam || s.paddr + s.memsz > b.ramSize) throw new Error(`vmlinux segment [0x${s.paddr.toString(16)}, +0x${s.memsz.toString(16)}) does not fit in ${b.ramSize >> 20} MiB of guest RAM above 1 MiB`);
    ram.set(s.data, s.paddr);
  }
  if (b.acpi) {
    if (b.acpi.bytes.length > L.acpiEnd - L.acpi) throw new Error(`ACPI tables are ${b.acpi.bytes.length} bytes, their area holds ${L.acpiEnd - L.acpi}`);
    ram.set(b.acpi.bytes, L.acpi);
  }
  const dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  buildPageTables(dv); // identity map of the low 4 GiB; startup_64 switches to its own tables at once
  GDT.forEach((e, i) => dv.setBigUint64(L.gdt + 8 * i, e, true));
  ram.set(zeroPage(b), L.zeroPage);
  ram.set(cmd, L.cmdline);
}

/** CPUID.1:ECX bit 31, "hypervisor present": without it Linux does not look for kvmclock
 *  (arch/x86/kernel/kvm.c kvm_detect via hypervisor_cpuid_base), finds no usable clock for TSC
 *  calibration and hangs. KVM_GET_SUPPORTED_CPUID leaves the bit to the VMM. */
export function withHypervisorBit(cpuid2: Buffer): Buffer {
  const out = Buffer.from(cpuid2);
  const n = out.readUInt32LE(0);
  for (let i = 0; i < n; i++) {
    const e = 8 + 40 * i; // struct kvm_cpuid_entry2: function, index, flags, eax, ebx, ecx, edx, padding[3]
    if (out.readUInt32LE(e) === 1) out.writeUInt32LE((out.readUInt32LE(e + 20) | 0x80000000) >>> 0, e + 20);
  }
  return out;
}

/** The guest CPU's vendor and family as Linux computes them (
 *  x86_family in arch/x86/lib/cpu.c: base family, plus the extended family when the base is 0xf). */
export interface GuestCpu {
  vendor: string;
  family: number;
}

/** Vendor (CPUID 0: EBX EDX ECX) and family (CPUID 1: EAX) from a kvm_cpuid2 buffer. */
export function guestCpuOf(cpuid2: Buffer): GuestCpu {
  const n = cpuid2.readUInt32LE(0);
  let vendor = '';
  let family = 0;
  for (let i = 0; i < n; i++) {
    const e = 8 + 40 * i;
    const fn = cpuid2.readUInt32LE(e);
    if (fn === 0) vendor = [16, 24, 20].map((o) => cpuid2.subarray(e + o, e + o + 4).toString('latin1')).join('');
    if (fn === 1) {
      const eax = cpuid2.readUInt32LE(e + 12);
      family = (eax >>> 8) & 0xf;
      if (family === 0xf) family += (eax >>> 20) & 0xff;
    }
  }
  return { vendor, family };
}

const MSR_IA32_MISC_ENABLE = 0x1a0;
const MSR_MTRR_DEF_TYPE = 0x2ff;

/** vCPU 0 at startup_64: long mode, the boot GDT, RSI = zero page, interrupts off (boot.rst); MSRs
 *  as Firecracker's msr.rs sets them (fast strings on, MTRRs enabled with write-back default). */
export function enterLinux64(vcpu: Vcpu, cpuid: Buffer, entry: number): void {
  vcpu.setCpuid(withHypervisorBit(cpuid));
  vcpu.setSregs({
    segments: { cs: bootCode, ds: bootData, es: bootData, fs: bootData, gs: bootData, ss: bootData },
    gdt: { base: linuxLayout.gdt, limit: GDT.length * 8 - 1 },
    cr0: 0x80000031, // PE | ET | NE | PG
    cr3: PML4,
    cr4: 0x20, // PAE
    efer: 0x500, // LME | LMA
  });
  vcpu.setMsrs([
    [MSR_IA32_MISC_ENABLE, 1n],
    [MSR_MTRR_DEF_TYPE, (1n << 11n) | 6n],
  ]);
  vcpu.setRegs({ rip: entry, rsi: linuxLayout.zeroPage, rsp: linuxLayout.stackTop, rbp: linuxLayout.stackTop, rflags: 2 });
}
