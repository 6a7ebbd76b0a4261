// Reading a finished guest's results from its memory: per vCPU, the phase marks (TSC, access
// and hole counters) written at each phase boundary and the discovery records of the functions
// it found; combined into the sample's scans and its discovery check.
import { MARKS, MARKS_STRIDE, RECORDS, RECORDS_STRIDE, RECORD_SIZE } from '../guest/guest-layout.js';
import { RECORD_END_SLOT } from '../guest/guest-program.js';
import { enumerate } from '../devices/pci-model.js';
import type { ScanSample } from '../results/schema.js';
import type { Workload } from '../../workloads/types.js';
import { marksOf } from './marks.js';

/** A guest that stopped without signalling done. */
export class GuestFault extends Error {}

/** Every vCPU's scans (combined) and whether the guest found exactly the topology. */
export function readGuest(ram: Uint8Array, vcpus: number, w: Workload, tscKhz: number): { scans: ScanSample[]; discoveryOk: boolean } {
  const dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const ids = Array.from({ length: vcpus }, (_, i) => i);
  const scans = combineScans(ids.map((i) => readScans(dv, i, w, tscKhz)), w);
  const discovered = ids.flatMap((i) => readRecords(dv, i));
  return { scans, discoveryOk: sameDiscovery(discovered, w) };
}

/**
 * One ScanSample per pass from every vCPU's own marks. With several vCPUs running at once:
 *  - a phase's ns is the longest any vCPU spent in it (the phases start together after the
 *    barrier, so this is the phase's wall time; no cross-vCPU TSC comparison is needed);
 *  - its accesses and hole accesses are summed over the vCPUs;
 *  - the pass's ns is the sum of those phase times except the workload's untimedPhases (e.g. a
 *    start barrier, whose length is mostly how late the host scheduled the last vCPU thread, not
 *    guest work): the critical path of the guest's work. Untimed phases stay in `phases`;
 *  - nsPerAccess = the hole phase's ns / all vCPUs' hole accesses in it: wall time per hole
 *    access, an aggregate throughput (n vCPUs scaling perfectly give 1/n of one vCPU's figure).
 * With one vCPU this is the vCPU's own ScanSample.
 */
export function combineScans(perVcpu: ScanSample[][], w: Pick<Workload, 'holePhase' | 'untimedPhases'>): ScanSample[] {
  if (perVcpu.length === 1) return perVcpu[0];
  return perVcpu[0].map((first, p) => {
    const passes = perVcpu.map((scans) => scans[p]);
    const phases = first.phases.map((ph, i) => ({
      name: ph.name,
      ns: Math.max(...passes.map((s) => s.phases[i].ns)),
      accesses: passes.reduce((n, s) => n + s.phases[i].accesses, 0),
      holeAccesses: passes.reduce((n, s) => n + s.phases[i].holeAccesses, 0),
    }));
    const hole = phases.find((ph) => ph.name === w.holePhase);
    const untimed = w.untimedPhases ?? [];
    const ns = phases.reduce((t, ph) => t + (untimed.includes(ph.name) ? 0 : ph.ns), 0);
    return { pass: p, ns, phases, nsPerAccess: hole && hole.holeAccesses > 0 ? hole.ns / hole.holeAccesses : null };
  });
}

/** Phase marks → one ScanSample per pass (each pass has phases.length + 1 marks). */
function readScans(dv: DataView, vcpu: number, w: Workload, tscKhz: number): ScanSample[] {
  const block = MARKS + vcpu * MARKS_STRIDE;
  const marks = marksOf(new Uint8Array(dv.buffer, dv.byteOffset + block, MARKS_STRIDE), block);
  if (!marks) throw new GuestFault(`guest left its phase-mark pointer outside its marks block (${dv.getBigUint64(block, true)})`);
  const n = marks.length;
  const per = w.phases.length + 1;
  if (n !== per * w.passes) throw new GuestFault(`guest left ${n} phase marks, expected ${per * w.passes}`);
  const toNs = (ticks: bigint) => (Number(ticks) * 1e6) / tscKhz;
  const scans: ScanSample[] = [];
  for (let p = 0; p < w.passes; p++) {
    const m = marks.slice(p * per, (p + 1) * per);
    const phases = w.phases.map((name, i) => ({
      name,
      ns: toNs(m[i + 1].tsc - m[i].tsc),
      accesses: m[i + 1].accesses - m[i].accesses,
      holeAccesses: m[i + 1].holes - m[i].holes,
    }));
    const hole = phases.find((ph) => ph.name === w.holePhase);
    const untimedNs = phases.reduce((t, ph) => t + (w.untimedPhases?.includes(ph.name) ? ph.ns : 0), 0);
    scans.push({
      pass: p,
      ns: toNs(m[per - 1].tsc - m[0].tsc) - untimedNs,
      phases,
      nsPerAccess: hole && hole.holeAccesses > 0 ? hole.ns / hole.holeAccesses : null,
    });
  }
  return scans;
}

interface Discovered {
  bus: number;
  devfn: number;
  id: number;
}

function readRecords(dv: DataView, vcpu: number): Discovered[] {
  const start = RECORDS + vcpu * RECORDS_STRIDE;
  const end = Number(dv.getBigUint64(MARKS + vcpu * MARKS_STRIDE + RECORD_END_SLOT, true));
  const out: Discovered[] = [];
  for (let at = start; at < end; at += RECORD_SIZE) {
    const bdf = dv.getUint32(at, true);
    out.push({ bus: bdf >> 8, devfn: bdf & 0xff, id: dv.getUint32(at + 4, true) });
  }
  return out;
}

/** The guest found exactly the topology's functions (with Linux's bus numbers), once per pass. */
function sameDiscovery(found: Discovered[], w: Workload): boolean {
  const all = enumerate(w.topology);
  const key = (bus: number, devfn: number, id: number) => `${bus}:${devfn}:${id >>> 0}`;
  const want = all.map((f) => key(f.bus, f.devfn, (f.spec.vendor | (f.spec.device << 16)) >>> 0)).sort();
  const got = found.map((f) => key(f.bus, f.devfn, f.id)).sort();
  const expected = Array.from({ length: w.passes }, () => want).flat().sort();
  return got.length === expected.length && got.every((k, i) => k === expected[i]);
}

