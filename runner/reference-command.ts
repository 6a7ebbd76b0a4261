// `bench reference`: the same guest image through a minimal C KVM_RUN loop and through this
// harness, alternated in one session, so the harness's own cost per exit is measured, not assumed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kvm } from './kvm.js';
import { HostError } from './errors.js';
import { parseCount } from './args.js';
import { planOnly, runSample } from './sample.js';
import { writeImage } from './guest-image.js';
import { CODE, INFO, MARKS, PORT_DONE, RAM_SIZE, RECORDS, STACK_TOP } from './guest-layout.js';
import { summarize } from '../reports/summary.js';
import { fmtNs, fmtRatio } from '../reports/format.js';
import { userspaceExit } from '../strategies/userspace-exit.js';
import { linuxQ35Boot } from '../workloads/linux-q35-boot.js';

const SOURCE = fileURLToPath(new URL('../../runner/reference/kvm-loop.c', import.meta.url));

export const REFERENCE_HELP = `usage: bench reference [--samples N]

Runs linux-q35-boot (ECAM) under userspace-exit N times through a minimal C KVM_RUN loop
(runner/reference/kvm-loop.c, built with cc) and N times through this TypeScript VMM,
alternating, and compares ns per hole access in the peer-bridge phase (8160 hole reads).
The C loop answers every read with all-ones, so its bus-0 phase differs; the hole-only phase
is the same guest code doing the same reads.`;

/** Runs the C loop on an image file; returns ns per hole access of the peer-bridge phase. */
function runC(bin: string, image: string): { nsPerAccess: number; hostRunNs: number } {
  const r = spawnSync(bin, [image, String(RAM_SIZE), String(CODE), String(INFO), String(STACK_TOP), String(MARKS), String(RECORDS), String(PORT_DONE)], { encoding: 'utf8' });
  if (r.status !== 0) throw new HostError(`C reference loop failed: ${(r.stderr || r.error?.message || '').trim()}`);
  const out = JSON.parse(r.stdout) as { tscKhz: number; hostRunNs: number; marks: [string, number, number][] };
  const [, m1, m2] = out.marks;
  const ns = (Number(BigInt(m2[0]) - BigInt(m1[0])) * 1e6) / out.tscKhz;
  return { nsPerAccess: ns / (m2[2] - m1[2]), hostRunNs: out.hostRunNs };
}

export async function referenceCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { samples: { type: 'string', default: '10' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(REFERENCE_HELP);
    return 0;
  }
  const n = parseCount('--samples', values.samples, 1, 1000);
  const dir = mkdtempSync(join(tmpdir(), 'pcihole-ref-'));
  try {
    const bin = join(dir, 'kvm-loop');
    try {
      execFileSync('cc', ['-O2', '-o', bin, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new HostError(`cannot build the C reference (needs cc and linux/kvm.h: apt-get install gcc linux-libc-dev): ${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n')[0]}`);
    }
    const w = linuxQ35Boot;
    const ram = new Uint8Array(RAM_SIZE);
    const plan = planOnly(userspaceExit, w, 'ecam', '', {});
    writeImage(ram, w.program('ecam', 'linux'), { configBase: w.window.base + plan.configOffset, lastBus: plan.lastBus, vcpus: 1, passes: 1 });
    const image = join(dir, 'image.bin');
    writeFileSync(image, ram);

    const kvm = Kvm.open();
    const cpuid = kvm.supportedCpuid();
    const c: number[] = [];
    const ts: number[] = [];
    const tsHost: number[] = [];
    const cHost: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = runC(bin, image);
      c.push(r.nsPerAccess);
      cHost.push(r.hostRunNs);
      const s = runSample({ kvm, cpuid, strategy: userspaceExit, variant: '', workload: w, access: 'ecam', options: {} });
      ts.push(s.scans[0].nsPerAccess ?? NaN);
      tsHost.push(s.hostRunNs);
      process.stderr.write(`\r${i + 1}/${n}`);
    }
    process.stderr.write('\r');
    kvm.close();
    const sc = summarize(c)!;
    const st = summarize(ts)!;
    console.log(`peer-bridge phase, ns per hole access (guest TSC), median (IQR) of ${n} fresh VMs each, alternated:`);
    console.log(`  C KVM_RUN loop        ${fmtNs(sc.median)} (${fmtNs(sc.p25)}–${fmtNs(sc.p75)})`);
    console.log(`  TypeScript harness    ${fmtNs(st.median)} (${fmtNs(st.p25)}–${fmtNs(st.p75)})`);
    console.log(`  harness / C           ${fmtRatio(st.median / sc.median)}  (${((st.median / sc.median - 1) * 100).toFixed(1)} %)`);
    console.log(`  harness cost per exit ${fmtNs(st.median - sc.median)} (difference of medians)`);
    console.log(`  host wall time of the whole KVM_RUN loop: C ${fmtNs(summarize(cHost)!.median)}, harness ${fmtNs(summarize(tsHost)!.median)}`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
