// `bench lab`: runs any bench command (or, with --exec, any program) inside a VM of the suite's
// own whose kernel has a real KVM, and brings the results back into the host's results/ folder.
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseCount } from '../shared/args.js';
import { HostError, UsageError } from '../shared/errors.js';
import { chooseAccel, labClock, readAccelFacts, type Accel, type LabClock } from './accel.js';
import { findLabHost, installLabPackages, labPackages } from './lab-host.js';
import { KERNEL_SERIES, seriesById } from './kernel-series.js';
import { runLab } from './lab-vm.js';

export const LAB_HELP = `usage: bench lab [options] -- <bench command and arguments>
       bench lab [options] --exec -- <program and arguments>

Runs a bench command inside a VM of the suite's own — Debian's kernel booted by QEMU with a real
KVM inside it — for hosts without /dev/kvm, or to measure another KVM backend or a patched KVM.
The host's / is shared read-only (the same checkout, node and node_modules); results/ and any
--out folder are shared writable, so results land in the host's normal run folders. The
command's exit status is bench lab's (0 pass, 1 regression/failure, 2 bad input).

  --accel auto|kvm|tcg   kvm: QEMU on the host's KVM (-cpu host), needs kvm_intel/kvm_amd with
                         nested=1; tcg: QEMU's emulator (-cpu max: SVM with nested paging), on
                         any host. auto (default) picks kvm when it can and says why.
                         Under tcg, QEMU counts instructions (-icount shift=0,sleep=off): counts
                         are exact and times are instructions, 1 ns = 1 instruction: exact path
                         lengths, not hardware time (results are labelled so).
  --clock icount|wall    under tcg, what QEMU's clock follows: icount (default) counts executed
                         instructions (times are instructions: exact, repeatable); wall follows
                         the emulation's real time (times are emulated; faster for runs whose
                         times do not matter, such as the KVM test files)
  --cpus N               vCPUs of the lab VM (default: 2 under kvm, 1 under tcg, where QEMU's
                         multi-threaded TCG stalled the VM for many minutes now and then)
  --memory MIB           its memory in MiB (default 6144)
  --timeout S            stop the VM after S seconds (default 3600)
  --kernel SERIES|FILE   guest kernel: a Debian series (${KERNEL_SERIES.map((k) => k.id).join(', ')}; default 6.1), booting
                         its newest /boot/vmlinuz-SERIES.* with KVM modules, or a vmlinuz file
  --modules DIR          a vmlinuz file's /lib/modules/VERSION folder (required with a file)
  --mmu tdp|shadow       KVM's MMU in the lab: tdp (default: nested paging, the TDP MMU) or
                         shadow (kvm_amd npt=0 / kvm_intel ept=0: shadow paging, where KVM's own
                         SPTE prefetch runs); shadow is its own backend in the fingerprint
  --kvm-modules DIR      load kvm.ko, kvm-amd.ko and kvm-intel.ko from DIR instead of the
                         kernel's own (e.g. patched modules built for the same kernel)
  --append ARGS          extra guest kernel arguments (e.g. transparent_hugepage=madvise)
  --share DIR            another host folder the command may write (repeatable)
  --exec                 the words after -- are a program, not bench arguments
  --verbose              show the guest kernel's boot messages
  --setup                install what the lab needs for --kernel's series (root):
                         ${labPackages().join(' ')}
                         (6.12: ${seriesById('6.12')!.imagePackages.join(' ')})

examples:
  npx bench lab -- env
  npx bench lab -- run --strategy all --samples 3
  npx bench lab --kernel 6.12 --mmu shadow -- run --strategy spte-prefetch,ro-page --samples 3
  npx bench lab --accel tcg -- run --workload all --strategy userspace-exit,ro-page --samples 2`;

/** Parses "6144", "6G" or "512M" into MiB. */
export function parseMemoryMiB(value: string): number {
  const m = /^(\d+)\s*([MG]i?B?)?$/i.exec(value.trim());
  const n = m ? Number(m[1]) * (m[2]?.toUpperCase().startsWith('G') ? 1024 : 1) : NaN;
  if (!Number.isFinite(n) || n < 1024 || n > 262144) throw new UsageError(`--memory ${value}: expected MiB from 1024 to 262144 (or e.g. 6G)`);
  return n;
}

