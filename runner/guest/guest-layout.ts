// Guest physical memory layout. Everything the guest needs lives in one RAM slot at GPA 0;
// the ECAM window and the IOAPIC page are elsewhere and belong to the strategy / KVM.

export const RAM_SIZE = 8 * 1024 * 1024;

export const PML4 = 0x1000;
export const PDPT = 0x2000;
/** Four page directories: identity map of the low 4 GiB in 2 MiB pages. */
export const PD0 = 0x3000;
/** Boot info the guest receives in rsi at entry (like Linux's boot_params). */
export const INFO = 0x7000;
/** Per-vCPU phase marks: 0x800 bytes each. */
export const MARKS = 0x8000;
export const MARKS_STRIDE = 0x800;
export const MAX_MARKS = 64;
/** Scratch data shared by the vCPUs (known-bus bitmap, barrier). */
export const SCRATCH = 0xc000;
export const CODE = 0x10000;
export const CODE_MAX = 0x80000;
/** Stacks: vCPU i uses [STACK_TOP - (i+1)*STACK_SIZE, STACK_TOP - i*STACK_SIZE). */
export const STACK_TOP = 0x100000;
export const STACK_SIZE = 0x4000;
/** Per-vCPU discovery records: u64 count then 16-byte records. */
export const RECORDS = 0x100000;
export const RECORDS_STRIDE = 0x40000;
export const RECORD_SIZE = 16;
/** Pool of 4 KiB page-table pages for windows a strategy maps with 4 KiB guest pages. */
export const PT_POOL = 0x400000;
export const PT_POOL_END = 0x800000;

/** Info page fields (u64 each), offsets from INFO. */
export const info = {
  magic: 0,
  /** Config-space base as the guest must use it (ECAM: a virtual address; conf1: unused). */
  configBase: 8,
  /** The last bus the VMM declares (MCFG end bus): the peer-bridge fixup scans up to it. */
  lastBus: 16,
  vcpus: 24,
  /** guest-enlightenment: number of present functions published, then one u32 each at presentList:
   *  bus<<8 | devfn | secondary<<16 | subordinate<<24 (runner/guest/guest-image.ts writeImage). */
  presentCount: 32,
  presentList: 40,
  /** Scan passes (rescan workload). */
  passes: 48,
} as const;
export const INFO_MAGIC = 0x31454c4f48494350n; // "PCIHOLE1"
/** Where presentList points: after the fixed fields, inside the info page. */
export const PRESENT_LIST = INFO + 0x100;
/** u32 entries that fit between PRESENT_LIST and the end of the info page. */
export const PRESENT_MAX = (0x1000 - 0x100) / 4;

/** Marks: u64 count, then entries of { tsc, accesses, holeAccesses } u64. */
export const MARK_ENTRY = 24;

/** Ports the guest uses to talk to the harness (not PCI). */
export const PORT_DONE = 0x5000;
/** A vCPU that has spun long on a lock gives its host CPU away (as Linux's paravirt spinlocks
 *  halt in pv_wait): the VMM answers with sched_yield(). Only SMP programs use it. */
export const PORT_YIELD = 0x5001;

/** Guest entry state that runs natively at CPL3 (see docs/methodology.md, "Why the guest runs at CPL3"). */
export const entry = {
  cr0: 0x80000031, // PE | ET | NE | PG
  cr4: 0x620, // PAE | OSFXSR | OSXMMEXCPT
  efer: 0x500, // LME | LMA
  rflags: 0x3002, // IOPL = 3: port I/O allowed at CPL3
} as const;
