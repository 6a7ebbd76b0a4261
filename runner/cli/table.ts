// The readable table `bench run` prints at the end.
import { fmtBytes, fmtCount, fmtMs, fmtNs, fmtRatio } from '../shared/format.js';
import { baselineRow, exitMedian, groupRows, rowLabel, speedupPerAccess, speedupScan, IO_EXIT_KINDS, MMIO_EXIT_KINDS } from '../results/row-metrics.js';
import type { ResultRow } from '../results/schema.js';
import { isLabTiming, timingNote, type TimingBasis } from '../results/timing.js';

const HEAD = ['strategy', 'status', 'ns/access (IQR)', 'speed-up', 'scan', 'scan speed-up', 'holes', 'exits', 'memory', 'setup'];
/** Shown after ns/access when the workload rescans in one VM (cold versus steady state). */
const WARM = 'warm ns/access';

/** One block per (workload, access): medians over fresh VMs, speed-ups against userspace-exit of the same run.
 *  Emulated timing (the lab under TCG) says so under every block's title. */
export function renderTable(rows: ResultRow[], samples: number, timing: TimingBasis = 'hardware'): string {
  const out: string[] = [];
  for (const g of groupRows(rows)) {
    const base = baselineRow(g.rows);
    const warm = g.rows.some((r) => r.stats.warmNsPerAccess);
    const head = warm ? [...HEAD.slice(0, 3), WARM, ...HEAD.slice(3)] : HEAD;
    const body = g.rows.map((r) => {
      if (r.status === 'unsupported') return [rowLabel(r), 'unsupported', r.reason];
      const npa = r.stats.nsPerAccess;
      const exits = (exitMedian(r, MMIO_EXIT_KINDS) ?? 0) + (exitMedian(r, IO_EXIT_KINDS) ?? 0);
      return [
        rowLabel(r),
        r.status,
        npa ? `${fmtNs(npa.median)} (${fmtNs(npa.p25)}–${fmtNs(npa.p75)})` : '—',
        ...(warm ? [fmtNs(r.stats.warmNsPerAccess?.median)] : []),
        fmtRatio(speedupPerAccess(r, base)),
        fmtNs(r.stats.scanNs?.median),
        fmtRatio(speedupScan(r, base)),
        fmtCount(r.holeAccesses),
        fmtCount(exits),
        fmtBytes(r.memoryBytes),
        fmtMs(r.stats.setupMs?.median),
      ];
    });
    out.push(`\n${g.workload} (${g.access}), ${samples} fresh VMs per row asked, cold scan${warm ? ' (and the last scan of each VM, warm)' : ''}, medians:`);
    if (isLabTiming(timing)) out.push(`${timingNote(timing)}.`);
    const widths = head.map((h, i) => Math.max(h.length, ...body.filter((b) => b.length > 3).map((b) => (b[i] ?? '').length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    out.push(line(head));
    for (const b of body) out.push(b.length === 3 ? `${b[0].padEnd(widths[0])}  ${b[1]}: ${b[2]}` : line(b));
    const failed = g.rows.filter((r) => r.status === 'failed');
    for (const f of failed) out.push(`  ! ${rowLabel(f)}: ${f.reason}`);
  }
  return out.join('\n');
}
