// results.csv: one line per result row, written with csv-stringify. The column list below is
// the single source of both the file and its documentation (docs/results-csv.md).

import { stringify } from 'csv-stringify/sync';
import type { ResultRow, ResultsFile } from '../../runner/results/schema.js';
import {
  IO_EXIT_KINDS,
  KEY_KVM_STATS,
  MMIO_EXIT_KINDS,
  baselineRow,
  exitMedian,
  groupRows,
  hasData,
  kvmStatMedian,
  med,
  sampleMedian,
  speedupPerAccess,
  speedupScan,
} from '../../runner/results/row-metrics.js';
import { EMULATED_NOTE, INSTRUCTIONS_NOTE, timingBasis } from '../../runner/results/timing.js';

type Cell = string | number;

/** What a CSV cell is computed from: the row, the userspace-exit row of its group, the file. */
interface Ctx {
  row: ResultRow;
  base: ResultRow | undefined;
  file: ResultsFile;
}

/** One CSV column: its header name, what it means, and how a cell is computed. */
export interface CsvColumn {
  name: string;
  doc: string;
  cell: (c: Ctx) => Cell;
}

/** Rounds to 9 significant digits (drops float noise, keeps µs-level ms figures); '' for null or a non-finite number. */
function n(x: number | null | undefined): Cell {
  return typeof x === 'number' && Number.isFinite(x) ? Number(x.toPrecision(9)) : '';
}

/** A measured figure: empty on rows without samples. */
function m(c: Ctx, x: () => number | null | undefined): Cell {
  return hasData(c.row) ? n(x()) : '';
}

