// The suite's cache folder on the host: ~/.cache/pcihole-bench/NAME (or $XDG_CACHE_HOME/...).
import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(name: string): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pcihole-bench', name);
}

/** Where a cache may live, in order: cacheDir(name), then the temp folder (the lab sees the host's home read-only). */
export function cacheDirs(name: string): string[] {
  return [cacheDir(name), join(tmpdir(), `pcihole-bench-${name}`)];
}

/** The first of cacheDirs(name) that exists or can be made, and can be written; null when none. */
export function writableCacheDir(name: string): string | null {
  for (const dir of cacheDirs(name)) {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      return dir;
    } catch {
      // next
    }
  }
  return null;
}
