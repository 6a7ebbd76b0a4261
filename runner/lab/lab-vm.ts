// One lab VM: QEMU with the guest kernel, the on-the-fly initramfs, the host's / shared
// read-only over 9p and writable shares for the job and for results. It runs one command and
// returns its exit status; QEMU is always stopped and the job folder always removed.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accelArgs, type Accel, type LabClock } from './accel.js';
import { buildInitramfs } from './initramfs.js';
import type { LabHost } from './lab-host.js';

export interface LabRun {
  host: LabHost;
  accel: Accel;
  /** Under TCG: what QEMU's clock follows (default icount). */
  clock?: LabClock;
  cpus: number;
  memoryMiB: number;
  timeoutS: number;
  /** The command's argv inside the lab (run in `cwd`, chrooted into the host's root). */
  argv: string[];
  cwd: string;
  /** Environment for the command. */
  env: Record<string, string>;
  /** Host folders the command may write (mounted writable at the same path). */
  shares: string[];
  /** Host folders the lab would otherwise hide (under its own /tmp), mounted read-only at the same path. */
  readOnly?: string[];
  /** Extra kernel command line (e.g. transparent_hugepage=madvise). */
  append?: string;
  /** Module files that replace the guest kernel's own (name → path). */
  overrides?: Map<string, string>;
  /** Module parameters (name → "npt=0"). */
  params?: Map<string, string>;
  /** Print the guest's boot messages too. */
  verbose?: boolean;
}

export interface LabOutcome {
  /** The command's exit status, or null when the VM stopped before it finished. */
  status: number | null;
  /** Why there is no status (timeout, signal, guest error), with the last console lines. */
  problem?: string;
  bootSeconds: number | null;
  totalSeconds: number;
}

/** POSIX-shell single quoting. */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** QEMU option values escape a comma by doubling it. */
const qv = (s: string) => s.replace(/,/g, ',,');

/** Every host folder mounted in the lab besides / and the job, parents before the folders inside them. */
export function labMounts(r: LabRun): { tag: string; path: string; readOnly: boolean }[] {
  const all = [...(r.readOnly ?? []).map((path) => ({ path, readOnly: true })), ...r.shares.map((path) => ({ path, readOnly: false }))];
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  return all.sort((a, b) => depth(a.path) - depth(b.path)).map((m, i) => ({ tag: `share${i}`, ...m }));
}

export function qemuArgs(r: LabRun, kernel: string, initrd: string, job: string): string[] {
  const args = [
    '-machine', 'q35', ...accelArgs(r.accel, r.clock), '-smp', String(r.cpus), '-m', `${r.memoryMiB}M`,
    '-kernel', kernel, '-initrd', initrd,
    // panic=-1 reboots at once on a guest panic and -no-reboot turns that into QEMU exiting;
    // nowatchdog: under TCG a long syscall (65 536 mmaps) reads as a soft lockup (--timeout guards hangs).
    // hugepages=160: the 2 MiB pool the hugetlb rows need (128 + a few), reserved at boot from
    // unfragmented memory; raising it later makes the emulated kernel compact memory first,
    // which took minutes when other VMs shared the host's cores.
    '-append', `console=ttyS0 quiet loglevel=3 panic=-1 random.trust_cpu=on nowatchdog hugepagesz=2M hugepages=160 ${r.append ?? ''}`.trim(),
    '-display', 'none', '-monitor', 'none', '-no-reboot', '-nic', 'none',
    '-chardev', 'stdio,id=con,signal=off', '-serial', 'chardev:con',
    '-virtfs', `local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap`,
    '-virtfs', `local,path=${qv(job)},mount_tag=job,security_model=none,multidevs=remap`,
  ];
  for (const m of labMounts(r)) args.push('-virtfs', `local,path=${qv(m.path)},mount_tag=${m.tag},security_model=none,${m.readOnly ? 'readonly=on,' : ''}multidevs=remap`);
  return args;
}

/**
 * The script the guest runs in the chroot. The command's output goes through a pipe, not the
 * serial console's tty, so progress is printed as lines (a tty gets \r-redrawn bars, which the
 * host side reads line by line); its status is kept in a file since the pipe hides it.
 */
