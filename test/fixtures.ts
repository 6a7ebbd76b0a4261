// A small, schema-valid results file for report and CSV tests. The figures are plausible
// (shaped like DESIGN.md's reference table) but invented: never use them as measurements.

import { summarize } from '../runner/results/summary.js';
import { SCHEMA_ID, SCHEMA_VERSION, validateResults } from '../runner/results/schema.js';
import type { Access, LabInfo, ResultRow, ResultsFile, Sample, Status } from '../runner/results/schema.js';
import { timingFromLab } from '../runner/results/timing.js';

/** How one fixture row is shaped. */
export interface FixtureRowSpec {
  strategy: string;
  variant?: string;
  workload?: string;
  access?: Access;
  status?: Status;
  reason?: string;
  /** Hole-phase ns per access; null = no hole-only phase (enlightenment). */
  nsPerAccess?: number | null;
  /** ns of the bus-0 phase (present devices, always exits). */
  bus0Ns?: number;
  holeAccesses?: number;
  memoryBytes?: number;
  setupMs?: number;
  mmioExits?: number;
  ioExits?: number;
  /** 2 MiB mappings KVM made during the scan (in the delta vm.pages_2m and the gauge vm.pages_2m_now). */
  pagesTwoM?: number;
  /** 2 MiB mappings made during setup (spte-prefetch's pre-fault): in the gauge only. */
  pagesTwoMInSetup?: number;
  pfFixed?: number;
  /** 4 KiB mappings made during the scan (delta vm.pages_4k, default 40) and held after it (gauge vm.pages_4k_now, default 64). */
  pagesFourK?: number;
  pagesFourKNow?: number;
  scans?: number;
  samples?: number;
}

/** A deterministic jitter in [-1, 1] so samples differ and quartiles are not all equal. */
function jitter(i: number): number {
  return Math.sin(i * 12.9898 + 78.233) % 1;
}

/** Builds one row with `samples` fresh-VM samples around the given central figures. */
export function fixtureRow(spec: FixtureRowSpec): ResultRow {
  const status = spec.status ?? 'measured';
  const holes = spec.holeAccesses ?? 8160;
  const nSamples = status === 'unsupported' ? 0 : (spec.samples ?? 5);
  const nScans = spec.scans ?? 1;
  const samples: Sample[] = [];
  for (let i = 0; i < nSamples; i++) {
    const j = 1 + 0.05 * jitter(i + spec.strategy.length);
    const per = spec.nsPerAccess === undefined ? 25_000 : spec.nsPerAccess;
    const bus0 = (spec.bus0Ns ?? 400_000) * j;
    const scans = Array.from({ length: nScans }, (_, pass) => {
      const warm = pass > 0 && per !== null ? 0.5 : 1;
      const holeNs = per === null ? 0 : per * j * warm * holes;
      return {
        pass,
        ns: bus0 + holeNs,
        phases: [
          { name: 'bus0', ns: bus0, accesses: 16, holeAccesses: 0 },
          ...(per === null ? [] : [{ name: 'peer-bridges', ns: holeNs, accesses: holes, holeAccesses: holes }]),
        ],
        nsPerAccess: per === null ? null : per * j * warm,
      };
    });
    samples.push({
      scans,
      exits: { mmio_read: Math.round((spec.mmioExits ?? holes + 12) * j), io_out: spec.ioExits ?? 2 },
      kvmStats: {
        'vcpu.exits': Math.round((spec.mmioExits ?? holes) * 1.1 * j),
        'vcpu.pf_fixed': Math.round((spec.pfFixed ?? 10) * j),
        'vcpu.pf_taken': Math.round((spec.pfFixed ?? 10) * 1.2 * j),
        'vm.pages_2m': spec.pagesTwoM ?? 0,
        'vm.pages_4k': spec.pagesFourK ?? 40,
        'vm.pages_2m_now': (spec.pagesTwoM ?? 0) + (spec.pagesTwoMInSetup ?? 0),
        'vm.pages_4k_now': spec.pagesFourKNow ?? 64,
      },
      vmmHoleExits: spec.mmioExits ?? holes,
      discoveryOk: true,
      setupMs: (spec.setupMs ?? 0.05) * j,
      vmCreateMs: 3 * j,
      teardownMs: 0.5 * j,
      memoryBytes: spec.memoryBytes ?? 0,
      mappings: 1,
      hostRunNs: (bus0 + (per ?? 0) * holes) * 1.02,
    });
  }
  const cold = samples.map((s) => s.scans[0]);
  const last = samples.map((s) => s.scans[s.scans.length - 1]);
  return {
    strategy: spec.strategy,
    variant: spec.variant ?? '',
    workload: spec.workload ?? 'linux-q35-boot',
    access: spec.access ?? 'ecam',
    status,
    reason: spec.reason ?? '',
    origin: '2020 review thread',
    expectedHoleAccesses: holes,
    holeAccesses: status === 'unsupported' ? 0 : holes,
    samples,
    stats: {
      scanNs: summarize(cold.map((s) => s.ns)),
      nsPerAccess: summarize(cold.flatMap((s) => (s.nsPerAccess === null ? [] : [s.nsPerAccess]))),
      warmNsPerAccess: nScans > 1 ? summarize(last.flatMap((s) => (s.nsPerAccess === null ? [] : [s.nsPerAccess]))) : null,
      setupMs: summarize(samples.map((s) => s.setupMs)),
    },
    memoryBytes: status === 'unsupported' ? 0 : (spec.memoryBytes ?? 0),
    backingShared: false,
  };
}

