// Turns the samples of one (strategy, variant, workload, access) into a result row.
import { summarize } from '../results/summary.js';
import type { ResultRow, Sample, Status } from '../results/schema.js';
import type { Strategy } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import type { RowOf } from '../shared/row-id.js';

export interface RowInput extends RowOf<Strategy, Workload> {
  /** From probe(): measured | proxy | unsupported. */
  status: Exclude<Status, 'failed'>;
  reason: string;
  expectedHoleAccesses: number;
  samples: Sample[];
  /** Samples that did not finish (timeouts, guest faults, crashes), one message each. */
  errors: string[];
  backingShared: boolean;
}

/** Statistics over the finished samples; the row fails when any sample failed or a count is off. */
export function buildRow(x: RowInput): ResultRow {
  const ok = x.samples;
  const cold = ok.map((s) => s.scans[0]);
  const holeCounts = [...new Set(cold.map((c) => c.phases.reduce((n, p) => n + p.holeAccesses, 0)))];
  const holeAccesses = holeCounts.length ? holeCounts[0] : 0;
  const problems: string[] = [];
  if (x.errors.length) problems.push(`${x.errors.length} of ${x.errors.length + ok.length} samples failed: ${x.errors[0]}`);
  if (holeCounts.length > 1) problems.push(`hole accesses differ between samples (${holeCounts.join(', ')})`);
  else if (ok.length && holeAccesses !== x.expectedHoleAccesses) problems.push(`guest made ${holeAccesses} hole accesses, the workload's analytic count is ${x.expectedHoleAccesses}`);
  const badDiscovery = ok.filter((s) => !s.discoveryOk).length;
  if (badDiscovery) problems.push(`discovery differs from the topology in ${badDiscovery} samples`);
  const failed = x.status !== 'unsupported' && problems.length > 0;
  const warm = x.workload.passes > 1 ? ok.map((s) => s.scans[s.scans.length - 1].nsPerAccess ?? NaN) : [];
  return {
    strategy: x.strategy.id,
    variant: x.variant,
    workload: x.workload.id,
    access: x.access,
    status: failed ? 'failed' : x.status,
    reason: failed ? [...problems, x.reason].filter(Boolean).join('; ') : x.reason,
    origin: x.strategy.origin,
    expectedHoleAccesses: x.expectedHoleAccesses,
    holeAccesses,
    samples: ok,
    stats: {
      scanNs: summarize(cold.map((c) => c.ns)),
      nsPerAccess: summarize(cold.map((c) => c.nsPerAccess ?? NaN)),
      warmNsPerAccess: summarize(warm),
      setupMs: summarize(ok.map((s) => s.setupMs)),
    },
    memoryBytes: summarize(ok.map((s) => s.memoryBytes))?.median ?? 0,
    backingShared: x.backingShared,
  };
}
