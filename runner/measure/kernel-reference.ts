// The reference boot of a real-kernel row: the same kernel, command line, ACPI tables, topology
// and CPUID with nothing in the window, so that the VMM sees every config access. Under a strategy
// that serves the hole in KVM, the VMM sees only the present functions' accesses; the reference
// says where among them the fixup sits and what each phase held, and the row's boot must repeat
// the reference's sequence of present accesses. Kept on disk (the sample worker is a fresh process
// per row), keyed by everything that decides the sequence.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDirs, writableCacheDir } from '../shared/cache-dir.js';
import type { PhaseBounds, PhaseCounts } from './kernel-log.js';

const DIR = 'kernel-reference';

export interface KernelReference extends PhaseBounds {
  presentHash: string;
  /** The last bus the reference declared (the window's). */
  lastBus: number;
  /** Per phase (KERNEL_PHASES order). */
  phases: PhaseCounts[];
  /** Whether the kernel's pci 0000:… console lines (a verbose console) named exactly the topology. */
  discoveryOk: boolean;
}

/** A short hash of the parts. */
export function referenceKey(parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p) : p).update('\0');
  return h.digest('hex').slice(0, 32);
}

/** The cached reference, or null (none, or a file that is not one: then it is booted again). */
export function readReference(key: string): KernelReference | null {
  for (const dir of cacheDirs(DIR)) {
    try {
      const r = JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')) as KernelReference;
      if (isReference(r)) return r;
    } catch {
      // not there
    }
  }
  return null;
}

function isReference(r: KernelReference): boolean {
  const int = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  return (
    typeof r === 'object' && r !== null && typeof r.presentHash === 'string' && int(r.presentCount) && int(r.fixupAt) && int(r.lastBus) &&
    r.fixupAt > 0 && r.fixupAt < r.presentCount && typeof r.discoveryOk === 'boolean' &&
    Array.isArray(r.phases) && r.phases.length === 5 && r.phases.every((p) => int(p?.accesses) && int(p?.holes) && int(p?.writes))
  );
}

/** Written under a temporary name and renamed, so that a reader never sees half a file. */
export function writeReference(key: string, ref: KernelReference): void {
  const dir = writableCacheDir(DIR);
  if (!dir) return;
  const tmp = join(dir, `.${key}.${process.pid}`);
  try {
    writeFileSync(tmp, JSON.stringify(ref));
    renameSync(tmp, join(dir, `${key}.json`));
  } catch {
    rmSync(tmp, { force: true });
  }
}
