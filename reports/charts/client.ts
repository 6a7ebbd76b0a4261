// The report page's own script: turns the chart specs (reports/charts/chart-data.ts) embedded as
// JSON into chart.js charts. reports/html/page.ts inlines this function's source text with the
// formatters of runner/shared/format.ts, so it must refer only to those, to the chart.js and
// chartjs-chart-error-bars globals, and to the DOM. It never writes HTML: no innerHTML.

import type { BarChartSpec, ChartSpec, ClientHelpers, Unit } from './chart-specs.js';
import type { dotChartConfig as DotChartConfig } from './client-dots.js';
import type { memoryChartConfig as MemoryChartConfig } from './client-memory.js';
import type { compact as Compact, fmtBytes as FmtBytes, fmtCount as FmtCount, fmtMs as FmtMs, fmtNs as FmtNs, fmtRatio as FmtRatio } from '../../runner/shared/format.js';

/* The UMD globals and the formatters inlined beside this function in the page. */
declare const Chart: any;
declare const ChartErrorBars: any;
declare const fmtNs: typeof FmtNs;
declare const fmtMs: typeof FmtMs;
declare const fmtBytes: typeof FmtBytes;
declare const fmtCount: typeof FmtCount;
declare const compact: typeof Compact;
declare const fmtRatio: typeof FmtRatio;
declare const dotChartConfig: typeof DotChartConfig;
declare const memoryChartConfig: typeof MemoryChartConfig;


