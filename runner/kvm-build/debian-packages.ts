// The Debian packages a patched-KVM build needs, and which of them are missing here.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Debian's full source of the 6.1 kernels (one tarball for every 6.1.0-N ABI). */
export const SOURCE_TARBALL = '/usr/src/linux-source-6.1.tar.xz';

/** Package name → how to tell it is installed. */
export function neededPackages(kernel: string): { pkg: string; present: () => boolean }[] {
  const onPath = (cmd: string) => () => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  return [
    { pkg: 'linux-source-6.1', present: () => existsSync(SOURCE_TARBALL) },
    { pkg: `linux-headers-${kernel}`, present: () => existsSync(`/lib/modules/${kernel}/build/Makefile`) },
    { pkg: 'make', present: onPath('make') },
    { pkg: 'gcc', present: onPath('gcc') },
    { pkg: 'patch', present: onPath('patch') },
    { pkg: 'xz-utils', present: onPath('xz') },
    { pkg: 'binutils', present: onPath('strip') },
  ];
}

/** The packages to install, in apt-get order (empty when everything is there). */
export function missingPackages(kernel: string): string[] {
  return neededPackages(kernel)
    .filter((p) => !p.present())
    .map((p) => p.pkg);
}

/** The Debian package version of an installed package, or null. */
export function packageVersion(pkg: string): string | null {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}
