// The ACPI tables a Linux guest booted without firmware (boot_params.acpi_rsdp_addr at the RSDP)
// reads to find the ECAM window and the PCI root bridge, so that every config access goes
// through ECAM: RSDP → XSDT → FADT (→ DSDT), MADT, MCFG. Sections are ACPI 6.5's; the MCFG is
// the PCI Firmware spec 3.3's 4.1.2.
import { device, dwordMemory, eisaId, integer, memory32Fixed, name, resourceTemplate, scope, wordBusNumber, wordIo, type Bytes } from './aml.js';

export interface AcpiSpec {
  /** GPA where the tables are laid out; RSDP first, 16-byte aligned. */
  base: number;
  /** Bytes available from base; throw an Error naming the size if the tables do not fit. */
  size: number;
  /** Local APICs in the MADT: APIC ids and ACPI processor UIDs 0..cpus-1, enabled. */
  cpus: number;
  /** The local APICs' MMIO base (0xFEE00000). */
  lapicAddress: number;
  /** The one I/O APIC: its id, MMIO base (0xFEC00000) and first GSI. */
  ioapic: { id: number; address: number; gsiBase: number };
  /** The ECAM window: segment 0, buses startBus..endBus at base (1 MiB per bus). */
  ecam: { base: number; startBus: number; endBus: number };
  /** Host-bridge windows for the root bridge's _CRS (what QEMU's q35 DSDT declares); inclusive [min, max]. */
  pciWindows: { io: Array<[number, number]>; mem32: Array<[number, number]> };
}

export interface AcpiTables {
  /** The bytes to copy to guest RAM at spec.base. */
  bytes: Uint8Array;
  /** GPA of the RSDP (= spec.base). */
  rsdp: number;
  /** Every table laid out, in order: signature ('RSD PTR ', 'XSDT', 'FACP', 'DSDT', 'APIC', 'MCFG'), GPA, length. */
  tables: Array<{ signature: string; gpa: number; length: number }>;
}

const OEM_ID = 'PCIHOL';
const OEM_TABLE_ID = 'PCIHOLEB';
const OEM_REVISION = 1;
const CREATOR_ID = 'PHB ';
const CREATOR_REVISION = 1;

const MiB = 0x100000;
const GiB4 = 2 ** 32;
/** The RSDP sits on a 16-byte boundary (5.2.5.1); the tables follow on the same grid. */
const ALIGN = 16;

/** 5.2.5.3 RSDP, revision 2 (ACPI 2.0+, with the XSDT): the ACPI 1.0 checksum covers the
 *  first v1Size bytes, the extended checksum all of them. */
const RSDP = { checksum: 8, oemId: 9, revision: 15, length: 20, xsdt: 24, extendedChecksum: 32, v1Size: 20, size: 36 } as const;
const RSDP_REVISION = 2;
/** 5.2.6 System Description Table Header. */
const HEADER = { length: 4, revision: 8, checksum: 9, oemId: 10, oemTableId: 16, oemRevision: 24, creatorId: 28, creatorRevision: 32, size: 36 } as const;

/** 5.2.9 FADT, revision 6 minor 5 (ACPI 6.5): 276 bytes, up to the Hypervisor Vendor Identity
 *  (left 0). No FACS (FIRMWARE_CTRL 0): HW-reduced platforms have none. */
const FADT = { dsdt: 40, iapcBootArch: 109, flags: 112, minorVersion: 131, xDsdt: 140, size: 276 } as const;
const FADT_REVISION = 6;
const FADT_MINOR_VERSION = 5;
// 5.2.9.3 IA-PC Boot Architecture Flags. LEGACY_DEVICES and 8042 (bits 0, 1) stay clear, so
// Linux (arch/x86/kernel/acpi/boot.c acpi_parse_fadt) probes neither ISA PnP nor a PS/2 controller.
const IAPC_VGA_NOT_PRESENT = 1 << 2;
const IAPC_CMOS_RTC_NOT_PRESENT = 1 << 5;
// 5.2.9 FADT Fixed Feature Flags.
const FADT_PWR_BUTTON = 1 << 4; // set: no fixed-feature power button
const FADT_SLP_BUTTON = 1 << 5; // set: no fixed-feature sleep button
/** HW_REDUCED_ACPI: no PM1/GPE blocks, SCI, FACS or 8259. ACPICA's FADT parser (tbfadt.c
 *  acpi_tb_convert_fadt) then returns before it checks the required PM1 blocks, all 0 here,
 *  and acpi_tb_parse_fadt installs no FACS; Linux swaps in null_legacy_pic
 *  (arch/x86/kernel/acpi/boot.c acpi_generic_reduced_hw_init). */
