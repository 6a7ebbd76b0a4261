// The HTML report: one self-contained, offline file. Tables and text are rendered here with
// every string HTML-escaped; charts are drawn in the page by chart.js from JSON specs
// (reports/charts/chart-data.ts). chart.js, chartjs-chart-error-bars and the page script are inlined;
// a Content-Security-Policy allows only those exact scripts and no network fetch at all.

import { createHash } from 'node:crypto';
import type { ResultRow, ResultsFile } from '../../runner/results/schema.js';
import { SCHEMA_VERSION } from '../../runner/results/schema.js';
import type { WorkloadSection } from '../charts/chart-data.js';
import type { ChartSpec } from '../charts/chart-specs.js';
import { KVM_STATS_NOTE, workloadSections } from '../charts/chart-data.js';
import { headlines } from '../findings/headlines.js';
import { decisionSection } from './decision-section.js';
import { seriesComparison } from '../findings/series-2020.js';
import { COMPARE_GATE, compareResults } from '../findings/compare.js';
import { fmtRate } from './decision-section.js';
import { fmtP } from '../gate/gate.js';
import type { Comparison } from '../findings/compare.js';
import { esc, scriptJson, scriptText, umdSource } from './assets.js';
import { compact, fmtBytes, fmtCount, fmtMs, fmtNs, fmtRatio } from '../../runner/shared/format.js';
import { renderCharts } from '../charts/client.js';
import { dotChartConfig } from '../charts/client-dots.js';
import { memoryChartConfig } from '../charts/client-memory.js';
import { REPORT_CSS } from './style.js';
import { harnessCostText } from '../../runner/results/harness-cost-text.js';
import { EMULATED_NOTE, INSTRUCTIONS_NOTE, isLabTiming, timingBasis, timingLabel, timingNote } from '../../runner/results/timing.js';
import { HUGEPAGES_2M_NAME, MAX_MAP_COUNT_NAME, raisedLimitsText, valueDuringRun } from '../../runner/results/host-limits.js';
import { DEFAULT_FLEET, FLEET_FORMULA, fleetTable, type FleetParams } from '../findings/fleet.js';

/** Options of renderReport. */
export interface RenderOptions {
  /** One label per results file (e.g. its path); defaults to "file 1", "file 2", … */
  labels?: string[];
  /** Page title; defaults to "pcihole-bench report". */
  title?: string;
  /** Timestamp printed as the generation time; defaults to now (tests pass a fixed one). */
  generatedAt?: string;
  /** Fleet the "What it costs a fleet" section is scaled to (`bench report --fleet`); default: DEFAULT_FLEET, labelled an example. */
  fleet?: FleetParams;
}

/**
 * Renders one or more results files as a single self-contained HTML document (no network
 * request of any kind). With several files, a side-by-side comparison comes first, then each
 * file's own headline, charts, capability table, host fingerprint and the 2020 figures.
 */
