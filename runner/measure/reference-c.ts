// The C column of `bench reference` and of the harness-cost calibration: a minimal KVM_RUN loop
// in C (runner/reference/kvm-loop.c) on the same guest image, built here with cc.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostError } from '../shared/errors.js';
import { CODE, INFO, MARKS, PORT_DONE, RAM_SIZE, RECORDS, STACK_TOP } from '../guest/guest-layout.js';
import type { Workload } from '../../workloads/types.js';
import type { Mark } from './marks.js';

const SOURCE = fileURLToPath(new URL('../../../runner/reference/kvm-loop.c', import.meta.url));

/** Builds the C loop into dir; returns the binary's path. */
export function buildCLoop(dir: string): string {
  const bin = join(dir, 'kvm-loop');
  try {
    execFileSync('cc', ['-O2', '-o', bin, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new HostError(`cannot build the C reference (needs cc and linux/kvm.h: apt-get install gcc linux-libc-dev): ${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n')[0]}`);
  }
  return bin;
}

/** Runs the C loop on an image file in one fresh VM; returns its phase marks and the vCPU's TSC rate.
 *  mode: exit | ioapic | ro4k | rothp (how the loop serves the window, see kvm-loop.c). */
export function runC(bin: string, image: string, mode: string, w: Workload): { marks: Mark[]; tscKhz: number } {
  const args = [image, RAM_SIZE, CODE, INFO, STACK_TOP, MARKS, RECORDS, PORT_DONE, mode, w.window.base, w.window.buses << 20].map(String);
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new HostError(`C reference loop (${mode}) failed: ${(r.stderr || r.error?.message || '').trim()}`);
  const out = JSON.parse(r.stdout) as { tscKhz: number; marks: [string, number, number][] };
  return { tscKhz: out.tscKhz, marks: out.marks.map(([tsc, accesses, holes]) => ({ tsc: BigInt(tsc), accesses, holes })) };
}

/** Pause between two loops' VMs: a VM's teardown goes on after its fd is closed or its process
 *  has exited (KVM frees roots and memory from workqueues and RCU callbacks, e.g. the TDP MMU's
 *  kvm_tdp_mmu_zap_invalidated_roots), and on a host with one CPU (the lab under TCG) it would
 *  land in the next loop's timed scan. */
export function settle(ms = 200): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Rounds run and thrown away before the recorded ones: in the lab the first 2-3 VMs of each
 *  JavaScript loop (and of QEMU) ran 1.5-2x slower than the rest while V8 compiled and TCG
 *  translated their code; the C loop's did not. */
export const WARMUP_ROUNDS = 2;
