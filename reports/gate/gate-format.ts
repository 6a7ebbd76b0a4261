// Rendering of a gate verdict: an aligned plain-text table for the terminal and a GitHub
// job-summary (markdown) table.

import type { Finding, GateVerdict, Severity } from './gate.js';
import { fmtP, fmtPct } from './gate.js';

/** Which files were compared, for the headers. */
export interface GateSources {
  baseline: string;
  current: string;
}

const HEADER = ['row', 'check', 'baseline', 'current', 'change [95% CI]', 'n', 'p', 'verdict', 'note'];
const VERDICT: Record<Severity, string> = { regression: 'REGRESSION', untested: 'untested', improvement: 'improved', warning: 'warning', ok: 'ok' };
const ICON: Record<Severity, string> = { regression: '❌', untested: '❔', improvement: '🟢', warning: '⚠️', ok: '✓' };
const OUTCOME_ICON: Record<GateVerdict['outcome'], string> = { pass: '✅', fail: '❌', inconclusive: '❔' };

/** The verdict as an aligned text table with a rule line, file-level notes and a summary. */
export function formatTable(v: GateVerdict, src: GateSources): string {
  const rows = v.findings.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => width(r[i]))));
  const right = new Set([2, 3, 4, 5, 6]);
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : right.has(i) ? pad(c, widths[i], true) : pad(c, widths[i], false))).join('  ').trimEnd();
  const out = [
    `bench gate: ${src.baseline} (host ${v.baselineHost}) → ${src.current} (host ${v.currentHost})`,
    ruleLine(v),
    ...v.notes.map((n) => `note: ${n}`),
    '',
    line(HEADER.map((h) => h.toUpperCase())),
    ...rows.map(line),
    '',
    summaryLine(v),
  ];
  return out.join('\n') + '\n';
}

/** The verdict as markdown for $GITHUB_STEP_SUMMARY: what needs attention first, then every check folded. */
export function formatMarkdown(v: GateVerdict, src: GateSources): string {
  const table = (fs: Finding[]) => [
    '| ' + HEADER.join(' | ') + ' |',
    '|---|---|---:|---:|---:|---:|---:|---|---|',
    ...fs.map((f) => '| ' + cells(f).map((c, i) => (i === 7 ? `${ICON[f.severity]} ${c}` : c)).map(mdEscape).join(' | ') + ' |'),
  ];
  const notable = v.findings.filter((f) => f.severity !== 'ok');
  return [
    `### ${OUTCOME_ICON[v.outcome]} ${summaryLine(v)}`,
    '',
    `${ruleLine(v)}  `,
    `baseline \`${src.baseline}\` (host \`${v.baselineHost}\`) → current \`${src.current}\` (host \`${v.currentHost}\`)`,
    ...v.notes.map((n) => `\n> ${n}`),
    '',
    ...(notable.length ? table(notable) : ['No regressions, improvements or warnings.']),
    '',
    `<details><summary>All ${v.findings.length} checks</summary>`,
    '',
    ...table(v.findings),
    '',
    '</details>',
    '',
  ].join('\n');
}

/** "bench gate PASS: 0 regressions, 0 untested, 1 improvement, 2 warnings (37 checks)" */
export function summaryLine(v: GateVerdict): string {
  const c = v.counts;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const word = v.outcome === 'pass' ? 'PASS' : v.outcome === 'fail' ? 'FAIL' : 'INCONCLUSIVE (could not tell)';
  return `bench gate ${word}: ${plural(c.regression, 'regression')}, ${c.untested} untested, ${plural(c.improvement, 'improvement')}, ${plural(c.warning, 'warning')} (${v.findings.length} checks, ${v.sharedRows} rows in both files)`;
}

function ruleLine(v: GateVerdict): string {
  const what = v.mode === 'ratios' ? 'speed-up over userspace-exit (same run)' : 'cold-scan time';
  return `mode ${v.mode}: ${what} regresses when rank-sum p ≤ ${v.alpha} and the median moves more than ${v.thresholdPct}%; counters must match exactly`;
}

function cells(f: Finding): string[] {
  return [
    f.row,
    f.kind === 'status' || f.kind === 'missing' ? f.kind : f.kind === 'counter' ? f.metric : `${f.kind} ${f.metric}`,
    value(f.baseline, f),
    value(f.current, f),
    f.changePct === null ? '' : `${fmtPct(f.changePct)}${f.ciPct ? ` [${fmtPct(f.ciPct[0])}, ${fmtPct(f.ciPct[1])}]` : ''}`,
    f.n === null ? '' : `${f.n[0]}/${f.n[1]}`,
    f.pValue === null ? '' : fmtP(f.pValue),
    VERDICT[f.severity],
    f.message,
  ];
}

function value(x: number | string | null, f: Finding): string {
  if (x === null) return '';
  if (typeof x === 'string') return x;
  if (f.kind === 'ratio') return `${x.toPrecision(3)}×`;
  if (f.kind === 'counter') return String(x);
  return x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 100 ? x.toFixed(0) : x.toPrecision(3);
}

/** Display width: count code points, not UTF-16 units (→, ×, − are one column). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return right ? fill + s : s + fill;
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