/** Options whose value is a file a bench verb writes (its folder is shared); `run --out` is a folder. */
const FILE_OUTPUTS: Record<string, string[]> = {
  report: ['--out', '-o'],
  reference: ['--json'],
  gate: ['--json', '--markdown'],
  'gate-eval': ['--json'],
};

/** Writable folders a bench command needs: results/, `run --out`, and the folder of each output file. */
export function benchShares(argv: string[], cwd: string): string[] {
  const dirs = [resolve(cwd, 'results')];
  const verb = argv[0] ?? '';
  const fileOpts = FILE_OUTPUTS[verb] ?? [];
  const folderOpts = verb === 'run' ? ['--out', '-o'] : [];
  argv.forEach((a, i) => {
    const eq = a.indexOf('=');
    const [name, value] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, argv[i + 1]];
    if (value === undefined) return;
    // A folder name may hold a dot (mktemp -d makes /tmp/tmp.XXXXXXXXXX): only the verb says which it is.
    if (folderOpts.includes(name)) dirs.push(resolve(cwd, value));
    else if (fileOpts.includes(name)) dirs.push(dirname(resolve(cwd, value)));
  });
  return [...new Set(dirs)];
}

/** Folders the lab mounts anew (tmpfs of its own), so the host's copies are hidden there. */
const LAB_OWN = ['/tmp', '/dev/shm'];
const under = (dir: string, top: string) => dir === top || dir.startsWith(top + '/');

/**
 * The folders a command needs to see that lie where the lab has folders of its own (a checkout
 * cloned under /tmp, a working folder there): shared read-only at the same path, unless a
 * writable share already covers them.
 */
export function hiddenFolders(needed: string[], writable: string[]): string[] {
  const out: string[] = [];
  for (const d of needed) {
    if (!LAB_OWN.some((t) => under(d, t) && d !== t)) continue;
    if ([...writable, ...out].some((w) => under(d, w))) continue;
    out.push(d);
  }
  return out;
}

/** A share the lab cannot mount: / or one of its own folders (e.g. --out /tmp). */
export function badShare(dir: string): string | null {
  if (dir === '/' || LAB_OWN.includes(dir)) return `${dir} cannot be shared into the lab (it has a ${dir} of its own); use a folder under it`;
  return null;
}

/** --kvm-modules DIR → module name → file, for the KVM modules found there (kvm.ko at least). */
export function kvmModuleOverrides(dir: string | undefined): Map<string, string> | undefined {
  if (!dir) return undefined;
  const out = new Map<string, string>();
  for (const name of ['kvm', 'kvm-amd', 'kvm-intel']) {
    const file = resolve(dir, `${name}.ko`);
    if (existsSync(file)) out.set(name.replace(/-/g, '_'), file);
  }
  if (!out.has('kvm')) throw new UsageError(`--kvm-modules ${dir}: no kvm.ko there`);
  return out;
}

/** Module parameters for the lab's MMU: shadow paging turns the vendor module's nested paging off. */
export function mmuParams(mmu: string): Map<string, string> | undefined {
  return mmu === 'shadow' ? new Map([['kvm_amd', 'npt=0'], ['kvm_intel', 'ept=0']]) : undefined;
}

/** What the fingerprint records about the lab (read by runner/host/host.ts from PCIHOLE_LAB). */
export function labInfo(accel: Accel, qemu: string, guestKernel: string, clockAsked: LabClock = 'icount'): Record<string, string> {
  const cpu = cpus()[0]?.model ?? 'unknown';
  const clock = labClock(accel, clockAsked);
  return { accel, outerKernel: release(), outerCpu: cpu, qemu, guestKernel, ...(clock ? { clock } : {}) };
}

