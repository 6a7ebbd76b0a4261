// The results file written by `bench run` and read by `bench report` and `bench gate`.
// Bump SCHEMA_VERSION on any change a reader must know about.

export const SCHEMA_ID = 'pcihole-bench/results';
export const SCHEMA_VERSION = 2;
/** Versions this tool reads. 2 added host.lab, host.timing and null kvmStats; a version-1 file
 *  has none of them and reads as hardware timing with whatever statistics it recorded. */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1, 2];

/** measured: the mechanism itself ran. proxy: a labelled stand-in measured on real KVM.
 *  unsupported: cannot run on this host (reason says why and how to enable it).
 *  failed: it ran and something went wrong (guest fault, timeout, wrong discovery). */
export type Status = 'measured' | 'proxy' | 'unsupported' | 'failed';

import type { Access } from '../shared/access.js';
import type { RowId } from '../shared/row-id.js';
export type { Access };

/** The lab VM a run happened in (`bench lab`), from the PCIHOLE_LAB environment variable. */
export interface LabInfo {
  /** How QEMU ran the lab VM: tcg (emulated, times are path lengths) or kvm (nested, near hardware). */
  accel: 'tcg' | 'kvm';
  /** `uname -r` of the machine that ran QEMU. */
  outerKernel: string;
  /** CPU model of the machine that ran QEMU. */
  outerCpu: string;
  /** That machine's own fingerprint id, when it had one. */
  outerHostId?: string;
  /** QEMU version. */
  qemu: string;
  /** The kernel booted inside the lab VM (the one whose KVM was measured). */
  guestKernel: string;
  /** TCG only: what QEMU's clock counts — icount: executed instructions (1 ns each); wall: real
   *  time of the emulation. Absent in files from before icount: wall. */
  clock?: 'icount' | 'wall';
}

/** A LabInfo when `x` is one (extra fields dropped), else undefined. */
export function asLabInfo(x: unknown): LabInfo | undefined {
  if (!isObj(x)) return undefined;
  const o = x as Record<string, unknown>;
  if (o.accel !== 'tcg' && o.accel !== 'kvm') return undefined;
  const text = ['outerKernel', 'outerCpu', 'qemu', 'guestKernel'] as const;
  if (!text.every((k) => typeof o[k] === 'string')) return undefined;
  if (o.outerHostId !== undefined && typeof o.outerHostId !== 'string') return undefined;
  const lab: LabInfo = { accel: o.accel, outerKernel: o.outerKernel as string, outerCpu: o.outerCpu as string, qemu: o.qemu as string, guestKernel: o.guestKernel as string };
  if (typeof o.outerHostId === 'string') lab.outerHostId = o.outerHostId;
  if (o.clock === 'icount' || o.clock === 'wall') lab.clock = o.clock;
  else if (o.clock !== undefined) return undefined;
  return lab;
}

/** A host limit `bench run` raised for the run (runner/host/host-prep.ts). */
export interface RaisedLimit {
  /** vm.max_map_count or hugepages-2048kB/nr_hugepages. */
  name: string;
  /** Its value before the run (what the fingerprint shows). */
  from: number;
  /** Its value during the run. */
  to: number;
  /** Whether it was put back to `from` at the end; absent while the run is still going. */
  restored?: boolean;
}

/** What identifies the machine a figure was measured on. */
export interface HostFingerprint {
  /** `uname -r` */
  kernel: string;
  /** CPU model name from /proc/cpuinfo. */
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  /** kvm_intel | kvm_amd | kvm_pvm | unknown */
  kvmBackend: string;
  /** Parameters of the backend module and of kvm.ko that change results (tdp_mmu, mmio_caching, ept, npt …). */
  kvmParams: Record<string, string>;
  /** KVM_CHECK_EXTENSION answers for the capabilities the strategies use (0 = absent). */
  capabilities: Record<string, number>;
  /** KVM_GET_API_VERSION */
  apiVersion: number;
  /** Guest TSC frequency (KVM_GET_TSC_KHZ) used to convert guest timestamps. */
  tscKhz: number;
  thp: { enabled: string; defrag: string; shmemEnabled: string };
  /** 2 MiB hugetlb pages (/sys/kernel/mm/hugepages/hugepages-2048kB): the size the strategies allocate,
   *  whatever the default hugepage size is. defaultSizeKb: /proc/meminfo Hugepagesize, when known. */
  hugetlb: { nrHugepages: number; freeHugepages: number; hugepageSizeKb: number; defaultSizeKb?: number };
  maxMapCount: number;
  isRoot: boolean;
  node: string;
  /** Set when the run happened inside `bench lab`'s VM. */
  lab?: LabInfo;
  /** Limits raised for the run and in force while it measured (maxMapCount and hugetlb above are the
   *  values before it). [] when none needed raising; absent in files written before it was recorded. */
  raisedLimits?: RaisedLimit[];
  /** What the times mean (runner/results/timing.ts): instructions for a TCG lab with icount, emulated
   *  for one without, else hardware. Absent in files written before it existed: read them with
   *  timingBasis(), which says hardware. */
  timing?: 'hardware' | 'emulated' | 'instructions';
  /** A short stable hash of the fields above that decide comparability (kernel, cpu, backend, params,
   *  and lab.accel when there is a lab). */
  id: string;
}