/** The default fixture rows: the cases the report must handle. */
export const DEFAULT_ROWS: FixtureRowSpec[] = [
  { strategy: 'userspace-exit', nsPerAccess: 25_000 },
  { strategy: 'memslot-flag', status: 'proxy', reason: 'proxy: in-kernel KVM_MMIO_BUS read (IOAPIC data window); a patched kernel would answer without the MMIO-bus lookup', nsPerAccess: 2_400, mmioExits: 12 },
  { strategy: 'ro-page', variant: '4k', nsPerAccess: 2_600, memoryBytes: 256 * 2 ** 20, setupMs: 375, mmioExits: 12, pfFixed: 8200 },
  { strategy: 'ro-page', variant: 'thp', nsPerAccess: 76, memoryBytes: 256 * 2 ** 20, setupMs: 600, mmioExits: 12, pfFixed: 130, pagesTwoM: 128 },
  { strategy: 'spte-prefetch', variant: '', status: 'unsupported', reason: 'KVM_PRE_FAULT_MEMORY: EOPNOTSUPP (shadow paging; needs a TDP host, Linux >= 6.10)' },
  { strategy: 'guest-enlightenment', nsPerAccess: null, holeAccesses: 0, mmioExits: 12 },
  { strategy: 'userspace-exit', access: 'conf1', nsPerAccess: 52_000, mmioExits: 0, ioExits: 16_400 },
];

/** Options for makeResults. */
export interface FixtureOptions {
  rows?: FixtureRowSpec[];
  hostId?: string;
  createdAt?: string;
  kernel?: string;
  /** KVM backend module (default kvm_pvm). */
  backend?: string;
  /** A bench lab run: host.lab and host.timing follow (tcg → emulated, tcg with clock icount → instructions). */
  lab?: LabInfo;
  /** Which KVM statistics the kernel had: all (default), all but the pf_* counters, or none (no KVM_GET_STATS_FD). */
  kvmStats?: 'all' | 'without-pf' | 'none';
}

/** A lab description as bench lab passes it in PCIHOLE_LAB. */
export function fixtureLab(accel: 'tcg' | 'kvm' | 'icount'): LabInfo {
  const lab: LabInfo = { accel: accel === 'icount' ? 'tcg' : accel, outerKernel: '6.18.4-test', outerCpu: 'Test EPYC', qemu: '7.2.19', guestKernel: '6.1.0-57-amd64' };
  if (accel === 'icount') lab.clock = 'icount';
  return lab;
}

/** A complete, schema-valid ResultsFile (validated before it is returned). */
export function makeResults(opts: FixtureOptions = {}): ResultsFile {
  const rows = (opts.rows ?? DEFAULT_ROWS).map(fixtureRow);
  for (const r of rows)
    for (const smp of r.samples) {
      if (opts.kvmStats === 'none') smp.kvmStats = null;
      else if (opts.kvmStats === 'without-pf') for (const k of Object.keys(smp.kvmStats ?? {})) if (k.includes('.pf_')) delete smp.kvmStats?.[k];
    }
  const file: ResultsFile = {
    schema: SCHEMA_ID,
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'pcihole-bench', version: '0.1.0' },
    createdAt: opts.createdAt ?? '2026-11-26T10:00:00.000Z',
    complete: true,
    host: {
      kernel: opts.kernel ?? '6.1.0-test',
      cpuModel: 'Test CPU @ 2.0GHz',
      cpus: 2,
      memoryBytes: 4 * 2 ** 30,
      kvmBackend: opts.backend ?? 'kvm_pvm',
      kvmParams: { 'kvm.tdp_mmu': 'N', 'kvm.mmio_caching': 'N' },
      capabilities: { KVM_CAP_READONLY_MEM: 1, KVM_CAP_PRE_FAULT_MEMORY: 0 },
      apiVersion: 12,
      tscKhz: 2_000_000,
      thp: { enabled: 'madvise', defrag: 'madvise', shmemEnabled: 'never' },
      hugetlb: { nrHugepages: 0, freeHugepages: 0, hugepageSizeKb: 2048 },
      maxMapCount: 65530,
      isRoot: true,
      node: 'v20.0.0',
      id: opts.hostId ?? 'h-test-1',
      ...(opts.lab ? { lab: opts.lab, timing: timingFromLab(opts.lab) } : {}),
    },
    config: {
      samples: 5,
      scans: 1,
      strategies: [...new Set(rows.map((r) => r.strategy))],
      workloads: [...new Set(rows.map((r) => r.workload))],
      access: [...new Set(rows.map((r) => r.access))],
    },
    rows,
  };
  return validateResults(JSON.parse(JSON.stringify(file)), 'fixture');
}

/** The XSS payload the report must render as text. */
export const XSS_NAME = '</script><img src=x onerror=alert(1)>';

/** Runs f with console.log silenced (commands that print their result). */
export async function quiet<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await f();
  } finally {
    console.log = log;
  }
}
