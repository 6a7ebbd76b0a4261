// The 2020 KVM series' own figures (KVM_MEM_ALLONES RFC → KVM_MEM_PCI_HOLE v1/v2 and its review)
// beside the same quantities computed from a results file.

import type { ResultRow, ResultsFile } from '../../runner/results/schema.js';
import { compact, fmtBytes, fmtCount, fmtNs, fmtRatio } from '../../runner/shared/format.js';
import { baselineRow, groupTitle, nsPerAccess, preferredGroups, rowLabel, speedupPerAccess } from '../../runner/results/row-metrics.js';
import { IN_KERNEL_STRATEGIES } from './headlines.js';

/** One quantity: what the series reported and what this file measured. */
export interface SeriesRow {
  what: string;
  series: string;
  ours: string;
}

/** The series' figures as quoted in its cover letters and review (DESIGN.md §1). */
export const SERIES_2020 = {
  holeAccessesPerQ35Boot: 8193,
  inKernelNsPerAccess: 1_000,
  userspaceNsPerAccess: 6_000,
  secondsPerBoot: 0.04,
  readOnlySlotBytesPerGuest: 32 * 2 ** 20,
} as const;

const NOT = 'not measured in this file';

/** Our figures beside the series' own, computed from the file's rows (headline group preference). */
export function seriesComparison(file: ResultsFile): SeriesRow[] {
  const groups = preferredGroups(file);
  const q35 = file.rows.find((r) => r.workload === 'linux-q35-boot' && r.access === 'ecam' && r.status !== 'unsupported' && r.samples.length > 0 && r.strategy === 'userspace-exit')
    ?? file.rows.find((r) => r.workload === 'linux-q35-boot' && r.status !== 'unsupported' && r.samples.length > 0);
  const g = groups.find((x) => {
    const b = baselineRow(x.rows);
    return b && nsPerAccess(b) !== null;
  });
  const base = g ? baselineRow(g.rows) : undefined;
  const baseNs = base ? nsPerAccess(base) : null;
  const kernel: ResultRow[] = g ? IN_KERNEL_STRATEGIES.flatMap((s) => g.rows.filter((r) => r.strategy === s && nsPerAccess(r) !== null)) : [];
  const where = g ? ` (${groupTitle(g)})` : '';
  const ro = file.rows.filter((r) => (r.strategy === 'ro-page' || r.strategy === 'shared-hva') && r.status !== 'unsupported' && r.samples.length > 0);
  const roMem = [...new Map(ro.map((r) => [rowLabel(r), `${rowLabel(r)} ${fmtBytes(r.memoryBytes)}`])).values()];

  return [
    {
      what: 'Hole accesses per q35 boot',
      series: `${fmtCount(SERIES_2020.holeAccessesPerQ35Boot)} (a real q35 direct-kernel boot)`,
      ours: q35 ? `${fmtCount(q35.holeAccesses)} per scan, linux-q35-boot (${q35.access}); analytic ${fmtCount(q35.expectedHoleAccesses)}` : NOT,
    },
    {
      what: 'Cost per hole access, exit to userspace',
      series: `~${compact(fmtNs(SERIES_2020.userspaceNsPerAccess))}`,
      ours: base && baseNs !== null ? `${fmtNs(baseNs)}${where}` : NOT,
    },
    {
      what: 'Cost per hole access, answered in KVM',
      series: `~${compact(fmtNs(SERIES_2020.inKernelNsPerAccess))}`,
      ours: kernel.length ? `${kernel.map((r) => `${rowLabel(r)} ${fmtNs(nsPerAccess(r))}`).join(', ')}${where}` : NOT,
    },
    {
      what: 'Userspace ÷ in-kernel',
      series: compact(fmtRatio(SERIES_2020.userspaceNsPerAccess / SERIES_2020.inKernelNsPerAccess)),
      ours: kernel.length && baseNs !== null ? kernel.map((r) => `${rowLabel(r)} ${fmtRatio(speedupPerAccess(r, base))}`).join(', ') : NOT,
    },
    {
      what: 'Time saved per boot by answering in KVM',
      series: `~${SERIES_2020.secondsPerBoot} s`,
      ours:
        kernel.length && base && baseNs !== null
          ? kernel.map((r) => `${rowLabel(r)} ${fmtNs((baseNs - (nsPerAccess(r) as number)) * base.holeAccesses)} over ${fmtCount(base.holeAccesses)} hole reads`).join(', ')
          : NOT,
    },
    {
      what: 'Host memory for a read-only 0xff window',
      series: `${fmtBytes(SERIES_2020.readOnlySlotBytesPerGuest)} per guest`,
      ours: roMem.length ? roMem.join(', ') : NOT,
    },
  ];
}
