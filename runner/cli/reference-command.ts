// `bench reference`: the same guest image through a minimal C KVM_RUN loop and through this
// harness, alternated in one session, so the harness's own cost per exit is measured, not assumed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kvm } from '../vmm/kvm.js';
import { parseCount } from '../shared/args.js';
import { checkOutput, writeOutput } from '../results/output-files.js';
import { runSample } from '../measure/sample.js';
import { summarize } from '../results/summary.js';
import { fmtNs, fmtRatio } from '../shared/format.js';
import { isLabTiming, timingFromLab, timingNote } from '../results/timing.js';
import { labFromEnv } from '../host/lab-env.js';
import { userspaceExit } from '../../strategies/userspace-exit.js';
import { memslotFlag } from '../../strategies/memslot-flag.js';
import { roPage } from '../../strategies/ro-page.js';
import type { Strategy } from '../../strategies/types.js';
import { linuxQ35Boot } from '../../workloads/linux-q35-boot.js';
import { WARMUP_ROUNDS, buildCLoop, runC, settle } from '../measure/reference-c.js';
import { runKoffiFloor } from '../measure/reference-koffi.js';
import { QEMU, buildQemuRom, qemuCpuText, qemuUnavailable, runQemu, runQemuKvm, type QemuCpu } from '../measure/reference-qemu.js';
import { referenceImage } from '../measure/harness-cost.js';
import { holePhaseNs } from '../measure/marks.js';

export const REFERENCE_HELP = `usage: bench reference [--samples N] [--json FILE]

Runs linux-q35-boot (ECAM) through a minimal C KVM_RUN loop (runner/reference/kvm-loop.c,
built with cc) and through this TypeScript VMM, alternating fresh VMs, for four mechanisms:
userspace exit, the in-kernel IOAPIC read proxy, a read-only 0xff slot on 4 KiB pages and
on THP. It compares ns per hole access in the peer-bridge phase (8160 hole reads) and the
speed-ups over userspace exit, so the harness's own cost per exit is measured, not assumed.
The C loop answers every exit with all-ones, so its bus-0 phase differs; the hole-only phase
is the same guest code doing the same reads.

The userspace-exit row also runs through a "koffi floor": KVM_RUN called from JavaScript in
a bare loop answering all-ones (runner/measure/reference-koffi.ts), which splits the harness's
cost into what any koffi VMM pays and what its own dispatch adds.

The userspace-exit row also runs in QEMU (${QEMU} -accel kvm -machine q35, Debian package
qemu-system-x86): the same image, booted from a 64 KiB ROM of this project
(runner/reference/qemu-boot.S) into the state the harness gives the guest; QEMU serves each
hole read from its q35 ECAM model. It runs with -cpu host, or with -cpu host,-arch-capabilities
where the host's KVM refuses that MSR (kvm_pvm does, and QEMU aborts); the output and --json say
which. Where QEMU or /dev/kvm is missing, or QEMU fails, the column says why.

Times are medians over the fresh VMs (after ${WARMUP_ROUNDS} unrecorded rounds); the ratios (harness/C, floor/C, QEMU/C) are medians of
the ratios within each round, so a slow spell of the host hits both sides of a ratio alike.
--json FILE writes every VM's ns per hole access.`;

/** C loop mode ↔ the strategy whose guest image and mechanism it reproduces. */
const MODES: { mode: string; strategy: Strategy; variant: string }[] = [
  { mode: 'exit', strategy: userspaceExit, variant: '' },
  { mode: 'ioapic', strategy: memslotFlag, variant: '' },
  { mode: 'ro4k', strategy: roPage, variant: '4k' },
  { mode: 'rothp', strategy: roPage, variant: 'thp' },
];

