// The Debian packages a patched-KVM build needs, and which of them are missing here.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { onPath } from '../shared/on-path.js';
import { HostError } from '../shared/errors.js';
import { KERNEL_SERIES, seriesOf, type KernelSeries } from '../lab/kernel-series.js';

/** The Debian series of a kernel release, whose linux-source-SERIES tarball (one for every ABI of
 *  the series) and kernel/SERIES patches the build uses. */
export function seriesFor(kernel: string): KernelSeries {
  const s = seriesOf(kernel);
  if (!s) throw new HostError(`kernel ${kernel}: kernel/ has patches for Debian's ${KERNEL_SERIES.map((k) => k.id).join(' and ')} kernels only (e.g. 6.1.0-57-amd64, 6.12.118+deb12-amd64)`);
  return s;
}


/** How a package is recognised as installed: a file it ships, or a command it puts on PATH. */
export type PackageSign = { file: string } | { command: string };

/** Package name → what shows it is installed. */
export function neededPackages(kernel: string): { pkg: string; sign: PackageSign }[] {
  return [
    { pkg: seriesFor(kernel).sourceInstall, sign: { file: seriesFor(kernel).sourceTarball } },
    { pkg: `linux-headers-${kernel}`, sign: { file: `/lib/modules/${kernel}/build/Makefile` } },
    { pkg: 'make', sign: { command: 'make' } },
    { pkg: 'gcc', sign: { command: 'gcc' } },
    { pkg: 'patch', sign: { command: 'patch' } },
    { pkg: 'xz-utils', sign: { command: 'xz' } },
    { pkg: 'binutils', sign: { command: 'strip' } },
  ];
}

/** The packages to install, in apt-get order (empty when everything is there). The checks are
 *  parameters so that tests can pose as any host. */
export function missingPackages(kernel: string, has: { file: (p: string) => boolean; command: (c: string) => boolean } = { file: existsSync, command: onPath }): string[] {
  return neededPackages(kernel)
    .filter((p) => !('file' in p.sign ? has.file(p.sign.file) : has.command(p.sign.command)))
    .map((p) => p.pkg);
}

/** Why the source and headers packages cannot build together, or null (unknown versions pass). */
export function versionMismatch(kernel: string, source: string | null, headers: string | null): string | null {
  if (!source || !headers || source === headers) return null;
  const s = seriesFor(kernel);
  return `${s.sourcePackage} is ${source} but linux-headers-${kernel} is ${headers}: install matching versions (sudo apt-get install ${s.sourceInstall} linux-headers-${kernel}, after apt-get update)`;
}

/** The Debian package version of an installed package, or null. */
export function packageVersion(pkg: string): string | null {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}
