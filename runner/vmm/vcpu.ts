// A vCPU fd: registers, CPUID, the mmapped kvm_run and KVM_RUN with typed exits.
// The run loop is allocation-free: exits are a few pre-made objects that run() refills from a
// DataView over kvm_run (koffi view, no copy), so no struct is marshalled per exit.
import { MAP_SHARED, PROT_READ, PROT_WRITE, SysError, retrying, close, errno, errnoName, ioctlBuf, ioctlInt, mmapChecked, munmap, view } from './libc.js';
import {
  KVM_COALESCED_MMIO_PAGE_OFFSET,
  KVM_EXIT_IO_OUT,
  REGS,
  REGS_SIZE,
  SEGMENTS,
  SREGS_SIZE,
  exitReasons as X,
  ioctls,
  run as R,
  sregs as SR,
  type RegName,
  type SegName,
} from './kvm-abi.js';
import { KvmStats } from './kvm-stats.js';

export interface MmioExit {
  kind: 'mmio';
  /** guest physical address */
  addr: number;
  len: number;
  isWrite: boolean;
  /** kvm_run.mmio.data (8 bytes): the VMM fills it for reads, KVM filled it for writes. */
  data: Uint8Array;
}
export interface IoExit {
  kind: 'io';
  port: number;
  size: 1 | 2 | 4;
  count: number;
  isOut: boolean;
  /** size*count bytes inside the kvm_run mapping at io.data_offset. */
  data: Uint8Array;
}
export interface ShutdownExit {
  kind: 'shutdown';
}
export interface FailEntryExit {
  kind: 'fail-entry';
  hardwareReason: bigint;
}
export interface InternalErrorExit {
  kind: 'internal-error';
  suberror: number;
  data: bigint[];
}
export interface HltExit {
  kind: 'hlt';
}
export interface UnknownExit {
  kind: 'unknown';
  reason: number;
}
export type VcpuExit = MmioExit | IoExit | ShutdownExit | FailEntryExit | InternalErrorExit | HltExit | UnknownExit;

export interface Segment {
  base: number;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
}

/** A GDT or IDT register: base and limit (struct kvm_dtable). */
export interface DescriptorTable {
  base: number;
  limit: number;
}

export class Vcpu {
  private readonly runPtr: bigint;
  /** DataView over the whole vCPU mapping (kvm_run, the I/O data page, the coalesced ring). */
  readonly runView: DataView;
  private readonly runBytes: Uint8Array;
  private readonly runU32: Uint32Array;
  private readonly regsBuf = Buffer.alloc(REGS_SIZE);
  private readonly sregsBuf = Buffer.alloc(SREGS_SIZE);
  private readonly mmio: MmioExit;
  private readonly io: IoExit;
  private ioDataOffset = -1;
  /** Views of 1, 2 and 4 bytes at the I/O data offset (indexed by size; made on the first I/O exit). */
  private ioViews: Uint8Array[] = [];
  private closed = false;
  private statsFd: KvmStats | null = null;

