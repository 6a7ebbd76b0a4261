// What this harness adds per userspace exit on the backend at hand, measured the way `bench
// reference` does it for its first row: linux-q35-boot's peer-bridge phase (8160 hole reads, one
// MMIO exit each) in fresh VMs, alternating a minimal C KVM_RUN loop, the koffi floor and the
// harness. Every speed-up over userspace-exit divides by a baseline that includes this cost.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kvm } from '../vmm/kvm.js';
import { writeImage } from '../guest/guest-image.js';
import { RAM_SIZE } from '../guest/guest-layout.js';
import { HostError } from '../shared/errors.js';
import { planOnly, runSample } from './sample.js';
import { WARMUP_ROUNDS, buildCLoop, runC, settle } from './reference-c.js';
import { runKoffiFloor } from './reference-koffi.js';
import { holePhaseNs } from './marks.js';
import { summarize } from '../results/summary.js';
import type { HarnessCost } from '../results/schema.js';
import type { Strategy } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import { userspaceExit } from '../../strategies/userspace-exit.js';
import { linuxQ35Boot } from '../../workloads/linux-q35-boot.js';

/** The guest image a strategy's plan gives linux-q35-boot (ECAM), as the C loop and QEMU load it. */
export function referenceImage(strategy: Strategy, variant: string, w: Workload = linuxQ35Boot): Uint8Array {
  const ram = new Uint8Array(RAM_SIZE);
  const plan = planOnly(strategy, w, 'ecam', variant, {});
  writeImage(ram, w.program('ecam', plan.guest), { configBase: w.window.base + plan.configOffset, lastBus: plan.lastBus, vcpus: 1, passes: 1 }, plan.remap);
  return ram;
}

/** Medians of `rounds` fresh VMs of each loop (after WARMUP_ROUNDS unrecorded ones); `unavailable` (with the reason) where cc is missing. */
export function measureHarnessCost(kvm: Kvm, rounds: number): HarnessCost {
  const w = linuxQ35Boot;
  const dir = mkdtempSync(join(tmpdir(), 'pcihole-cost-'));
  try {
    let bin: string;
    try {
      bin = buildCLoop(dir);
    } catch (e) {
      if (e instanceof HostError) return { unavailable: e.message };
      throw e;
    }
    const image = referenceImage(userspaceExit, '');
    const path = join(dir, 'exit.bin');
    writeFileSync(path, image);
    const cpuid = kvm.supportedCpuid();
    const c: number[] = [];
    const floor: number[] = [];
    const harness: number[] = [];
    for (let i = -WARMUP_ROUNDS; i < rounds; i++) {
      const rec = (into: number[], x: number) => i >= 0 && into.push(x);
      settle();
      const cr = runC(bin, path, 'exit', w);
      rec(c, holePhaseNs(cr.marks, cr.tscKhz));
      settle();
      const f = runKoffiFloor(kvm, cpuid, image);
      rec(floor, holePhaseNs(f.marks, f.tscKhz));
      settle();
      const s = runSample({ kvm, cpuid, strategy: userspaceExit, variant: '', workload: w, access: 'ecam', options: {} });
      rec(harness, s.scans[0].nsPerAccess ?? NaN);
    }
    const med = (xs: number[]) => summarize(xs)?.median ?? NaN;
    const cost = { samples: rounds, cNs: med(c), floorNs: med(floor), harnessNs: med(harness) };
    if (![cost.cNs, cost.floorNs, cost.harnessNs].every((x) => Number.isFinite(x) && x > 0)) return { unavailable: `the loops gave no time per hole read (C ${cost.cNs}, floor ${cost.floorNs}, harness ${cost.harnessNs} ns)` };
    return cost;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