export async function referenceCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { samples: { type: 'string', default: '10' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(REFERENCE_HELP);
    return 0;
  }
  const n = parseCount('--samples', values.samples, 1, 1000);
  // A bad --json path is bad input now, not after minutes of VMs.
  const jsonOut = values.json === undefined ? undefined : checkOutput(values.json, [], '--json');
  const dir = mkdtempSync(join(tmpdir(), 'pcihole-ref-'));
  try {
    const bin = buildCLoop(dir);
    const w = linuxQ35Boot;
    const images = MODES.map(({ mode, strategy, variant }) => {
      const ram = referenceImage(strategy, variant, w);
      const path = join(dir, `${mode}.bin`);
      writeFileSync(path, ram);
      return { path, ram };
    });
    const imageBytes = images.map((i) => i.ram);
    let qemuWhyNot = qemuUnavailable();
    let rom = qemuWhyNot === null ? buildQemuRom(dir, w.window.base) : '';
    let qemuCpu: QemuCpu | null = null;
    const kvm = Kvm.open(undefined, 'reference');
    const cpuid = kvm.supportedCpuid();
    const c = MODES.map(() => [] as number[]);
    const ts = MODES.map(() => [] as number[]);
    const qemu: number[] = [];
    const floor: number[] = [];
    let tscKhz = 0;
    // WARMUP_ROUNDS unrecorded rounds first: the first VMs of every loop run slow while JIT and
    // (in the lab) TCG translate their code for the first time.
    for (let i = -WARMUP_ROUNDS; i < n; i++) {
      const rec = (into: number[], x: number) => i >= 0 && into.push(x);
      MODES.forEach(({ mode, strategy, variant }, k) => {
        settle();
        const run = runC(bin, images[k].path, mode, w);
        tscKhz = run.tscKhz;
        rec(c[k], holePhaseNs(run.marks, run.tscKhz));
        settle();
        const s = runSample({ kvm, cpuid, strategy, variant, workload: w, access: 'ecam', options: {} });
        rec(ts[k], s.scans[0].nsPerAccess ?? NaN);
        if (k === 0) {
          settle();
          const f = runKoffiFloor(kvm, cpuid, imageBytes[0]);
          rec(floor, holePhaseNs(f.marks, f.tscKhz));
        }
        // QEMU's guest TSC runs at the host KVM's rate, as the C loop's vCPU does.
        if (k === 0 && rom) {
          try {
            settle();
            const ram = join(dir, 'qemu-ram');
            // The first run finds the CPU model this host's KVM accepts; the rest use it.
            let marks;
            if (qemuCpu) marks = runQemu(rom, imageBytes[0], ram, 'kvm', qemuCpu.cpu);
            else ({ marks, cpu: qemuCpu } = runQemuKvm(rom, imageBytes[0], ram));
            rec(qemu, holePhaseNs(marks, tscKhz));
          } catch (e) {
            // The C and harness columns still stand; the QEMU one says what went wrong.
            qemuWhyNot = (e as Error).message;
            rom = '';
            qemu.length = 0;
          }
        }
      });
      if (i >= 0) process.stderr.write(process.stderr.isTTY ? `\r${i + 1}/${n} rounds` : `${i + 1}/${n} rounds\n`);
    }
    if (process.stderr.isTTY) process.stderr.write('\r');
    kvm.close();
    const med = (xs: number[]) => summarize(xs.filter(Number.isFinite))?.median ?? NaN;
    /** Median of the per-round ratios a[i] / b[i]. */
    const paired = (a: number[], b: number[]) => med(a.map((x, i) => x / b[i]));
    const rows = MODES.map(({ mode }, k) => ({
      mode,
      c: med(c[k]),
      ts: med(ts[k]),
      f: k === 0 ? med(floor) : NaN,
      q: k === 0 && qemu.length ? med(qemu) : NaN,
      tsOverC: paired(ts[k], c[k]),
      cSpeedup: paired(c[0], c[k]),
      tsSpeedup: paired(ts[0], ts[k]),
    }));
    console.log(`linux-q35-boot ecam, peer-bridge phase, ns per hole access (guest TSC), median of ${n} fresh VMs each, alternated C/TS${qemu.length ? '/QEMU' : ''}; ratios: medians of per-round ratios:`);
    const basis = timingFromLab(labFromEnv());
    if (isLabTiming(basis)) console.log(`${timingNote(basis)}.`);
    const cell = (x: number, f: (v: number) => string) => (Number.isFinite(x) ? f(x) : '—');
    console.log(`${'mechanism'.padEnd(10)} ${'C loop'.padStart(10)} ${'koffi floor'.padStart(11)} ${'harness'.padStart(10)} ${'QEMU'.padStart(10)} ${'harness/C'.padStart(10)} ${'C speed-up'.padStart(11)} ${'harness speed-up'.padStart(17)}`);
    for (const r of rows) {
      console.log(
        `${r.mode.padEnd(10)} ${fmtNs(r.c).padStart(10)} ${cell(r.f, fmtNs).padStart(11)} ${fmtNs(r.ts).padStart(10)} ${cell(r.q, fmtNs).padStart(10)} ${fmtRatio(r.tsOverC).padStart(10)} ${fmtRatio(r.cSpeedup).padStart(11)} ${fmtRatio(r.tsSpeedup).padStart(17)}`,
      );
    }
    const ex = rows[0];
    console.log(`harness cost per userspace exit: ${fmtNs(ex.ts - ex.c)} (harness/C ${fmtRatio(ex.tsOverC)})`);
    console.log(`  of which calling KVM_RUN from JavaScript (koffi floor − C): ${fmtNs(ex.f - ex.c)} (floor/C ${fmtRatio(paired(floor, c[0]))}); the harness's own dispatch (harness − koffi floor): ${fmtNs(ex.ts - ex.f)}`);
    if (qemu.length) console.log(`QEMU per userspace exit: ${fmtNs(ex.q)} (QEMU/C ${fmtRatio(paired(qemu, c[0]))}); harness/QEMU ${fmtRatio(paired(ts[0], qemu))}`);
    if (qemu.length && qemuCpu) console.log(`QEMU ran with ${qemuCpuText(qemuCpu)}`);
    else console.log(`QEMU: unavailable, because ${qemuWhyNot}`);
    if (jsonOut) {
      const samples = Object.fromEntries(MODES.flatMap(({ mode }, k) => [[`${mode}.c`, c[k]], [`${mode}.harness`, ts[k]]]));
      writeOutput(jsonOut, JSON.stringify({ workload: w.id, nsPerHoleAccess: { ...samples, 'exit.floor': floor, 'exit.qemu': qemu }, qemu: qemuWhyNot, qemuCpu: qemuCpu && qemu.length ? qemuCpu : null }, null, 1) + '\n', '--json');
      console.log(`samples: ${values.json}`);
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
