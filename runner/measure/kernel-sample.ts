// One sample of a real-kernel workload (Workload.kernel): a fresh VM boots Debian's kernel to its
// end marker under the strategy's setup of the ECAM window. The phases are timed by the host clock
// at the accesses to present functions that bound them (runner/measure/kernel-log.ts), bounds
// found in a reference boot with nothing in the window (runner/measure/kernel-reference.ts).
import { performance } from 'node:perf_hooks';
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { guestRam, type HostMapping } from '../vmm/host-memory.js';
import { KVM_PIT_SPEAKER_DUMMY } from '../vmm/kvm-abi.js';
import type { Vm } from '../vmm/vm.js';
import { vmlinuxOf } from '../guest/vmlinux.js';
import { parseElf64, type Elf64 } from '../guest/elf.js';
import { enterLinux64, linuxLayout, writeLinuxImage } from '../guest/linux-boot.js';
import { buildAcpiTables, type AcpiTables } from '../guest/acpi-tables.js';
import { guestKernelPath } from '../guest/guest-kernel.js';
import type { BzImage } from '../guest/bzimage.js';
import { KernelLoop } from '../devices/kernel-loop.js';
import { PciModel } from '../devices/pci-model.js';
import type { KernelBootInfo, PhaseSample, Sample } from '../results/schema.js';
import { fullWindowPlan, type Backing, type SetupContext, type WindowPlan } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import { rowIdOf, strategyLabel } from '../shared/row-id.js';
import { planContext, type SampleRequest } from './plan-context.js';
import { ScanStats } from './scan-stats.js';
import { GuestFault } from './guest-readback.js';
import { boundTimes, boundsOf, phaseCounts, presentHash, type PhaseBounds } from './kernel-log.js';
import { readReference, referenceKey, writeReference, type KernelReference } from './kernel-reference.js';

/** KVM_SET_TSS_ADDR: three pages below the BIOS area at the top of 4 GiB, where QEMU puts them. */
const TSS_ADDR = 0xfffbd000;
/** Config accesses the log holds (a userspace-exit boot makes ~8 700). */
const LOG_CAPACITY = 1 << 16;
/** Bump when the reference's content or key changes meaning. */
const REFERENCE_VERSION = 'kernel-reference-3';

interface KernelImage {
  path: string;
  key: string;
  bzImage: BzImage;
  vmlinux: Elf64;
}

let image: KernelImage | null = null;

/** The guest kernel, decompressed once per process (runner/guest/vmlinux.ts caches it on disk too). */
function kernelImage(): KernelImage {
  const path = guestKernelPath();
  if (image?.path === path) return image;
  const { bzImage, vmlinux } = vmlinuxOf(path);
  const st = statSync(path);
  image = { path, key: `${basename(path)}-${st.size}-${Math.floor(st.mtimeMs)}`, bzImage, vmlinux: parseElf64(vmlinux, path) };
  return image;
}

/** The ACPI tables of an ECAM boot: q35's interrupt controllers and host-bridge windows, the MCFG
 *  ending at the plan's last bus. */
function acpiTables(w: Workload, lastBus: number): AcpiTables {
  return buildAcpiTables({
    base: linuxLayout.acpi,
    size: linuxLayout.acpiEnd - linuxLayout.acpi,
    cpus: w.vcpus,
    lapicAddress: 0xfee00000,
    ioapic: { id: 1, address: 0xfec00000, gsiBase: 0 },
    ecam: { base: w.window.base, startBus: 0, endBus: lastBus },
    pciWindows: { io: [[0, 0xcf7], [0xd00, 0xffff]], mem32: [[0xc0000000, 0xfebfffff]] },
  });
}

/** One boot: the sample's host-side figures, and what the sample reads back from the loop. */
interface BootResult extends Pick<Sample, 'kvmStats' | 'setupMs' | 'vmCreateMs' | 'teardownMs' | 'memoryBytes' | 'mappings' | 'hostRunNs'> {
  loop: KernelLoop;
  pci: PciModel;
  windowTouched: boolean;
  cmdline: string;
}

/** One boot. `strategy` false: the reference boot, nothing in the window and a verbose console.
 *  `exitsAt`: present accesses at which KVM's exit counter is read. */
