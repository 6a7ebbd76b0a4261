// One sample: a fresh VM, the strategy's setup, the workload's scan pass(es), teardown.
import { performance } from 'node:perf_hooks';
import type { Kvm } from './kvm.js';
import type { Vcpu } from './vcpu.js';
import { HostMapping } from './host-memory.js';
import { MARKS, MARKS_STRIDE, MARK_ENTRY, RAM_SIZE, RECORDS, RECORDS_STRIDE, RECORD_SIZE } from './guest-layout.js';
import { RECORD_END_SLOT } from './guest-program.js';
import { enterLongModeCpl3, writeImage } from './guest-image.js';
import { ExitLoop, type Fault } from './exit-loop.js';
import { PciModel, enumerate } from './pci-model.js';
import type { Access, Sample, ScanSample } from '../reports/schema.js';
import type { PresentFunction, Strategy, StrategyContext, StrategyOptions, WindowPlan } from '../strategies/types.js';
import type { Workload } from '../workloads/types.js';

export interface SampleRequest {
  kvm: Kvm;
  cpuid: Buffer;
  strategy: Strategy;
  variant: string;
  workload: Workload;
  access: Access;
  options: StrategyOptions;
}

/** The ECAM window a workload declares, in bytes. */
export function windowOf(w: Workload): StrategyContext['window'] {
  return { base: w.window.base, size: w.window.buses << 20, buses: w.window.buses };
}

/** What the strategy would tell the guest, without a VM (plan() has no side effects). */
export function planOnly(strategy: Strategy, workload: Workload, access: Access, variant: string, options: StrategyOptions): WindowPlan {
  return strategy.plan({ vm: null as never, workload, access, variant, window: windowOf(workload), present: presentFunctions(workload), options });
}

/** The functions Linux would find, with its bus numbering. */
export function presentFunctions(w: Workload): PresentFunction[] {
  return enumerate(w.topology).map(({ bus, devfn, secondary, subordinate }) => ({ bus, devfn, secondary, subordinate }));
}

/** A guest that stopped without signalling done. */
export class GuestFault extends Error {}

/** Runs one fresh VM and returns its measurements. Throws GuestFault on a guest fault. */
export function runSample(req: SampleRequest): Sample {
  const { kvm, strategy, variant, workload, access } = req;
  const t0 = performance.now();
  const vm = kvm.createVm();
  const ram = HostMapping.anonymous(RAM_SIZE, 'guest RAM');
  let backing: ReturnType<Strategy['setup']> | null = null;
  // KVM holds the slots' host addresses until the VM fd is closed: close it before unmapping.
  const release = () => {
    vm.close();
    backing?.release();
    ram.release();
  };
  try {
    vm.addMemory(0, RAM_SIZE, ram.ptr);
    const window = windowOf(workload);
    const present = presentFunctions(workload);
    const ctx: StrategyContext = { vm, workload, access, variant, window, present, options: req.options };
    const plan = strategy.plan(ctx);
    const program = workload.program(access, plan.guest);
    writeImage(
      ram.bytes,
      program,
      {
        configBase: window.base + plan.configOffset,
        lastBus: plan.lastBus,
        vcpus: workload.vcpus,
        passes: workload.passes,
        present: plan.publishPresent ? present : undefined,
      },
      plan.remap,
    );
    const tSetup = performance.now();
    backing = strategy.setup(ctx);
    const setupA = performance.now() - tSetup;
    const vcpus: Vcpu[] = [];
    for (let i = 0; i < workload.vcpus; i++) {
      const v = vm.createVcpu(i);
      enterLongModeCpl3(v, req.cpuid, i);
      vcpus.push(v);
    }
    const tAfter = performance.now();
    strategy.afterVcpus?.(ctx, vcpus);
    const setupMs = setupA + (performance.now() - tAfter);
    const vmCreateMs = performance.now() - t0 - setupMs;

    const pci = new PciModel(workload.topology);
    const loop = new ExitLoop(pci, { base: window.base, size: window.size, configOffset: plan.configOffset }, vm.coalescedZones > 0);
    const vcpuStats = vcpus[0].stats();
    const vmStats = vm.vmStats();
    const before = vcpuStats.read();
    const vmBefore = vmStats.read();
    if (workload.vcpus !== 1) throw new Error(`workload ${workload.id} needs ${workload.vcpus} vCPUs; this runner drives one`);
    const tRun = process.hrtime.bigint();
    const fault = loop.run(vcpus[0]);
    const hostRunNs = Number(process.hrtime.bigint() - tRun);
    if (fault) throw new GuestFault(describeFault(fault, vcpus[0], strategy.id, variant, workload.id, access));
    const kvmStats = { ...vcpuStats.delta(before, vcpuStats.read()), ...vmStats.delta(vmBefore, vmStats.read()) };
    const gauges = vmStats.snapshot();
    kvmStats['vm.pages_4k_now'] = gauges['vm.pages_4k'] ?? 0;
    kvmStats['vm.pages_2m_now'] = gauges['vm.pages_2m'] ?? 0;

    const tscKhz = vcpus[0].tscKhz();
    const dv = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.bytes.byteLength);
    const scans = readScans(dv, 0, workload, tscKhz);
    const discovered = readRecords(dv, 0);
    const discoveryOk = sameDiscovery(discovered, present, workload);
    const memoryBytes = backing.residentBytes();
    const tTeardown = performance.now();
    release();
    return {
      scans,
      exits: loop.counts.toRecord(),
      kvmStats,
      vmmHoleExits: pci.counters.holeReads + pci.counters.holeWrites,
      discoveryOk,
      setupMs,
      vmCreateMs,
      teardownMs: performance.now() - tTeardown,
      memoryBytes,
      mappings: backing.mappings,
      hostRunNs,
    };
  } finally {
    release();
  }
}

