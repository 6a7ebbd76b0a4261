// The report's stylesheet, inlined into the page. System fonts only (no font download).

/** CSS of the HTML report. */
export const REPORT_CSS = `
:root { color-scheme: light; --fg: #1d2329; --muted: #5b6670; --line: #d9dee3; --bg: #ffffff; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 32px 0 6px; padding-top: 8px; border-top: 2px solid var(--fg); }
h3 { font-size: 17px; margin: 26px 0 6px; }
h4 { font-size: 14px; margin: 0 0 6px; }
p { margin: 6px 0; }
.sub { color: var(--muted); font-size: 13px; }
.warn { background: #fff4e5; border: 1px solid #f0b35a; padding: 6px 10px; border-radius: 4px; }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; list-style: none; font-size: 14px; }
a { color: #1f5fa6; }
code { font: 12.5px ui-monospace, "DejaVu Sans Mono", monospace; background: var(--panel); padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
.headlines { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(340px, 100%), 1fr)); gap: 12px; }
.headline { background: var(--panel); border: 1px solid var(--line); border-left: 4px solid #2f6fb0; border-radius: 4px; padding: 10px 14px; font-size: 14px; }
.headline h4 { font-size: 15px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(520px, 100%), 1fr)); gap: 18px 22px; }
figure.chart { margin: 0; padding: 10px 12px; border: 1px solid var(--line); border-radius: 4px; min-width: 0; }
figure.chart.wide { grid-column: 1 / -1; }
.chart-box { position: relative; width: 100%; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
ul.notes { font-size: 13px; color: var(--muted); margin: 4px 0 12px; padding-left: 20px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--panel); }
table.num td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { background: var(--panel); white-space: nowrap; }
td.muted { color: var(--muted); text-align: center; }
.status { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.status.measured { background: #dcf3e3; color: #176b34; }
.status.proxy { background: #efe3fa; color: #5e2a8c; }
.status.unsupported { background: #eceff1; color: #4a545c; }
.status.failed { background: #fde2e1; color: #9c1c14; }
th .backend { font-weight: 600; }
.timing.emulated { color: #9a4a00; font-weight: 600; }
.iqr { color: var(--muted); font-size: 11.5px; font-weight: normal; }
table.decision td .iqr { display: block; }
table.decision th[scope=row], table.compare th[scope=row] { white-space: nowrap; position: sticky; left: 0; background: var(--bg); z-index: 1; }
table.decision thead th { font-size: 12px; vertical-align: bottom; }
table.decision tr.nodata td.reason { text-align: left; white-space: normal; color: var(--muted); }
table.compare td .iqr { display: block; }
table.compare th.file-head { text-align: center; border-left: 2px solid var(--fg); }
.verdict { font-weight: 600; font-size: 12px; }
.verdict.regression { color: #9c1c14; }
.verdict.improvement { color: #176b34; }
.verdict.untested, .verdict.warning { color: #9a4a00; }
ul.choices { padding-left: 20px; }
ul.choices li { margin: 4px 0; }
details { margin: 8px 0 0; font-size: 13px; }
summary { cursor: pointer; color: var(--muted); }
@media (max-width: 600px) {
  header, main, footer { padding: 0 12px; }
  figure.chart { padding: 8px 6px; }
  body { font-size: 14px; }
}
footer { color: var(--muted); font-size: 12px; padding: 24px; border-top: 1px solid var(--line); margin-top: 32px; }
`;
