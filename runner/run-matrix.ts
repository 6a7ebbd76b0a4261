// Runs the (strategy × variant × workload × access) matrix: probes each row in this process,
// runs its samples in a child process with a per-sample timeout, and hands each finished row
// to the caller (which writes results incrementally).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Access, ResultRow, Sample } from '../reports/schema.js';
import type { HostInfo, Strategy, StrategyOptions } from '../strategies/types.js';
import { planOnly } from './sample.js';
import type { Workload } from '../workloads/types.js';
import type { ChildMessage, RunRequest } from './child.js';
import { buildRow } from './row.js';
import { ensureHostNeeds } from './host-prep.js';

export interface MatrixRow {
  strategy: Strategy;
  variant: string;
  workload: Workload;
  access: Access;
}

export interface MatrixOptions {
  samples: number;
  /** A sample that sends nothing for this long is killed and reported as a timeout. */
  timeoutMs: number;
  onSample?: (row: MatrixRow, done: number) => void;
}

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

/** Every combination the user asked for, in registry order. */
export function expandMatrix(strats: Strategy[], works: Workload[], access: Access[]): MatrixRow[] {
  const rows: MatrixRow[] = [];
  for (const workload of works)
    for (const acc of access)
      for (const strategy of strats) for (const variant of strategy.variants) rows.push({ strategy, variant, workload, access: acc });
  return rows;
}

/** The analytic hole accesses of one scan under this row's plan. */
function expectedHoles(row: MatrixRow, options: StrategyOptions): number {
  const plan = planOnly(row.strategy, row.workload, row.access, row.variant, options);
  return Object.values(row.workload.expected(plan.lastBus, plan.guest).holes).reduce((a, b) => a + b, 0);
}

/** Probes and measures one row. Never throws for guest or child failures: they become a failed row. */
export async function runRow(host: HostInfo, row: MatrixRow, opts: MatrixOptions): Promise<ResultRow> {
  const { strategy, variant, workload, access } = row;
  const base = { strategy, variant, workload, access, expectedHoleAccesses: 0, backingShared: false };
  if (!workload.access.includes(access)) {
    return buildRow({ ...base, status: 'unsupported', reason: workload.accessNote ?? `${workload.id} does not support ${access}`, samples: [], errors: [] });
  }
  const limit = ensureHostNeeds(strategy.hostNeeds?.(variant, workload) ?? [], host.fingerprint.isRoot);
  const probe = limit ? { status: 'unsupported' as const, reason: limit } : strategy.probe(host, variant, access, workload);
  const expectedHoleAccesses = expectedHoles(row, host.options);
  if (probe.status === 'unsupported') return buildRow({ ...base, expectedHoleAccesses, status: 'unsupported', reason: probe.reason, samples: [], errors: [] });
  const samples: Sample[] = [];
  const errors: string[] = [];
  let consecutiveFailures = 0;
  while (samples.length + errors.length < opts.samples && consecutiveFailures < 3) {
    const want = opts.samples - samples.length - errors.length;
    const before = samples.length;
    const failure = await runChild({ strategy: strategy.id, variant, workload: workload.id, access, samples: want, options: host.options }, opts.timeoutMs, (m) => {
      if (m.type === 'sample') samples.push(m.sample);
      else if (m.type === 'sample-error') errors.push(m.message);
      opts.onSample?.(row, samples.length + errors.length);
    });
    if (failure) {
      errors.push(failure);
      opts.onSample?.(row, samples.length + errors.length);
    }
    consecutiveFailures = samples.length > before ? 0 : consecutiveFailures + (failure ? 1 : 0);
    if (!failure && samples.length === before && errors.length === 0) break;
  }
  return buildRow({
    ...base,
    expectedHoleAccesses,
    status: probe.status,
    reason: probe.reason ?? '',
    samples,
    errors,
    backingShared: strategy.backingShared?.(variant) ?? false,
  });
}

let current: ReturnType<typeof fork> | null = null;
/** Kills the running sample process (on Ctrl-C). */
export function killCurrentChild(): void {
  current?.kill('SIGKILL');
}

/** Forks the sample runner; resolves with null when it finished, or with a one-line failure. */
function runChild(req: RunRequest, timeoutMs: number, onMessage: (m: ChildMessage) => void): Promise<string | null> {
  return new Promise((resolve) => {
    const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
    current = child;
    let stderr = '';
    let settled: string | null | undefined;
    let timer: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        settled = `timeout: the guest did not signal done within ${timeoutMs / 1000} s (killed)`;
        child.kill('SIGKILL');
      }, timeoutMs);
    };
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('message', (m: ChildMessage) => {
      arm();
      if (m.type === 'error') settled = m.message;
      else if (m.type === 'done') settled ??= null;
      else onMessage(m);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      current = null;
      if (settled !== undefined) return resolve(settled);
      const last = stderr.trim().split('\n').pop() ?? '';
      resolve(`sample process died (${signal ?? `exit ${code}`})${last ? `: ${last}` : ''}`);
    });
    arm();
    child.send(req);
  });
}
