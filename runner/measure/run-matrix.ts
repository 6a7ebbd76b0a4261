// Runs the (strategy × variant × workload × access) matrix: probes every row in this process,
// then takes samples in rounds — one fresh VM of each row per round — so that slow drift of a
// shared host spreads over every row alike instead of landing on whichever row ran last; or,
// where time is counted instructions and does not drift, row by row (defaultOrder).
import type { Access, ResultRow, Sample } from '../results/schema.js';
import type { TimingBasis } from '../results/timing.js';
import type { HostInfo, ProbeResult, Strategy } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import { planOnly } from './plan-context.js';
import { guestCpuOf } from '../guest/linux-boot.js';
import { buildRow } from './row.js';
import { admitRow } from './admit.js';
import { SampleWorker } from './sample-worker.js';
import { rowIdLabel, rowIdOf, type RowOf } from '../shared/row-id.js';

export type MatrixRow = RowOf<Strategy, Workload>;

export interface MatrixOptions {
  samples: number;
  /** A sample that sends nothing for this long is killed and reported as a timeout. */
  timeoutMs: number;
  /** interleaved: round-robin over rows, one worker process for all; blocked: all samples of a
   *  row in a worker process of its own (warmed up on that row), then the next row. */
  order: 'interleaved' | 'blocked';
  /** After every sample: the rows so far (for progress and incremental writes). */
  onProgress?: (rows: ResultRow[], samplesDone: number, current: string) => void;
  /** After probing: how many rows will take samples (unsupported rows take none). */
  onProbed?: (runnableRows: number) => void;
  /** Idle this long after each sample's progress, before the next sample starts (the icount lab:
   *  what the orchestrator printed reaches the lab's serial console by interrupts, which would
   *  land in the next scan's instruction count; idling lets QEMU drain it at no wall-time cost). */
  settleMs?: number;
  /** Checked between samples; true stops the run. */
  stopped?: () => boolean;
}

/** The sample order when none is asked: blocked where time is instructions (the icount lab: no
 *  drift to spread, but JIT state that one row's code paths would leave to the next), else
 *  interleaved (hardware and TCG wall clock drift with the host). */
export function defaultOrder(timing: TimingBasis): MatrixOptions['order'] {
  return timing === 'instructions' ? 'blocked' : 'interleaved';
}

/** The settle of the icount lab: a progress line (~60 characters at the console's 115 200 baud,
 *  QEMU's 16550 paces them) drains in ~5 ms of virtual time. */
export const ICOUNT_SETTLE_MS = 50;

/** Every combination the user asked for, in registry order. */
export function expandMatrix(strats: Strategy[], works: Workload[], access: Access[]): MatrixRow[] {
  const rows: MatrixRow[] = [];
  for (const workload of works)
    for (const acc of access)
      for (const strategy of strats) for (const variant of strategy.variants) rows.push({ strategy, variant, workload, access: acc });
  return rows;
}

/** The analytic hole accesses of one scan under this row's plan (for a real kernel: on this host's CPU). */
function expectedHoles(row: MatrixRow, host: HostInfo): number {
  const plan = planOnly(row.strategy, row.workload, row.access, row.variant, host.options);
  const cpu = row.workload.kernel ? guestCpuOf(host.kvm.supportedCpuid()) : undefined;
  return Object.values(row.workload.expected(plan.lastBus, plan.guest, row.access, cpu).holes).reduce((a, b) => a + b, 0);
}

interface RowState {
  row: MatrixRow;
  probe: ProbeResult;
  expected: number;
  samples: Sample[];
  errors: string[];
}

function toResult(s: RowState): ResultRow {
  const { strategy, variant } = s.row;
  return buildRow({
    ...s.row,
    status: s.probe.status,
    reason: s.probe.reason ?? '',
    expectedHoleAccesses: s.expected,
    samples: s.samples,
    errors: s.errors,
    backingShared: strategy.backingShared?.(variant) ?? false,
  });
}

export const activeWorkers = new Set<SampleWorker>();

/** Probes and measures every row. Guest faults, timeouts and crashes become failed samples, never exceptions. */
export async function runMatrix(host: HostInfo, rows: MatrixRow[], opts: MatrixOptions): Promise<ResultRow[]> {
  const states: RowState[] = rows.map((row) => {
    const probe = admitRow(host, row);
    return { row, probe, expected: probe.status === 'unsupported' ? 0 : expectedHoles(row, host), samples: [], errors: [] };
  });
  const runnable = states.filter((s) => s.probe.status !== 'unsupported');
  opts.onProbed?.(runnable.length);
  const worker = new SampleWorker(opts.timeoutMs);
  activeWorkers.add(worker);
  let done = 0;
  const step = async (s: RowState, count: number) => {
    const id = rowIdOf(s.row);
    const name = rowIdLabel(id);
    const reply = await worker.run({ ...id, samples: count, options: host.options }, () =>
      opts.onProgress?.(states.map(toResult), ++done, name),
    );
    s.samples.push(...reply.samples);
    s.errors.push(...reply.errors);
    done = states.reduce((n, x) => n + x.samples.length + x.errors.length, 0);
    opts.onProgress?.(states.map(toResult), done, name);
    if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
  };
  try {
    if (opts.order === 'blocked') {
      for (const s of runnable) {
        // Keep going after a failed sample, but give up on a row that never succeeds.
        // One sample per request, as in interleaved order: the orchestrator's own work after a
        // sample (progress, the incremental results write) happens while the worker waits, never
        // beside the next sample's timed scan (on a one-vCPU lab it would land in its figure).
        while (!opts.stopped?.() && s.samples.length + s.errors.length < opts.samples && !(s.errors.length >= 3 && s.samples.length === 0)) {
          await step(s, 1);
        }
        // The next row starts in a fresh process: no JIT state of this row's code paths (type
        // feedback, optimised code later deoptimised by another row) carries into its samples.
        worker.close();
      }
    } else {
      for (let round = 0; round < opts.samples && !opts.stopped?.(); round++) {
        for (const s of runnable) {
          if (opts.stopped?.()) break;
          if (s.errors.length >= 3 && s.samples.length === 0) continue;
          await step(s, 1);
        }
      }
    }
  } finally {
    worker.close();
    activeWorkers.delete(worker);
  }
  return states.map(toResult);
}