const FADT_HW_REDUCED_ACPI = 1 << 20;

/** 5.2.12 MADT: the header, then the interrupt controller structures. */
const MADT = { lapicAddress: 36, flags: 40, entries: 44 } as const;
const MADT_REVISION = 5; // ACPI 6.3+
/** 5.2.12.2 Processor Local APIC: type, length, processor UID, APIC id, u32 flags. */
const LOCAL_APIC = { type: 0, size: 8, flags: 4 } as const;
const LOCAL_APIC_ENABLED = 1;
/** 5.2.12.3 I/O APIC: type, length, I/O APIC id, reserved, u32 address, u32 GSI base. */
const IO_APIC = { type: 1, size: 12, address: 4, gsiBase: 8 } as const;
/** The Local APIC entry's APIC id is a u8 and 0xFF is the broadcast id. */
const MAX_XAPIC_CPUS = 255;

/** PCI Firmware spec 3.3 4.1.2 MCFG: the header, 8 reserved bytes, one 16-byte allocation. */
const MCFG = { base: 44, segment: 52, startBus: 54, endBus: 55, size: 60 } as const;
const MCFG_REVISION = 1;
const PCI_SEGMENT = 0;

const XSDT_REVISION = 1;
const XSDT_ENTRY_SIZE = 8;
/** Revision 2+ makes AML integers 64-bit (5.2.11.1). */
const DSDT_REVISION = 2;

/** The DSDT's AML: \_SB.PCI0, the PCI Express root bridge (Linux drivers/acpi/pci_root.c reads
 *  _SEG, the bus range of _CRS and its windows), and \_SB.RES0, a motherboard-resources device
 *  whose _CRS covers the ECAM window. Linux 6.1 accepts the MCFG only late, in
 *  pci_mmcfg_late_init, and only if pci_mmcfg_check_reserved → is_acpi_reserved finds the
 *  window inside a Memory32Fixed or memory address descriptor of a PNP0C01/PNP0C02 _CRS (its
 *  early E820 check needs the 0xCF8 port, hidden here); either _RW value passes. */
function dsdtAml(ecam: AcpiSpec['ecam'], windows: AcpiSpec['pciWindows']): Bytes {
  const crs = resourceTemplate(
    wordBusNumber(ecam.startBus, ecam.endBus),
    ...windows.io.map(([min, max]) => wordIo(min, max)),
    ...windows.mem32.map(([min, max]) => dwordMemory(min, max)),
  );
  const ecamLength = (ecam.endBus - ecam.startBus + 1) * MiB;
  return scope(
    '\\_SB',
    device(
      'PCI0',
      name('_HID', integer(eisaId('PNP0A08'))),
      name('_CID', integer(eisaId('PNP0A03'))),
      name('_SEG', integer(PCI_SEGMENT)),
      name('_BBN', integer(ecam.startBus)),
      name('_UID', integer(0)),
      name('_CRS', crs),
    ),
    device('RES0', name('_HID', integer(eisaId('PNP0C02'))), name('_UID', integer(1)), name('_CRS', resourceTemplate(memory32Fixed(ecam.base, ecamLength)))),
  );
}

/** Sum of bytes mod 256 (0 for a valid table). */
export function acpiChecksum(bytes: Uint8Array): number {
  return bytes.reduce((sum, b) => (sum + b) & 0xff, 0);
}

