// Synthetic but realistic results files for the gate tests: the reference costs of
// DESIGN.md §2 with log-normal noise from a seeded PRNG (no Math.random).

import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_ID, SCHEMA_VERSION, type HostFingerprint, type ResultRow, type ResultsFile, type Sample, type Status } from '../runner/results/schema.js';
import { summarize } from '../runner/results/summary.js';
import { seededRandom } from '../reports/gate/gate-stats.js';

/** One row to synthesize. */
export interface RowSpec {
  strategy: string;
  variant: string;
  status: Status;
  /** Median cold ns per hole access of the peer-bridge phase; null for scans without hole reads. */
  nsPerAccess: number | null;
  /** Whole-scan ns when nsPerAccess is null. */
  scanNs?: number;
  holeAccesses: number;
  exits: Record<string, number>;
  reason?: string;
  /** 2 MiB mappings held after the scan (vm.pages_2m_now); default 0. */
  pages2m?: number;
}

const PEER_READS = 8160;
const BUS0_HOLE = 33;
const WORKLOAD = 'linux-q35-boot';

/** The strategies of DESIGN.md with this host's reference costs. */
export const DEFAULT_ROWS: readonly RowSpec[] = [
  { strategy: 'userspace-exit', variant: 'default', status: 'measured', nsPerAccess: 25000, holeAccesses: 8193, exits: { mmio_read: 8233, io_out: 2 } },
  { strategy: 'memslot-flag', variant: 'default', status: 'proxy', nsPerAccess: 2400, holeAccesses: 8193, exits: { mmio_read: 40, io_out: 2 }, reason: 'in-kernel KVM_MMIO_BUS read stands in for the flag' },
  { strategy: 'mmio-bus-device', variant: 'default', status: 'proxy', nsPerAccess: 2400, holeAccesses: 8193, exits: { mmio_read: 40, io_out: 2 }, reason: 'IOAPIC data window' },
  { strategy: 'ro-page', variant: '4k', status: 'measured', nsPerAccess: 2600, holeAccesses: 8193, exits: { mmio_read: 40, io_out: 2 } },
  { strategy: 'ro-page', variant: 'thp', status: 'measured', nsPerAccess: 76, holeAccesses: 8193, exits: { mmio_read: 40, io_out: 2 }, pages2m: 127 },
  { strategy: 'ro-page', variant: 'hugetlb', status: 'unsupported', nsPerAccess: null, holeAccesses: 8193, exits: {}, reason: 'no hugepages: raise vm.nr_hugepages' },
  { strategy: 'shared-hva', variant: '4k', status: 'measured', nsPerAccess: 3250, holeAccesses: 8193, exits: { mmio_read: 40, io_out: 2 } },
  { strategy: 'spte-prefetch', variant: 'default', status: 'unsupported', nsPerAccess: null, holeAccesses: 8193, exits: {}, reason: 'KVM_CAP_PRE_FAULT_MEMORY is 0 (shadow paging)' },
  { strategy: 'guest-enlightenment', variant: 'default', status: 'measured', nsPerAccess: null, scanNs: 1_000_000, holeAccesses: 0, exits: { mmio_read: 40, io_out: 2 } },
];

/** How to build a results file. */
export interface FixtureOptions {
  seed?: number;
  samples?: number;
  hostId?: string;
  /** Log-normal sigma of the per-sample noise (default 0.02 = about 2 %). */
  noise?: number;
  rows?: readonly RowSpec[];
}

/** A valid results file with `samples` fresh VMs per measured row. */
export function makeResults(o: FixtureOptions = {}): ResultsFile {
  const rng = seededRandom(o.seed ?? 1);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const noise = () => Math.exp((o.noise ?? 0.02) * gauss());
  const n = o.samples ?? 10;
  const rows = (o.rows ?? DEFAULT_ROWS).map((spec) => makeRow(spec, spec.status === 'unsupported' ? 0 : n, noise));
  return {
    schema: SCHEMA_ID,
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'pcihole-bench', version: '0.1.0' },
    createdAt: '2026-11-26T12:00:00.000Z',
    complete: true,
    host: host(o.hostId ?? 'host-a'),
    config: { samples: n, scans: 1, strategies: [...new Set(rows.map((r) => r.strategy))], workloads: [WORKLOAD], access: ['ecam'] },
    rows,
  };
}

