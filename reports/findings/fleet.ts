// "What it costs a fleet": the measured rows at the scale a cloud operator decides at. Given
// boots per day (across the fleet) and VMs per host, each strategy's per-boot CPU time and
// per-VM host memory become CPU-seconds per day and host memory per host. Pure; every figure
// comes from the file, the two fleet numbers from the user (`bench report --fleet B,V`).

import type { ResultRow, ResultsFile } from '../../runner/results/schema.js';
import { groupTitle, hasData, med, preferredGroups, rowLabel, scanNs, BASELINE_STRATEGY } from '../../runner/results/row-metrics.js';
import type { RowGroup } from '../../runner/results/row-metrics.js';

/** The fleet a report is scaled to. */
export interface FleetParams {
  /** VM boots per day across the fleet (each one cold scan of the hole plus the strategy's per-VM setup). */
  bootsPerDay: number;
  /** VMs running at once on one host. */
  vmsPerHost: number;
}

/** What the section shows without --fleet: an example, said to be one. */
export const DEFAULT_FLEET: FleetParams = { bootsPerDay: 1_000_000, vmsPerHost: 50 };

/** The formulas, as the report prints them. */
export const FLEET_FORMULA = [
  'CPU-seconds per day = boots per day × (cold scan ns + setup ns per VM) ÷ 10⁹; setup is left out when the backing is shared (made once per host, not per boot)',
  'host memory per host = VMs per host × host memory per VM; once per host when the backing is shared',
];

/**
 * Parses `--fleet BOOTS_PER_DAY,VMS_PER_HOST`: two positive whole numbers, comma-separated.
 * Throws an Error with a one-line message naming what is wrong otherwise.
 */
export function parseFleet(text: string): FleetParams {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length !== 2) throw new Error(`--fleet takes BOOTS_PER_DAY,VMS_PER_HOST (two numbers, comma-separated), got ${JSON.stringify(text)}`);
  const names = ['BOOTS_PER_DAY', 'VMS_PER_HOST'];
  const [boots, vms] = parts.map((p, i) => {
    const v = /^[0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?$/i.test(p) ? Number(p) : NaN;
    if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`--fleet ${names[i]} must be a positive whole number, got ${JSON.stringify(p)}`);
    return v;
  });
  return { bootsPerDay: boots, vmsPerHost: vms };
}

/** One strategy at fleet scale; null = the row lacks the figure. */
export interface FleetRow {
  row: ResultRow;
  label: string;
  /** Per boot: cold whole scan + per-VM setup (0 when shared), ns. */
  perBootNs: number | null;
  cpuSecondsPerDay: number | null;
  /** CPU-seconds per day saved against userspace-exit (negative: costs more). */
  savedVsBaseline: number | null;
  memoryPerVm: number | null;
  memoryPerHost: number | null;
  backingShared: boolean;
}

/** Per-boot CPU time of a row: cold scan plus setup (unless shared), ns; null without a scan figure. */
export function perBootNs(row: ResultRow): number | null {
  const scan = scanNs(row);
  if (scan === null) return null;
  const setupMs = row.backingShared ? 0 : med(row.stats?.setupMs);
  return setupMs === null ? null : scan + setupMs * 1e6;
}

/** The fleet table of one group, in the group's row order; rows without data are left out. */
export function fleetRows(g: RowGroup, p: FleetParams): FleetRow[] {
  const rows = g.rows.filter(hasData);
  const cpu = (r: ResultRow): number | null => {
    const ns = perBootNs(r);
    return ns === null ? null : (p.bootsPerDay * ns) / 1e9;
  };
  const base = rows.find((r) => r.strategy === BASELINE_STRATEGY);
  const baseCpu = base ? cpu(base) : null;
  return rows.map((r) => {
    const c = cpu(r);
    const mem = Number.isFinite(r.memoryBytes) ? r.memoryBytes : null;
    return {
      row: r,
      label: rowLabel(r),
      perBootNs: perBootNs(r),
      cpuSecondsPerDay: c,
      savedVsBaseline: c !== null && baseCpu !== null ? baseCpu - c : null,
      memoryPerVm: mem,
      memoryPerHost: mem === null ? null : r.backingShared ? mem : mem * p.vmsPerHost,
      backingShared: r.backingShared === true,
    };
  });
}

/** The group the section uses (headline preference: linux-q35-boot over ECAM first) with its rows. */
export function fleetTable(file: ResultsFile, p: FleetParams): { group: RowGroup; title: string; rows: FleetRow[] } | null {
  for (const g of preferredGroups(file)) {
    const rows = fleetRows(g, p);
    if (rows.some((r) => r.cpuSecondsPerDay !== null)) return { group: g, title: groupTitle(g), rows };
  }
  return null;
}
