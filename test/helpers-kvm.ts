// Shared by the real-KVM tests: whether /dev/kvm can be used here (else a skip message), and a
// sample runner that also hands back what the guest discovered (its records in guest RAM).
import { accessSync, constants, existsSync } from 'node:fs';
import { Kvm } from '../runner/vmm/kvm.js';
import { view } from '../runner/vmm/libc.js';
import { MARKS, RAM_SIZE, RECORDS, RECORD_SIZE } from '../runner/guest/guest-layout.js';
import { RECORD_END_SLOT } from '../runner/guest/guest-program.js';
import { runSample, type SampleRequest } from '../runner/measure/sample.js';
import type { Sample } from '../runner/results/schema.js';
import type { Strategy } from '../strategies/types.js';
import type { ExpectedCounts, GuestKind, Workload } from '../workloads/types.js';
import type { Access } from '../runner/results/schema.js';

/** The device the tests open (the same default as Kvm.open()). */
export const KVM_DEVICE = process.env.PCIHOLE_KVM_DEVICE ?? '/dev/kvm';

/** Why real-KVM tests cannot run here, or false when they can. Pass it as `skip` to test(). */
export function kvmSkipReason(): string | false {
  if (!existsSync(KVM_DEVICE)) return `${KVM_DEVICE} is missing: real-KVM tests need KVM (load kvm_intel/kvm_amd or enable nested virtualization)`;
  try {
    accessSync(KVM_DEVICE, constants.R_OK | constants.W_OK);
  } catch {
    return `no read/write access to ${KVM_DEVICE}: add the user to the kvm group (sudo usermod -aG kvm $USER) or run as root`;
  }
  return false;
}

/** Opens KVM once per test file; null when kvmSkipReason() says it cannot. */
export function openKvm(): { kvm: Kvm; cpuid: Buffer } | null {
  if (kvmSkipReason()) return null;
  const kvm = Kvm.open(KVM_DEVICE);
  return { kvm, cpuid: kvm.supportedCpuid() };
}

/** One discovery record the guest wrote: bus/devfn, vendor|device<<16, header type. */
export interface GuestRecord {
  bus: number;
  devfn: number;
  id: number;
  headerType: number;
}

/**
 * runSample() plus the guest's discovery records. The strategy is wrapped so that its backing's
 * release(), which runSample calls after closing the VM but before unmapping guest RAM, first
 * copies the records out of RAM (slot 0). Nothing else about the strategy changes.
 */
export function runCapturing(req: SampleRequest): { sample: Sample; records: GuestRecord[] } {
  let ram: Uint8Array | null = null;
  const s = req.strategy;
  const wrapped: Strategy = {
    ...s,
    setup(ctx) {
      const backing = s.setup(ctx);
      const slot0 = ctx.vm.slots.find((x) => x.gpa === 0);
      if (!slot0) throw new Error('test helper: no RAM slot at GPA 0');
      return {
        ...backing,
        residentBytes: () => backing.residentBytes(),
        release() {
          // runSample releases once, closing the VM first and unmapping guest RAM after this.
          ram = new Uint8Array(view(slot0.hva, RAM_SIZE)).slice();
          backing.release();
        },
      };
    },
  };
  const sample = runSample({ ...req, strategy: wrapped });
  if (!ram) throw new Error('test helper: guest RAM was not captured');
  return { sample, records: readRecords(ram) };
}

function readRecords(ram: Uint8Array): GuestRecord[] {
  const dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const end = Number(dv.getBigUint64(MARKS + RECORD_END_SLOT, true));
  const out: GuestRecord[] = [];
  for (let at = RECORDS; at < end; at += RECORD_SIZE) {
    const bdf = dv.getUint32(at, true);
    out.push({ bus: bdf >> 8, devfn: bdf & 0xff, id: dv.getUint32(at + 4, true), headerType: dv.getUint32(at + 8, true) });
  }
  return out;
}

/** Records as sorted strings, for set comparison. */
export function recordKeys(rs: GuestRecord[]): string[] {
  return rs.map((r) => `${r.bus}:${r.devfn.toString(16)}:${(r.id >>> 0).toString(16)}:${r.headerType.toString(16)}`).sort();
}

/** workload.expected() for an access method. Newer workloads take the access as a third argument
 *  (counts other than holes may depend on it); older ones ignore it. */
export function expectedFor(w: Workload, lastBus: number, guest: GuestKind, access: Access): { accesses: number; holes: number; writes: number; byPhase: ExpectedCounts } {
  const exp = (w.expected as (l: number, g: GuestKind, a?: Access) => ExpectedCounts).call(w, lastBus, guest, access);
  const sum = (o: Record<string, number> | undefined) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  return { accesses: sum(exp.accesses), holes: sum(exp.holes), writes: sum((exp as { writes?: Record<string, number> }).writes), byPhase: exp };
}
