// The guest's phase marks (runner/guest/guest-layout.ts MARKS), as the harness
// (guest-readback.ts) and the reference loops read them back.
import { MARK_ENTRY } from '../guest/guest-layout.js';
import { HostError } from '../shared/errors.js';

/** A phase mark the guest left: TSC, config accesses so far, hole accesses so far. */
export interface Mark {
  tsc: bigint;
  accesses: number;
  holes: number;
}

/** ns per hole access between marks 1 and 2 (the peer-bridge phase of linux-q35-boot). */
export function holePhaseNs(marks: Mark[], tscKhz: number): number {
  if (marks.length < 3) throw new HostError(`the guest left ${marks.length} phase marks, expected 3`);
  const [, m1, m2] = marks;
  return (Number(m2.tsc - m1.tsc) * 1e6) / tscKhz / (m2.holes - m1.holes);
}

/** A vCPU's marks block, which sits at guest address `at`: a u64 write pointer (a guest address),
 *  then { tsc, accesses, holes } u64 entries. null when the pointer is outside the block. */
export function marksOf(block: Uint8Array, at: number): Mark[] | null {
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const n = (Number(dv.getBigUint64(0, true)) - at - 8) / MARK_ENTRY;
  if (!Number.isInteger(n) || n < 0 || 8 + n * MARK_ENTRY > block.length) return null;
  return Array.from({ length: n }, (_, i) => {
    const at = 8 + i * MARK_ENTRY;
    return { tsc: dv.getBigUint64(at, true), accesses: Number(dv.getBigUint64(at + 8, true)), holes: Number(dv.getBigUint64(at + 16, true)) };
  });
}