export function renderReport(results: ResultsFile[], opts: RenderOptions = {}): string {
  if (results.length === 0) throw new Error('renderReport: no results files');
  const labels = results.map((_, i) => opts.labels?.[i] ?? `file ${i + 1}`);
  const title = opts.title ?? 'pcihole-bench report';
  const generatedAt = opts.generatedAt ?? new Date().toISOString();
  const multi = results.length > 1;

  const specs: ChartSpec[] = [];
  const comparison = multi ? compareResults(results.map((r, i) => ({ label: labels[i], results: r }))) : null;
  if (comparison) for (const g of comparison.groups) if (g.chart) specs.push(g.chart);

  const perFile = results.map((file, i) => workloadSections(file, `f${i}`));
  for (const sections of perFile) for (const s of sections) specs.push(...s.charts);
  const fileSections = results.map((file, i) => fileSection(file, labels[i], i, multi, perFile[i], opts.fleet));

  const scripts = [
    scriptText(umdSource('chart.js')),
    scriptText(umdSource('chartjs-chart-error-bars')),
    scriptText([fmtNs, fmtMs, fmtBytes, fmtCount, fmtRatio, compact, dotChartConfig, memoryChartConfig, renderCharts].map(String).join('\n') + '\nrenderCharts();\n'),
  ];
  const hashes = scripts.map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`).join(' ');
  const csp = `default-src 'none'; script-src ${hashes}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;

  const toc = [
    multi ? `<li><a href="#comparison">Comparison of ${results.length} files</a></li>` : '',
    ...(multi
      ? results.map((_, i) => `<li><a href="#f${i}">${esc(labels[i])}</a></li>`)
      : [
          '<li><a href="#f0-decision">Summary</a></li>',
          '<li><a href="#f0-headline">Headline</a></li>',
          '<li><a href="#f0-fleet">Fleet cost</a></li>',
          ...perFile[0].map((s, gi) => `<li><a href="#f0-w${gi}">${esc(s.title)}</a></li>`),
          '<li><a href="#f0-capabilities">Capabilities</a></li>',
          '<li><a href="#f0-series">2020 figures</a></li>',
          '<li><a href="#f0-host">Host</a></li>',
        ]),
    '<li><a href="#methodology">Methodology</a></li>',
  ].join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pcihole-bench">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="sub">Strategies for serving the PCI hole on real KVM. Generated ${esc(generatedAt)} from ${results.length === 1 ? esc(labels[0]) : `${results.length} results files`}.</p>
<noscript><p class="warn">The charts need JavaScript; every table and the headline below are complete without it.</p></noscript>
<nav><ul>${toc}</ul></nav>
</header>
<main>
${comparison ? comparisonSection(comparison) : ''}
${fileSections.join('\n')}
${methodologySection(results)}
</main>
<footer>pcihole-bench report, results schema v${SCHEMA_VERSION}. Self-contained: chart.js and chartjs-chart-error-bars are inlined; the page makes no network request.</footer>
<script type="application/json" id="chart-specs">${scriptJson(specs)}</script>
${scripts.map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
}

/** ' <strong>the lab's timing note.</strong>' for a TCG lab file, else ''. */
function labNote(file: ResultsFile): string {
  const t = timingBasis(file.host);
  return isLabTiming(t) ? ` <strong>${esc(timingNote(t))}.</strong>` : '';
}

function fileSection(file: ResultsFile, label: string, i: number, multi: boolean, sections: WorkloadSection[], fleet: FleetParams | undefined): string {
  const head = multi ? `<h2>${esc(label)}</h2>` : '<h2>Results</h2>';
  const timing = timingBasis(file.host);
  const lab = file.host?.lab ? `, in bench lab (${file.host.lab.accel}, QEMU ${file.host.lab.qemu})` : '';
  const meta = `<p class="sub">Host <code>${esc(file.host?.id)}</code> (${esc(file.host?.kvmBackend)}, kernel ${esc(file.host?.kernel)}${esc(lab)}), timing ${esc(timingLabel(timing))}, run started ${esc(file.createdAt)}, ${esc(file.tool?.name)} ${esc(file.tool?.version)}; ${fmtCount(file.config?.samples)} fresh VMs per row, ${fmtCount(file.config?.scans)} scan(s) per VM.</p>${
    isLabTiming(timing) ? `\n<p class="warn timing">${esc(timingNote(timing))}. Compare these times only with other runs of the same basis, through speed-ups.</p>` : ''
  }`;
  const incomplete = file.complete === false ? '<p class="warn">This run did not complete: the file holds only the rows that finished.</p>' : '';
  return `<section class="file" id="f${i}">
${head}
${meta}
${incomplete}
${decisionSection(file, i)}
${headlineSection(file, i)}
${fleetSection(file, i, fleet)}
${sections.length ? sections.map((s, gi) => workloadHtml(s, `f${i}-w${gi}`)).join('\n') : '<p>This file has no result rows.</p>'}
${capabilitySection(file, i)}
${seriesSection(file, i)}
${hostSection(file, i)}
</section>`;
}

function headlineSection(file: ResultsFile, i: number): string {
  const items = headlines(file)
    .map(
      (h) =>
        `<div class="headline"><h4>${esc(h.question)}</h4>${h.answer.map((a) => `<p>${esc(a)}</p>`).join('')}${
          h.table
            ? `<div class="scroll"><table class="num"><thead><tr>${h.table.head.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${h.table.rows
                .map((r) => `<tr>${r.map((c, ci) => (ci === 0 ? `<th>${esc(c)}</th>` : `<td${c === 'n/a' ? ' class="muted"' : ''}>${esc(c)}</td>`)).join('')}</tr>`)
                .join('')}</tbody></table></div><p class="sub">${esc(h.table.note)}</p>`
            : ''
        }</div>`,
    )
    .join('\n');
  return `<h3 id="f${i}-headline">Headline</h3>
<p class="sub">What the summary table above does not say: comparisons between two rows and what they mean, computed from this file's rows (cold scans, medians over fresh VMs; each row's own figures are in the table). Proxy rows are marked [proxy].${labNote(file)}</p>
<div class="headlines">${items}</div>`;
}

/** CPU-seconds per day as a reader takes it in: "1 234 CPU-s (0.01 cores busy)". */
function fmtCpuDay(s: number | null): string {
  if (s === null) return 'n/a';
  if (s === 0) return '0 CPU-s';
  const v = Math.abs(s) >= 10 ? Math.round(s) : Number(s.toPrecision(2));
  return `${fmtCount(v)} CPU-s (${(s / 86_400).toPrecision(2)} cores busy)`;
}

function fleetSection(file: ResultsFile, i: number, given: FleetParams | undefined): string {
  const p = given ?? DEFAULT_FLEET;
  const t = fleetTable(file, p);
  const scale = `${fmtCount(p.bootsPerDay)} boots per day, ${fmtCount(p.vmsPerHost)} VMs per host${given ? '' : ' (an example: set your own with <code>bench report --fleet BOOTS_PER_DAY,VMS_PER_HOST</code>)'}`;
  const head = `<h3 id="f${i}-fleet">What it costs a fleet</h3>
<p class="sub">${scale}. ${FLEET_FORMULA.map((f) => esc(f)).join('; ')}. Medians per fresh VM from this file${t ? `, ${esc(t.title)}` : ''}.${isLabTiming(timingBasis(file.host)) ? ` <strong>${esc(timingNote(timingBasis(file.host)))}: CPU time here is not what hardware would spend; memory is.</strong>` : ''}</p>`;
  if (!t) return `${head}
<p>No row with a whole-scan figure: nothing to scale.</p>`;
  const body = t.rows
    .map(
      (r) =>
        `<tr><th scope="row">${esc(r.label)}</th><td>${esc(r.perBootNs === null ? 'n/a' : fmtNs(r.perBootNs))}</td><td>${esc(fmtCpuDay(r.cpuSecondsPerDay))}</td><td>${esc(r.savedVsBaseline === null ? '—' : fmtCpuDay(r.savedVsBaseline))}</td><td>${esc(r.memoryPerVm === null ? 'n/a' : fmtBytes(r.memoryPerVm))}</td><td>${esc(r.memoryPerHost === null ? 'n/a' : fmtBytes(r.memoryPerHost))}${r.backingShared ? ' (shared: once per host)' : ''}</td></tr>`,
    )
    .join('');
  return `${head}
<div class="scroll"><table class="num"><thead><tr><th>strategy</th><th>per boot (scan + setup)</th><th>CPU per day</th><th>saved vs userspace-exit (− = costs more)</th><th>memory per VM</th><th>memory per host</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

function workloadHtml(s: WorkloadSection, id: string): string {
  const notes = s.notes.length ? `<ul class="notes">${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  const charts = s.charts
    .map(
      (c) => `<figure class="chart${c.kind === 'memory' || c.title.startsWith('Time per hole') ? ' wide' : ''}">
<h4>${esc(c.title)}</h4>
<div class="chart-box" style="height:${Math.round(c.height)}px"><canvas id="${esc(c.id)}" role="img" aria-label="${esc(`${c.title}: ${s.title}`)}"></canvas></div>
<figcaption>${esc(c.caption)}</figcaption>
</figure>`,
    )
    .join('\n');
  const t = s.kvmTable;
  const omitted = t.omittedZero ? ` ${t.omittedZero} statistics that are zero for every row are left out.` : '';
  const kvm = t.stats.length
    ? `<details><summary>All KVM statistics (median per VM: deltas over the scan (setup excluded), *_now gauges after it)</summary><p class="sub">KVM binary statistics (vcpu.* summed over vCPUs, vm.* per VM). ${esc(KVM_STATS_NOTE)}${omitted}</p><div class="scroll"><table class="num"><thead><tr><th>statistic</th>${t.rows.map((r) => `<th>${esc(r)}</th>`).join('')}</tr></thead><tbody>${t.stats
        .map((st) => `<tr><th>${esc(st.name)}</th>${st.values.map((v) => (v === null ? '<td class="muted">n/a</td>' : `<td>${fmtCount(v)}</td>`)).join('')}</tr>`)
        .join('')}</tbody></table></div></details>`
    : '';
  return `<section class="workload" id="${id}">
<h3>Workload ${esc(s.title)}</h3>
${notes}
<div class="charts">${charts}</div>
${kvm}
</section>`;
}

/** Rows that share strategy, variant, status and reason collapse into one capability line. */
function capabilitySection(file: ResultsFile, i: number): string {
  const lines = new Map<string, { row: ResultRow; where: string[] }>();
  for (const r of file.rows) {
    const k = JSON.stringify([r.strategy, r.variant, r.status, r.reason]);
    const e = lines.get(k) ?? { row: r, where: [] };
    e.where.push(`${r.workload} (${r.access})`);
    lines.set(k, e);
  }
  const order = file.config?.strategies ?? [];
  const sorted = [...lines.values()].sort((a, b) => {
    const ia = order.indexOf(a.row.strategy);
    const ib = order.indexOf(b.row.strategy);
    return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || a.row.strategy.localeCompare(b.row.strategy) || a.row.variant.localeCompare(b.row.variant);
  });
  const body = sorted
    .map(
      ({ row, where }) =>
        `<tr><td><code>${esc(row.strategy)}</code></td><td>${esc(row.variant || '—')}</td><td><span class="status ${esc(statusClass(row.status))}">${esc(row.status)}</span></td><td>${esc(row.reason || (row.status === 'measured' ? 'the mechanism itself ran' : ''))}</td><td>${esc(row.origin ?? '')}</td><td>${esc(where.join(', '))}</td></tr>`,
    )
    .join('\n');
  return `<h3 id="f${i}-capabilities">Capabilities on this host</h3>
<p class="sub"><span class="status measured">measured</span> the mechanism itself ran; <span class="status proxy">proxy</span> a labelled stand-in measured on real KVM (the reason says what it stands in for and what a patched kernel would change); <span class="status unsupported">unsupported</span> cannot run here (the reason says why and how to enable it); <span class="status failed">failed</span> ran and went wrong.</p>
<div class="scroll"><table><thead><tr><th>strategy</th><th>variant</th><th>status</th><th>reason</th><th>origin</th><th>workloads</th></tr></thead><tbody>
${body}
</tbody></table></div>`;
}

function statusClass(s: string): string {
  return ['measured', 'proxy', 'unsupported', 'failed'].includes(s) ? s : 'failed';
}

function seriesSection(file: ResultsFile, i: number): string {
  const rows = seriesComparison(file)
    .map((r) => `<tr><th>${esc(r.what)}</th><td>${esc(r.series)}</td><td>${esc(r.ours)}</td></tr>`)
    .join('\n');
  return `<h3 id="f${i}-series">The 2020 series' figures beside ours</h3>
<p class="sub">The KVM_MEM_ALLONES RFC and KVM_MEM_PCI_HOLE v1/v2 quoted these; ours are computed from this file. Absolute times depend on the host (see its fingerprint): compare ratios.${labNote(file)}</p>
<div class="scroll"><table><thead><tr><th>quantity</th><th>2020 series</th><th>this file</th></tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

function hostSection(file: ResultsFile, i: number): string {
  const h = file.host ?? ({} as ResultsFile['host']);
  const kv = (o: Record<string, unknown> | undefined): string =>
    o && Object.keys(o).length
      ? Object.entries(o)
          .map(([k, v]) => `<code>${esc(k)}=${esc(v)}</code>`)
          .join(' ')
      : '—';
  // The fingerprint holds the values before the run; a raised limit's value during it follows.
  const during = (name: string): string => {
    const v = valueDuringRun(h.raisedLimits, name);
    return v === undefined ? '' : ` before the run, <strong>${esc(v)} during it</strong>`;
  };
  const rows: [string, string][] = [
    ['fingerprint id', `<code>${esc(h.id)}</code>`],
    ['kernel', esc(h.kernel)],
    ['CPU', `${esc(h.cpuModel)} × ${esc(h.cpus)}`],
    ['memory', esc(fmtBytes(h.memoryBytes))],
    ['KVM backend', esc(h.kvmBackend)],
    ['KVM parameters', kv(h.kvmParams)],
    ['KVM capabilities', kv(h.capabilities)],
    ['KVM API version', esc(h.apiVersion)],
    ['guest TSC', h.tscKhz ? `${esc(fmtCount(h.tscKhz))} kHz` : '—'],
    ['THP', h.thp ? `enabled=${esc(h.thp.enabled)}, defrag=${esc(h.thp.defrag)}, shmem_enabled=${esc(h.thp.shmemEnabled)}` : '—'],
    ['hugetlb', h.hugetlb ? `${esc(h.hugetlb.nrHugepages)} pages (${esc(h.hugetlb.freeHugepages)} free) of ${esc(fmtBytes(h.hugetlb.hugepageSizeKb * 1024))}${h.hugetlb.defaultSizeKb && h.hugetlb.defaultSizeKb !== h.hugetlb.hugepageSizeKb ? `; default hugepage size ${esc(fmtBytes(h.hugetlb.defaultSizeKb * 1024))}` : ''}${during(HUGEPAGES_2M_NAME)}` : '—'],
    ['vm.max_map_count', `${esc(h.maxMapCount)}${during(MAX_MAP_COUNT_NAME)}`],
    ['limits raised for the run', esc(raisedLimitsText(h.raisedLimits))],
    ['root', esc(h.isRoot)],
    ['Node.js', esc(h.node)],
    ['timing basis', esc(timingNote(timingBasis(h)) || timingLabel('hardware'))],
    ...(h.lab
      ? ([
          ['lab', `bench lab VM, accelerator <code>${esc(h.lab.accel)}</code>, QEMU ${esc(h.lab.qemu)}, guest kernel ${esc(h.lab.guestKernel)}`],
          ['lab outer host', `kernel ${esc(h.lab.outerKernel)}, CPU ${esc(h.lab.outerCpu)}${h.lab.outerHostId ? `, fingerprint <code>${esc(h.lab.outerHostId)}</code>` : ''}`],
        ] as [string, string][])
      : []),
  ];
  const c = file.config;
  const cfg = c
    ? `<p class="sub">Run configuration: strategies ${esc((c.strategies ?? []).join(', '))}; workloads ${esc((c.workloads ?? []).join(', '))}; access ${esc((c.access ?? []).join(', '))}; ${esc(c.samples)} samples; ${esc(c.scans)} scan(s) per VM.</p>`
    : '';
  return `<h3 id="f${i}-host">Host fingerprint</h3>
<div class="scroll"><table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table></div>
${cfg}`;
}

function comparisonSection(c: Comparison): string {
  const head = c.files
    .map(
      (f, i) =>
        `<th colspan="${i === 0 ? 6 : 7}" class="file-head">${esc(f.label)}<br><span class="backend">${esc(f.kvmBackend)} · <span class="timing ${esc(f.timing)}">${esc(timingLabel(f.timing))}</span></span><br><span class="sub">host <code>${esc(f.hostId)}</code> · ${esc(f.kernel)}${f.lab ? ` · ${esc(f.lab)}` : ''} · ${esc(f.createdAt)}${f.complete ? '' : ' · incomplete'}</span></th>`,
    )
    .join('');
  const sub = c.files
    .map((f, i) => `<th>time / hole access${isLabTiming(f.timing) ? `<br><span class="iqr">${f.timing}</span>` : ''}</th><th>speed-up<br><span class="iqr">CI</span></th><th>VMM exits<br>/ hole</th><th>KVM faults<br>/ hole</th><th>2 MiB maps<br>held</th><th>setup<br><span class="iqr">per VM</span></th>${i ? '<th>speed-up vs first file<br><span class="iqr">gate verdict, p</span></th>' : ''}`)
    .join('');
  // Across backends a change is not a regression of either: say which way and whether the gate could tell.
  const verdictWord: Record<string, string> = { regression: 'smaller, significant', untested: 'could not tell', improvement: 'larger, significant', warning: 'warning', ok: 'not significant' };
  const groups = c.groups
    .map((g) => {
      const body = g.rows
        .map(
          (r) =>
            `<tr><th scope="row">${esc(r.name)}</th>${r.cells
              .map((cell, i) => {
                const span = i ? 7 : 6;
                if (cell.status === null) return `<td colspan="${span}" class="muted">not in this file</td>`;
                if (cell.status === 'unsupported' || cell.speedupCI === null && cell.nsPerAccess === null) return `<td colspan="${span}" class="muted">${esc(cell.status)}</td>`;
                const mark = cell.status === 'proxy' ? ' <span class="status proxy">proxy</span>' : cell.status === 'failed' ? ' <span class="status failed">failed</span>' : '';
                const sp = cell.speedupCI ? `${esc(fmtRatio(cell.speedupCI.median))}${cell.speedupCI.metric === 'scanNs' ? ' <span class="iqr">whole scan</span>' : ''}<span class="iqr">${esc(fmtRatio(cell.speedupCI.lo))}–${esc(fmtRatio(cell.speedupCI.hi))}</span>` : '—';
                const huge = cell.hugeMappings === null ? '<span class="muted">n/a</span>' : esc(fmtCount(cell.hugeMappings));
                let delta = '';
                if (i && r.name === 'userspace-exit') delta = '<td class="muted">reference</td>';
                else if (i) {
                  const d = cell.deltaPct === null ? '—' : `${cell.deltaPct >= 0 ? '+' : '−'}${Math.abs(cell.deltaPct).toFixed(0)} %`;
                  const gv = cell.gate ? `<span class="verdict ${esc(cell.gate.severity)}" title="${esc(cell.gate.message)}">${esc(verdictWord[cell.gate.severity] ?? cell.gate.severity)}</span>${cell.gate.pValue !== null ? ` <span class="iqr">p ${esc(fmtP(cell.gate.pValue))}</span>` : ''}` : '';
                  delta = `<td>${esc(d)}<br>${gv}</td>`;
                }
                const faults = cell.faultsPerHole === null ? '<span class="muted">n/a</span>' : esc(fmtRate(cell.faultsPerHole));
                return `<td>${esc(fmtNs(cell.nsPerAccess))}${mark}</td><td>${sp}</td><td>${esc(fmtRate(cell.exitsPerHole))}</td><td>${faults}</td><td>${huge}</td><td>${esc(fmtMs(cell.setupMs))}</td>${delta}`;
              })
              .join('')}</tr>`,
        )
        .join('\n');
      const chart = g.chart
        ? `<figure class="chart wide"><h4>${esc(g.chart.title)}</h4><div class="chart-box" style="height:${Math.round(g.chart.height)}px"><canvas id="${esc(g.chart.id)}" role="img" aria-label="${esc(g.chart.title)}"></canvas></div><figcaption>${esc(g.chart.caption)}</figcaption></figure>`
        : '';
      return `<h3>${esc(g.title)}</h3>
<div class="scroll"><table class="num compare"><thead><tr><th rowspan="2">strategy/variant</th>${head}</tr><tr>${sub}</tr></thead><tbody>
${body}
</tbody></table></div>
<div class="charts">${chart}</div>`;
    })
    .join('\n');
  const dup = c.duplicates.length ? `<p class="warn">${c.duplicates.map(esc).join('<br>')}</p>` : '';
  const gp = c.gateProblems.length ? `<p class="warn">${c.gateProblems.map(esc).join('<br>')}</p>` : '';
  return `<section id="comparison">
<h2>Comparison of ${c.files.length} results files</h2>
<p class="sub">Per file: the cold-scan time per hole access, the speed-up over userspace-exit measured in that same file (the figure that transfers between hosts and KVM backends; median of per-round ratios, confidence interval below it), the exits the VMM served per hole access, and the 2 MiB mappings the VM held after the scan (vm.pages_2m_now; n/a where the kernel lacks it). For each file after the first: its speed-up against the first file's, and the gate's verdict on that change (<code>bench gate --ratios</code>, first file as baseline, threshold ${COMPARE_GATE.thresholdPct} %, alpha ${COMPARE_GATE.alpha}; "untested": too few samples to tell). ${c.sameHost ? 'All files come from the same host fingerprint, so absolute times are comparable too.' : '<strong>The files come from different host fingerprints: compare the speed-ups, not the absolute times.</strong>'}</p>
${dup}${gp}
${emulatedFiles(c)}
${groups}
</section>`;
}

/** The timing warning of a comparison: which files are emulated, and that mixed bases compare only as speed-ups. */
function emulatedFiles(c: Comparison): string {
  const emu = c.files.filter((f) => isLabTiming(f.timing)).map((f) => f.label);
  if (!emu.length) return '';
  const mixed = c.mixedTiming ? ' The files mix hardware and emulated timing: only the speed-ups compare, never the times.' : '';
  const notes = [...new Set(c.files.filter((f) => isLabTiming(f.timing)).map((f) => timingNote(f.timing)))];
  return `<p class="warn timing">${esc(emu.join(', '))}: ${esc(notes.join('; '))}.${esc(mixed)}</p>`;
}

/** "5" or "5 and 10" (several files): the fresh VMs per row. */
function samplesText(results: ResultsFile[]): string {
  const ns = [...new Set(results.map((r) => r.config?.samples).filter((n) => typeof n === 'number' && n > 0))];
  return ns.length ? ns.join(' and ') : 'N';
}

/** The harness's own cost per userspace exit, per file that recorded it (every speed-up's baseline includes it). */
function harnessCostItem(results: ResultsFile[]): string {
  const withCost = results.map((r, i) => ({ r, i })).filter(({ r }) => r.harnessCost !== undefined);
  if (!withCost.length) return '';
  const per = withCost.map(({ r, i }) => `${results.length > 1 ? `file ${i + 1} (${esc(r.host?.kvmBackend ?? '?')}): ` : ''}${esc(harnessCostText(r.harnessCost!))}`);
  return `<li><strong>Harness cost.</strong> Each userspace exit also pays this VMM's own work: decoding kvm_run, serving the access from the device model, and calling KVM_RUN from JavaScript through koffi. Measured at the end of the run on the same guest image against a minimal C KVM_RUN loop and a bare JavaScript loop (the koffi floor): ${per.join('; ')}. Speed-ups over userspace-exit divide by a baseline that includes it; <code>bench reference</code> shows the same split for in-kernel mechanisms and QEMU.</li>`;
}

function methodologySection(results: ResultsFile[]): string {
  const file = results[0];
  return `<section id="methodology">
<h2>Methodology</h2>
<ul>
<li><strong>What is timed.</strong> The guest reads its own TSC (rdtsc, running natively at CPL3) around each phase of its PCI scan; cycles are converted with the guest TSC rate (KVM_GET_TSC_KHZ${file.host?.tscKhz ? `, ${esc(fmtCount(file.host.tscKhz))} kHz on this host` : ''}). <em>ns per access</em> is the hole-only phase (e.g. Linux's peer-bridge fixup: only absent functions) divided by its hole reads; the whole scan, which also reads present devices served in userspace under every strategy, is reported beside it.</li>
<li><strong>Cold and warm.</strong> Each sample is a fresh VM. Its first scan is <em>cold</em>: it pays every first-touch fault of read-only and shared pages; the headline and the charts use it (a boot happens once). Workloads that rescan also report the last, <em>warm</em> scan of the same VM.</li>
<li><strong>Samples and statistics.</strong> Each row is measured on ${esc(samplesText(results))} fresh VMs; figures are medians over them. The time charts draw every fresh VM as a dot, the median as a diamond and the interquartile range (25th to 75th percentile, linear interpolation) as a line, on a log axis whose range comes from the data; counts per hole access are on a linear axis from 0 (the comparison's speed-up bars keep error bars over the same range). Setup, VM creation and teardown are timed on the host clock, per VM.</li>
<li><strong>Counters.</strong> Exits are counted by the VMM by kind; accesses KVM answers in-kernel never reach it. KVM statistics are deltas of KVM's binary statistics (pf_taken, pf_fixed, exits, pages_2m …) over the scan (setup excluded): a mapping made during setup, such as spte-prefetch's pre-fault, is not in them. pf_fixed counts the SPTEs a fault installed and, on 6.1, prefetched ones too (KVM_PRE_FAULT_MEMORY, the patched 2 MiB prefetch on fault), which later kernels no longer count there; prefetched SPTEs carry no Accessed bit, so where EPT/NPT A/D bits are off the first access of such a page faults once more. Whether a 2 MiB mapping happened at all is read from the gauge vm.pages_2m_now (with vm.pages_4k_now), taken after the scan, setup included. Host memory is the resident size (mincore) of the window's backing after the scans.</li>
<li><strong>Proxies.</strong> memslot-flag and mmio-bus-device need kernel support no stock kernel has. They run as measured proxies: each hole read still causes a real exit that KVM answers in-kernel through a real KVM_MMIO_BUS device returning all-ones; the guest's scan code and results are unchanged. Every figure of a proxy is labelled [proxy].</li>
<li><strong>Timing basis.</strong> Each file says whether its times are <em>hardware</em> time or <em>emulated</em>: a run inside <code>bench lab</code>'s VM under QEMU TCG, where ${esc(EMULATED_NOTE)}; or <em>instructions</em>: the same lab with QEMU's <code>-icount shift=0,sleep=off</code> (its default), ${esc(INSTRUCTIONS_NOTE)}. The lab's accelerator, QEMU and kernels are in the host fingerprint.</li>
${harnessCostItem(results)}
<li><strong>Comparing.</strong> Absolute costs depend on the host (KVM backend, TDP or shadow paging, CPU): compare strategies as ratios measured in one run, and hosts by their speed-ups over userspace-exit.</li>
</ul>
</section>`;
}