/** Draws every chart whose spec is in the page's #chart-specs JSON block onto its <canvas>. */
export function renderCharts(): void {
  const dataEl = document.getElementById('chart-specs');
  const specs = JSON.parse(dataEl?.textContent ?? '[]') as ChartSpec[];
  Chart.register(ChartErrorBars.BarWithErrorBarsController, ChartErrorBars.BarWithErrorBar);
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  Chart.defaults.font.size = 12;
  Chart.defaults.color = '#222';

  // rate: a count per hole access (1 = every access), three significant digits.
  const rate = (v: number): string => (v === 0 ? '0' : v >= 10 ? fmtCount(Math.round(v)) : String(Number(v.toPrecision(v >= 0.1 ? 2 : 1))));
  const fmt = (unit: Unit, v: number): string =>
    unit === 'ns' ? fmtNs(v) : unit === 'ms' ? fmtMs(v) : unit === 'bytes' ? fmtBytes(v) : unit === 'ratio' ? fmtRatio(v) : unit === 'rate' ? rate(v) : fmtCount(v);
  const tick = (unit: Unit, v: number): string => compact(fmt(unit, v));

  /** Axis labels are never cut: a long one wraps onto lines of about LINE characters (NARROW_LINE on a phone-narrow chart), after a space or a slash; the rest of a hostile name at 4 lines. */
  const LINE = 26;
  const NARROW_LINE = 15;
  const NARROW_PX = 560;
  const narrow = (chart: { width: number } | undefined): boolean => (chart?.width ?? NARROW_PX) < NARROW_PX;
  const wrap = (s: string, width = LINE): string[] => {
    const LINE = width;
    const words = s.split(/(?<=[ /])/);
    const lines: string[] = [];
    let cur = '';
    for (const w of words) {
      if (cur && (cur + w).length > LINE) {
        lines.push(cur.trimEnd());
        cur = '';
      }
      cur += w;
      while (cur.length > LINE * 1.5) {
        lines.push(cur.slice(0, LINE));
        cur = cur.slice(LINE);
      }
    }
    if (cur) lines.push(cur.trimEnd());
    return lines.length > 4 ? [...lines.slice(0, 3), `${lines.slice(3).join('').slice(0, LINE - 1)}…`] : lines;
  };

  const positive = (xs: (number | null | undefined)[]): number[] => xs.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);

  /** Log-axis bounds on whole decades around the data, so the shortest bar still has length. */
  const decades = (xs: number[]): { min: number; max: number } => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    let min = 10 ** Math.floor(Math.log10(lo));
    if (min >= lo) min /= 10;
    let max = 10 ** Math.ceil(Math.log10(hi));
    if (max <= hi) max *= 10;
    return { min, max };
  };

  /** Labels on log ticks: every decade, plus 2 and 5 when the axis spans few decades. */
  const logTick = (unit: Unit) =>
    function (this: unknown, value: number | string, _i: number, ticks: { value: number }[]): string {
      const v = Number(value);
      if (!(v > 0)) return '';
      const span = Math.log10(ticks[ticks.length - 1].value / ticks[0].value);
      const sig = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
      const near = (x: number): boolean => Math.abs(sig - x) < 1e-6 * x;
      // A phone-narrow axis labels 2 and 5 only when it spans about a decade (else they collide).
      // and, over more than four decades, every other decade only.
      const few = narrow((this as { chart?: { width: number } } | undefined)?.chart);
      if (few && span > 4 && near(1)) return Math.round(Math.log10(v)) % 2 === 0 ? tick(unit, v) : '';
      return near(1) || (span <= (few ? 1.2 : 3) && (near(2) || near(5))) ? tick(unit, v) : '';
    };

  const barConfig = (s: BarChartSpec) => {
    const all = positive(s.datasets.flatMap((d) => [...d.values, ...(d.lo ?? []), ...(d.hi ?? [])]));
    const bounds = s.log && all.length ? decades(all) : {};
    return {
      type: s.errorBars ? 'barWithErrorBars' : 'bar',
      data: {
        labels: s.labels,
        datasets: s.datasets.map((d) => ({
          label: d.label,
          backgroundColor: d.color,
          borderColor: d.color,
          borderWidth: 0,
          maxBarThickness: 26,
          errorBarColor: '#111',
          errorBarWhiskerColor: '#111',
          errorBarLineWidth: 1.5,
          errorBarWhiskerLineWidth: 1.5,
          errorBarWhiskerRatio: 0.35,
          // The error-bar controller cannot take a null point: a missing value is a NaN bar (not drawn).
          data: d.values.map((v, i) =>
            s.errorBars ? (v === null ? { x: NaN, xMin: NaN, xMax: NaN } : { x: v, xMin: d.lo?.[i] ?? v, xMax: d.hi?.[i] ?? v }) : v,
          ),
        })),
      },
      options: {
        indexAxis: 'y',
        layout: { padding: { right: 12 } },
        scales: {
          x: {
            type: s.log ? 'logarithmic' : 'linear',
            ...bounds,
            title: { display: true, text: s.axis },
            ticks: { callback: s.log ? logTick(s.unit) : (v: number) => tick(s.unit, Number(v)), autoSkip: false, maxRotation: 0 },
            grid: { color: '#e3e6ea' },
          },
          y: {
            ticks: {
              autoSkip: false,
              callback: function (this: { getLabelForValue(v: number): string }, v: number | string): string[] {
                return wrap(this.getLabelForValue(Number(v)), narrow((this as unknown as { chart?: { width: number } }).chart) ? NARROW_LINE : LINE);
              },
            },
            grid: { display: false },
          },
        },
        plugins: {
          legend: { display: s.datasets.length > 1, position: 'top' },
          tooltip: {
            callbacks: {
              title: (items: { label: string }[]) => items[0]?.label ?? '',
              label: (ctx: { dataset: { label: string }; raw: unknown }) => {
                const raw = ctx.raw as number | { x: number; xMin: number; xMax: number } | null;
                if (raw === null || raw === undefined || (typeof raw === 'object' && !Number.isFinite(raw.x))) return `${ctx.dataset.label}: —`;
                if (typeof raw === 'number') return `${ctx.dataset.label}: ${fmt(s.unit, raw)}`;
                return `${ctx.dataset.label}: median ${fmt(s.unit, raw.x)}, IQR ${fmt(s.unit, raw.xMin)} – ${fmt(s.unit, raw.xMax)}`;
              },
            },
          },
        },
      },
    };
  };

  const helpers: ClientHelpers = { fmt, logTick, wrap, narrow, compactText: compact };
  const configOf = (spec: ChartSpec, width: number): unknown =>
    spec.kind === 'dots' ? dotChartConfig(spec, helpers) : spec.kind === 'memory' ? memoryChartConfig(spec, helpers, width) : barConfig(spec);

  for (const spec of specs) {
    const canvas = document.getElementById(spec.id);
    if (!(canvas instanceof HTMLCanvasElement)) continue;
    new Chart(canvas, configOf(spec, canvas.parentElement?.clientWidth ?? canvas.clientWidth));
    canvas.setAttribute('data-rendered', 'true');
  }
}
