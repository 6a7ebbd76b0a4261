// Host limits a strategy needs (vm.max_map_count, 2 MiB hugetlb pages): raised when we are root and
// restored when the tool exits; otherwise they become the "unsupported, because …, run: …" reason.
import { readFileSync, writeFileSync } from 'node:fs';
import type { RaisedLimit } from '../results/schema.js';

export interface HostNeed {
  /** What the user knows it as: vm.max_map_count, hugepages-2048kB/nr_hugepages. */
  name: string;
  /** The file that holds it (under /proc/sys or /sys). */
  path: string;
  /** The value it must reach. */
  atLeast: number;
  /** Why, in a few words. */
  why: string;
  /** The command that raises it by hand (told to a user who is not root). */
  fix: string;
}

const sysctlPath = (name: string) => `/proc/sys/${name.replace(/\./g, '/')}`;
/** Raised files (by path): the value to put back, the name to report and the value in force now. */
const originals = new Map<string, { name: string; value: string; to: number }>();

export function readSysctl(name: string): number {
  return readNumber(sysctlPath(name));
}

/** A /proc/sys/... need, e.g. sysctlNeed('vm.max_map_count', 73728, 'aliasing …'). */
export function sysctlNeed(name: string, atLeast: number, why: string): HostNeed {
  return { name, path: sysctlPath(name), atLeast, why, fix: `sudo sysctl ${name}=${atLeast}` };
}

function readNumber(path: string): number {
  const v = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isFinite(v)) throw new Error(`${path} is not a number`);
  return v;
}

/** Meets every need or returns the reason (with the command to run) why it cannot. */
export function ensureHostNeeds(needs: HostNeed[], isRoot: boolean): string | null {
  return walkNeeds(needs, isRoot, raiseNeed);
}

/** Like ensureHostNeeds but changes nothing: what `bench env` reports. Root is told what a run would raise. */
export function describeHostNeeds(needs: HostNeed[], isRoot: boolean): { blocked: string | null; raises: string[] } {
  const raises: string[] = [];
  const blocked = walkNeeds(needs, isRoot, (n, have) => {
    raises.push(`${n.name} ${have} → ${n.atLeast} during the run`);
    return null;
  });
  return { blocked, raises };
}

/**
 * The one walk over a strategy's needs: a need already met is passed; one that cannot be read,
 * or is short when we are not root, stops the walk with its reason. A short need when root goes
 * to `short` (raise it, or note that a run would), which may stop the walk with a reason too.
 */
function walkNeeds(needs: HostNeed[], isRoot: boolean, short: (n: HostNeed, have: number) => string | null): string | null {
  for (const n of needs) {
    let have: number;
    try {
      have = readNumber(n.path);
    } catch {
      return `${n.name} is not readable on this host (${n.why})`;
    }
    if (have >= n.atLeast) continue;
    if (!isRoot) return `${n.name} is ${have}, ${n.why} needs ${n.atLeast}; run: ${n.fix}`;
    const blocked = short(n, have);
    if (blocked) return blocked;
  }
  return null;
}

/** Raises one short need (root), remembering the value to put back; the reason when it cannot. */
function raiseNeed(n: HostNeed, have: number): string | null {
  if (!originals.has(n.path)) originals.set(n.path, { name: n.name, value: String(have), to: have });
  try {
    writeFileSync(n.path, String(n.atLeast));
  } catch (e) {
    return `cannot raise ${n.name} to ${n.atLeast} (${(e as NodeJS.ErrnoException).code}); run: ${n.fix}`;
  }
  const now = readNumber(n.path);
  (originals.get(n.path) as { to: number }).to = now;
  // The kernel may reserve fewer hugepages than asked when memory is fragmented.
  if (now < n.atLeast) return `${n.name}: asked for ${n.atLeast}, the kernel gave ${now} (${n.why}); free memory or run: ${n.fix}`;
  return null;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** On SIGINT/SIGTERM/SIGHUP: run `first` (e.g. save results), restore raised sysctls, exit 128+signal.
 *  Also restores on a normal or erroring exit. */
export function restoreOnExit(first?: (signal: string) => void): void {
  process.once('exit', restoreHost);
  for (const sig of Object.keys(SIGNAL_EXIT)) {
    process.once(sig, () => {
      try {
        first?.(sig);
      } finally {
        restoreHost();
        process.exit(SIGNAL_EXIT[sig]);
      }
    });
  }
}

/** Puts back every limit this process raised; returns the names it could not put back (and says so
 *  on stderr). Safe to call more than once. */
export function restoreHost(): string[] {
  const failed: string[] = [];
  for (const [path, { name, value }] of originals) {
    try {
      writeFileSync(path, value);
    } catch {
      failed.push(name);
      process.stderr.write(`bench: could not restore ${name} to ${value}\n`);
    }
  }
  originals.clear();
  return failed;
}

/** The limits raised so far: name, the value before, the value in force now (for results.json). */
export function raisedLimits(): RaisedLimit[] {
  return [...originals.values()].map((o) => ({ name: o.name, from: Number(o.value), to: o.to }));
}

/** Puts the raised limits back and returns them with whether each was restored: what a run records. */
export function restoreAndRecord(): RaisedLimit[] {
  const raised = raisedLimits();
  const failed = restoreHost();
  return raised.map((l) => ({ ...l, restored: !failed.includes(l.name) }));
}

/** Names of the limits raised so far (for the results and the closing message). */
export function raisedSysctls(): string[] {
  return [...originals.values()].map((o) => o.name);
}