export function runScript(r: LabRun): string {
  const env = Object.entries(r.env).map(([k, v]) => `export ${k}=${shq(v)}`);
  const st = '/tmp/.pcihole-lab/command-status';
  return ['cd ' + shq(r.cwd) + ' || exit 2', ...env, `{ ${r.argv.map(shq).join(' ')} < /dev/null; echo $? > ${st}; } 2>&1 | cat`, `exit "$(cat ${st} 2>/dev/null || echo 2)"`, ''].join('\n');
}

type Signals = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** Boots the lab VM, runs r.argv in it and returns its status. `onSignal` gets a caught signal's number. */
export function runLab(r: LabRun, progress: (line: string) => void): Promise<LabOutcome & { signal?: number }> {
  const job = mkdtempSync(join(tmpdir(), 'pcihole-lab-'));
  const t0 = Date.now();
  const cleanup = () => rmSync(job, { recursive: true, force: true });
  try {
    writeFileSync(join(job, 'initrd.cpio'), buildInitramfs({ modulesDir: r.host.modulesDir, busybox: r.host.busybox, overrides: r.overrides, params: r.params }));
    writeFileSync(join(job, 'run.sh'), runScript(r));
    writeFileSync(join(job, 'mounts'), labMounts(r).map((m) => `${m.tag}\t${m.path}\t${m.readOnly ? 'cache=loose,ro' : 'rw'}\n`).join(''));
  } catch (e) {
    cleanup();
    throw e;
  }
  const child = spawn(r.host.qemu, qemuArgs(r, r.host.kernel, join(job, 'initrd.cpio'), job), { stdio: ['ignore', 'pipe', 'pipe'] });
  let bootSeconds: number | null = null;
  let problem: string | undefined;
  let signal: number | undefined;
  const tail: string[] = [];
  let partial = '';
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    const m = /^pcihole-lab: (.*)$/.exec(line);
    if (m) {
      if (m[1].startsWith('ready')) bootSeconds = (Date.now() - t0) / 1000;
      if (m[1].startsWith('error')) problem = m[1];
      progress(`lab: ${m[1]}${m[1].startsWith('ready') ? ` (booted in ${bootSeconds!.toFixed(1)} s)` : ''}`);
    } else if (r.verbose || (bootSeconds !== null && !/^\[\s*[\d.]+\] reboot: /.test(line))) {
      process.stdout.write(line + '\n');
    }
  };
  // A multi-byte character (µ, ×) may be split between two reads of the pipe.
  const utf8 = new StringDecoder('utf8');
  child.stdout.on('data', (b: Buffer) => {
    const text = partial + utf8.write(b).replace(/\r/g, '');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  child.stderr.on('data', (b: Buffer) => {
    for (const l of b.toString('utf8').split('\n').filter(Boolean)) tail.push(`qemu: ${l}`);
  });
  const stop = (why: string) => {
    problem ??= why;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  };
  const timer = setTimeout(() => stop(`timed out after ${r.timeoutS} s (--timeout)`), r.timeoutS * 1000);
  const ticker = setInterval(() => {
    if (bootSeconds === null) progress(`lab: booting ${r.host.kernelVersion} (${r.accel}) … ${Math.round((Date.now() - t0) / 1000)} s`);
  }, 10_000);
  const handlers: [Signals, () => void][] = (['SIGINT', 'SIGTERM', 'SIGHUP'] as Signals[]).map((s) => {
    const h = () => {
      signal = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[s];
      stop(`stopped by ${s}`);
    };
    process.on(s, h);
    return [s, h];
  });
  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(ticker);
      handlers.forEach(([s, h]) => process.off(s, h));
      cleanup();
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(ticker);
      handlers.forEach(([s, h]) => process.off(s, h));
      if (partial) onLine(partial);
      const statusFile = join(job, 'status');
      const raw = existsSync(statusFile) ? readFileSync(statusFile, 'utf8').trim() : '';
      cleanup();
      const status = problem === undefined && /^\d+$/.test(raw) ? Number(raw) : null;
      if (status === null && problem === undefined) problem = `the lab VM stopped before the command finished (QEMU exit ${code})`;
      if (status === null) problem += `; last console lines:\n${tail.slice(-15).map((l) => '  | ' + l).join('\n')}`;
      resolve({ status, problem: status === null ? problem : undefined, bootSeconds, totalSeconds: (Date.now() - t0) / 1000, signal });
    });
  });
}
