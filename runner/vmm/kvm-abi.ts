// ioctl numbers, capabilities and struct layouts from <linux/kvm.h> (x86-64).
// Numbers checked against the header with a C program (sizeof/offsetof); see test/kvm-abi.test.ts.

const KVMIO = 0xae;
const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;
const ioc = (dir: number, nr: number, size: number): number => ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
const io = (nr: number) => ioc(IOC_NONE, nr, 0);
const iow = (nr: number, size: number) => ioc(IOC_WRITE, nr, size);
const ior = (nr: number, size: number) => ioc(IOC_READ, nr, size);
const iowr = (nr: number, size: number) => ioc(IOC_READ | IOC_WRITE, nr, size);

export const KVM_API_VERSION = 12;

export const ioctls = {
  KVM_GET_API_VERSION: io(0x00),
  KVM_CREATE_VM: io(0x01),
  KVM_CHECK_EXTENSION: io(0x03),
  KVM_GET_VCPU_MMAP_SIZE: io(0x04),
  KVM_GET_SUPPORTED_CPUID: iowr(0x05, 8),
  KVM_CREATE_VCPU: io(0x41),
  KVM_SET_USER_MEMORY_REGION: iow(0x46, 32),
  KVM_SET_TSS_ADDR: io(0x47),
  /** struct kvm_pit_config { __u32 flags; __u32 pad[15]; } */
  KVM_CREATE_PIT2: iow(0x77, 64),
  /** struct kvm_msrs { __u32 nmsrs; __u32 pad; struct kvm_msr_entry entries[]; } (entry: u32 index, u32 reserved, u64 data) */
  KVM_SET_MSRS: iow(0x89, 8),
  KVM_CREATE_IRQCHIP: io(0x60),
  KVM_GET_IRQCHIP: iowr(0x62, 520),
  KVM_SET_IRQCHIP: ior(0x63, 520),
  KVM_REGISTER_COALESCED_MMIO: iow(0x67, 16),
  KVM_RUN: io(0x80),
  KVM_GET_REGS: ior(0x81, 144),
  KVM_SET_REGS: iow(0x82, 144),
  KVM_GET_SREGS: ior(0x83, 312),
  KVM_SET_SREGS: iow(0x84, 312),
  KVM_SET_CPUID2: iow(0x90, 8),
  KVM_GET_TSC_KHZ: io(0xa3),
  KVM_GET_STATS_FD: io(0xce),
  /** struct kvm_mp_state { __u32 mp_state; } */
  KVM_SET_MP_STATE: iow(0x99, 4),
  /** struct kvm_pre_fault_memory { u64 gpa, size, flags, padding[5]; } (Linux 6.10) */
  KVM_PRE_FAULT_MEMORY: iowr(0xd5, 64),
  /** Patched KVM only (kernel/0002): struct kvm_mmio_fill { u64 addr, size; u8 fill, pad[3]; u32 flags; } */
  KVM_REGISTER_MMIO_FILL: iow(0xf0, 24),
  KVM_UNREGISTER_MMIO_FILL: iow(0xf1, 24),
} as const;

export const caps = {
  KVM_CAP_IRQCHIP: 0,
  KVM_CAP_USER_MEMORY: 3,
  KVM_CAP_NR_MEMSLOTS: 10,
  KVM_CAP_COALESCED_MMIO: 15,
  KVM_CAP_IOEVENTFD: 36,
  KVM_CAP_GET_TSC_KHZ: 61,
  KVM_CAP_READONLY_MEM: 81,
  KVM_CAP_BINARY_STATS_FD: 203,
  KVM_CAP_PRE_FAULT_MEMORY: 236,
  /** Patched KVM only (kernel/0001): KVM_MEM_PCI_HOLE memslots. Private range from 0x10000: upstream grows from 0. */
  KVM_CAP_PCI_HOLE_MEM: 0x10001,
  /** Patched KVM only (kernel/0002): KVM_REGISTER_MMIO_FILL. */
  KVM_CAP_MMIO_FILL: 0x10002,
  /** Patched KVM only (kernel/0004): KVM_MEM_SINGLE_HVA and KVM_MEM_SINGLE_HVA_2M memslots. */
  KVM_CAP_SINGLE_HVA: 0x10003,
  /** Patched KVM only (kernel/0005): KVM_MEM_PREFETCH_2M; its value says whether TDP is on. */
  KVM_CAP_PREFETCH_2M: 0x10004,
  /** Patched KVM only (kernel/0006, ours, not the 2020 series'): KVM_MEM_PCI_HOLE_MMIO. */
  KVM_CAP_PCI_HOLE_MMIO: 0x10005,
  /** Patched KVM only (kernel/0007): KVM_MEM_PREFETCH_2M_BATCH; its value says whether TDP is on. */
  KVM_CAP_PREFETCH_2M_BATCH: 0x10006,
} as const;
export type CapName = keyof typeof caps;

