// Host limits a strategy needs (vm.max_map_count, hugetlb pages): raised when we are root and
// restored when the tool exits; otherwise they become the "unsupported, because …, run: …" reason.
import { readFileSync, writeFileSync } from 'node:fs';

export interface HostNeed {
  /** sysctl name, e.g. vm.max_map_count */
  sysctl: 'vm.max_map_count' | 'vm.nr_hugepages';
  /** The value it must reach. */
  atLeast: number;
  /** Why, in a few words. */
  why: string;
}

const path = (name: string) => `/proc/sys/${name.replace(/\./g, '/')}`;
const originals = new Map<string, string>();

export function readSysctl(name: string): number {
  return Number(readFileSync(path(name), 'utf8').trim());
}

/** Meets every need or returns the reason (with the command to run) why it cannot. */
export function ensureHostNeeds(needs: HostNeed[], isRoot: boolean): string | null {
  for (const n of needs) {
    let have: number;
    try {
      have = readSysctl(n.sysctl);
    } catch {
      return `${n.sysctl} is not readable on this host (${n.why})`;
    }
    if (have >= n.atLeast) continue;
    const fix = `sudo sysctl ${n.sysctl}=${n.atLeast}`;
    if (!isRoot) return `${n.sysctl} is ${have}, ${n.why} needs ${n.atLeast}; run: ${fix}`;
    if (!originals.has(n.sysctl)) originals.set(n.sysctl, String(have));
    try {
      writeFileSync(path(n.sysctl), String(n.atLeast));
    } catch (e) {
      return `cannot raise ${n.sysctl} to ${n.atLeast} (${(e as NodeJS.ErrnoException).code}); run: ${fix}`;
    }
    const now = readSysctl(n.sysctl);
    // The kernel may reserve fewer hugepages than asked when memory is fragmented.
    if (now < n.atLeast) return `${n.sysctl}: asked for ${n.atLeast}, the kernel gave ${now} (${n.why}); free memory or run: ${fix}`;
  }
  return null;
}

/** Like ensureHostNeeds but changes nothing: what `bench env` reports. Root is told what a run would raise. */
export function describeHostNeeds(needs: HostNeed[], isRoot: boolean): { blocked: string | null; raises: string[] } {
  const raises: string[] = [];
  for (const n of needs) {
    let have: number;
    try {
      have = readSysctl(n.sysctl);
    } catch {
      return { blocked: `${n.sysctl} is not readable on this host (${n.why})`, raises };
    }
    if (have >= n.atLeast) continue;
    if (!isRoot) return { blocked: `${n.sysctl} is ${have}, ${n.why} needs ${n.atLeast}; run: sudo sysctl ${n.sysctl}=${n.atLeast}`, raises };
    raises.push(`${n.sysctl} ${have} → ${n.atLeast} during the run`);
  }
  return { blocked: null, raises };
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

/** Puts back every sysctl this process raised. Safe to call more than once. */
export function restoreHost(): void {
  for (const [name, value] of originals) {
    try {
      writeFileSync(path(name), value);
    } catch {
      process.stderr.write(`bench: could not restore ${name} to ${value}\n`);
    }
  }
  originals.clear();
}

/** sysctls raised so far (for the results and the closing message). */
export function raisedSysctls(): string[] {
  return [...originals.keys()];
}
