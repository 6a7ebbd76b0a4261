// `bench reference`: the same guest image through a minimal C KVM_RUN loop and through this
// harness, alternated in one session, so the harness's own cost per exit is measured, not assumed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kvm } from '../vmm/kvm.js';
import { HostError } from '../shared/errors.js';
import { parseCount } from '../shared/args.js';
import { planOnly, runSample } from '../measure/sample.js';
import { writeImage } from '../guest/guest-image.js';
import { CODE, INFO, MARKS, PORT_DONE, RAM_SIZE, RECORDS, STACK_TOP } from '../guest/guest-layout.js';
import { summarize } from '../../reports/summary.js';
import { fmtNs, fmtRatio } from '../../reports/format.js';
import { EMULATED_NOTE, timingFromLab } from '../../reports/timing.js';
import { labFromEnv } from '../host/lab-env.js';
import { userspaceExit } from '../../strategies/userspace-exit.js';
import { memslotFlag } from '../../strategies/memslot-flag.js';
import { roPage } from '../../strategies/ro-page.js';
import type { Strategy } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import { linuxQ35Boot } from '../../workloads/linux-q35-boot.js';

const SOURCE = fileURLToPath(new URL('../../../runner/reference/kvm-loop.c', import.meta.url));

export const REFERENCE_HELP = `usage: bench reference [--samples N]

Runs linux-q35-boot (ECAM) through a minimal C KVM_RUN loop (runner/reference/kvm-loop.c,
built with cc) and through this TypeScript VMM, alternating fresh VMs, for four mechanisms:
userspace exit, the in-kernel IOAPIC read proxy, a read-only 0xff slot on 4 KiB pages and
on THP. It compares ns per hole access in the peer-bridge phase (8160 hole reads) and the
speed-ups over userspace exit, so the harness's own cost per exit is measured, not assumed.
The C loop answers every exit with all-ones, so its bus-0 phase differs; the hole-only phase
is the same guest code doing the same reads.`;

/** C loop mode ↔ the strategy whose guest image and mechanism it reproduces. */
const MODES: { mode: string; strategy: Strategy; variant: string }[] = [
  { mode: 'exit', strategy: userspaceExit, variant: '' },
  { mode: 'ioapic', strategy: memslotFlag, variant: '' },
  { mode: 'ro4k', strategy: roPage, variant: '4k' },
  { mode: 'rothp', strategy: roPage, variant: 'thp' },
];

/** Runs the C loop on an image file; returns ns per hole access of the peer-bridge phase. */
function runC(bin: string, image: string, mode: string, w: Workload): number {
  const args = [image, RAM_SIZE, CODE, INFO, STACK_TOP, MARKS, RECORDS, PORT_DONE, mode, w.window.base, w.window.buses << 20].map(String);
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new HostError(`C reference loop (${mode}) failed: ${(r.stderr || r.error?.message || '').trim()}`);
  const out = JSON.parse(r.stdout) as { tscKhz: number; marks: [string, number, number][] };
  const [, m1, m2] = out.marks;
  return (Number(BigInt(m2[0]) - BigInt(m1[0])) * 1e6) / out.tscKhz / (m2[2] - m1[2]);
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
    const images = MODES.map(({ mode, strategy, variant }) => {
      const ram = new Uint8Array(RAM_SIZE);
      const plan = planOnly(strategy, w, 'ecam', variant, {});
      writeImage(ram, w.program('ecam', plan.guest), { configBase: w.window.base + plan.configOffset, lastBus: plan.lastBus, vcpus: 1, passes: 1 }, plan.remap);
      const path = join(dir, `${mode}.bin`);
      writeFileSync(path, ram);
      return path;
    });
    const kvm = Kvm.open(undefined, 'reference');
    const cpuid = kvm.supportedCpuid();
    const c = MODES.map(() => [] as number[]);
    const ts = MODES.map(() => [] as number[]);
    for (let i = 0; i < n; i++) {
      MODES.forEach(({ mode, strategy, variant }, k) => {
        c[k].push(runC(bin, images[k], mode, w));
        const s = runSample({ kvm, cpuid, strategy, variant, workload: w, access: 'ecam', options: {} });
        ts[k].push(s.scans[0].nsPerAccess ?? NaN);
      });
      process.stderr.write(`\r${i + 1}/${n} rounds`);
    }
    process.stderr.write('\r');
    kvm.close();
    const med = (xs: number[]) => summarize(xs)!.median;
    const rows = MODES.map(({ mode }, k) => ({ mode, c: med(c[k]), ts: med(ts[k]) }));
    console.log(`linux-q35-boot ecam, peer-bridge phase, ns per hole access (guest TSC), median of ${n} fresh VMs each, alternated C/TS:`);
    if (timingFromLab(labFromEnv()) === 'emulated') console.log(`${EMULATED_NOTE}.`);
    console.log(`${'mechanism'.padEnd(10)} ${'C loop'.padStart(10)} ${'harness'.padStart(10)} ${'harness/C'.padStart(10)} ${'C speed-up'.padStart(11)} ${'harness speed-up'.padStart(17)}`);
    for (const r of rows) {
      console.log(
        `${r.mode.padEnd(10)} ${fmtNs(r.c).padStart(10)} ${fmtNs(r.ts).padStart(10)} ${fmtRatio(r.ts / r.c).padStart(10)} ${fmtRatio(rows[0].c / r.c).padStart(11)} ${fmtRatio(rows[0].ts / r.ts).padStart(17)}`,
      );
    }
    console.log(`harness cost per userspace exit: ${fmtNs(rows[0].ts - rows[0].c)} (${((rows[0].ts / rows[0].c - 1) * 100).toFixed(1)} % over the C loop)`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
