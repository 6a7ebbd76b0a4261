// The charts' specs: what reports/charts/chart-data.ts derives from a results file and the page
// embeds as JSON, and what the page's script (client.ts) hands the chart configurations
// (client-dots.ts, client-memory.ts). Types only, shared by both sides.

/** The unit of a value axis; the page formats ticks and tooltips with it. */
/** rate: a count per hole access. */
export type Unit = 'ns' | 'ms' | 'count' | 'bytes' | 'ratio' | 'rate';

/** One series of a horizontal bar chart, one value per label (null = no bar). */
export interface BarDataset {
  label: string;
  /** One colour for the series, or one per bar. */
  color: string | string[];
  values: (number | null)[];
  /** Error-bar ends (25th and 75th percentiles), same length as values, when the chart has error bars. */
  lo?: (number | null)[];
  hi?: (number | null)[];
}

/** A horizontal bar chart: one bar per row label, one bar colour per dataset. */
export interface BarChartSpec {
  kind: 'hbar';
  id: string;
  title: string;
  caption: string;
  unit: Unit;
  /** Title of the value axis. */
  axis: string;
  log: boolean;
  errorBars: boolean;
  labels: string[];
  datasets: BarDataset[];
  /** CSS pixel height that fits the bars. */
  height: number;
}

/** One row of one series: its median and quartiles, and the per-VM values they come from. */
export interface DotPoint {
  median: number;
  lo: number;
  hi: number;
  samples: number[];
}

/** A series (cold scan, warm scan, setup …): one point per label, null where the row has none. */
export interface DotSeries {
  label: string;
  /** One colour per label (the row's strategy colour), or one for the whole series. */
  color: string | string[];
  points: (DotPoint | null)[];
}

export interface DotChartSpec {
  kind: 'dots';
  id: string;
  title: string;
  caption: string;
  unit: Unit;
  axis: string;
  labels: string[];
  series: DotSeries[];
  /** Log-axis range: the smallest and largest value drawn, widened by AXIS_MARGIN. */
  min: number;
  max: number;
  height: number;
}

export interface MemoryPoint {
  label: string;
  color: string;
  bytes: number;
  ns: number;
  /** Where it is drawn on x: log2(bytes), or the band's centre for 0 B, plus dx. */
  pos: number;
  /** Sideways shift from its true place, to uncover a point it would hide under (0 for most). */
  dx: number;
  /** Vertical shift of its label, px (down is positive): labels of a spread cluster are stacked, the slower above. */
  labelDy: number;
  /** On the Pareto front: no other point uses at most as much memory and is faster. */
  pareto: boolean;
}

export interface MemoryChartSpec {
  kind: 'memory';
  id: string;
  title: string;
  caption: string;
  points: MemoryPoint[];
  /** The 0 B band: its centre and half-width on x. */
  band: { centre: number; half: number };
  /** x range and the labelled ticks (positions and text). */
  xMin: number;
  xMax: number;
  ticks: { pos: number; label: string }[];
  /** y range (ns, log), from the data. */
  yMin: number;
  yMax: number;
  height: number;
}

export type ChartSpec = BarChartSpec | DotChartSpec | MemoryChartSpec;

/** What renderCharts hands the chart configurations inlined beside it (client-dots.ts, client-memory.ts). */
export interface ClientHelpers {
  fmt: (unit: Unit, v: number) => string;
  logTick: (unit: Unit) => (this: unknown, value: number | string, i: number, ticks: { value: number }[]) => string;
  wrap: (s: string, width?: number) => string[];
  /** Whether a chart is phone-narrow (fewer tick labels, shorter label lines, a legend instead of labels in the plot). */
  narrow: (chart: { width: number } | undefined) => boolean;
  compactText: (s: string) => string;
}
