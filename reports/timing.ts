// What a results file's times mean. On hardware (also nested KVM with -accel kvm) the guest TSC
// follows real time. Under QEMU TCG (`bench lab` without a nested-capable host KVM) every
// instruction of guest, KVM and VMM is emulated: counts stay exact, but times are relative path
// lengths (DESIGN.md §2b), so they must never sit beside hardware times unmarked.

import type { HostFingerprint, LabInfo } from './schema.js';

/** hardware: times are real. emulated: the lab ran under TCG, times are relative path lengths. */
export type TimingBasis = 'hardware' | 'emulated';

/** The sentence every emulated figure carries (once per table or section). */
export const EMULATED_NOTE = 'emulated (TCG): counts are exact, times are relative path lengths, not hardware time';

/** emulated iff the run happened in a lab VM under TCG. */
export function timingFromLab(lab: LabInfo | undefined): TimingBasis {
  return lab?.accel === 'tcg' ? 'emulated' : 'hardware';
}

/** The timing basis of a host fingerprint; files written before it was recorded are hardware. */
export function timingBasis(host: Partial<Pick<HostFingerprint, 'timing' | 'lab'>> | undefined): TimingBasis {
  if (host?.timing === 'emulated' || host?.timing === 'hardware') return host.timing;
  return timingFromLab(host?.lab);
}

/** "hardware" or "emulated (TCG)", for headers and one-line summaries. */
export function timingLabel(t: TimingBasis): string {
  return t === 'emulated' ? 'emulated (TCG)' : 'hardware';
}
