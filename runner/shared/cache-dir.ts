// The suite's cache folder on the host: ~/.cache/pcihole-bench/NAME (or $XDG_CACHE_HOME/...).
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(name: string): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pcihole-bench', name);
}