export async function labCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      accel: { type: 'string', default: 'auto' },
      clock: { type: 'string', default: 'icount' },
      cpus: { type: 'string' },
      memory: { type: 'string', default: '6144' },
      timeout: { type: 'string', default: '3600' },
      kernel: { type: 'string' },
      modules: { type: 'string' },
      mmu: { type: 'string', default: 'tdp' },
      append: { type: 'string' },
      'kvm-modules': { type: 'string' },
      share: { type: 'string', multiple: true },
      exec: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      setup: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(LAB_HELP);
    return 0;
  }
  if (values.setup) {
    installLabPackages(values.kernel);
    if (!positionals.length) return 0;
  }
  if (!['auto', 'kvm', 'tcg'].includes(values.accel)) throw new UsageError(`--accel ${values.accel}: expected auto, kvm or tcg`);
  if (values.clock !== 'icount' && values.clock !== 'wall') throw new UsageError(`--clock ${values.clock}: expected icount or wall`);
  if (values.mmu !== 'tdp' && values.mmu !== 'shadow') throw new UsageError(`--mmu ${values.mmu}: expected tdp or shadow`);
  const clock = values.clock as LabClock;
  const cpusAsked = values.cpus === undefined ? null : parseCount('--cpus', values.cpus, 1, 64);
  const memoryMiB = parseMemoryMiB(values.memory);
  const timeoutS = parseCount('--timeout', values.timeout, 1, 86400);
  if (!positionals.length) throw new UsageError(`bench lab: give the command to run after --, e.g. bench lab -- run --samples 3 (bench lab --help)`);
  if (!values.exec && positionals[0] === 'lab') throw new UsageError('bench lab -- lab: the lab does not nest');
  const choice = chooseAccel(values.accel as 'auto' | Accel, readAccelFacts());
  if ('error' in choice) throw new HostError(choice.error);
  const cpuCount = cpusAsked ?? (choice.accel === 'tcg' ? 1 : 2);
  const host = findLabHost({ kernel: values.kernel, modules: values.modules });
  const overrides = kvmModuleOverrides(values['kvm-modules']);
  const params = mmuParams(values.mmu);
  const cwd = process.cwd();
  const cli = realpathSync(fileURLToPath(new URL('../cli/cli.js', import.meta.url)));
  const argv = values.exec ? positionals : [process.execPath, cli, ...positionals];
  const shares = [...new Set([...(values.exec ? [] : benchShares(positionals, cwd)), ...(values.share ?? []).map((d) => resolve(cwd, d))])];
  for (const d of shares) {
    const bad = badShare(d);
    if (bad) throw new UsageError(bad);
  }
  for (const d of shares) mkdirSync(d, { recursive: true });
  const packageRoot = realpathSync(fileURLToPath(new URL('../../..', import.meta.url)));
  const readOnly = hiddenFolders([packageRoot, realpathSync(cwd)], shares);
  const env: Record<string, string> = { HOME: '/tmp', TERM: 'dumb', PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && (/^(PCIHOLE_|NODE_)/.test(k) || k === 'CI' || k === 'LANG')) env[k] = v;
  env.PCIHOLE_LAB = JSON.stringify(labInfo(choice.accel, host.qemuVersion, host.kernelVersion, clock));
  const say = (l: string) => process.stderr.write(l + '\n');
  const times = choice.accel === 'kvm' ? '' : clock === 'icount' ? ' (times are instructions: -icount)' : ' (times are emulated: TCG wall clock)';
  const mmu = values.mmu === 'shadow' ? ', shadow MMU (npt=0/ept=0)' : '';
  say(`lab: ${host.kernelVersion} under QEMU ${host.qemuVersion}, ${choice.accel}: ${choice.why}${times}; ${cpuCount} vCPUs, ${memoryMiB} MiB${mmu}`);
  const out = await runLab({ host, accel: choice.accel, clock, cpus: cpuCount, memoryMiB, timeoutS, argv, cwd, env, shares, readOnly, append: values.append, overrides, params, verbose: values.verbose }, say);
  if (out.signal) return 128 + out.signal;
  if (out.status === null) {
    say(`lab: ${out.problem}`);
    return 2;
  }
  say(`lab: the command exited ${out.status} after ${out.totalSeconds.toFixed(1)} s (boot ${out.bootSeconds?.toFixed(1) ?? '?'} s)`);
  return out.status;
}