function makeRow(spec: RowSpec, n: number, noise: () => number): ResultRow {
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const bus0 = 40 * 25000 * noise();
    const peer = spec.nsPerAccess === null ? 0 : spec.nsPerAccess * PEER_READS * noise();
    const whole = spec.nsPerAccess === null ? (spec.scanNs ?? 1e6) * noise() : bus0 + peer;
    const phases = spec.nsPerAccess === null
      ? [{ name: 'bus0', ns: whole, accesses: 40, holeAccesses: spec.holeAccesses }]
      : [
          { name: 'bus0', ns: bus0, accesses: 40 + BUS0_HOLE, holeAccesses: BUS0_HOLE },
          { name: 'peer-bridge', ns: peer, accesses: PEER_READS, holeAccesses: PEER_READS },
        ];
    samples.push({
      scans: [{ pass: 0, ns: whole, phases, nsPerAccess: spec.nsPerAccess === null ? null : peer / PEER_READS }],
      exits: { ...spec.exits },
      kvmStats: { 'vm.pages_2m': spec.pages2m ?? 0, 'vm.pages_2m_now': spec.pages2m ?? 0 },
      vmmHoleExits: spec.exits.mmio_read ?? 0,
      discoveryOk: true,
      setupMs: 1,
      vmCreateMs: 2,
      teardownMs: 1,
      memoryBytes: 4096,
      mappings: 1,
      hostRunNs: whole * 1.05,
    });
  }
  return withStats({
    strategy: spec.strategy,
    variant: spec.variant,
    workload: WORKLOAD,
    access: 'ecam',
    status: spec.status,
    reason: spec.reason ?? '',
    origin: 'KVM_MEM_PCI_HOLE review, 2020',
    expectedHoleAccesses: spec.holeAccesses,
    holeAccesses: spec.holeAccesses,
    samples,
    stats: { scanNs: null, nsPerAccess: null, warmNsPerAccess: null, setupMs: null },
    memoryBytes: 4096,
    backingShared: false,
  });
}

/** `row` with its stats recomputed from its samples. */
export function withStats(row: ResultRow): ResultRow {
  const cold = row.samples.map((s) => s.scans[0]);
  return {
    ...row,
    stats: {
      scanNs: summarize(cold.map((c) => c.ns)),
      nsPerAccess: summarize(cold.flatMap((c) => (c.nsPerAccess === null ? [] : [c.nsPerAccess]))),
      warmNsPerAccess: null,
      setupMs: summarize(row.samples.map((s) => s.setupMs)),
    },
  };
}

/** A deep copy (results files are plain JSON). */
export function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** The row of `file` for strategy (and variant); throws when absent. */
export function rowOf(file: ResultsFile, strategy: string, variant = 'default'): ResultRow {
  const r = file.rows.find((x) => x.strategy === strategy && x.variant === variant);
  if (!r) throw new Error(`fixture has no row ${strategy}/${variant}`);
  return r;
}

/** A row whose cold ns/access takes exactly `values`, one sample each (for handcrafted tests). */
export function setNsPerAccess(row: ResultRow, values: readonly number[]): void {
  const template = row.samples[0];
  row.samples = values.map((v) => {
    const s = clone(template);
    s.scans[0].nsPerAccess = v;
    s.scans[0].ns = v * PEER_READS + 1e6;
    return s;
  });
  Object.assign(row, withStats(row));
}

/** A host fingerprint with the given id (the rest as measured on the project's host). */
export function host(id: string): HostFingerprint {
  return {
    kernel: '6.1.0-kvm-pvm',
    cpuModel: 'Intel(R) Xeon(R) Platinum',
    cpus: 8,
    memoryBytes: 16 * 2 ** 30,
    kvmBackend: 'kvm_pvm',
    kvmParams: { tdp_mmu: 'N', mmio_caching: 'N' },
    capabilities: { READONLY_MEM: 1, PRE_FAULT_MEMORY: 0 },
    apiVersion: 12,
    tscKhz: 2_000_000,
    thp: { enabled: 'madvise', defrag: 'madvise', shmemEnabled: 'never' },
    hugetlb: { nrHugepages: 0, freeHugepages: 0, hugepageSizeKb: 2048 },
    maxMapCount: 65530,
    isRoot: true,
    node: 'v20.19.0',
    id,
  };
}

/** Every folder tempDir made in this process; removed when the test file's process exits. */
const made: string[] = [];
let hooked = false;

/** A fresh temporary directory for one test; it is removed when the test file ends. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pcihole-gate-'));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Write `data` (JSON unless a string) to dir/name; returns the path. */
export async function writeFixture(dir: string, name: string, data: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof data === 'string' ? data : JSON.stringify(data));
  return path;
}
