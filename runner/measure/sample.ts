// One sample: a fresh VM, the strategy's setup, the workload's scan pass(es), teardown.
import { performance } from 'node:perf_hooks';
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
import { planContext, type SampleRequest } from './plan-context.js';
import { runKernelSample } from './kernel-sample.js';
import { enterLongModeCpl3, writeImage } from '../guest/guest-image.js';
import { ExitLoop, type Fault } from '../devices/exit-loop.js';
import { VcpuThreads, type ThreadResult } from './vcpu-thread.js';
import { PciModel, enumerate } from '../devices/pci-model.js';
import type { Sample } from '../results/schema.js';
import type { Backing, PlanContext, SetupContext, WindowPlan } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import { rowIdOf, strategyLabel, type RowId } from '../shared/row-id.js';
import { GuestFault, readGuest } from './guest-readback.js';

export type { SampleRequest } from './plan-context.js';

export { windowOf, planContext, planOnly, presentFunctions } from './plan-context.js';

/** How long an abandoned sample waits for its vCPU threads to stop (they stop at their next exit). */
const SETTLE_MS = 10_000;

/** What a sample holds until release(), recorded as soon as it exists so that release() covers every path. */
interface Held {
  vm?: Vm;
  ram?: HostMapping;
  backing?: Backing;
  /** Set when a vCPU thread did not stop after its sample was abandoned: its own vCPU fd keeps
   *  the VM alive and the VM's slots still point at our host memory, so that memory stays mapped
   *  (leaked) rather than let the next mapping at the same address sit under a running guest. */
  keepMemory: boolean;
}

/** A VM ready to run: the strategy's plan in the guest image, its setup done, vCPUs in long mode. */
interface BuiltVm {
  vm: Vm;
  ram: HostMapping;
  backing: Backing;
  plan: WindowPlan;
  window: PlanContext['window'];
  vcpus: Vcpu[];
  setupMs: number;
  vmCreateMs: number;
}

/** What running the vCPUs leaves for the sample: the exit counts of every vCPU and the KVM statistics. */
interface VcpuRun {
  loop: ExitLoop;
  pci: PciModel;
  others: ThreadResult[];
  kvmStats: Sample['kvmStats'];
  hostRunNs: number;
}

/** Runs one fresh VM and returns its measurements. Throws GuestFault on a guest fault. */
export function runSample(req: SampleRequest): Sample {
  if (req.workload.kernel) return runKernelSample(req);
  checkCapacity(req.workload);
  const held: Held = { keepMemory: false };
  const release = releaser(held);
  try {
    const built = buildVm(req, held);
    // Where the worker runs with --expose-gc (the icount lab: runner/measure/worker-flags.ts), a
    // young-generation collection now, so none of the set-up's garbage is collected inside the
    // timed scan. (A full collection instead made every later userspace exit ~6 800 instructions
    // dearer in the lab: measured, not explained; a minor one leaves the exit path as it was.)
    (globalThis as { gc?: (o?: object) => void }).gc?.({ type: 'minor' });
    const run = runVcpus(req, built, held);
    return readBack(req, built, run, release);
  } finally {
    release();
  }
}

/** Releases what `held` holds, once; each step runs even when an earlier one throws. KVM holds
 *  the slots' host addresses until the VM is gone: its fd is closed before anything is unmapped. */
function releaser(held: Held): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      held.vm?.close(); // and its vCPUs
    } finally {
      if (!held.keepMemory) {
        try {
          held.backing?.release();
        } finally {
          held.ram?.release();
        }
      }
    }
  };
}

/** A VM with guest RAM, the plan's image written into it, the strategy's setup (timed) and the vCPUs. */
function buildVm(req: SampleRequest, held: Held): BuiltVm {
  const { kvm, strategy, variant, workload, access } = req;
  const t0 = performance.now();
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
  return { vm, ram, backing, plan, window, vcpus, setupMs, vmCreateMs };
}

/** Runs every vCPU until the guest signals done, serving exits from the device model, with KVM
 *  statistics around the scan. A guest fault is a GuestFault naming the row. */
function runVcpus(req: SampleRequest, b: BuiltVm, held: Held): VcpuRun {
  const { workload } = req;
  const { vm, vcpus, window, plan } = b;
  const ecam = { base: window.base, size: window.size, configOffset: plan.configOffset };
  const multi = workload.vcpus > 1;
  // More than one vCPU: vCPUs 1.. run on worker threads over one shared device model (runner/measure/vcpu-thread.ts).
  const pciBuffer = multi ? PciModel.sharedBuffer(workload.topology) : null;
  const pci = new PciModel(workload.topology, pciBuffer ? { buffer: pciBuffer, init: true } : undefined);
  const loop = new ExitLoop(pci, ecam, vm.coalescedZones > 0);
  const stats = ScanStats.begin(req.kvm.checkExtension('KVM_CAP_BINARY_STATS_FD'), vcpus, vm);
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
        held.keepMemory = true;
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
  return { loop, pci, others, kvmStats: stats.finish(), hostRunNs };
}

/** The sample: the guest's marks and records read from its memory, the backing's memory, then the
 *  VM released (timed as teardown). */
function readBack(req: SampleRequest, b: BuiltVm, run: VcpuRun, release: () => void): Sample {
  const { scans, discoveryOk } = readGuest(b.ram.bytes, b.vcpus.length, req.workload, b.vcpus[0].tscKhz());
  const memoryBytes = b.backing.residentBytes();
  const tTeardown = performance.now();
  release();
  const { loop, pci, others } = run;
  const counters = [pci.counters, ...others.map((t) => t.counters)];
  return {
    scans,
    exits: sumRecords([loop.counts.toRecord(), ...others.map((t) => t.exits)]),
    kvmStats: run.kvmStats,
    vmmHoleExits: counters.reduce((n, c) => n + c.holeReads + c.holeWrites, 0),
    discoveryOk,
    setupMs: b.setupMs,
    vmCreateMs: b.vmCreateMs,
    teardownMs: performance.now() - tTeardown,
    memoryBytes,
    mappings: b.backing.mappings,
    hostRunNs: run.hostRunNs,
  };
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
