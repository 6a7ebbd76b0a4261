// One sample: a fresh VM, the strategy's setup, the workload's scan pass(es), teardown.
import { performance } from 'node:perf_hooks';
import type { Kvm } from '../vmm/kvm.js';
import type { Vm } from '../vmm/vm.js';
import type { Vcpu } from '../vmm/vcpu.js';
import { guestRam, type HostMapping } from '../vmm/host-memory.js';
import { ScanStats, sumRecords } from './scan-stats.js';
import { faultRegistersText } from './fault-registers.js';
import { kvmBackend } from '../host/host.js';
import {
  CODE_MAX,
  MARKS,
  MARKS_STRIDE,
  MARK_ENTRY,
  MAX_MARKS,
  PT_POOL,
  RAM_SIZE,
  RECORDS,
  RECORDS_STRIDE,
  RECORD_SIZE,
  SCRATCH,
  STACK_SIZE,
  STACK_TOP,
} from '../guest/guest-layout.js';
import { RECORD_END_SLOT } from '../guest/guest-program.js';
import { enterLongModeCpl3, writeImage, type PresentFunction } from '../guest/guest-image.js';
import { ExitLoop, type Fault } from '../devices/exit-loop.js';
import { VcpuThreads, type ThreadResult } from './vcpu-thread.js';
import { PciModel, enumerate } from '../devices/pci-model.js';
import type { Access, Sample, ScanSample } from '../../reports/schema.js';
import type { Backing, PlanContext, SetupContext, Strategy, StrategyOptions, WindowPlan } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import { rowIdOf, strategyLabel, type RowId, type RowOf } from '../shared/row-id.js';

export interface SampleRequest extends RowOf<Strategy, Workload> {
  kvm: Kvm;
  cpuid: Buffer;
  options: StrategyOptions;
}

/** The ECAM window a workload declares, in bytes. */
export function windowOf(w: Workload): PlanContext['window'] {
  return { base: w.window.base, size: w.window.buses << 20, buses: w.window.buses };
}

/** What a strategy plans from: the workload's window and the functions Linux would find. */
export function planContext(workload: Workload, access: Access, variant: string, options: StrategyOptions): PlanContext {
  return { workload, access, variant, window: windowOf(workload), present: presentFunctions(workload), options };
}

/** What the strategy would tell the guest, without a VM (plan() has no side effects). */
export function planOnly(strategy: Strategy, workload: Workload, access: Access, variant: string, options: StrategyOptions): WindowPlan {
  return strategy.plan(planContext(workload, access, variant, options));
}

/** The functions Linux would find, with its bus numbering. */
export function presentFunctions(w: Workload): PresentFunction[] {
  return enumerate(w.topology).map(({ bus, devfn, secondary, subordinate }) => ({ bus, devfn, secondary, subordinate }));
}

/** How long an abandoned sample waits for its vCPU threads to stop (they stop at their next exit). */
const SETTLE_MS = 10_000;

/** A guest that stopped without signalling done. */
export class GuestFault extends Error {}

