// `bench kvm build|test`: the patched KVM modules of kernel/ (build, cache) and their
// selftests plus a short strategy matrix in the lab VM, patched and stock.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HostError, UsageError } from '../shared/errors.js';
import { strategyLabel } from '../shared/row-id.js';
import { defaultKernel as labKernel } from '../lab/lab-host.js';
import { DEFAULT_SERIES, KERNEL_SERIES, looksLikeSeries, parseSeries, seriesOf } from '../lab/kernel-series.js';
import { buildKvm, defaultCacheRoot, defaultKernel } from './kvm-build.js';
import { seriesFor } from './debian-packages.js';
import { buildSelftests } from './selftests.js';

export const KVM_HELP = `usage: bench kvm build [--kernel SERIES|VERSION] [--cache DIR] [--force]
       bench kvm test [--kernel SERIES] [--cache DIR] [--no-matrix]

kernel/ holds one series of patches per Debian kernel series: kernel/6.1/ (KVM_MEM_PCI_HOLE,
KVM_REGISTER_MMIO_FILL, a KVM_PRE_FAULT_MEMORY backport, KVM_MEM_SINGLE_HVA[_2M],
KVM_MEM_PREFETCH_2M[_BATCH], KVM_MEM_PCI_HOLE_MMIO) and kernel/6.12/ (the same but the backport:
KVM_PRE_FAULT_MEMORY is upstream there). Their selftests, kernel/selftests/, serve both.

build  applies kernel/SERIES/*.patch to Debian's linux-source-SERIES and builds kvm.ko,
       kvm-amd.ko, kvm-intel.ko out of tree against linux-headers-VERSION (~2-3 min on 2 cores),
       cached by (VERSION, patch hash) in ~/.cache/pcihole-bench/kvm/VERSION-HASH/; prints that
       folder. --kernel takes a series (${KERNEL_SERIES.map((k) => k.id).join(', ')}: its running or newest kernel with
       headers) or a VERSION; default ${DEFAULT_SERIES}.
       Load them: docs/patched-kvm.md, or bench lab --kvm-modules FOLDER -- <command>.
test   builds the modules for the lab's kernel of the series (default ${DEFAULT_SERIES}) and
       kernel/selftests/*_test.c, then in the lab VM booting that kernel: the selftests and a
       1-sample matrix of the rows the patches decide on the patched modules (kernel variants
       measured), and again on the stock modules (--stock selftests, kernel variants unsupported
       with the reason, proxies proxy). Exit 0 pass, 1 fail, 2 bad input.

  --kernel SERIES|VERSION   kernel to build for (e.g. 6.12 or 6.1.0-57-amd64; test: a series)
  --cache DIR        cache folder (default ~/.cache/pcihole-bench/kvm)
  --force            rebuild even when cached
  --no-matrix        test: selftests only`;

const repoRoot = () => resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** kernel/SERIES: the patches for a kernel's series. */
const patchDirFor = (kernel: string) => join(repoRoot(), 'kernel', seriesFor(kernel).id);