/** One phase of a guest scan, timed in the guest with rdtsc. */
export interface PhaseSample {
  name: string;
  ns: number;
  /** Config accesses the guest made in this phase (all targets). */
  accesses: number;
  /** Of those, accesses to absent functions (the PCI hole). */
  holeAccesses: number;
}

/** One scan pass inside one VM. The first pass of a fresh VM is "cold". */
export interface ScanSample {
  pass: number;
  /** Whole scan, guest TSC, ns, without the workload's untimed phases (Workload.untimedPhases, e.g. a start barrier). */
  ns: number;
  phases: PhaseSample[];
  /** Hole-only phase ns / its hole reads; null when the scan has no hole-only phase. */
  nsPerAccess: number | null;
}

/** What a real kernel's boot adds to its sample (workloads with a kernel, e.g. linux-kernel-q35). */
export interface KernelBootInfo {
  /** The kernel's version string (bzImage header). */
  kernel: string;
  cmdline: string;
  /** Where the phases' access counts come from: 'own', this boot's (nothing in the window: the VMM
   *  saw every access); 'reference', the reference boot's (same kernel, command line, tables and
   *  CPUID, nothing in the window), whose sequence of present-function accesses this boot repeated. */
  counts: 'own' | 'reference';
  /** Accesses to present functions (the sequence that bounds the phases). */
  presentAccesses: number;
  /** Config accesses the VMM saw. */
  vmmConfigAccesses: number;
  /** KVM's vCPU exits (vcpu.exits) from the present-function access before the peer-bridge fixup
   *  to the one after it, that closing access's own exits included (1 on ECAM, 2 on conf1); null
   *  without binary statistics. */
  fixupKvmExits: number | null;
  /** Bytes the kernel wrote to its console. */
  consoleBytes: number;
}

/** One fresh VM: setup, one or more scans, teardown. */
export interface Sample {
  /** Scans in order; scans[0] is the cold scan. */
  scans: ScanSample[];
  /** Exits counted by the VMM, by kind (mmio_read, mmio_write, io_in, io_out, …) over all scans. */
  exits: Record<string, number>;
  /** KVM binary statistics deltas over all scans (vcpu.* and vm.*), plus the gauges vm.*_now.
   *  null: this kernel has no KVM_GET_STATS_FD (KVM_CAP_BINARY_STATS_FD is 0, Linux < 5.14).
   *  A statistic this kernel does not have is absent, never 0. */
  kvmStats: Record<string, number> | null;
  /** Accesses the VMM saw and the device model classed as hole (exits only; in-kernel ones are not seen). */
  vmmHoleExits: number;
  /** Whether the guest's discovered functions equal the topology. */
  discoveryOk: boolean;
  /** Strategy setup (e.g. 0xff fill, aliasing, pre-fault), ms, host clock. */
  setupMs: number;
  /** VM creation without the strategy (memory, vCPU, registers), ms, host clock. */
  vmCreateMs: number;
  teardownMs: number;
  /** Resident host memory of the strategy's backing after the scans (mincore). */
  memoryBytes: number;
  /** Host mappings (VMAs) the backing used. */
  mappings: number;
  /** Host wall time of the run phase over all scans, ns: every pass's KVM_RUN loop and exit handling, plus the vCPU threads' start and join with several vCPUs (cross-check for the guest TSC). */
  hostRunNs: number;
  /** Set when the guest was a real kernel. */
  kernel?: KernelBootInfo;
  error?: string;
}

export interface Summary {
  n: number;
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
  mean: number;
}

export interface ResultRow extends RowId {
  status: Status;
  /** Why unsupported/failed, or what a proxy stands in for. */
  reason: string;
  /** Where the idea came from (the 2020 review thread). */
  origin: string;
  /** Analytic number of hole accesses for one scan of this workload under this strategy. */
  expectedHoleAccesses: number;
  /** Hole accesses actually made in one scan (from the guest's own count). */
  holeAccesses: number;
  /** Per fresh VM. Empty when unsupported. */
  samples: Sample[];
  stats: {
    /** Cold scan, ns. */
    scanNs: Summary | null;
    /** Cold scan hole-only phase, ns per hole access. */
    nsPerAccess: Summary | null;
    /** Last (warm) scan ns per hole access, when the workload rescans. */
    warmNsPerAccess: Summary | null;
    setupMs: Summary | null;
  };
  /** Host memory of the window backing, bytes (median over samples). */
  memoryBytes: number;
  /** Whether the backing is shared between VMs (setup paid once per host). */
  backingShared: boolean;
}

