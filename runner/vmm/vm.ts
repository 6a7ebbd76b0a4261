// A VM fd: memory slots, the in-kernel irqchip, coalesced MMIO zones, binary stats, vCPUs.
import { retrying, close, ioctlBuf, ioctlInt } from './libc.js';
import { IOAPIC_IOREGSEL_OFFSET, IRQCHIP_SIZE, KVM_IRQCHIP_IOAPIC, ioctls } from './kvm-abi.js';
import { Vcpu } from './vcpu.js';
import { KvmStats } from './kvm-stats.js';

export interface MemorySlot {
  slot: number;
  flags: number;
  gpa: number;
  size: number;
  hva: bigint;
}

export class Vm {
  readonly vcpus: Vcpu[] = [];
  readonly slots: MemorySlot[] = [];
  private closed = false;
  private stats: KvmStats | null = null;
  private readonly regionBuf = Buffer.alloc(32);

  /** `runSize` is KVM_GET_VCPU_MMAP_SIZE, read once from /dev/kvm (kvm-ioctls' VmFd{run_size}):
   *  the VM hands it to its vCPUs and needs nothing else from its Kvm. */
  constructor(
    readonly fd: number,
    readonly runSize: number,
  ) {}

  /** KVM_SET_USER_MEMORY_REGION for a new slot. The host memory must stay mapped until close(). */
  addMemory(gpa: number, size: number, hva: bigint, flags = 0): MemorySlot {
    const slot = { slot: this.slots.length, flags, gpa, size, hva };
    const b = this.regionBuf;
    b.writeUInt32LE(slot.slot, 0);
    b.writeUInt32LE(flags, 4);
    b.writeBigUInt64LE(BigInt(gpa), 8);
    b.writeBigUInt64LE(BigInt(size), 16);
    b.writeBigUInt64LE(hva, 24);
    retrying(`KVM_SET_USER_MEMORY_REGION (slot ${slot.slot}, gpa 0x${gpa.toString(16)}, ${size} bytes)`, () => ioctlBuf(this.fd, ioctls.KVM_SET_USER_MEMORY_REGION, b));
    this.slots.push(slot);
    return slot;
  }

  /** KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and local APICs. Must precede vCPU creation. */
  createIrqchip(): void {
    if (this.vcpus.length) throw new Error('KVM_CREATE_IRQCHIP must come before KVM_CREATE_VCPU');
    retrying('KVM_CREATE_IRQCHIP', () => ioctlInt(this.fd, ioctls.KVM_CREATE_IRQCHIP, 0));
  }

  /** KVM_SET_TSS_ADDR: three pages below 4 GiB that KVM keeps for real-mode emulation on Intel
   *  (api.rst); a VM that boots a real kernel sets it as every VMM does, before vCPUs exist. */
  setTssAddr(gpa: number): void {
    retrying('KVM_SET_TSS_ADDR', () => ioctlInt(this.fd, ioctls.KVM_SET_TSS_ADDR, gpa));
  }

  /** KVM_CREATE_PIT2: the in-kernel i8254, which Linux uses to calibrate its clocks; after KVM_CREATE_IRQCHIP. */
  createPit2(flags: number): void {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(flags, 0);
    retrying('KVM_CREATE_PIT2', () => ioctlBuf(this.fd, ioctls.KVM_CREATE_PIT2, b));
  }

  /** Sets the in-kernel IOAPIC's IOREGSEL (KVM_GET_IRQCHIP / KVM_SET_IRQCHIP, chip 2). */
  setIoapicRegsel(value: number): void {
    const b = Buffer.alloc(IRQCHIP_SIZE);
    b.writeUInt32LE(KVM_IRQCHIP_IOAPIC, 0);
    retrying('KVM_GET_IRQCHIP', () => ioctlBuf(this.fd, ioctls.KVM_GET_IRQCHIP, b));
    b.writeUInt32LE(value, IOAPIC_IOREGSEL_OFFSET);
    retrying('KVM_SET_IRQCHIP', () => ioctlBuf(this.fd, ioctls.KVM_SET_IRQCHIP, b));
  }

  /** KVM_REGISTER_COALESCED_MMIO: writes to [addr, addr+size) are queued in a ring instead of exiting. */
  /** Coalesced-MMIO zones registered: the exit loop drains the ring when there are any. */
  coalescedZones = 0;

  registerCoalescedMmio(addr: number, size: number): void {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(BigInt(addr), 0);
    b.writeUInt32LE(size, 8);
    retrying('KVM_REGISTER_COALESCED_MMIO', () => ioctlBuf(this.fd, ioctls.KVM_REGISTER_COALESCED_MMIO, b));
    this.coalescedZones++;
  }

  /** KVM_REGISTER_MMIO_FILL (patched KVM, kernel/0002): reads of [addr, addr+size) return `fill` in every
   *  byte in-kernel; writes are dropped, or exit to userspace with KVM_MMIO_FILL_WRITE_EXIT in `flags`. */
  /** MMIO-fill zones registered (patched KVM). */
  fillZones = 0;

  registerMmioFill(addr: number, size: number, fill: number, flags = 0): void {
    const b = Buffer.alloc(24);
    b.writeBigUInt64LE(BigInt(addr), 0);
    b.writeBigUInt64LE(BigInt(size), 8);
    b.writeUInt8(fill, 16);
    b.writeUInt32LE(flags, 20);
    retrying(`KVM_REGISTER_MMIO_FILL (gpa 0x${addr.toString(16)}, ${size} bytes)`, () => ioctlBuf(this.fd, ioctls.KVM_REGISTER_MMIO_FILL, b));
    this.fillZones++;
  }

  createVcpu(id = this.vcpus.length): Vcpu {
    const fd = retrying(`KVM_CREATE_VCPU ${id}`, () => ioctlInt(this.fd, ioctls.KVM_CREATE_VCPU, id));
    let v: Vcpu;
    try {
      v = new Vcpu(fd, id, this.runSize);
    } catch (e) {
      close(fd); // the kvm_run mmap failed: the fd is not owned by any Vcpu yet
      throw e;
    }
    this.vcpus.push(v);
    return v;
  }

  /** Per-VM binary statistics (KVM_GET_STATS_FD), opened once. */
  vmStats(): KvmStats {
    this.stats ??= KvmStats.open(this.fd, 'vm');
    return this.stats;
  }

  /** Closes the vCPUs and the VM fd; memory slots' host memory may be unmapped after this. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const v of this.vcpus) v.close();
    this.stats?.close();
    close(this.fd);
  }
}
