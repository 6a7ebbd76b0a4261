// Number formatting shared by the HTML report (server side) and its in-page chart script.
// The functions use no imports and refer only to each other, because reports/html/page.ts also
// inlines their source text into the page with Function#toString.

/** A duration in nanoseconds with a readable unit: "76 ns", "2.41 µs", "375 ms", "1.20 s"; "—" when not a finite number. */
export function fmtNs(ns: number | null | undefined): string {
  if (typeof ns !== 'number' || !Number.isFinite(ns)) return '—';
  const a = Math.abs(ns);
  const three = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
  if (a < 1e3) return `${three(ns)} ns`;
  if (a < 1e6) return `${three(ns / 1e3)} µs`;
  if (a < 1e9) return `${three(ns / 1e6)} ms`;
  return `${three(ns / 1e9)} s`;
}

/** A duration in milliseconds, formatted like fmtNs. */
export function fmtMs(ms: number | null | undefined): string {
  return typeof ms === 'number' ? fmtNs(ms * 1e6) : fmtNs(ms);
}

/** Bytes in binary units: "0 B", "4 KiB", "2 MiB", "256 MiB"; "—" when not a finite number. */
export function fmtBytes(b: number | null | undefined): string {
  if (typeof b !== 'number' || !Number.isFinite(b)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = Number.isInteger(v) ? v.toFixed(0) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${s} ${units[i]}`;
}

/** A count with thousands separators ("8 160"); fractional medians keep one decimal. "—" when not finite. */
export function fmtCount(n: number | null | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const s = Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1);
  const [int, frac] = s.split('.');
  const neg = int.startsWith('-');
  const digits = neg ? int.slice(1) : int;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
  return (neg ? '-' : '') + grouped + (frac ? `.${frac}` : '');
}

/** Drops all-zero decimals from formatted numbers: "1.00 ms" → "1 ms", "10.0 µs" → "10 µs", "6.00×" → "6×"; "2.50 µs" stays. */
export function compact(s: string): string {
  return s.replace(/(\d)\.0+(?!\d)/g, '$1');
}

/** A ratio such as a speed-up: "10.4×", "330×", "0.95×"; "—" when not finite. */
export function fmtRatio(r: number | null | undefined): string {
  if (typeof r !== 'number' || !Number.isFinite(r)) return '—';
  const s = r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
  return `${s}×`;
}
