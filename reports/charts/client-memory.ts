// The page's chart.js configuration for the memory-against-time chart (reports/charts/chart-memory.ts):
// inlined into the report by reports/html/page.ts beside renderCharts, so it refers to nothing but
// its arguments (no imports at run time). Draws the 0 B band, the Pareto front and a label
// beside every point (flipped to the other side where it would leave the plot).

import type { ClientHelpers, MemoryChartSpec } from './chart-specs.js';

/** `width`: the canvas width when drawn first; a phone-narrow chart names its points in a legend, a wider one beside them. */
export function memoryChartConfig(s: MemoryChartSpec, h: ClientHelpers, width: number): unknown {
  const legend = h.narrow({ width });
  const front = s.points.filter((p) => p.pareto).sort((a, b) => a.bytes - b.bytes || a.ns - b.ns);
  // A step line: along the front, memory rises only where time falls.
  const step: { x: number; y: number }[] = [];
  front.forEach((p, i) => {
    if (i > 0) step.push({ x: p.pos, y: front[i - 1].ns });
    step.push({ x: p.pos, y: p.ns });
  });
  const band = {
    id: 'zero-band',
    beforeDatasetsDraw(chart: any) {
      const { ctx, chartArea, scales } = chart;
      const l = scales.x.getPixelForValue(s.band.centre - s.band.half);
      const r = scales.x.getPixelForValue(s.band.centre + s.band.half);
      ctx.save();
      ctx.fillStyle = '#eef1f5';
      ctx.fillRect(l, chartArea.top, r - l, chartArea.bottom - chartArea.top);
      ctx.strokeStyle = '#9aa5b1';
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(r, chartArea.top);
      ctx.lineTo(r, chartArea.bottom);
      ctx.stroke();
      ctx.restore();
    },
    afterDatasetsDraw(chart: any) {
      const { ctx, chartArea } = chart;
      if (legend) return; // the legend names the points
      ctx.save();
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillStyle = '#222';
      ctx.lineJoin = 'round';
      ctx.textBaseline = 'middle';
      chart.data.datasets.forEach((d: { role?: string; point?: number }, i: number) => {
        if (d.role !== 'point') return;
        const p = s.points[d.point as number];
        const el = chart.getDatasetMeta(i).data[0];
        if (!el) return;
        // Right of the marker unless it would leave the plot; a white halo keeps it legible over lines.
        const w = ctx.measureText(p.label).width;
        const left = el.x + 10 + w > chartArea.right && el.x - 10 - w >= chartArea.left;
        const x = el.x + (left ? -10 : 10);
        const y = el.y + p.labelDy;
        ctx.textAlign = left ? 'right' : 'left';
        ctx.lineWidth = 3;
        ctx.strokeStyle = 'rgba(255,255,255,0.9)';
        ctx.strokeText(p.label, x, y);
        ctx.fillText(p.label, x, y);
      });
      ctx.restore();
    },
  };
  return {
    type: 'scatter',
    plugins: [band],
    data: {
      datasets: [
        { type: 'line', label: 'Pareto front', role: 'front', data: step, borderColor: '#555', borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, fill: false },
        ...s.points.map((p, i) => ({
          label: p.label,
          role: 'point',
          point: i,
          data: [{ x: p.pos, y: p.ns }],
          backgroundColor: p.color,
          borderColor: '#111',
          borderWidth: p.pareto ? 2 : 1,
          pointRadius: 6,
          pointHoverRadius: 8,
        })),
      ],
    },
    options: {
      layout: { padding: { right: 8 } },
      scales: {
        x: {
          type: 'linear',
          min: s.xMin,
          max: s.xMax,
          title: { display: true, text: 'resident host memory of the backing (log; 0 B in its own band)' },
          // Phone-narrow: 0 B and every other tick of the log part, so their labels do not collide.
          afterBuildTicks: (axis: { chart: { width: number }; ticks: { value: number }[] }) => {
            const few = h.narrow(axis.chart);
            axis.ticks = s.ticks.filter((_, i) => !few || i === 0 || i % 2 === 1).map((t) => ({ value: t.pos }));
          },
          ticks: { autoSkip: false, maxRotation: 0, callback: (v: number | string) => h.compactText(s.ticks.find((t) => t.pos === Number(v))?.label ?? '') },
          grid: { color: '#e3e6ea' },
        },
        y: {
          type: 'logarithmic',
          min: s.yMin,
          max: s.yMax,
          title: { display: true, text: 'time per hole access (cold, median)' },
          ticks: { callback: h.logTick('ns'), autoSkip: false },
          grid: { color: '#e3e6ea' },
        },
      },
      plugins: {
        legend: {
          display: legend,
          position: 'bottom',
          labels: { usePointStyle: true, boxWidth: 8, filter: (item: { datasetIndex: number }) => item.datasetIndex > 0 },
        },
        tooltip: {
          filter: (item: { dataset: { role?: string } }) => item.dataset.role === 'point',
          callbacks: {
            label: (ctx: { dataset: { point: number } }) => {
              const p = s.points[ctx.dataset.point];
              return `${p.label}: ${h.fmt('bytes', p.bytes)}, ${h.fmt('ns', p.ns)} per access${p.pareto ? ' (on the Pareto front)' : ''}`;
            },
          },
        },
      },
    },
  };
}
