// Compiles kernel/selftests/*_test.c (KVM-selftest-like C programs for the kernel/ patches)
// into a cache folder outside /tmp, so the lab VM (which has its own /tmp) can run them.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../shared/errors.js';

/** Builds every *_test.c of `srcDir` (with its headers) into `cacheRoot`/selftests-<hash>; returns the binaries. */
export function buildSelftests(srcDir: string, cacheRoot: string): string[] {
  const files = readdirSync(srcDir).sort();
  const tests = files.filter((f) => f.endsWith('_test.c'));
  if (!tests.length) throw new HostError(`${srcDir}: no *_test.c selftests`);
  const h = createHash('sha256');
  for (const f of files.filter((x) => /\.[ch]$/.test(x))) h.update(`\0${f}\0`).update(readFileSync(join(srcDir, f)));
  const out = join(cacheRoot, `selftests-${h.digest('hex').slice(0, 12)}`);
  mkdirSync(out, { recursive: true });
  return tests.map((t) => {
    const bin = join(out, t.replace(/\.c$/, ''));
    if (!existsSync(bin)) {
      try {
        execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, join(srcDir, t)], { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        throw new HostError(`gcc ${t} failed (needs gcc and linux-libc-dev): ${(e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(0, 5).join('\n')}`);
      }
    }
    return bin;
  });
}