export const KVM_MEM_READONLY = 1 << 1;
/** Patched KVM only (kernel/0001): bit 15, the last userspace-visible memslot flag (upstream took the series' bit 2). */
export const KVM_MEM_PCI_HOLE_BIT = 15;
/** Patched KVM only (kernel/0004): every GFN of a read-only slot reads the host page at userspace_addr. */
export const KVM_MEM_SINGLE_HVA_BIT = 14;
/** kernel/0004: GFN → userspace_addr + (offset in the slot mod 2 MiB): one 2 MiB page backs the slot, mapped huge. */
export const KVM_MEM_SINGLE_HVA_2M_BIT = 13;
/** kernel/0005: with TDP, a fault in this read-only slot maps its whole 2 MiB-aligned range (within the slot). */
export const KVM_MEM_PREFETCH_2M_BIT = 12;
/** kernel/0006 (ours): beside KVM_MEM_PCI_HOLE, reads get MMIO SPTEs too (one fault per page, then none). */
export const KVM_MEM_PCI_HOLE_MMIO_BIT = 11;
/** kernel/0007: as KVM_MEM_PREFETCH_2M, the range mapped in one batch (one GUP, one mmu_lock hold). */
export const KVM_MEM_PREFETCH_2M_BATCH_BIT = 10;
/** kernel/0002: writes to the fill zone exit to userspace instead of being dropped. */
export const KVM_MMIO_FILL_WRITE_EXIT = 1 << 0;
export const KVM_MP_STATE_RUNNABLE = 0;
/** kvm_pit_config.flags: the PC speaker port 0x61 is emulated as a dummy (as Firecracker and QEMU set it). */
export const KVM_PIT_SPEAKER_DUMMY = 1;

export const exitReasons = {
  KVM_EXIT_UNKNOWN: 0,
  KVM_EXIT_IO: 2,
  KVM_EXIT_HLT: 5,
  KVM_EXIT_MMIO: 6,
  KVM_EXIT_SHUTDOWN: 8,
  KVM_EXIT_FAIL_ENTRY: 9,
  KVM_EXIT_INTR: 10,
  KVM_EXIT_INTERNAL_ERROR: 17,
} as const;

export const KVM_EXIT_IO_IN = 0;
export const KVM_EXIT_IO_OUT = 1;

/** struct kvm_run offsets */
export const run = {
  exit_reason: 8,
  /** union at 32 */
  mmio_phys_addr: 32,
  mmio_data: 40,
  mmio_len: 48,
  mmio_is_write: 52,
  io_direction: 32,
  io_size: 33,
  io_port: 34,
  io_count: 36,
  io_data_offset: 40,
  internal_suberror: 32,
  internal_ndata: 36,
  internal_data: 40,
  fail_entry_reason: 32,
  fail_entry_cpu: 40,
  size: 2352,
} as const;

/** struct kvm_regs: 18 u64 in this order. */
export const REGS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'] as const;
export type RegName = (typeof REGS)[number];
export const REGS_SIZE = 144;

/** struct kvm_sregs: 8 kvm_segment (24 bytes each: cs ds es fs gs ss tr ldt), gdt, idt (dtable 16 each), cr0 cr2 cr3 cr4 cr8 efer apic_base, interrupt_bitmap. */
export const SREGS_SIZE = 312;
export const SEGMENTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
export type SegName = (typeof SEGMENTS)[number];
export const sregs = { gdt: 192, idt: 208, cr0: 224, cr2: 232, cr3: 240, cr4: 248, cr8: 256, efer: 264, apic_base: 272 } as const;

/** struct kvm_cpuid2 header (nent, padding) then kvm_cpuid_entry2 (40 bytes) entries. */
export const CPUID_ENTRY_SIZE = 40;

/** struct kvm_irqchip: chip_id u32, pad u32, union (512 bytes) at 8. IOAPIC is chip 2. */
export const IRQCHIP_SIZE = 520;
export const KVM_IRQCHIP_IOAPIC = 2;
/** struct kvm_ioapic_state: base_address u64, ioregsel u32, id u32, irr u32, pad u32, redirtbl[24] */
export const IOAPIC_IOREGSEL_OFFSET = 8 + 8;
export const IOAPIC_BASE = 0xfec00000;
/** IOAPIC data window (IOWIN) offset in its page. */
export const IOAPIC_IOWIN = 0x10;

/** The coalesced-MMIO ring is page KVM_COALESCED_MMIO_PAGE_OFFSET of the vCPU mmap. */
export const KVM_COALESCED_MMIO_PAGE_OFFSET = 2; // x86: page 1 is the port-I/O data page (asm/kvm.h)
