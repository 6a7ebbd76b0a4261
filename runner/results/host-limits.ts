// The host limits a run raised (vm.max_map_count, the 2 MiB hugetlb pool), in words: for the
// report's fingerprint and `bench run`'s footer. The fingerprint's own values are those before the run.
import type { RaisedLimit } from './schema.js';

/** The sysctl shared-hva raises (strategies/shared-hva.ts names its need the same). */
export const MAX_MAP_COUNT_NAME = 'vm.max_map_count';

/** The 2 MiB hugetlb pool's size as a need and a raised limit are named (runner/host/hugetlb.ts raises it). */
export const HUGEPAGES_2M_NAME = 'hugepages-2048kB/nr_hugepages';

/** "vm.max_map_count 65530 → 73728 during the run, restored after"; one clause per limit. */
export function raisedLimitText(l: RaisedLimit): string {
  const after = l.restored === true ? 'restored after' : l.restored === false ? 'NOT restored (set it back by hand)' : 'restore not recorded (run interrupted?)';
  return `${l.name} ${l.from} → ${l.to} during the run, ${after}`;
}

/** All raised limits in one line; what an older file (no record) or a run that raised nothing says. */
export function raisedLimitsText(limits: RaisedLimit[] | undefined): string {
  if (limits === undefined) return 'not recorded (file written before bench recorded them): the values above may be lower than those in force during the run';
  if (!limits.length) return 'none: the host already met every strategy\'s needs';
  return limits.map(raisedLimitText).join('; ');
}

/** The value a named limit had during the run, when it was raised. */
export function valueDuringRun(limits: RaisedLimit[] | undefined, name: string): number | undefined {
  return limits?.find((l) => l.name === name)?.to;
}