/** Sets bytes[at] so that `bytes` sums to 0. */
function seal(bytes: Uint8Array, at: number): void {
  bytes[at] = 0;
  bytes[at] = (0x100 - acpiChecksum(bytes)) & 0xff;
}

function ascii(bytes: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) bytes[at + i] = s.charCodeAt(i);
}

function checkSpec(spec: AcpiSpec): void {
  const int = (v: number, max: number, what: string) => {
    if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new Error(`ACPI: ${what} ${v} is outside 0..${max}`);
  };
  int(spec.base, GiB4 - 1, 'table base');
  if (spec.base % ALIGN) throw new Error(`ACPI: table base 0x${spec.base.toString(16)} is not ${ALIGN}-byte aligned`);
  int(spec.cpus, MAX_XAPIC_CPUS, 'cpus');
  if (spec.cpus < 1) throw new Error('ACPI: the MADT needs at least one CPU');
  int(spec.lapicAddress, GiB4 - 1, 'local APIC address');
  int(spec.ioapic.id, 0xff, 'I/O APIC id');
  int(spec.ioapic.address, GiB4 - 1, 'I/O APIC address');
  int(spec.ioapic.gsiBase, GiB4 - 1, 'I/O APIC GSI base');
  const { base, startBus, endBus } = spec.ecam;
  int(endBus, 0xff, 'ECAM end bus');
  int(startBus, endBus, 'ECAM start bus');
  // The MCFG's base is where bus 0 would be (pci_mmconfig_alloc adds start_bus << 20).
  int(base - startBus * MiB, GiB4 - 1, 'ECAM bus-0 address');
  // Memory32Fixed describes the window to PNP0C02, and check_mcfg_resource
  // (arch/x86/pci/mmconfig-shared.c) adds its u32 base and length: they must not wrap.
  if (base + (endBus - startBus + 1) * MiB >= GiB4) throw new Error(`ACPI: ECAM window at 0x${base.toString(16)} must end below 4 GiB`);
}

