// What the lab needs from the host, all from Debian packages: QEMU, a kernel with its modules,
// a static busybox. Missing pieces become one line naming the package and the apt-get fix.
import { execFileSync } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HostError } from '../shared/errors.js';

export const LAB_PACKAGES = ['qemu-system-x86', 'linux-image-amd64', 'busybox-static'];
const FIX = `run: sudo apt-get install -y ${LAB_PACKAGES.join(' ')}  (or, as root: npx bench lab --setup)`;

export interface LabHost {
  qemu: string;
  qemuVersion: string;
  kernel: string;
  kernelVersion: string;
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

/** Debian-style version compare of kernel release strings ("6.1.0-57-amd64"), enough to pick the newest. */
const versionKey = (v: string) => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? p.padStart(6, '0') : p)).join('.');

/** The newest /boot/vmlinuz-VERSION that has /lib/modules/VERSION with KVM modules. */
export function defaultKernel(boot = '/boot', modules = '/lib/modules'): { kernel: string; version: string; modulesDir: string } | null {
  let names: string[] = [];
  try {
    names = readdirSync(boot).filter((n) => n.startsWith('vmlinuz-'));
  } catch {
    return null;
  }
  const found = names
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => existsSync(join(modules, v, 'modules.dep')) && existsSync(join(modules, v, 'kernel/arch/x86/kvm')))
    .sort((a, b) => (versionKey(a) < versionKey(b) ? 1 : -1));
  return found.length ? { kernel: join(boot, `vmlinuz-${found[0]}`), version: found[0], modulesDir: join(modules, found[0]) } : null;
}

/** Finds everything the lab needs or throws one HostError naming every missing package. */
export function findLabHost(opts: { kernel?: string; modules?: string }): LabHost {
  const missing: string[] = [];
  const qemu = QEMU_CANDIDATES.find((p) => existsSync(p));
  if (!qemu) missing.push('qemu-system-x86 (qemu-system-x86_64)');
  const busybox = BUSYBOX_CANDIDATES.find((p) => existsSync(p) && isStaticElf(p));
  if (!busybox) missing.push('busybox-static (a statically linked /bin/busybox)');
  let kernel = opts.kernel;
  let modulesDir = opts.modules;
  let kernelVersion = '';
  if (kernel) {
    if (!existsSync(kernel)) throw new HostError(`--kernel ${kernel}: no such file`);
    if (!modulesDir) throw new HostError(`--kernel ${kernel}: give its modules with --modules DIR (the /lib/modules/VERSION folder with modules.dep)`);
    kernelVersion = basename(kernel).replace(/^vmlinuz-/, '');
  } else {
    const d = defaultKernel();
    if (!d) missing.push('linux-image-amd64 (a /boot/vmlinuz-* kernel with its /lib/modules KVM modules)');
    else ({ kernel, version: kernelVersion, modulesDir } = { kernel: d.kernel, version: d.version, modulesDir: modulesDir ?? d.modulesDir });
  }
  if (modulesDir && !existsSync(join(modulesDir, 'modules.dep'))) throw new HostError(`--modules ${modulesDir}: no modules.dep there (give the /lib/modules/VERSION folder of the kernel)`);
  if (missing.length) throw new HostError(`bench lab needs Debian packages: missing ${missing.join(', ')}; ${FIX}`);
  let qemuVersion = 'unknown';
  try {
    qemuVersion = /version ([\d.]+\S*)/.exec(execFileSync(qemu!, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    /* reported as unknown */
  }
  if (modulesDir && kernelVersion === '') kernelVersion = basename(modulesDir);
  return { qemu: qemu!, qemuVersion, kernel: kernel!, kernelVersion, modulesDir: modulesDir!, busybox: busybox! };
}

/** `bench lab --setup`: installs the packages (root only). */
export function installLabPackages(): void {
  if (process.getuid?.() !== 0) throw new HostError(`bench lab --setup installs Debian packages and needs root; ${FIX}`);
  const apt = (args: string[]) => execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', ...LAB_PACKAGES]);
}