/** Runs one fresh VM and returns its measurements. Throws GuestFault on a guest fault. */
export function runSample(req: SampleRequest): Sample {
  const { kvm, strategy, variant, workload, access } = req;
  checkCapacity(workload);
  const t0 = performance.now();
  // Everything acquired is recorded here as soon as it exists, so release() covers every path.
  const held: { vm?: Vm; ram?: HostMapping; backing?: Backing } = {};
  /** Set when a vCPU thread did not stop after its sample was abandoned: its own vCPU fd keeps
   *  the VM alive and the VM's slots still point at our host memory, so that memory stays mapped
   *  (leaked) rather than let the next mapping at the same address sit under a running guest. */
  let keepMemory = false;
  let released = false;
  // KVM holds the slots' host addresses until the VM is gone: close its fd before unmapping.
  // Runs once; each step runs even when an earlier one throws.
  const release = () => {
    if (released) return;
    released = true;
    try {
      held.vm?.close(); // and its vCPUs
    } finally {
      if (!keepMemory) {
        try {
          held.backing?.release();
        } finally {
          held.ram?.release();
        }
      }
    }
  };
  try {
    const vm = (held.vm = kvm.createVm());
    const ram = (held.ram = guestRam(RAM_SIZE));
    vm.addMemory(0, RAM_SIZE, ram.ptr);
    const ctx: SetupContext = { ...planContext(workload, access, variant, req.options), vm };
    const { window, present } = ctx;
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
    const backing = (held.backing = strategy.setup(ctx));
    const setupA = performance.now() - tSetup;
    const vcpus: Vcpu[] = [];
    for (let i = 0; i < workload.vcpus; i++) {
      const v = vm.createVcpu(i); // vm.close() closes it
      enterLongModeCpl3(v, req.cpuid, i);
      vcpus.push(v);
    }
    const tAfter = performance.now();
    strategy.afterVcpus?.(ctx, vcpus);
    const setupMs = setupA + (performance.now() - tAfter);
    const vmCreateMs = performance.now() - t0 - setupMs;

    const ecam = { base: window.base, size: window.size, configOffset: plan.configOffset };
    const multi = workload.vcpus > 1;
    // More than one vCPU: vCPUs 1.. run on worker threads over one shared device model (runner/measure/vcpu-thread.ts).
    const pciBuffer = multi ? PciModel.sharedBuffer(workload.topology) : null;
    const pci = new PciModel(workload.topology, pciBuffer ? { buffer: pciBuffer, init: true } : undefined);
    const loop = new ExitLoop(pci, ecam, vm.coalescedZones > 0);
    const stats = ScanStats.begin(kvm.checkExtension('KVM_CAP_BINARY_STATS_FD'), vcpus, vm);
    let threads: VcpuThreads | null = null;
    let others: ThreadResult[] = [];
    const tRun = process.hrtime.bigint();
    let fault: Fault | null;
    try {
      threads = multi
        ? new VcpuThreads(vcpus.slice(1), { topology: workload.topology, pciBuffer: pciBuffer as SharedArrayBuffer, ecam, drainCoalesced: vm.coalescedZones > 0, mmapSize: vm.runSize })
        : null;
      threads?.start();
      fault = loop.run(vcpus[0]);
      others = threads?.join() ?? [];
    } catch (e) {
      if (threads) {
        // Threads still running stop at their next exit; wait for them before anything is released.
        threads.abort();
        if (!threads.settle(SETTLE_MS)) {
          keepMemory = true;
          const why = e instanceof Error ? e.message : String(e);
          throw new Error(`${why}; a vCPU thread had not finished ${SETTLE_MS / 1000} s after the sample was abandoned: this VM's guest memory is left mapped`, { cause: e });
        }
      }
      throw e;
    }
    const hostRunNs = Number(process.hrtime.bigint() - tRun);
    if (fault) throw new GuestFault(describeFault(fault, vcpus[0], rowIdOf(req)));
    for (const t of others) {
      if (t.error) throw new Error(`vCPU ${t.id} thread: ${t.error}`);
      if (t.fault) throw new GuestFault(describeFault(t.fault, vcpus[t.id], rowIdOf(req)));
    }
    const kvmStats = stats.finish();

    const tscKhz = vcpus[0].tscKhz();
    const dv = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.bytes.byteLength);
    const scans = combineScans(vcpus.map((_, i) => readScans(dv, i, workload, tscKhz)), workload);
    const discovered = vcpus.flatMap((_, i) => readRecords(dv, i));
    const discoveryOk = sameDiscovery(discovered, workload);
    const memoryBytes = backing.residentBytes();
    const tTeardown = performance.now();
    release();
    const counters = [pci.counters, ...others.map((t) => t.counters)];
    return {
      scans,
      exits: sumRecords([loop.counts.toRecord(), ...others.map((t) => t.exits)]),
      kvmStats,
      vmmHoleExits: counters.reduce((n, c) => n + c.holeReads + c.holeWrites, 0),
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

/**
 * One ScanSample per pass from every vCPU's own marks. With several vCPUs running at once:
 *  - a phase's ns is the longest any vCPU spent in it (the phases start together after the
 *    barrier, so this is the phase's wall time; no cross-vCPU TSC comparison is needed);
 *  - its accesses and hole accesses are summed over the vCPUs;
 *  - the pass's ns is the sum of those phase times except the workload's untimedPhases (e.g. a
 *    start barrier, whose length is mostly how late the host scheduled the last vCPU thread, not
 *    guest work): the critical path of the guest's work. Untimed phases stay in `phases`;
 *  - nsPerAccess = the hole phase's ns / all vCPUs' hole accesses in it: wall time per hole
 *    access, an aggregate throughput (n vCPUs scaling perfectly give 1/n of one vCPU's figure).
 * With one vCPU this is the vCPU's own ScanSample.
 */
export function combineScans(perVcpu: ScanSample[][], w: Pick<Workload, 'holePhase' | 'untimedPhases'>): ScanSample[] {
  if (perVcpu.length === 1) return perVcpu[0];
  return perVcpu[0].map((first, p) => {
    const passes = perVcpu.map((scans) => scans[p]);
    const phases = first.phases.map((ph, i) => ({
      name: ph.name,
      ns: Math.max(...passes.map((s) => s.phases[i].ns)),
      accesses: passes.reduce((n, s) => n + s.phases[i].accesses, 0),
      holeAccesses: passes.reduce((n, s) => n + s.phases[i].holeAccesses, 0),
    }));
    const hole = phases.find((ph) => ph.name === w.holePhase);
    const untimed = w.untimedPhases ?? [];
    const ns = phases.reduce((t, ph) => t + (untimed.includes(ph.name) ? 0 : ph.ns), 0);
    return { pass: p, ns, phases, nsPerAccess: hole && hole.holeAccesses > 0 ? hole.ns / hole.holeAccesses : null };
  });
}

/** Whether the guest's marks and records areas hold what the workload will write (per vCPU), and
 *  whether the workload's program can handle its topology (Workload.checkTopology). */
export function checkCapacity(w: Workload): void {
  try {
    w.checkTopology?.(w.topology);
  } catch (e) {
    throw new Error(`${w.id}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const marks = w.passes * (w.phases.length + 1);
  const markRoom = Math.min(MAX_MARKS, Math.floor((RECORD_END_SLOT - 8) / MARK_ENTRY));
  if (marks > markRoom) throw new Error(`${w.id}: ${marks} phase marks per vCPU, the marks block holds ${markRoom}`);
  const records = w.passes * enumerate(w.topology).length;
  const recordRoom = RECORDS_STRIDE / RECORD_SIZE;
  if (records > recordRoom) throw new Error(`${w.id}: up to ${records} discovery records per vCPU, the records block holds ${recordRoom}`);
  if (RECORDS + w.vcpus * RECORDS_STRIDE > PT_POOL) throw new Error(`${w.id}: ${w.vcpus} vCPUs' records overlap the page-table pool`);
  if (w.vcpus * STACK_SIZE > STACK_TOP - CODE_MAX) throw new Error(`${w.id}: ${w.vcpus} vCPU stacks overlap the code area`);
  if (w.vcpus * MARKS_STRIDE > SCRATCH - MARKS) throw new Error(`${w.id}: ${w.vcpus} vCPUs' marks blocks overlap the scratch area`);
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
    const untimedNs = phases.reduce((t, ph) => t + (w.untimedPhases?.includes(ph.name) ? ph.ns : 0), 0);
    scans.push({
      pass: p,
      ns: toNs(m[per - 1].tsc - m[0].tsc) - untimedNs,
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
function sameDiscovery(found: Discovered[], w: Workload): boolean {
  const all = enumerate(w.topology);
  const key = (bus: number, devfn: number, id: number) => `${bus}:${devfn}:${id >>> 0}`;
  const want = all.map((f) => key(f.bus, f.devfn, (f.spec.vendor | (f.spec.device << 16)) >>> 0)).sort();
  const got = found.map((f) => key(f.bus, f.devfn, f.id)).sort();
  const expected = Array.from({ length: w.passes }, () => want).flat().sort();
  return got.length === expected.length && got.every((k, i) => k === expected[i]);
}

function describeFault(f: Fault, vcpu: Vcpu, id: RowId): string {
  const what = f.kind === 'fail-entry' ? `fail-entry (hardware reason 0x${f.hardwareReason.toString(16)})` : f.kind === 'internal-error' ? `internal error (suberror ${f.suberror})` : f.kind === 'unknown' ? `unknown exit ${f.reason}` : f.kind;
  let regs = '';
  try {
    const g = vcpu.getRegs();
    const s = vcpu.getSregs();
    const r = { rip: g.rip, rsp: g.rsp, rflags: g.rflags, cr0: s.cr0, cr2: s.cr2, cr3: s.cr3, csSelector: s.cs.selector, csDpl: s.cs.dpl };
    regs = faultRegistersText(f.kind, kvmBackend(), r);
  } catch {
    regs = ' (registers unavailable)';
  }
  return `guest stopped with ${what} under ${strategyLabel(id)} on ${id.workload} (${id.access}):${regs}`;
}