function boot(req: SampleRequest, plan: WindowPlan, strategy: boolean, exitsAt: number[]): BootResult {
  const { kvm, workload: w, access } = req;
  const k = w.kernel as NonNullable<Workload['kernel']>;
  const img = kernelImage();
  const cmdline = k.cmdline(access, plan.lastBus, !strategy);
  let vm: Vm | null = null;
  let ram: HostMapping | null = null;
  let backing: Backing | null = null;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      vm?.close(); // KVM holds the slots' host addresses until the VM is gone
    } finally {
      try {
        backing?.release();
      } finally {
        ram?.release();
      }
    }
  };
  try {
    const t0 = performance.now();
    vm = kvm.createVm();
    ram = guestRam(k.ramSize);
    vm.addMemory(0, k.ramSize, ram.ptr);
    vm.setTssAddr(TSS_ADDR);
    vm.createIrqchip();
    vm.createPit2(KVM_PIT_SPEAKER_DUMMY);
    const window = { base: w.window.base, size: w.window.buses << 20 };
    writeLinuxImage(ram.bytes, {
      bzImage: img.bzImage,
      vmlinux: img.vmlinux,
      cmdline,
      ramSize: k.ramSize,
      reserved: [{ addr: window.base, size: window.size }],
      acpi: access === 'ecam' ? acpiTables(w, plan.lastBus) : undefined,
    });
    const ctx: SetupContext = { ...planContext(w, access, req.variant, req.options), vm };
    const tSetup = performance.now();
    backing = strategy ? req.strategy.setup(ctx) : null;
    let setupMs = performance.now() - tSetup;
    const vcpu = vm.createVcpu(0);
    enterLinux64(vcpu, req.cpuid, img.vmlinux.entry);
    const tAfter = performance.now();
    if (strategy) req.strategy.afterVcpus?.(ctx, [vcpu]);
    setupMs += performance.now() - tAfter;
    const windowTouched = vm.coalescedZones > 0 || vm.fillZones > 0 || vm.slots.some((s) => s.gpa < window.base + window.size && s.gpa + s.size > window.base);
    const vmCreateMs = performance.now() - t0 - setupMs;
    const pci = new PciModel(w.topology);
    const binary = kvm.checkExtension('KVM_CAP_BINARY_STATS_FD');
    const loop = new KernelLoop({
      pci,
      ecam: access === 'ecam' ? window : null,
      endMarker: k.endMarker,
      logCapacity: LOG_CAPACITY,
      readExits: binary ? vcpu.stats().reader('exits') : null,
      exitsAt,
    });
    const stats = ScanStats.begin(binary, [vcpu], vm);
    // As runSample does (runner/measure/sample.ts): the set-up's garbage collected now where the
    // worker runs with --expose-gc, not inside a timed phase.
    (globalThis as { gc?: (o?: object) => void }).gc?.({ type: 'minor' });
    const tRun = performance.now();
    const stop = loop.run(vcpu);
    const hostRunNs = (performance.now() - tRun) * 1e6;
    if (stop.kind !== 'end') {
      const last = loop.serial.lines.slice(-3).join(' | ');
      throw new GuestFault(`the kernel stopped with ${stop.kind} before "${k.endMarker}" under ${strategyLabel(rowIdOf(req))} on ${w.id} (${access}); its last console lines: ${last || '(none)'}`);
    }
    if (loop.log.dropped) throw new GuestFault(`the kernel made more than ${LOG_CAPACITY} config accesses; the log holds ${LOG_CAPACITY}`);
    const kvmStats = stats.finish();
    const memoryBytes = backing?.residentBytes() ?? 0;
    const mappings = backing?.mappings ?? 0;
    const tTeardown = performance.now();
    release();
    return { loop, pci, kvmStats, windowTouched, setupMs, vmCreateMs, teardownMs: performance.now() - tTeardown, memoryBytes, mappings, hostRunNs, cmdline };
  } finally {
    release();
  }
}

/** The reference for this row's kernel, access method and CPU: from the cache, or a boot now. */
function reference(req: SampleRequest): KernelReference {
  const { workload: w, access } = req;
  const ctx = planContext(w, access, req.variant, req.options);
  const plan = fullWindowPlan(ctx);
  const k = w.kernel as NonNullable<Workload['kernel']>;
  const img = kernelImage();
  const key = referenceKey([
    REFERENCE_VERSION,
    img.key,
    access,
    k.cmdline(access, plan.lastBus, true),
    access === 'ecam' ? acpiTables(w, plan.lastBus).bytes : '',
    JSON.stringify(w.topology),
    JSON.stringify(w.window),
    k.endMarker,
    String(k.ramSize),
    req.cpuid,
  ]);
  const cached = readReference(key);
  if (cached) return cached;
  const r = boot(req, plan, false, []);
  const bounds = boundsOf(r.loop.log);
  if (!bounds) throw new GuestFault(`the reference boot of ${w.id} (${access}) made no peer-bridge fixup reads (no hole read on a bus above 0)`);
  const found = discoveredFunctions(r.loop.serial.lines);
  const want = topologyFunctions(w);
  const discoveryOk = found.length === want.length && found.every((f, i) => f === want[i]);
  const ref: KernelReference = { ...bounds, presentHash: presentHash(r.loop.log), lastBus: plan.lastBus, phases: phaseCounts(r.loop.log, bounds), discoveryOk };
  writeReference(key, ref);
  return ref;
}

