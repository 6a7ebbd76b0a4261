// HTML of the report's top: the ranked summary table and the recommendation per memory budget
// (reports/findings/decision.ts). Every string from a results file is escaped.

import type { ResultsFile, Summary } from '../../runner/results/schema.js';
import { budgetChoices, decisionRows, nonProbing, type DecisionRow } from '../findings/decision.js';
import { coverageText, type Speedup } from '../../runner/results/speedup.js';
import { esc } from './assets.js';
import { fmtBytes, fmtCount, fmtMs, fmtNs, fmtRatio } from '../../runner/shared/format.js';
import { groupTitle, preferredGroups, proxyText, BASELINE_STRATEGY } from '../../runner/results/row-metrics.js';
import { isLabTiming, timingBasis, timingNote } from '../../runner/results/timing.js';

/** A per-access rate: "1.00", "0.0015", "0"; "—" when n/a. */
export function fmtRate(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  return x >= 0.1 ? x.toFixed(2) : x.toPrecision(2);
}

/** "148× [103×–153×]" */
export function speedupText(s: Speedup | null): string {
  if (!s) return '—';
  return `${fmtRatio(s.median)} [${fmtRatio(s.lo)}–${fmtRatio(s.hi)}]`;
}

/** The speed-up cell: the median, its interval below it. */
function speedupCell(s: Speedup | null): string {
  return s ? `${esc(fmtRatio(s.median))} <span class="iqr">${esc(fmtRatio(s.lo))}–${esc(fmtRatio(s.hi))}</span>` : '—';
}

function iqr(s: Summary | null, f: (x: number) => string): string {
  if (!s) return '—';
  return `${f(s.median)} <span class="iqr">${esc(f(s.p25))}–${esc(f(s.p75))}</span>`;
}

function statusCell(d: DecisionRow): string {
  const cls = ['measured', 'proxy', 'unsupported', 'failed'].includes(d.status) ? d.status : 'failed';
  const title = d.status === 'proxy' ? proxyText(d.reason) : d.reason;
  return `<span class="status ${cls}"${title ? ` title="${esc(title)}"` : ''}>${esc(d.status)}</span>`;
}

function tableHtml(rows: DecisionRow[]): string {
  const body = rows
    .map((d) => {
      if (d.scan === null) {
        return `<tr class="nodata"><td></td><th scope="row">${esc(d.label)}</th><td colspan="11" class="reason">${statusCell(d)} ${esc(d.reason || 'no samples')}</td></tr>`;
      }
      const mem = d.memoryBytes === null ? '—' : `${fmtBytes(d.memoryBytes)}${d.backingShared ? ' (shared)' : ''}`;
      const huge = d.hugeMappings === null ? 'n/a' : fmtCount(d.hugeMappings);
      return `<tr><td>${d.rank}</td><th scope="row">${esc(d.label)}</th><td>${iqr(d.perAccess, fmtNs)}</td><td>${speedupCell(d.speedup)}</td><td>${iqr(d.scan, fmtNs)}</td><td>${speedupCell(d.scanSpeedup)}</td><td>${esc(fmtRate(d.userspaceExitsPerHole))}</td><td>${esc(fmtRate(d.kvmExitsPerHole))}</td><td>${esc(fmtRate(d.faultsPerHole))}</td><td>${esc(huge)}</td><td>${esc(mem)}</td><td>${iqr(d.setup, fmtMs)}</td><td>${statusCell(d)}</td></tr>`;
    })
    .join('\n');
  const cov = rows.find((d) => d.speedup)?.speedup?.coverage ?? rows.find((d) => d.scanSpeedup)?.scanSpeedup?.coverage;
  const n = rows.find((d) => d.speedup)?.speedup?.ratios.length;
  return `<div class="scroll"><table class="num decision"><thead><tr><th>#</th><th>strategy</th><th>time / hole access<br><span class="iqr">median, IQR</span></th><th>speed-up<br><span class="iqr">CI</span></th><th>whole scan<br><span class="iqr">median, IQR</span></th><th>scan speed-up<br><span class="iqr">CI</span></th><th>VMM exits<br>/ hole</th><th>KVM exits<br>/ hole</th><th>KVM faults<br>/ hole</th><th>2 MiB maps<br>held</th><th>memory<br>/ VM</th><th>setup / VM<br><span class="iqr">median, IQR</span></th><th>status</th></tr></thead><tbody>
${body}
</tbody></table></div>
<p class="sub">Ranked by the whole cold scan (what a boot pays). Speed-up: over ${esc(BASELINE_STRATEGY)}, the median of the per-round ratios of two fresh VMs measured side by side; below it, its distribution-free confidence interval${cov !== undefined ? ` (coverage ${esc(coverageText(cov))}${n ? ` with ${n} rounds` : ''})` : ''}. VMM exits / hole: MMIO and port-I/O exits the VMM served per hole access, the present devices' exits included (the VMM serves those under every strategy; not the harness's done signal). KVM exits and faults: vcpu.exits and vcpu.pf_taken over the scan. 2 MiB mappings: vm.pages_2m_now after the scan, setup included (n/a: the kernel lacks the statistic).</p>`;
}

