// What a real kernel's boot log of config accesses says: the sequence of accesses to present
// functions (the same under every strategy: the strategies change only what absent functions
// cost), where the peer-bridge fixup sits in it, and the accesses of each phase.
import { createHash } from 'node:crypto';
import { LOG_HOLE, LOG_WRITE, type ConfigLog } from '../devices/kernel-loop.js';

/** Where the phases start and end, as indices into the sequence of present-function accesses. */
export interface PhaseBounds {
  /** Present accesses in the boot. */
  presentCount: number;
  /** Present accesses before the fixup's first read: the fixup runs between present fixupAt - 1 and fixupAt. */
  fixupAt: number;
}

export interface PhaseCounts {
  accesses: number;
  holes: number;
  writes: number;
}

/** sha256 of the present accesses (where and flags), in order. */
export function presentHash(log: ConfigLog): string {
  const h = createHash('sha256');
  const b = Buffer.alloc(5);
  for (let i = 0; i < log.n; i++) {
    if (log.flags[i] & LOG_HOLE) continue;
    b.writeInt32LE(log.where[i], 0);
    b[4] = log.flags[i];
    h.update(b);
  }
  return h.digest('hex');
}

/** The phase bounds of a log in which the VMM saw every access: the fixup starts at the first hole
 *  read on a bus above 0 (legacy.c pcibios_fixup_peer_bridges reads vendor IDs on buses
 *  1..pcibios_last_bus). null when the log has no such read (no fixup ran), or no present access
 *  before or after it. */
export function boundsOf(log: ConfigLog): PhaseBounds | null {
  let present = 0;
  let fixupAt = -1;
  for (let i = 0; i < log.n; i++) {
    const f = log.flags[i];
    if (!(f & LOG_HOLE)) present++;
    else if (fixupAt < 0 && !(f & LOG_WRITE) && log.where[i] >>> 20 > 0) fixupAt = present;
  }
  // A fixup with no present access after it bounds no phase: no bounds either.
  return fixupAt > 0 && fixupAt < present ? { presentCount: present, fixupAt } : null;
}

/** Phase index (into KERNEL_PHASES) of an access after `seen` present accesses (a present access
 *  counts those before it): before the first, the root bus scan, the fixup, the rest of PCI, after the last. */
export function phaseOf(seen: number, b: PhaseBounds): number {
  if (seen === 0) return 0;
  if (seen < b.fixupAt) return 1;
  if (seen === b.fixupAt) return 2;
  if (seen < b.presentCount) return 3;
  return 4;
}

/** Accesses, hole accesses and writes of each phase (5 phases). */
export function phaseCounts(log: ConfigLog, b: PhaseBounds): PhaseCounts[] {
  const out = Array.from({ length: 5 }, () => ({ accesses: 0, holes: 0, writes: 0 }));
  let seen = 0;
  for (let i = 0; i < log.n; i++) {
    const f = log.flags[i];
    const hole = (f & LOG_HOLE) !== 0;
    const p = out[phaseOf(seen, b)];
    p.accesses++;
    if (hole) p.holes++;
    if (f & LOG_WRITE) p.writes++;
    if (!hole) seen++;
  }
  return out;
}

/** The host ns at each phase bound: present 0, fixupAt - 1, fixupAt, the last present access. */
export function boundTimes(log: ConfigLog, b: PhaseBounds): number[] {
  const want = [0, b.fixupAt - 1, b.fixupAt, b.presentCount - 1];
  const out: number[] = [];
  let seen = 0;
  for (let i = 0; i < log.n && out.length < want.length; i++) {
    if (log.flags[i] & LOG_HOLE) continue;
    while (out.length < want.length && want[out.length] === seen) out.push(log.ns[i]);
    seen++;
  }
  return out;
}