/** The columns of results.csv, in order. The first sixteen are fixed by the issue; the rest follow. */
export const CSV_COLUMNS: readonly CsvColumn[] = [
  { name: 'strategy', doc: 'Strategy id (userspace-exit, memslot-flag, ro-page, …).', cell: (c) => c.row.strategy },
  { name: 'variant', doc: 'Strategy variant (e.g. `4k`, `thp`, `hugetlb`, `2m`); empty when the strategy has none.', cell: (c) => c.row.variant },
  { name: 'workload', doc: 'Workload id (the guest scan program and topology).', cell: (c) => c.row.workload },
  { name: 'access', doc: '`ecam` (MMIO config space) or `conf1` (port I/O 0xCF8/0xCFC, two exits per read).', cell: (c) => c.row.access },
  {
    name: 'status',
    doc: '`measured` (the mechanism itself ran), `proxy` (a labelled in-kernel stand-in measured on real KVM; see reason), `unsupported` (cannot run on this host; no numbers), `failed` (ran and went wrong; numbers, if any, are from the samples that finished).',
    cell: (c) => c.row.status,
  },
  { name: 'reason', doc: 'Why a row is unsupported or failed, or what a proxy stands in for.', cell: (c) => c.row.reason },
  { name: 'samples', doc: 'Number of fresh VMs measured (0 for unsupported rows).', cell: (c) => (Array.isArray(c.row.samples) ? c.row.samples.length : 0) },
  { name: 'median_ns', doc: 'Whole cold scan (first scan of a fresh VM), guest TSC, ns: median over samples.', cell: (c) => m(c, () => med(c.row.stats?.scanNs)) },
  { name: 'p25_ns', doc: 'Whole cold scan, ns: 25th percentile over samples.', cell: (c) => m(c, () => c.row.stats?.scanNs?.p25) },
  { name: 'p75_ns', doc: 'Whole cold scan, ns: 75th percentile over samples.', cell: (c) => m(c, () => c.row.stats?.scanNs?.p75) },
  { name: 'hole_accesses', doc: 'Hole accesses (reads of absent functions) the guest made in one scan, from its own count.', cell: (c) => m(c, () => c.row.holeAccesses) },
  {
    name: 'ns_per_access',
    doc: 'Cold scan, hole-only phase duration ÷ its hole reads, ns: median over samples. Empty when the workload/strategy has no hole-only phase (guest-enlightenment, right-sized-window): compare those on `median_ns`. For the multi-vCPU workload (parallel-2vcpu) it is aggregate throughput: the slowest vCPU\'s hole-phase time ÷ both vCPUs\' hole reads (two vCPUs scaling perfectly give half of one vCPU\'s figure).',
    cell: (c) => m(c, () => med(c.row.stats?.nsPerAccess)),
  },
  {
    name: 'mmio_exits',
    doc: 'Exits to userspace of kind mmio_read + mmio_write per VM (all scans of that VM), counted by the VMM: median over samples. In-kernel accesses do not appear here.',
    cell: (c) => m(c, () => exitMedian(c.row, MMIO_EXIT_KINDS)),
  },
  {
    name: 'io_exits',
    doc: 'Port-I/O exits to userspace of kind io_in + io_out per VM (all scans of that VM), counted by the VMM: median over samples. Not included: the guest\'s "done" signal (counted as `harness` in results.json) and the sched_yield exits of a vCPU spinning on a guest lock (counted as `yields`).',
    cell: (c) => m(c, () => exitMedian(c.row, IO_EXIT_KINDS)),
  },
  { name: 'memory_bytes', doc: 'Resident host memory of the window\'s backing (mincore) after the scans, bytes: median over samples. 0 when nothing backs the window.', cell: (c) => m(c, () => c.row.memoryBytes) },
  {
    name: 'setup_ms',
    doc: 'Strategy setup per VM (0xff fill, aliasing, pre-fault …), host clock, ms: median over samples. See `backing_shared`: a shared backing pays it once per host.',
    cell: (c) => m(c, () => med(c.row.stats?.setupMs)),
  },
  { name: 'ns_per_access_p25', doc: '`ns_per_access`, 25th percentile over samples.', cell: (c) => m(c, () => c.row.stats?.nsPerAccess?.p25) },
  { name: 'ns_per_access_p75', doc: '`ns_per_access`, 75th percentile over samples.', cell: (c) => m(c, () => c.row.stats?.nsPerAccess?.p75) },
  {
    name: 'warm_ns_per_access',
    doc: 'Last (warm) scan of the same VM, ns per hole access, median; empty unless the workload scans more than once. Shows where first-touch costs amortise.',
    cell: (c) => m(c, () => med(c.row.stats?.warmNsPerAccess)),
  },
  {
    name: 'speedup_vs_userspace_exit',
    doc: 'Speed-up over userspace-exit per hole access, same file, workload and access (>1 = faster): the median of the per-round ratios userspace-exit ÷ this row (fresh VM i of each, cold scan; runner/results/speedup.ts), not a ratio of medians. Empty when no round has both.',
    cell: (c) => n(speedupPerAccess(c.row, c.base)),
  },
  {
    name: 'scan_speedup_vs_userspace_exit',
    doc: 'The same on the whole cold scan (median of per-round ratios of the scan ns; the figure for strategies without a per-access number).',
    cell: (c) => n(speedupScan(c.row, c.base)),
  },
  { name: 'expected_hole_accesses', doc: 'The workload\'s analytic hole-access count for one scan under this strategy (`hole_accesses` must equal it).', cell: (c) => n(c.row.expectedHoleAccesses) },
  { name: 'vm_create_ms', doc: 'VM creation without the strategy setup, host clock, ms: median over samples. Includes building the guest image (page tables, program assembly) as well as the VM, its memory and the vCPUs with their registers.', cell: (c) => m(c, () => sampleMedian(c.row, 'vmCreateMs')) },
  { name: 'mappings', doc: 'Host mappings (VMAs) the backing used: median over samples.', cell: (c) => m(c, () => sampleMedian(c.row, 'mappings')) },
  { name: 'discovery_ok', doc: '`true` when every sample discovered exactly the topology\'s functions; empty without samples.', cell: (c) => (hasData(c.row) ? String(c.row.samples.every((s) => s.discoveryOk === true)) : '') },
  { name: 'backing_shared', doc: '`true` when the backing is shared between VMs (setup paid once per host).', cell: (c) => String(c.row.backingShared === true) },
  { name: 'origin', doc: 'Where the idea came from (the 2020 review thread).', cell: (c) => c.row.origin ?? '' },
  { name: 'host_id', doc: 'Host fingerprint id (kernel, CPU, KVM backend and parameters): rows compare in absolute ns only within one host id.', cell: (c) => c.file.host?.id ?? '' },
  { name: 'kvm_backend', doc: 'KVM backend module (kvm_intel, kvm_amd, kvm_pvm).', cell: (c) => c.file.host?.kvmBackend ?? '' },
  {
    name: 'timing',
    doc: `What the times of this row mean: \`hardware\`; \`instructions\` when the run happened in \`bench lab\` under QEMU TCG with icount (its default) — ${INSTRUCTIONS_NOTE}; \`emulated\` under TCG on its wall clock (lab runs from before icount) — ${EMULATED_NOTE}. Compare lab rows only with rows of the same basis, and through speed-ups. Files written before this column existed are hardware.`,
    cell: (c) => timingBasis(c.file.host),
  },
  ...KEY_KVM_STATS.map(
    (name): CsvColumn => ({
      name: `kvm_${name}`,
      doc: `KVM binary statistic \`${name}\` per VM, median over samples (${name.endsWith('_now') ? 'a gauge read after the scans, setup included' : 'delta over the scans, setup excluded'}). **Empty when this kernel does not have it** (n/a, never 0): there are no statistics without KVM_GET_STATS_FD (Linux < 5.14), and some (the \`pf_*\` counters) came later.`,
      cell: (c) => m(c, () => kvmStatMedian(c.row, name)),
    }),
  ),
  { name: 'created_at', doc: 'When the run started (ISO 8601).', cell: (c) => c.file.createdAt ?? '' },
];