function choiceText(rowsAll: DecisionRow[]): string {
  const items: string[] = [];
  let prev: DecisionRow | null = null;
  let prevBudget = 0;
  for (const c of budgetChoices(rowsAll)) {
    const budget = c.budget === 0 ? 'No host memory' : `Up to ${fmtBytes(c.budget)} per VM`;
    if (!c.best) {
      items.push(`<li><strong>${esc(budget)}:</strong> no measured strategy fits.</li>`);
      continue;
    }
    const b = c.best;
    const fig = `${fmtNs(b.perAccess?.median)} per hole access, ${speedupText(b.speedup)} faster than ${BASELINE_STRATEGY}, ${fmtBytes(b.memoryBytes)}, setup ${fmtMs(b.setup?.median)}`;
    const without = c.bestMeasured ? (c.bestMeasured.row.strategy === BASELINE_STRATEGY ? ` Without a kernel change: ${BASELINE_STRATEGY}, the status quo.` : ` Best without a kernel change: ${c.bestMeasured.label} (${fmtNs(c.bestMeasured.perAccess?.median)}, ${speedupText(c.bestMeasured.speedup)}).`) : '';
    const proxy = b.status === 'proxy' ? ` <span class="status proxy">proxy</span> needs a kernel change; measured here through a stand-in.${esc(without)}` : '';
    const same = c.sameAsSmaller ? (c.best === prev ? ` More memory buys nothing here: the same choice as for ${fmtBytes(prevBudget)}.` : ` Not established as faster than the ${fmtBytes(prevBudget)} choice (the speed-ups' intervals overlap).`) : '';
    items.push(`<li><strong>${esc(budget)}:</strong> <strong>${esc(b.label)}</strong> — ${esc(fig)}.${proxy}${esc(same)}</li>`);
    prev = b;
    prevBudget = c.budget;
  }
  const np = nonProbing(rowsAll);
  if (np.length) {
    const parts = np.map((d) => `<strong>${esc(d.label)}</strong> ${esc(speedupText(d.scanSpeedup))} on the whole scan (${esc(fmtCount(d.row.holeAccesses))} hole accesses, ${esc(fmtBytes(d.memoryBytes))})`);
    items.push(`<li><strong>Not probing at all</strong> (change the guest, or the VMM's MCFG): ${parts.join('; ')}.</li>`);
  }
  return `<ul class="choices">${items.join('\n')}</ul>`;
}

/** The decision section of one file: a summary table per group, recommendations for the first. */
export function decisionSection(file: ResultsFile, i: number): string {
  const groups = preferredGroups(file);
  if (!groups.length) return '';
  const basis = timingBasis(file.host);
  const emulated = isLabTiming(basis) ? `<p class="warn timing">${esc(timingNote(basis))}: rank and compare by speed-ups and counts, not by the times.</p>` : '';
  const parts = groups.map((g, gi) => {
    const rows = decisionRows(g);
    const rec = gi === 0 ? `<h4>What to use, by host memory per VM (${esc(groupTitle(g))}, cold scan)</h4>\n${choiceText(rows)}\n` : '';
    return `${rec}<h4>${esc(groupTitle(g))}: every strategy, ranked</h4>\n${tableHtml(rows)}`;
  });
  return `<h3 id="f${i}-decision">Summary</h3>
${emulated}
${parts.join('\n')}`;
}