/** Phase marks → one ScanSample per pass (each pass has phases.length + 1 marks). */
function readScans(dv: DataView, vcpu: number, w: Workload, tscKhz: number): ScanSample[] {
  const block = MARKS + vcpu * MARKS_STRIDE;
  const end = Number(dv.getBigUint64(block, true));
  const n = (end - block - 8) / MARK_ENTRY;
  const marks = Array.from({ length: n }, (_, i) => {
    const at = block + 8 + i * MARK_ENTRY;
    return { tsc: dv.getBigUint64(at, true), accesses: Number(dv.getBigUint64(at + 8, true)), holes: Number(dv.getBigUint64(at + 16, true)) };
  });
  const per = w.phases.length + 1;
  if (n !== per * w.passes) throw new GuestFault(`guest left ${n} phase marks, expected ${per * w.passes}`);
  const toNs = (ticks: bigint) => (Number(ticks) * 1e6) / tscKhz;
  const scans: ScanSample[] = [];
  for (let p = 0; p < w.passes; p++) {
    const m = marks.slice(p * per, (p + 1) * per);
    const phases = w.phases.map((name, i) => ({
      name,
      ns: toNs(m[i + 1].tsc - m[i].tsc),
      accesses: m[i + 1].accesses - m[i].accesses,
      holeAccesses: m[i + 1].holes - m[i].holes,
    }));
    const hole = phases.find((ph) => ph.name === w.holePhase);
    scans.push({
      pass: p,
      ns: toNs(m[per - 1].tsc - m[0].tsc),
      phases,
      nsPerAccess: hole && hole.holeAccesses > 0 ? hole.ns / hole.holeAccesses : null,
    });
  }
  return scans;
}

interface Discovered {
  bus: number;
  devfn: number;
  id: number;
}

function readRecords(dv: DataView, vcpu: number): Discovered[] {
  const start = RECORDS + vcpu * RECORDS_STRIDE;
  const end = Number(dv.getBigUint64(MARKS + vcpu * MARKS_STRIDE + RECORD_END_SLOT, true));
  const out: Discovered[] = [];
  for (let at = start; at < end; at += RECORD_SIZE) {
    const bdf = dv.getUint32(at, true);
    out.push({ bus: bdf >> 8, devfn: bdf & 0xff, id: dv.getUint32(at + 4, true) });
  }
  return out;
}

/** The guest found exactly the topology's functions (with Linux's bus numbers), once per pass. */
function sameDiscovery(found: Discovered[], present: PresentFunction[], w: Workload): boolean {
  const all = enumerate(w.topology);
  const key = (bus: number, devfn: number, id: number) => `${bus}:${devfn}:${id >>> 0}`;
  const want = all.map((f) => key(f.bus, f.devfn, (f.spec.vendor | (f.spec.device << 16)) >>> 0)).sort();
  const got = found.map((f) => key(f.bus, f.devfn, f.id)).sort();
  const expected = Array.from({ length: w.passes }, () => want).flat().sort();
  return present.length === all.length && got.length === expected.length && got.every((k, i) => k === expected[i]);
}

function describeFault(f: Fault, vcpu: Vcpu, strategy: string, variant: string, workload: string, access: string): string {
  const what = f.kind === 'fail-entry' ? `fail-entry (hardware reason 0x${f.hardwareReason.toString(16)})` : f.kind === 'internal-error' ? `internal error (suberror ${f.suberror})` : f.kind === 'unknown' ? `unknown exit ${f.reason}` : f.kind;
  let regs = '';
  try {
    const g = vcpu.getRegs();
    const s = vcpu.getSregs();
    regs = ` rip=0x${g.rip.toString(16)} rsp=0x${g.rsp.toString(16)} rflags=0x${g.rflags.toString(16)} cr0=0x${s.cr0.toString(16)} cr2=0x${s.cr2.toString(16)} cr3=0x${s.cr3.toString(16)} cs.dpl=${s.cs.dpl}`;
  } catch {
    regs = ' (registers unavailable)';
  }
  return `guest stopped with ${what} under ${strategy}/${variant} on ${workload} (${access}):${regs}`;
}