/** The pci 0000:BB:DD.F: [vvvv:dddd] lines of the kernel's console (drivers/pci/probe.c pci_setup_device). */
export function discoveredFunctions(lines: readonly string[]): string[] {
  const out = new Set<string>();
  for (const l of lines) {
    const m = /pci 0000:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]): \[([0-9a-f]{4}):([0-9a-f]{4})\]/.exec(l);
    if (m) out.add(`${m[1]}:${m[2]}.${m[3]} ${m[4]}:${m[5]}`);
  }
  return [...out].sort();
}

/** The same for a topology (bus 0 only: q35 has no bridges). */
export function topologyFunctions(w: Workload): string[] {
  const hex = (n: number, d: number) => n.toString(16).padStart(d, '0');
  return w.topology.map((f) => `00:${hex(f.dev, 2)}.${f.fn} ${hex(f.vendor, 4)}:${hex(f.device, 4)}`).sort();
}

/** Runs one fresh VM of a real-kernel row. Throws GuestFault when the boot or its checks fail. */
export function runKernelSample(req: SampleRequest): Sample {
  const { workload: w } = req;
  const ref = reference(req);
  const plan = req.strategy.plan(planContext(w, req.access, req.variant, req.options));
  const bounds: PhaseBounds = { presentCount: ref.presentCount, fixupAt: ref.fixupAt };
  const r = boot(req, plan, true, [ref.fixupAt - 1, ref.fixupAt]);
  const { loop } = r;
  const label = `${strategyLabel(rowIdOf(req))} on ${w.id} (${req.access})`;
  if (loop.presentCount !== ref.presentCount || presentHash(loop.log) !== ref.presentHash)
    throw new GuestFault(`under ${label} the kernel's ${loop.presentCount} accesses to present functions differ from the reference boot's ${ref.presentCount} (same kernel, command line and CPUID, nothing in the window)`);
  // Nothing in the window: the VMM saw every access, so the counts are this boot's own.
  const own = !r.windowTouched;
  if (!own && plan.lastBus !== ref.lastBus) throw new GuestFault(`under ${label} KVM serves the window and the plan declares bus ${plan.lastBus} last; the reference boot declared ${ref.lastBus}, so its counts do not apply`);
  const counts = own ? phaseCounts(loop.log, bounds) : ref.phases;
  const times = boundTimes(loop.log, bounds);
  if (times.length !== 4) throw new GuestFault(`under ${label} the log holds ${times.length} of the 4 phase bounds`);
  const [tFirst, tBefore, tAfter, tLast] = times;
  const ns = [tFirst, tBefore - tFirst, tAfter - tBefore, tLast - tAfter, loop.endNs - tLast];
  const phases: PhaseSample[] = w.phases.map((name, i) => ({ name, ns: ns[i], accesses: counts[i].accesses, holeAccesses: counts[i].holes }));
  const hole = phases.find((p) => p.name === w.holePhase);
  const e0 = loop.exitsAtPresent[ref.fixupAt - 1];
  const e1 = loop.exitsAtPresent[ref.fixupAt];
  const kernel: KernelBootInfo = {
    kernel: kernelImage().bzImage.kernelVersion,
    cmdline: r.cmdline,
    counts: own ? 'own' : 'reference',
    presentAccesses: loop.presentCount,
    vmmConfigAccesses: loop.log.n,
    fixupKvmExits: Number.isNaN(e0) || Number.isNaN(e1) ? null : e1 - e0,
    consoleBytes: loop.serial.bytes,
  };
  return {
    // Fewer buses declared than the reference's (right-sized-window): no fixup ran, and the few hole
    // reads in its bracket (conf1: the bus scan's last probes) are no per-access figure.
    scans: [{ pass: 0, ns: loop.endNs, phases, nsPerAccess: hole && hole.holeAccesses > 0 && plan.lastBus === ref.lastBus ? hole.ns / hole.holeAccesses : null }],
    exits: loop.counts.toRecord(),
    kvmStats: r.kvmStats,
    vmmHoleExits: r.pci.counters.holeReads + r.pci.counters.holeWrites,
    // The measured boot's console is quiet; it repeated the reference's present accesses, whose
    // console named the functions found.
    discoveryOk: ref.discoveryOk,
    setupMs: r.setupMs,
    vmCreateMs: r.vmCreateMs,
    teardownMs: r.teardownMs,
    memoryBytes: r.memoryBytes,
    mappings: r.mappings,
    hostRunNs: r.hostRunNs,
    kernel,
  };
}