export interface ResultsFile {
  schema: typeof SCHEMA_ID;
  schemaVersion: number;
  tool: { name: string; version: string };
  createdAt: string;
  /** false while running or after an interrupted run: rows hold only finished work. */
  complete: boolean;
  host: HostFingerprint;
  config: { samples: number; scans: number; strategies: string[]; workloads: string[]; access: Access[] };
  rows: ResultRow[];
  /** What the harness adds per userspace exit on this backend (bench run's calibration). Absent in
   *  files written before it existed or by a run that skipped it (--no-harness-cost). */
  harnessCost?: HarnessCost;
}

/** ns per hole read in linux-q35-boot's peer-bridge phase (one MMIO exit to userspace each),
 *  medians of `samples` fresh VMs of each loop, alternated: a minimal C KVM_RUN loop
 *  (runner/reference/kvm-loop.c), the koffi floor (KVM_RUN from JavaScript, nothing else) and
 *  this harness. Or why it could not be measured. */
export type HarnessCost = { samples: number; cNs: number; floorNs: number; harnessNs: number } | { unavailable: string };

/** Throws a one-line Error naming the first problem found. */
export function validateResults(x: unknown, name = 'results'): ResultsFile {
  const fail = (what: string): never => {
    throw new Error(`${name}: ${what}`);
  };
  if (!isObj(x)) fail('not a JSON object');
  const r = x as Record<string, unknown>;
  if (r.schema !== SCHEMA_ID) fail(`not a pcihole-bench results file (schema ${JSON.stringify(r.schema)})`);
  if (!READABLE_SCHEMA_VERSIONS.includes(r.schemaVersion as number)) fail(`schema version ${String(r.schemaVersion)}, this tool reads ${READABLE_SCHEMA_VERSIONS.join(' and ')}`);
  if (!isObj(r.host) || typeof (r.host as Record<string, unknown>).id !== 'string') fail('missing host fingerprint');
  const timing = (r.host as Record<string, unknown>).timing;
  if (timing !== undefined && timing !== 'hardware' && timing !== 'emulated' && timing !== 'instructions') fail(`host.timing ${JSON.stringify(timing)} is unknown (hardware, emulated or instructions)`);
  const limitsProblem = raisedLimitsProblem((r.host as Record<string, unknown>).raisedLimits);
  if (limitsProblem) fail(`host.raisedLimits${limitsProblem}`);
  const costProblem = harnessCostProblem(r.harnessCost);
  if (costProblem) fail(`harnessCost${costProblem}`);
  if (!Array.isArray(r.rows)) fail('rows is not an array');
  (r.rows as unknown[]).forEach((row, i) => {
    if (!isObj(row)) fail(`rows[${i}] is not an object`);
    const o = row as Record<string, unknown>;
    for (const k of ['strategy', 'variant', 'workload', 'access', 'status', 'reason']) {
      if (typeof o[k] !== 'string') fail(`rows[${i}].${k} is not a string`);
    }
    if (!['measured', 'proxy', 'unsupported', 'failed'].includes(o.status as string)) fail(`rows[${i}].status ${String(o.status)} is unknown`);
    if (!Array.isArray(o.samples)) fail(`rows[${i}].samples is not an array`);
    (o.samples as unknown[]).forEach((s, j) => {
      if (!isObj(s) || !Array.isArray((s as Record<string, unknown>).scans)) fail(`rows[${i}].samples[${j}] has no scans`);
      for (const sc of (s as { scans: unknown[] }).scans) {
        if (!isObj(sc) || typeof (sc as Record<string, unknown>).ns !== 'number') fail(`rows[${i}].samples[${j}] has a scan without ns`);
      }
    });
    if (!isObj(o.stats)) fail(`rows[${i}].stats is missing`);
  });
  return x as ResultsFile;
}

/** What is wrong with an optional host.raisedLimits (a suffix such as "[0].to is not a number"), or null. */
function raisedLimitsProblem(x: unknown): string | null {
  if (x === undefined) return null;
  if (!Array.isArray(x)) return ' is not an array';
  for (const [i, l] of x.entries()) {
    if (!isObj(l)) return `[${i}] is not an object`;
    const o = l as Record<string, unknown>;
    if (typeof o.name !== 'string') return `[${i}].name is not a string`;
    for (const k of ['from', 'to']) if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) return `[${i}].${k} is not a number`;
    if (o.restored !== undefined && typeof o.restored !== 'boolean') return `[${i}].restored is not true or false`;
  }
  return null;
}

/** What is wrong with an optional harnessCost, or null. */
function harnessCostProblem(x: unknown): string | null {
  if (x === undefined) return null;
  if (!isObj(x)) return ' is not an object';
  const o = x as Record<string, unknown>;
  if ('unavailable' in o) return typeof o.unavailable === 'string' ? null : '.unavailable is not a string';
  for (const k of ['samples', 'cNs', 'floorNs', 'harnessNs']) if (typeof o[k] !== 'number' || !(Number(o[k]) > 0)) return `.${k} is not a positive number`;
  return null;
}

function isObj(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