/** Builds RSDP, XSDT, FADT, DSDT, MADT and MCFG laid out from spec.base. */
export function buildAcpiTables(spec: AcpiSpec): AcpiTables {
  checkSpec(spec);
  const aml = dsdtAml(spec.ecam, spec.pciWindows);
  const xsdtEntries = ['FACP', 'APIC', 'MCFG'];
  const sizes: Array<[string, number]> = [
    ['RSD PTR ', RSDP.size],
    ['XSDT', HEADER.size + XSDT_ENTRY_SIZE * xsdtEntries.length],
    ['FACP', FADT.size],
    ['DSDT', HEADER.size + aml.length],
    ['APIC', MADT.entries + spec.cpus * LOCAL_APIC.size + IO_APIC.size],
    ['MCFG', MCFG.size],
  ];
  let end = spec.base;
  const tables = sizes.map(([signature, length]) => {
    const gpa = Math.ceil(end / ALIGN) * ALIGN;
    end = gpa + length;
    return { signature, gpa, length };
  });
  if (end - spec.base > spec.size) throw new Error(`ACPI tables need ${end - spec.base} bytes, the ${spec.size} bytes at 0x${spec.base.toString(16)} do not hold them`);
  // The FADT's DSDT field is 32-bit (X_DSDT is not).
  if (end > GiB4) throw new Error(`ACPI tables at 0x${spec.base.toString(16)} must end below 4 GiB`);

  const bytes = new Uint8Array(end - spec.base);
  const dv = new DataView(bytes.buffer);
  const table = (sig: string) => tables.find((t) => t.signature === sig)!;
  const gpa = (sig: string) => table(sig).gpa;
  /** Writes `sig`'s header; returns the table's offset in `bytes`. */
  const header = (sig: string, revision: number) => {
    const o = gpa(sig) - spec.base;
    ascii(bytes, o, sig);
    dv.setUint32(o + HEADER.length, table(sig).length, true);
    bytes[o + HEADER.revision] = revision;
    ascii(bytes, o + HEADER.oemId, OEM_ID);
    ascii(bytes, o + HEADER.oemTableId, OEM_TABLE_ID);
    dv.setUint32(o + HEADER.oemRevision, OEM_REVISION, true);
    ascii(bytes, o + HEADER.creatorId, CREATOR_ID);
    dv.setUint32(o + HEADER.creatorRevision, CREATOR_REVISION, true);
    return o;
  };

  ascii(bytes, 0, 'RSD PTR ');
  ascii(bytes, RSDP.oemId, OEM_ID);
  bytes[RSDP.revision] = RSDP_REVISION;
  dv.setUint32(RSDP.length, RSDP.size, true);
  dv.setBigUint64(RSDP.xsdt, BigInt(gpa('XSDT')), true);

  const xsdt = header('XSDT', XSDT_REVISION);
  xsdtEntries.forEach((sig, i) => dv.setBigUint64(xsdt + HEADER.size + XSDT_ENTRY_SIZE * i, BigInt(gpa(sig)), true));

  const fadt = header('FACP', FADT_REVISION);
  dv.setUint32(fadt + FADT.dsdt, gpa('DSDT'), true);
  dv.setUint16(fadt + FADT.iapcBootArch, IAPC_VGA_NOT_PRESENT | IAPC_CMOS_RTC_NOT_PRESENT, true);
  dv.setUint32(fadt + FADT.flags, FADT_HW_REDUCED_ACPI | FADT_PWR_BUTTON | FADT_SLP_BUTTON, true);
  bytes[fadt + FADT.minorVersion] = FADT_MINOR_VERSION;
  dv.setBigUint64(fadt + FADT.xDsdt, BigInt(gpa('DSDT')), true);

  bytes.set(aml, header('DSDT', DSDT_REVISION) + HEADER.size);

  // Flags 0, no PCAT_COMPAT: in HW-reduced mode Linux never drives an 8259 (null_legacy_pic),
  // though KVM_CREATE_IRQCHIP made one; Firecracker and Cloud Hypervisor leave it 0 too.
  // No Interrupt Source Override IRQ0 -> GSI 2 either: it only moves the PIT's ISA IRQ 0, and
  // HW-reduced Linux starts no PIT timer (timer_init is a no-op) and maps no ISA IRQs
  // (mp_config_acpi_legacy_irqs loops over nr_legacy_irqs(), 0 for null_legacy_pic).
  const madt = header('APIC', MADT_REVISION);
  dv.setUint32(madt + MADT.lapicAddress, spec.lapicAddress, true);
  let e = madt + MADT.entries;
  for (let cpu = 0; cpu < spec.cpus; cpu++, e += LOCAL_APIC.size) {
    bytes.set([LOCAL_APIC.type, LOCAL_APIC.size, cpu, cpu], e);
    dv.setUint32(e + LOCAL_APIC.flags, LOCAL_APIC_ENABLED, true);
  }
  bytes.set([IO_APIC.type, IO_APIC.size, spec.ioapic.id], e);
  dv.setUint32(e + IO_APIC.address, spec.ioapic.address, true);
  dv.setUint32(e + IO_APIC.gsiBase, spec.ioapic.gsiBase, true);

  const mcfg = header('MCFG', MCFG_REVISION);
  dv.setBigUint64(mcfg + MCFG.base, BigInt(spec.ecam.base - spec.ecam.startBus * MiB), true);
  dv.setUint16(mcfg + MCFG.segment, PCI_SEGMENT, true);
  bytes[mcfg + MCFG.startBus] = spec.ecam.startBus;
  bytes[mcfg + MCFG.endBus] = spec.ecam.endBus;

  seal(bytes.subarray(0, RSDP.v1Size), RSDP.checksum);
  seal(bytes.subarray(0, RSDP.size), RSDP.extendedChecksum);
  for (const t of tables.slice(1)) seal(bytes.subarray(t.gpa - spec.base, t.gpa - spec.base + t.length), HEADER.checksum);

  return { bytes, rsdp: spec.base, tables };
}
