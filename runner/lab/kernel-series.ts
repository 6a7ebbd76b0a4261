// The Debian kernel series the lab boots and kernel/ carries patches for: 6.1 (bookworm's own,
// the default) and the 6.12 LTS from bookworm's security archive. Each has its image, headers
// and source packages; the patched-KVM build needs the source of the same version as the image.
import { UsageError } from '../shared/errors.js';

export interface KernelSeries {
  /** "6.1" or "6.12": also the folder of its patches, kernel/<id>/. */
  id: string;
  /** Debian packages that install the image with its modules. */
  imagePackages: string[];
  /** The package of the full source, and the tarball it installs. */
  sourcePackage: string;
  sourceTarball: string;
  /** The apt-get argument for the source: pinned where the image is (6.12 has no metapackage). */
  sourceInstall: string;
  /** A kernel release (uname -r) of this series that Debian ships for amd64. */
  release: RegExp;
}

export const KERNEL_SERIES: KernelSeries[] = [
  {
    id: '6.1',
    imagePackages: ['linux-image-amd64'],
    sourcePackage: 'linux-source-6.1',
    sourceTarball: '/usr/src/linux-source-6.1.tar.xz',
    sourceInstall: 'linux-source-6.1',
    release: /^6\.1\.0-\d+-(amd64|cloud-amd64|rt-amd64)$/,
  },
  {
    // Debian's security archive keeps earlier 6.12 builds, so the pinned versions stay installable.
    id: '6.12',
    imagePackages: ['linux-image-6.12.118+deb12-amd64'],
    sourcePackage: 'linux-source-6.12',
    sourceTarball: '/usr/src/linux-source-6.12.tar.xz',
    sourceInstall: 'linux-source-6.12=6.12.118-1~deb12u1',
    release: /^6\.12\.\d+\+deb\d+-(amd64|cloud-amd64|rt-amd64)$/,
  },
];

export const DEFAULT_SERIES = '6.1';

/** The series by its id ("6.12"), or null. */
export const seriesById = (id: string): KernelSeries | null => KERNEL_SERIES.find((s) => s.id === id) ?? null;

/** The series a kernel release belongs to ("6.12.118+deb12-amd64" → 6.12), or null. */
export const seriesOf = (release: string): KernelSeries | null => KERNEL_SERIES.find((s) => s.release.test(release)) ?? null;

/** Orders kernel releases newest first, by their numbers ("6.1.0-57" before "6.1.0-9", "6.12.118+deb12" before "6.12.107+deb12"). */
export function newestFirst(a: string, b: string): number {
  const key = (v: string) => v.split(/[.+-]/).map((p) => (/^\d+$/.test(p) ? p.padStart(6, '0') : p)).join('.');
  return key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0;
}

/** A series id as an option gives it ("--kernel 6.12"), not a path. */
export const looksLikeSeries = (value: string) => /^\d+\.\d+$/.test(value);

/** "6.12" → its series; an unknown id is a one-line usage error naming the option. */
export function parseSeries(option: string, value: string): KernelSeries {
  const s = seriesById(value);
  if (!s) throw new UsageError(`${option} ${value}: expected a kernel series (${KERNEL_SERIES.map((k) => k.id).join(' or ')}) or a vmlinuz file`);
  return s;
}