export async function kvmCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(KVM_HELP);
    return 0;
  }
  const { values } = parseArgs({
    args: rest,
    options: { kernel: { type: 'string' }, cache: { type: 'string' }, force: { type: 'boolean' }, 'no-matrix': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(KVM_HELP);
    return 0;
  }
  const cacheRoot = resolve(values.cache ?? defaultCacheRoot());
  const asked = values.kernel ?? DEFAULT_SERIES;
  if (sub === 'build') {
    const series = looksLikeSeries(asked) ? parseSeries('--kernel', asked) : seriesOf(asked);
    if (!series) throw new UsageError(`--kernel ${asked}: expected a series (${KERNEL_SERIES.map((k) => k.id).join(', ')}) or a Debian kernel version of one (e.g. 6.1.0-57-amd64, 6.12.118+deb12-amd64)`);
    const kernel = looksLikeSeries(asked) ? defaultKernel(release(), undefined, series.id) : asked;
    if (!kernel) throw new HostError(`no Debian ${series.id} kernel found in /lib/modules: install linux-headers-VERSION of one (e.g. sudo npx bench lab --kernel ${series.id} --setup), or pass --kernel VERSION`);
    const b = buildKvm({ kernel, patchDir: patchDirFor(kernel), cacheRoot, force: values.force, log: (l) => console.error(`kvm build: ${l}`) });
    console.error(`kvm build: ${b.built ? `built in ${b.seconds.toFixed(0)} s` : 'cached'}: ${b.patches.length} patches, hash ${b.hash}, kernel ${b.kernel}`);
    console.log(b.dir);
    return 0;
  }
  if (sub === 'test') return kvmTest(parseSeries('--kernel', asked).id, cacheRoot, Boolean(values['no-matrix']), Boolean(values.force));
  throw new UsageError(`kvm ${sub}: unknown; use bench kvm build or bench kvm test`);
}

async function kvmTest(series: string, cacheRoot: string, noMatrix: boolean, force: boolean): Promise<number> {
  const t0 = Date.now();
  const lab = labKernel(undefined, undefined, series);
  if (!lab) throw new HostError(`no lab kernel of the ${series} series (/boot/vmlinuz-${series}.* with its modules): run sudo npx bench lab --kernel ${series} --setup`);
  const b = buildKvm({ kernel: lab.version, patchDir: patchDirFor(lab.version), cacheRoot, force, log: (l) => console.error(`kvm test: ${l}`) });
  console.error(`kvm test: modules ${b.built ? `built in ${b.seconds.toFixed(0)} s` : 'cached'}: ${b.dir}`);
  const tests = buildSelftests(join(repoRoot(), 'kernel', 'selftests'), cacheRoot);
  let failed = 0;
  const matrixRows: { patched?: MatrixRow[]; stock?: MatrixRow[] } = {};
  for (const stock of [false, true]) {
    const out = join(cacheRoot, 'test-runs', `${Date.now()}-${stock ? 'stock' : 'patched'}`);
    mkdirSync(out, { recursive: true });
    const cli = process.argv[1];
    const steps = tests.map((t) => (stock ? `${t} --stock` : t));
    if (!noMatrix) steps.push(`${process.execPath} ${cli} run --strategy ${MATRIX_STRATEGIES.join(',')} --workload linux-q35-boot --samples 1 --out ${out} --no-report`);
    const labArgs = [cli, 'lab', '--kernel', series, ...(stock ? [] : ['--kvm-modules', b.dir]), '--share', out, '--exec', '--', 'sh', '-c', steps.map((s) => `${s} || exit 1`).join('; ')];
    console.error(`kvm test: lab with ${stock ? 'stock' : 'patched'} KVM: ${tests.length} selftests${noMatrix ? '' : ' + matrix'}`);
    const r = spawnSync(process.execPath, labArgs, { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`kvm test: FAIL: the lab with ${stock ? 'stock' : 'patched'} KVM exited ${r.status ?? r.signal}`);
      failed++;
      continue;
    }
    if (noMatrix) continue;
    const rows = readMatrix(out);
    if (!rows) {
      console.error(`kvm test: FAIL: no results.json under ${out}`);
      failed++;
      continue;
    }
    failed += matrixFailures(rows, stock, (l) => console.error(l), matrixExpect(series));
    matrixRows[stock ? 'stock' : 'patched'] = rows;
  }
  if (matrixRows.patched && matrixRows.stock) failed += stockRowsDiffer(matrixRows.patched, matrixRows.stock, (l) => console.error(l));
  console.error(`kvm test: ${failed ? `FAIL (${failed})` : 'pass'} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return failed ? 1 : 0;
}

export interface MatrixExpect {
  strategy: string;
  variant: string;
  patched: string;
  stock: string;
  stockReason?: RegExp;
  /** Patched: KVM page faults (vcpu.pf_taken) per hole access, [min, max]: the mechanism's fault path. */
  faultsPerHole?: [number, number];
}

/** Rows the patches decide on 6.1: what each must be on the patched and on the stock modules (the
 *  reason on stock must name the missing capability). Rows of these strategies not listed are not checked. */
export const MATRIX_EXPECT: MatrixExpect[] = [
  { strategy: 'memslot-flag', variant: '', patched: 'proxy', stock: 'proxy' },
  // The series' read path: no SPTE, so 6.1 retries each read once before emulating it.
  { strategy: 'memslot-flag', variant: 'kernel', patched: 'measured', stock: 'unsupported', stockReason: /capability 0x10001 .* is 0/, faultsPerHole: [1.95, 2.05] },
  { strategy: 'memslot-flag', variant: 'kernel-mmio-spte', patched: 'measured', stock: 'unsupported', stockReason: /capability 0x10001 .* is 0/, faultsPerHole: [0.95, 1.05] },
  { strategy: 'mmio-bus-device', variant: '', patched: 'proxy', stock: 'proxy' },
  { strategy: 'mmio-bus-device', variant: 'kernel', patched: 'measured', stock: 'unsupported', stockReason: /capability 0x10002 .* is 0/, faultsPerHole: [0.95, 1.05] },
  { strategy: 'shared-hva', variant: 'flag-4k', patched: 'measured', stock: 'unsupported', stockReason: /capability 0x10003 .* is 0/ },
  { strategy: 'shared-hva', variant: 'flag-2m', patched: 'measured', stock: 'unsupported', stockReason: /capability 0x10003 .* is 0|hugepages/ },
  { strategy: 'spte-prefetch', variant: '', patched: 'measured', stock: 'unsupported', stockReason: /KVM_CAP_PRE_FAULT_MEMORY is 0/ },
  { strategy: 'spte-prefetch', variant: 'fault-2m', patched: 'measured', stock: 'unsupported', stockReason: /capability 0x10004 .* is 0/ },
  { strategy: 'spte-prefetch', variant: 'fault-2m-batch', patched: 'measured', stock: 'unsupported', stockReason: /capability 0x10006 .* is 0/ },
];

/** What differs on 6.12: KVM_PRE_FAULT_MEMORY is upstream (spte-prefetch runs on stock), and a read
 *  fault that is emulated is no longer retried (x86.c sets EMULTYPE_ALLOW_RETRY_PF only for
 *  write-protect faults), so the series' read path takes one fault per read. */
const CHANGES_6_12: Record<string, Partial<MatrixExpect>> = {
  'memslot-flag/kernel': { faultsPerHole: [0.95, 1.05] },
  'spte-prefetch/': { stock: 'measured', stockReason: undefined },
};

/** The expectations for a kernel series. */
export function matrixExpect(series: string): MatrixExpect[] {
  if (series !== '6.12') return MATRIX_EXPECT;
  return MATRIX_EXPECT.map((e) => ({ ...e, ...CHANGES_6_12[`${e.strategy}/${e.variant}`] }));
}
const MATRIX_STRATEGIES = [...new Set(MATRIX_EXPECT.map((e) => e.strategy))];

/** Failures of the matrix rows against the expectations (default 6.1's), one line each (printed), as a count. */
export function matrixFailures(rows: MatrixRow[], stock: boolean, log: (line: string) => void, expect: MatrixExpect[] = MATRIX_EXPECT): number {
  let bad = 0;
  for (const e of expect) {
    const row = rows.find((r) => r.strategy === e.strategy && r.variant === e.variant);
    const want = stock ? e.stock : e.patched;
    const statusOk = Boolean(row && row.status === want && (!stock || !e.stockReason || e.stockReason.test(row.reason ?? '')));
    const perHole = !stock && e.faultsPerHole && row ? faultsPerHole(row, e.faultsPerHole) : null;
    const faultsOk = !perHole || (perHole.value !== null && perHole.value >= perHole.min && perHole.value <= perHole.max);
    if (row && perHole && !faultsOk) log(`kvm test: FAIL patched ${strategyLabel(e)}: ${perHole.value?.toFixed(3) ?? 'no'} faults per hole access, want ${perHole.min}-${perHole.max}`);
    const ok = statusOk && faultsOk;
    log(`kvm test: ${ok ? 'ok  ' : 'FAIL'} ${stock ? 'stock  ' : 'patched'} ${strategyLabel(e)}: ${row ? `${row.status}: ${(row.reason ?? '').slice(0, 110)}` : 'no row'} (want ${want})`);
    if (!ok) bad++;
  }
  return bad;
}

/** What bench kvm test reads of a matrix row (results.json). */
export interface MatrixRow {
  strategy: string;
  variant: string;
  status: string;
  reason: string;
  holeAccesses?: number;
  samples?: { kvmStats?: Record<string, number | null>; exits?: Record<string, number> }[];
}

/** vcpu.pf_taken of the first sample per hole access, with the row's expected range. */
function faultsPerHole(row: MatrixRow, [min, max]: [number, number]): { value: number | null; min: number; max: number } {
  const pf = row.samples?.[0]?.kvmStats?.['vcpu.pf_taken'];
  const value = typeof pf === 'number' && row.holeAccesses ? pf / row.holeAccesses : null;
  return { value, min, max };
}

function readMatrix(out: string): MatrixRow[] | null {
  const file = findResults(out);
  return file ? (JSON.parse(readFileSync(file, 'utf8')) as { rows: MatrixRow[] }).rows : null;
}

/** Deterministic counts of a row (first sample): faults, emulations, MMIO exits. Not vcpu.exits: it counts timer interrupts. */
export const SAME_COUNTS = ['vcpu.pf_taken', 'vcpu.pf_fixed', 'vcpu.pf_emulate', 'vcpu.pf_mmio_spte_created', 'vcpu.insn_emulation', 'vcpu.mmio_exits'];

/** Rows that run on both modules (no patched mechanism) must cost the same counts on both: nothing of the patches may
 *  touch them. A difference above max(2, 0.1 %) is a failure, one line per row. */
export function stockRowsDiffer(patched: MatrixRow[], stock: MatrixRow[], log: (line: string) => void): number {
  let bad = 0;
  for (const s of stock) {
    const p = patched.find((r) => r.strategy === s.strategy && r.variant === s.variant);
    if (s.status === 'unsupported' || !p || p.status !== s.status) continue;
    const a = p.samples?.[0]?.kvmStats ?? {};
    const b = s.samples?.[0]?.kvmStats ?? {};
    const diffs = SAME_COUNTS.filter((k) => typeof a[k] === 'number' && typeof b[k] === 'number').filter((k) => Math.abs((a[k] as number) - (b[k] as number)) > Math.max(2, 0.001 * (b[k] as number)));
    const label = strategyLabel(s);
    log(`kvm test: ${diffs.length ? 'FAIL' : 'ok  '} same counts ${label} on patched and stock: ${diffs.length ? diffs.map((k) => `${k} ${a[k]} vs ${b[k]}`).join(', ') : SAME_COUNTS.map((k) => `${k.slice(5)} ${b[k] ?? 'n/a'}`).join(' ')}`);
    if (diffs.length) bad++;
  }
  return bad;
}

function findResults(dir: string): string | null {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === 'results.json') return p;
    if (e.isDirectory()) {
      const f = findResults(p);
      if (f) return f;
    }
  }
  return existsSync(join(dir, 'results.json')) ? join(dir, 'results.json') : null;
}