/**
 * Renders a results file as CSV: a header line of CSV_COLUMNS names, then one line per row in
 * file order. Fields are quoted as needed (RFC 4180) and text cells that a spreadsheet would
 * evaluate as a formula (leading = + - @ tab CR) are prefixed with a single quote.
 */
export function toCsv(results: ResultsFile): string {
  const bases = new Map<ResultRow, ResultRow | undefined>();
  for (const g of groupRows(results.rows)) {
    const base = baselineRow(g.rows);
    for (const r of g.rows) bases.set(r, base);
  }
  const records = results.rows.map((row) => CSV_COLUMNS.map((col) => col.cell({ row, base: bases.get(row), file: results })));
  return stringify(records, {
    header: true,
    columns: CSV_COLUMNS.map((c) => c.name),
    escape_formulas: true,
    record_delimiter: 'unix',
  });
}

/** The markdown documentation of every CSV column (the content of docs/results-csv.md). */
export function csvColumnsMarkdown(): string {
  const cellText = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    '# results.csv',
    '',
    '`bench run` writes `results.csv` beside `results.json`: one line per (strategy, variant, workload, access) row,',
    'a header line first, comma-separated, quoted where needed (RFC 4180). Numbers are plain decimals (ns, ms, bytes,',
    'counts) rounded to 9 significant digits; a cell is **empty** when there is no figure (unsupported rows, a strategy without',
    'a hole-only phase, a missing baseline). "Median over samples" means over fresh VMs; percentiles interpolate',
    'linearly (R type 7). Timings of the scan are guest TSC; setup and VM creation are host clock.',
    'Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`) are prefixed with `\'`.',
    '',
    '| column | meaning |',
    '|---|---|',
    ...CSV_COLUMNS.map((c) => `| \`${c.name}\` | ${cellText(c.doc)} |`),
    '',
    'The generator is `toCsv()` in `reports/csv/csv.ts`; this page is `csvColumnsMarkdown()` from the same file',
    '(a test keeps the two in step).',
    '',
  ].join('\n');
}
