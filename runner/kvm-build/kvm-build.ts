// Builds KVM modules (kvm.ko, kvm-amd.ko, kvm-intel.ko) for a Debian 6.1 or 6.12 kernel with the
// project's kernel/SERIES/*.patch applied, out of tree against linux-headers-VERSION, cached by
// (kernel version, hash of the patches and this recipe).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { HostError } from '../shared/errors.js';
import { cacheDir } from '../shared/cache-dir.js';
import { missingPackages, packageVersion, seriesFor, versionMismatch } from './debian-packages.js';
import { newestFirst, seriesOf } from '../lab/kernel-series.js';

/** Bump when the steps below change what gets built. */
const RECIPE = 'kvm-build 2: arch/x86/kvm + virt/kvm + include/uapi/linux/kvm.h + include/linux/kvm_host.h, Makefile tweaks, strip --strip-debug';
/** The parts of linux-source-SERIES that the patches touch; the copy's include/ comes first (tweakMakefile). */
export const SOURCE_PARTS = ['arch/x86/kvm', 'virt/kvm', 'include/uapi/linux/kvm.h', 'include/linux/kvm_host.h'];
export const MODULES = ['kvm.ko', 'kvm-amd.ko', 'kvm-intel.ko'];

export interface KvmBuild {
  /** Folder holding the three modules and build.json. */
  dir: string;
  kernel: string;
  hash: string;
  patches: string[];
  /** False when the modules came from the cache. */
  built: boolean;
  seconds: number;
}

/** ~/.cache/pcihole-bench/kvm (or $XDG_CACHE_HOME/pcihole-bench/kvm). */
export function defaultCacheRoot(): string {
  return cacheDir('kvm');
}

/** The patches in apply order (file name order). */
export function listPatches(patchDir: string): string[] {
  if (!existsSync(patchDir)) throw new HostError(`${patchDir}: no such folder of kernel patches`);
  const files = readdirSync(patchDir).filter((f) => f.endsWith('.patch')).sort();
  if (!files.length) throw new HostError(`${patchDir}: no *.patch files`);
  return files.map((f) => join(patchDir, f));
}

/** 12 hex digits over the recipe and every patch's name and bytes. */
export function patchHash(patches: string[]): string {
  const h = createHash('sha256').update(RECIPE);
  for (const p of patches) h.update(`\0${p.split('/').pop()}\0`).update(readFileSync(p));
  return h.digest('hex').slice(0, 12);
}

/** The copied arch/x86/kvm/Makefile, changed to build out of tree (DESIGN 2b). */
export function tweakMakefile(text: string): string {
  const inc = 'include $(srctree)/virt/kvm/Makefile.kvm';
  const first = 'ccflags-y += -I $(srctree)/arch/x86/kvm\n';
  if (!text.includes(inc) || !text.includes(first)) throw new HostError('arch/x86/kvm/Makefile of linux-source-6.1 is not the expected one: cannot build out of tree');
  return text.replace(inc, 'include $(src)/../../../virt/kvm/Makefile.kvm').replace(
    first,
    first +
      '# Out of tree: the trace headers\' relative ../../arch/x86/kvm, and this copy\'s patched headers first.\n' +
      'ccflags-y += -I $(src) -I $(src)/../../../include/trace\n' +
      'LINUXINCLUDE := -I$(src)/../../../include/uapi -I$(src)/../../../include $(LINUXINCLUDE)\n',
  );
}

/** A finished build: every module and build.json (written last) are in `dir`. */
export function isCached(dir: string): boolean {
  return MODULES.every((m) => existsSync(join(dir, m))) && existsSync(join(dir, 'build.json'));
}

const run = (cmd: string, args: string[], cwd?: string, input?: Buffer) => {
  try {
    execFileSync(cmd, args, { cwd, input, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    const out = `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new HostError(`${cmd} ${args.slice(0, 6).join(' ')} failed:\n${out}`);
  }
};

/** Builds (or finds in the cache) the patched modules for `kernel`. */
export function buildKvm(opts: { kernel: string; patchDir: string; cacheRoot: string; force?: boolean; log?: (line: string) => void }): KvmBuild {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const missing = missingPackages(opts.kernel);
  if (missing.length) throw new HostError(`missing Debian packages: ${missing.join(' ')}; run: sudo apt-get install ${missing.join(' ')}`);
  const series = seriesFor(opts.kernel);
  const src = packageVersion(series.sourcePackage);
  const hdr = packageVersion(`linux-headers-${opts.kernel}`);
  const mismatch = versionMismatch(opts.kernel, src, hdr);
  if (mismatch) throw new HostError(mismatch);
  const patches = listPatches(opts.patchDir);
  const hash = patchHash(patches);
  const dir = resolve(opts.cacheRoot, `${opts.kernel}-${hash}`);
  const result = (built: boolean): KvmBuild => ({ dir, kernel: opts.kernel, hash, patches, built, seconds: (Date.now() - t0) / 1000 });
  if (!opts.force && isCached(dir)) return result(false);

  const work = `${dir}.build-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    log(`extracting ${SOURCE_PARTS.join(', ')} from ${series.sourceTarball}`);
    const top = `linux-source-${series.id}`;
    run('tar', ['-xJf', series.sourceTarball, '--strip-components=1', ...SOURCE_PARTS.map((p) => `${top}/${p}`)], work);
    for (const p of patches) {
      log(`applying ${p.split('/').pop()}`);
      run('patch', ['-p1', '--forward', '--batch', '--quiet'], work, readFileSync(p));
    }
    mkdirSync(join(work, 'include/trace'), { recursive: true });
    const mk = join(work, 'arch/x86/kvm/Makefile');
    writeFileSync(mk, tweakMakefile(readFileSync(mk, 'utf8')));
    log(`make -C /lib/modules/${opts.kernel}/build M=…/arch/x86/kvm modules (about 2 minutes on 2 cores)`);
    run('make', ['-C', `/lib/modules/${opts.kernel}/build`, `M=${join(work, 'arch/x86/kvm')}`, `-j${Math.max(2, cpus().length)}`, 'modules']);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const m of MODULES) {
      copyFileSync(join(work, 'arch/x86/kvm', m), join(dir, m));
      run('strip', ['--strip-debug', join(dir, m)]);
    }
    const info = { kernel: opts.kernel, hash, recipe: RECIPE, patches: patches.map((p) => p.split('/').pop()), source: src, headers: hdr, builtAt: new Date().toISOString() };
    writeFileSync(join(dir, 'build.json'), JSON.stringify(info, null, 2) + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return result(true);
}

/** The kernel of a series (default 6.1) to build for: the running one when it is of that series and
 *  has headers, else the newest such in /lib/modules. */
export function defaultKernel(running: string, modulesRoot = '/lib/modules', series = '6.1'): string | null {
  const ok = (v: string) => seriesOf(v)?.id === series;
  if (ok(running) && existsSync(join(modulesRoot, running, 'build'))) return running;
  const found = existsSync(modulesRoot) ? readdirSync(modulesRoot).filter(ok) : [];
  return found.sort(newestFirst)[0] ?? null;
}
