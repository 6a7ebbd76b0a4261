// What the lab needs from the host, all from Debian packages: QEMU, a kernel with its modules,
// a static busybox. Missing pieces become one line naming the package and the apt-get fix.
import { execFileSync } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HostError } from '../shared/errors.js';
import { DEFAULT_SERIES, looksLikeSeries, newestFirst, parseSeries, seriesById, seriesOf, type KernelSeries } from './kernel-series.js';

/** What the lab needs for a kernel series (xz-utils: 6.12's modules are .ko.xz; xz-utils and zstd
 *  also decompress 6.1's and 6.12's vmlinux for linux-kernel-q35). */
export const labPackages = (series: KernelSeries = seriesById(DEFAULT_SERIES)!) => ['qemu-system-x86', ...series.imagePackages, 'busybox-static', 'xz-utils', 'zstd'];
const fix = (series?: KernelSeries) => {
  const opt = series && series.id !== DEFAULT_SERIES ? ` --kernel ${series.id}` : '';
  return `run: sudo apt-get install -y ${labPackages(series).join(' ')}  (or, as root: npx bench lab${opt} --setup)`;
};

export interface LabHost {
  qemu: string;
  qemuVersion: string;
  kernel: string;
  kernelVersion: string;
  /** The Debian series of the guest kernel ("6.1", "6.12"), or null for another kernel. */
  series: string | null;
  modulesDir: string;
  busybox: string;
}

const QEMU_CANDIDATES = ['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64'];
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

/** True when the ELF file has no PT_INTERP header, i.e. needs no dynamic loader (static). */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(64);
    readSync(fd, h, 0, 64, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2) return false; // ELF64 only
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}


/** The newest /boot/vmlinuz-VERSION of a series (default 6.1) that has /lib/modules/VERSION with KVM modules. */
export function defaultKernel(boot = '/boot', modules = '/lib/modules', series = DEFAULT_SERIES): { kernel: string; version: string; modulesDir: string } | null {
  let names: string[] = [];
  try {
    names = readdirSync(boot).filter((n) => n.startsWith('vmlinuz-'));
  } catch {
    return null;
  }
  const found = names
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => seriesOf(v)?.id === series)
    .filter((v) => existsSync(join(modules, v, 'modules.dep')) && existsSync(join(modules, v, 'kernel/arch/x86/kvm')))
    .sort(newestFirst);
  return found.length ? { kernel: join(boot, `vmlinuz-${found[0]}`), version: found[0], modulesDir: join(modules, found[0]) } : null;
}

/** Finds everything the lab needs or throws one HostError naming every missing package.
 *  `kernel` is a series ("6.12": its newest installed kernel) or a vmlinuz file (with `modules`). */
export function findLabHost(opts: { kernel?: string; modules?: string }, roots: { boot?: string; modules?: string } = {}): LabHost {
  const series = opts.kernel !== undefined && looksLikeSeries(opts.kernel) ? parseSeries('--kernel', opts.kernel) : opts.kernel ? null : seriesById(DEFAULT_SERIES)!;
  const missing: string[] = [];
  const qemu = QEMU_CANDIDATES.find((p) => existsSync(p));
  if (!qemu) missing.push('qemu-system-x86 (qemu-system-x86_64)');
  const busybox = BUSYBOX_CANDIDATES.find((p) => existsSync(p) && isStaticElf(p));
  if (!busybox) missing.push('busybox-static (a statically linked /bin/busybox)');
  let kernel = series ? undefined : opts.kernel;
  let modulesDir = opts.modules;
  let kernelVersion = '';
  if (kernel) {
    if (!existsSync(kernel)) throw new HostError(`--kernel ${kernel}: no such file`);
    if (!modulesDir) throw new HostError(`--kernel ${kernel}: give its modules with --modules DIR (the /lib/modules/VERSION folder with modules.dep)`);
    kernelVersion = basename(kernel).replace(/^vmlinuz-/, '');
  } else {
    const d = defaultKernel(roots.boot, roots.modules, series!.id);
    if (!d) missing.push(`${series!.imagePackages.join(' ')} (a /boot/vmlinuz-${series!.id}.* kernel with its /lib/modules KVM modules)`);
    else ({ kernel, version: kernelVersion, modulesDir } = { kernel: d.kernel, version: d.version, modulesDir: modulesDir ?? d.modulesDir });
  }
  if (modulesDir && !existsSync(join(modulesDir, 'modules.dep'))) throw new HostError(`--modules ${modulesDir}: no modules.dep there (give the /lib/modules/VERSION folder of the kernel)`);
  if (missing.length) throw new HostError(`bench lab needs Debian packages: missing ${missing.join(', ')}; ${fix(series ?? undefined)}`);
  let qemuVersion = 'unknown';
  try {
    qemuVersion = /version ([\d.]+\S*)/.exec(execFileSync(qemu!, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    /* reported as unknown */
  }
  if (modulesDir && kernelVersion === '') kernelVersion = basename(modulesDir);
  return { qemu: qemu!, qemuVersion, kernel: kernel!, kernelVersion, series: seriesOf(kernelVersion)?.id ?? null, modulesDir: modulesDir!, busybox: busybox! };
}

/** `bench lab --setup`: installs the packages of a series (root only). */
export function installLabPackages(kernel?: string): void {
  const series = kernel !== undefined && looksLikeSeries(kernel) ? parseSeries('--kernel', kernel) : seriesById(DEFAULT_SERIES)!;
  const pkgs = labPackages(series);
  if (process.getuid?.() !== 0) throw new HostError(`bench lab --setup installs Debian packages and needs root; ${fix(series)}`);
  const apt = (args: string[]) => execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', ...pkgs]);
}