  /** `runSize`: the kvm_run mapping's size (KVM_GET_VCPU_MMAP_SIZE), passed down by the Vm. */
  constructor(
    readonly fd: number,
    readonly id: number,
    readonly runSize: number,
  ) {
    this.runPtr = mmapChecked('mmap kvm_run', null, this.runSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const ab = view(this.runPtr, this.runSize);
    this.runView = new DataView(ab);
    this.runBytes = new Uint8Array(ab);
    this.runU32 = new Uint32Array(ab);
    this.mmio = { kind: 'mmio', addr: 0, len: 0, isWrite: false, data: this.runBytes.subarray(R.mmio_data, R.mmio_data + 8) };
    this.io = { kind: 'io', port: 0, size: 1, count: 0, isOut: false, data: this.runBytes.subarray(0, 0) };
  }

  /** KVM_RUN until the next exit to userspace (EINTR/EAGAIN are retried). The returned object is reused by the next call. */
  run(): VcpuExit {
    for (;;) {
      if (ioctlInt(this.fd, ioctls.KVM_RUN, 0) >= 0) break;
      const e = errno();
      const name = errnoName(e);
      if (name !== 'EINTR' && name !== 'EAGAIN') throw new SysError('KVM_RUN', e);
    }
    // Typed-array reads of the little-endian kvm_run: measurably cheaper per exit than DataView.
    const u32 = this.runU32;
    const reason = u32[R.exit_reason >> 2];
    if (reason === X.KVM_EXIT_MMIO) {
      const m = this.mmio;
      m.addr = u32[R.mmio_phys_addr >> 2] + u32[(R.mmio_phys_addr >> 2) + 1] * 0x100000000;
      m.len = u32[R.mmio_len >> 2];
      m.isWrite = this.runBytes[R.mmio_is_write] !== 0;
      return m;
    }
    if (reason === X.KVM_EXIT_IO) {
      const io = this.io;
      const b = this.runBytes;
      io.isOut = b[R.io_direction] === KVM_EXIT_IO_OUT;
      io.size = b[R.io_size] as 1 | 2 | 4;
      io.port = b[R.io_port] | (b[R.io_port + 1] << 8);
      io.count = u32[R.io_count >> 2];
      const off = u32[R.io_data_offset >> 2];
      if (off !== this.ioDataOffset) {
        // Only on the first I/O exit: the offset is fixed per vCPU.
        this.ioDataOffset = off;
        const none = b.subarray(off, off);
        this.ioViews = [none, b.subarray(off, off + 1), b.subarray(off, off + 2), none, b.subarray(off, off + 4)];
      }
      const size = io.size;
      // Single accesses (every conf1 exit: a 4-byte 0xCF8 write, then 1/2/4 bytes at 0xCFC) reuse
      // the pre-made views; only string I/O (count > 1) makes a new one.
      io.data = io.count === 1 && (size === 1 || size === 2 || size === 4) ? this.ioViews[size] : b.subarray(off, off + size * io.count);
      return io;
    }
    return this.slowExit(reason);
  }

  private slowExit(reason: number): VcpuExit {
    const v = this.runView;
    switch (reason) {
      case X.KVM_EXIT_SHUTDOWN:
        return { kind: 'shutdown' };
      case X.KVM_EXIT_HLT:
        return { kind: 'hlt' };
      case X.KVM_EXIT_FAIL_ENTRY:
        return { kind: 'fail-entry', hardwareReason: v.getBigUint64(R.fail_entry_reason, true) };
      case X.KVM_EXIT_INTERNAL_ERROR: {
        const n = Math.min(v.getUint32(R.internal_ndata, true), 16);
        const data = Array.from({ length: n }, (_, i) => v.getBigUint64(R.internal_data + 8 * i, true));
        return { kind: 'internal-error', suberror: v.getUint32(R.internal_suberror, true), data };
      }
      default:
        return { kind: 'unknown', reason };
    }
  }

  /** Applies and removes the writes KVM queued in the coalesced-MMIO ring (struct kvm_coalesced_mmio_ring
   *  at page KVM_COALESCED_MMIO_PAGE_OFFSET of the vCPU mapping); returns how many. */
  drainCoalesced(sink: (addr: number, len: number, value: number) => void): number {
    const v = this.runView;
    const ring = KVM_COALESCED_MMIO_PAGE_OFFSET * 4096;
    const max = Math.floor((4096 - 8) / 24); // KVM_COALESCED_MMIO_MAX
    let first = v.getUint32(ring, true);
    const last = v.getUint32(ring + 4, true);
    let n = 0;
    while (first !== last) {
      const e = ring + 8 + first * 24; // struct kvm_coalesced_mmio { u64 phys_addr; u32 len; u32 pio; u8 data[8]; }
      const addr = v.getUint32(e, true) + v.getUint32(e + 4, true) * 0x100000000;
      const len = v.getUint32(e + 8, true);
      sink(addr, len, len >= 4 ? v.getUint32(e + 16, true) : len === 2 ? v.getUint16(e + 16, true) : v.getUint8(e + 16));
      first = (first + 1) % max;
      v.setUint32(ring, first, true);
      n++;
    }
    return n;
  }

  getRegs(): Record<RegName, bigint> {
    retrying('KVM_GET_REGS', () => ioctlBuf(this.fd, ioctls.KVM_GET_REGS, this.regsBuf));
    return Object.fromEntries(REGS.map((n, i) => [n, this.regsBuf.readBigUInt64LE(i * 8)])) as Record<RegName, bigint>;
  }

  /** Sets the given registers; the others keep their current values. */
  setRegs(values: Partial<Record<RegName, number | bigint>>): void {
    retrying('KVM_GET_REGS', () => ioctlBuf(this.fd, ioctls.KVM_GET_REGS, this.regsBuf));
    REGS.forEach((n, i) => {
      const x = values[n];
      if (x !== undefined) this.regsBuf.writeBigUInt64LE(BigInt(x), i * 8);
    });
    retrying('KVM_SET_REGS', () => ioctlBuf(this.fd, ioctls.KVM_SET_REGS, this.regsBuf));
  }

  /** Control registers and EFER as numbers, for fault reports. */
  getSregs(): { cr0: bigint; cr2: bigint; cr3: bigint; cr4: bigint; efer: bigint; cs: Segment } {
    const b = this.sregsBuf;
    retrying('KVM_GET_SREGS', () => ioctlBuf(this.fd, ioctls.KVM_GET_SREGS, b));
    return {
      cr0: b.readBigUInt64LE(SR.cr0),
      cr2: b.readBigUInt64LE(SR.cr2),
      cr3: b.readBigUInt64LE(SR.cr3),
      cr4: b.readBigUInt64LE(SR.cr4),
      efer: b.readBigUInt64LE(SR.efer),
      cs: readSegment(b, 0),
    };
  }

  /** Sets segments, control registers and EFER (read-modify-write of struct kvm_sregs). */
  setSregs(s: { segments?: Partial<Record<SegName, Segment>>; gdt?: DescriptorTable; cr0?: number; cr3?: number; cr4?: number; efer?: number }): void {
    const b = this.sregsBuf;
    retrying('KVM_GET_SREGS', () => ioctlBuf(this.fd, ioctls.KVM_GET_SREGS, b));
    if (s.gdt) {
      // struct kvm_dtable { __u64 base; __u16 limit; __u16 padding[3]; }
      b.writeBigUInt64LE(BigInt(s.gdt.base), SR.gdt);
      b.writeUInt16LE(s.gdt.limit, SR.gdt + 8);
    }
    for (const [name, seg] of Object.entries(s.segments ?? {})) writeSegment(b, SEGMENTS.indexOf(name as SegName) * 24, seg);
    if (s.cr0 !== undefined) b.writeBigUInt64LE(BigInt(s.cr0), SR.cr0);
    if (s.cr3 !== undefined) b.writeBigUInt64LE(BigInt(s.cr3), SR.cr3);
    if (s.cr4 !== undefined) b.writeBigUInt64LE(BigInt(s.cr4), SR.cr4);
    if (s.efer !== undefined) b.writeBigUInt64LE(BigInt(s.efer), SR.efer);
    retrying('KVM_SET_SREGS', () => ioctlBuf(this.fd, ioctls.KVM_SET_SREGS, b));
  }

  /** KVM_SET_CPUID2 with a struct kvm_cpuid2 buffer (e.g. Kvm.supportedCpuid()). */
  setCpuid(cpuid2: Buffer): void {
    retrying('KVM_SET_CPUID2', () => ioctlBuf(this.fd, ioctls.KVM_SET_CPUID2, cpuid2));
  }

  /** KVM_SET_MSRS: every MSR must be taken, or it throws naming the first one KVM refused. */
  setMsrs(msrs: Array<[index: number, value: bigint]>): void {
    const b = Buffer.alloc(8 + 16 * msrs.length);
    b.writeUInt32LE(msrs.length, 0);
    msrs.forEach(([index, value], i) => {
      b.writeUInt32LE(index, 8 + 16 * i);
      b.writeBigUInt64LE(value, 8 + 16 * i + 8);
    });
    // KVM_SET_MSRS returns how many entries it set, stopping at the first it refuses.
    const n = retrying('KVM_SET_MSRS', () => ioctlBuf(this.fd, ioctls.KVM_SET_MSRS, b));
    if (n !== msrs.length) throw new Error(`KVM_SET_MSRS: KVM refused MSR 0x${msrs[n][0].toString(16)}`);
  }

  /** KVM_SET_MP_STATE, e.g. RUNNABLE for an AP that would otherwise wait for INIT/SIPI in KVM_RUN. */
  setMpState(state: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(state, 0);
    retrying(`KVM_SET_MP_STATE (vCPU ${this.id})`, () => ioctlBuf(this.fd, ioctls.KVM_SET_MP_STATE, b));
  }

  /** KVM_GET_TSC_KHZ: the guest TSC frequency. */
  tscKhz(): number {
    return retrying('KVM_GET_TSC_KHZ', () => ioctlInt(this.fd, ioctls.KVM_GET_TSC_KHZ, 0));
  }

  /** KVM_PRE_FAULT_MEMORY over [gpa, gpa+size): returns 0 or throws SysError (EOPNOTSUPP without TDP). */
  preFault(gpa: number, size: number): void {
    const b = Buffer.alloc(64);
    b.writeBigUInt64LE(BigInt(gpa), 0);
    b.writeBigUInt64LE(BigInt(size), 8);
    // The ioctl may stop early and update gpa/size: loop until the range is done (api.rst).
    do retrying('KVM_PRE_FAULT_MEMORY', () => ioctlBuf(this.fd, ioctls.KVM_PRE_FAULT_MEMORY, b));
    while (b.readBigUInt64LE(8) !== 0n);
  }

  /** Per-vCPU binary statistics, opened once. */
  stats(): KvmStats {
    this.statsFd ??= KvmStats.open(this.fd, 'vcpu');
    return this.statsFd;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statsFd?.close();
    munmap(this.runPtr, this.runSize);
    close(this.fd);
  }
}

function readSegment(b: Buffer, o: number): Segment {
  return {
    base: Number(b.readBigUInt64LE(o)),
    limit: b.readUInt32LE(o + 8),
    selector: b.readUInt16LE(o + 12),
    type: b[o + 14],
    present: b[o + 15],
    dpl: b[o + 16],
    db: b[o + 17],
    s: b[o + 18],
    l: b[o + 19],
    g: b[o + 20],
    avl: b[o + 21],
  };
}

/** struct kvm_segment: base u64, limit u32, selector u16, type present dpl db s l g avl unusable padding (u8 each). */
function writeSegment(b: Buffer, o: number, s: Segment): void {
  b.writeBigUInt64LE(BigInt(s.base), o);
  b.writeUInt32LE(s.limit >>> 0, o + 8);
  b.writeUInt16LE(s.selector, o + 12);
  b[o + 14] = s.type;
  b[o + 15] = s.present;
  b[o + 16] = s.dpl;
  b[o + 17] = s.db;
  b[o + 18] = s.s;
  b[o + 19] = s.l;
  b[o + 20] = s.g;
  b[o + 21] = s.avl;
  b[o + 22] = 0; // unusable
}
