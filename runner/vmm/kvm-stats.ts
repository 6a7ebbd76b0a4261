// KVM binary statistics (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst "KVM_GET_STATS_FD").
// The fd holds a header, then descriptors, then the u64 data; we read scalar counters only.
import { closeSync, readSync } from 'node:fs';
import { retrying, ioctlInt } from './libc.js';
import { ioctls } from './kvm-abi.js';

const KVM_STATS_TYPE_MASK = 0xf;
const KVM_STATS_TYPE_CUMULATIVE = 0;
const KVM_STATS_TYPE_INSTANT = 1;
const KVM_STATS_TYPE_PEAK = 2;

export class KvmStats {
  private constructor(
    private readonly fd: number,
    readonly prefix: string,
    readonly names: string[],
    private readonly offsets: number[],
    private readonly dataOffset: number,
    private readonly dataSize: number,
    private readonly buf: Buffer,
  ) {}

  /** Opens the stats fd of a VM or vCPU fd and parses its descriptors. */
  static open(ownerFd: number, prefix: string): KvmStats {
    const fd = retrying('KVM_GET_STATS_FD', () => ioctlInt(ownerFd, ioctls.KVM_GET_STATS_FD, 0));
    const hdr = Buffer.alloc(24);
    readSync(fd, hdr, 0, 24, 0);
    const nameSize = hdr.readUInt32LE(4);
    const numDesc = hdr.readUInt32LE(8);
    const descOffset = hdr.readUInt32LE(16);
    const dataOffset = hdr.readUInt32LE(20);
    const descSize = 16 + nameSize;
    const descs = Buffer.alloc(numDesc * descSize);
    readSync(fd, descs, 0, descs.length, descOffset);
    const names: string[] = [];
    const offsets: number[] = [];
    let dataSize = 0;
    for (let i = 0; i < numDesc; i++) {
      const d = i * descSize;
      const flags = descs.readUInt32LE(d);
      const size = descs.readUInt16LE(d + 6);
      const offset = descs.readUInt32LE(d + 8);
      const raw = descs.subarray(d + 16, d + 16 + nameSize);
      const name = raw.subarray(0, raw.indexOf(0) < 0 ? raw.length : raw.indexOf(0)).toString();
      dataSize = Math.max(dataSize, offset + size * 8);
      const type = flags & KVM_STATS_TYPE_MASK;
      // Histograms (size > 1) are skipped; scalars of every type are kept.
      if (size === 1 && [KVM_STATS_TYPE_CUMULATIVE, KVM_STATS_TYPE_INSTANT, KVM_STATS_TYPE_PEAK].includes(type)) {
        names.push(name);
        offsets.push(offset);
      }
    }
    return new KvmStats(fd, prefix, names, offsets, dataOffset, dataSize, Buffer.alloc(dataSize));
  }

  /** Current values, in the order of `names`. */
  read(): number[] {
    readSync(this.fd, this.buf, 0, this.dataSize, this.dataOffset);
    return this.offsets.map((o) => Number(this.buf.readBigUInt64LE(o)));
  }

  /** A reader of one counter (e.g. "exits") that reads only its 8 bytes; null when this kernel lists no counter by that name. */
  reader(name: string): (() => number) | null {
    const i = this.names.indexOf(name);
    if (i < 0) return null;
    const at = this.dataOffset + this.offsets[i];
    const b = Buffer.alloc(8);
    return () => {
      readSync(this.fd, b, 0, 8, at);
      return Number(b.readBigUInt64LE(0));
    };
  }

  /** after - before, keyed "prefix.name"; zero deltas are kept so every row has the same keys. */
  delta(before: number[], after: number[]): Record<string, number> {
    const out: Record<string, number> = {};
    this.names.forEach((n, i) => (out[`${this.prefix}.${n}`] = after[i] - before[i]));
    return out;
  }

  /** Current values keyed "prefix.name" (for gauges such as pages_4k / pages_2m). */
  snapshot(): Record<string, number> {
    const v = this.read();
    const out: Record<string, number> = {};
    this.names.forEach((n, i) => (out[`${this.prefix}.${n}`] = v[i]));
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
