// The page's chart.js configuration for a dot-and-whisker chart (reports/charts/chart-dots.ts):
// inlined into the report by reports/html/page.ts beside renderCharts, so it refers to nothing but
// its arguments and the chart.js global (no imports at run time).

import type { ClientHelpers, DotChartSpec } from './chart-specs.js';

/** A scatter chart with one band per label: per-VM dots, the IQR as a thick line, the median as a diamond. */
export function dotChartConfig(s: DotChartSpec, h: ClientHelpers): unknown {
  const n = s.series.length;
  // Series sit side by side within a label's band; per-VM dots scatter a little around their line.
  const offset = (k: number): number => (n === 1 ? 0 : (k - (n - 1) / 2) * Math.min(0.3, 0.8 / n));
  const jitter = (j: number): number => (((j * 7) % 9) - 4) * (n === 1 ? 0.045 : 0.02);
  const colourOf = (c: string | string[], i: number): string => (Array.isArray(c) ? c[i] : c);
  const alpha = (hex: string, a: string): string => (/^#[0-9a-f]{6}$/i.test(hex) ? hex + a : hex);
  const datasets: unknown[] = [];
  s.series.forEach((ser, k) => {
    const dots: { x: number; y: number; row: number; vm: number }[] = [];
    const dotColours: string[] = [];
    ser.points.forEach((p, i) => {
      if (!p) return;
      p.samples.forEach((v, j) => {
        dots.push({ x: v, y: i + offset(k) + jitter(j), row: i, vm: j + 1 });
        dotColours.push(alpha(colourOf(ser.color, i), '99'));
      });
      datasets.push({
        type: 'line',
        label: `${ser.label} IQR`,
        role: 'iqr',
        data: [
          { x: p.lo, y: i + offset(k), row: i },
          { x: p.hi, y: i + offset(k), row: i },
        ],
        borderColor: '#222',
        borderWidth: 3,
        pointRadius: 0,
        pointHitRadius: 6,
        series: k,
      });
    });
    datasets.push({ label: `${ser.label} per VM`, role: 'vm', data: dots, backgroundColor: dotColours, borderWidth: 0, pointRadius: 2.5, pointHoverRadius: 4, series: k });
    const med = ser.points.flatMap((p, i) => (p ? [{ x: p.median, y: i + offset(k), row: i }] : []));
    datasets.push({
      label: ser.label,
      role: 'median',
      data: med,
      backgroundColor: ser.points.flatMap((p, i) => (p ? [colourOf(ser.color, i)] : [])),
      borderColor: '#111',
      borderWidth: 1.5,
      pointStyle: 'rectRot',
      pointRadius: 6,
      pointHoverRadius: 8,
      series: k,
    });
  });
  const point = (k: number, row: number) => s.series[k].points[row];
  return {
    type: 'scatter',
    data: { datasets },
    options: {
      layout: { padding: { right: 12 } },
      scales: {
        x: {
          type: 'logarithmic',
          min: s.min,
          max: s.max,
          title: { display: true, text: s.axis },
          ticks: { callback: h.logTick(s.unit), autoSkip: false, maxRotation: 0 },
          grid: { color: '#e3e6ea' },
        },
        y: {
          type: 'linear',
          reverse: true,
          min: -0.5,
          max: s.labels.length - 0.5,
          afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
            axis.ticks = s.labels.map((_, i) => ({ value: i }));
          },
          ticks: {
            autoSkip: false,
            callback: function (this: { chart?: { width: number } }, v: number | string): string[] {
              return h.wrap(s.labels[Number(v)] ?? '', h.narrow(this.chart) ? 15 : 26);
            },
          },
          grid: { display: false },
        },
      },
      plugins: {
        legend: {
          display: n > 1,
          position: 'top',
          labels: {
            usePointStyle: true,
            filter: (item: { datasetIndex: number }, data: { datasets: { role?: string }[] }) => data.datasets[item.datasetIndex]?.role === 'median',
            generateLabels: (chart: { data: { datasets: { role?: string; label: string; series: number }[] } }) =>
              chart.data.datasets.flatMap((d, i) =>
                d.role === 'median' ? [{ text: d.label, datasetIndex: i, pointStyle: 'rectRot', fillStyle: colourOf(s.series[d.series].color, 0), strokeStyle: '#111', lineWidth: 1 }] : [],
              ),
          },
        },
        tooltip: {
          callbacks: {
            title: (items: { raw: { row: number } }[]) => s.labels[items[0]?.raw.row] ?? '',
            label: (ctx: { dataset: { role: string; series: number; label: string }; raw: { x: number; row: number; vm?: number } }) => {
              const d = ctx.dataset;
              const ser = s.series[d.series];
              if (d.role === 'vm') return `${ser.label}: VM ${ctx.raw.vm}: ${h.fmt(s.unit, ctx.raw.x)}`;
              const p = point(d.series, ctx.raw.row);
              return p ? `${ser.label}: median ${h.fmt(s.unit, p.median)}, IQR ${h.fmt(s.unit, p.lo)} – ${h.fmt(s.unit, p.hi)}, ${p.samples.length} VMs` : ser.label;
            },
          },
        },
      },
    },
  };
}
