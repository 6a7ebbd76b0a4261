// The lab VM's initramfs, built on the fly: Debian's static busybox, the guest kernel's own
// modules for 9p and KVM (with their dependencies, from modules.dep), and an /init script.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cpioNewc, type CpioEntry } from './cpio.js';
import { LAB_INIT } from './lab-init.js';

/** What the guest needs before it can reach the host's root: virtio-pci, 9p over virtio. */
export const BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p'];
/** KVM itself; the init loads whichever vendor module the (virtual) CPU supports. */
export const KVM_MODULES = ['kvm', 'kvm_amd', 'kvm_intel'];

const modName = (path: string) => basename(path).replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_');

/**
 * Every module file needed for `wanted`, dependencies first, in the order insmod must load them.
 * modules.dep lists "path: dep dep …" relative to the modules directory (depmod(8)); a module in
 * modules.builtin is part of the kernel (6.12 builds virtio_pci in) and needs no file.
 */
export function moduleLoadOrder(modulesDep: string, wanted: string[], modulesBuiltin = ''): string[] {
  const builtin = new Set(modulesBuiltin.split('\n').filter(Boolean).map(modName));
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line.trim());
    if (m) deps.set(modName(m[1]), { path: m[1], deps: m[2].split(/\s+/).filter(Boolean).map(modName) });
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || builtin.has(name)) return;
    seen.add(name);
    const d = deps.get(name);
    if (!d) throw new Error(`module ${name} is not in modules.dep`);
    d.deps.forEach(visit);
    order.push(d.path);
  };
  wanted.forEach(visit);
  return order;
}

export interface InitramfsInput {
  /** The guest kernel's modules directory (/lib/modules/VERSION). */
  modulesDir: string;
  /** A statically linked busybox. */
  busybox: string;
  /** Module files that replace the kernel's own by name (e.g. a patched kvm.ko), or none. */
  overrides?: Map<string, string>;
  /** Parameters insmod passes to a module by name (e.g. kvm_amd → "npt=0"). */
  params?: Map<string, string>;
}

/** A module file's bytes; busybox insmod reads plain ELF only, so .ko.xz (Debian's 6.12) is unpacked here. */
export function moduleBytes(file: string): Buffer {
  if (file.endsWith('.ko')) return readFileSync(file);
  if (file.endsWith('.ko.xz')) {
    try {
      return execFileSync('xz', ['-dc', file], { maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(`${file}: cannot unpack it with xz (${(e as Error).message.split('\n')[0]}); install xz-utils`);
    }
  }
  throw new Error(`${file}: only .ko and .ko.xz modules are supported by the lab`);
}

/** The initramfs as one uncompressed newc archive. */
export function buildInitramfs(input: InitramfsInput): Buffer {
  const dep = readFileSync(join(input.modulesDir, 'modules.dep'), 'utf8');
  const builtinFile = join(input.modulesDir, 'modules.builtin');
  const files = moduleLoadOrder(dep, [...BOOT_MODULES, ...KVM_MODULES], existsSync(builtinFile) ? readFileSync(builtinFile, 'utf8') : '');
  const entries: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'host', 'modules'].map((name) => ({ name, kind: 'dir', mode: 0o755 }));
  entries.push({ name: 'bin/busybox', kind: 'file', mode: 0o755, data: readFileSync(input.busybox) });
  entries.push({ name: 'init', kind: 'file', mode: 0o755, data: Buffer.from(LAB_INIT) });
  const order: string[] = [];
  for (const f of files) {
    const name = modName(f);
    const src = input.overrides?.get(name) ?? join(input.modulesDir, f);
    if (!existsSync(src)) throw new Error(`module file ${src} is missing`);
    entries.push({ name: `modules/${name}.ko`, kind: 'file', mode: 0o644, data: moduleBytes(src) });
    const params = input.params?.get(name);
    order.push(params ? `${name} ${params}` : name);
  }
  entries.push({ name: 'modules/order', kind: 'file', mode: 0o644, data: Buffer.from(order.join('\n') + '\n') });
  return cpioNewc(entries);
}
