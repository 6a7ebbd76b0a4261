// What a results file's times mean. On hardware (also nested KVM with -accel kvm) the guest TSC
// follows real time. Under QEMU TCG (`bench lab` without a nested-capable host KVM) every
// instruction of guest, KVM and VMM is emulated: counts stay exact, but times are not hardware
// time (DESIGN.md §2b), so they must never sit beside hardware times unmarked. With
// `-icount shift=0,sleep=off` (the lab's default under TCG) QEMU's clock counts executed
// instructions, 1 ns per instruction: the lab's "times" are then exact path lengths, repeatable
// whatever the outer host is doing; without it (older lab runs) they follow TCG's wall clock.

import type { HostFingerprint, LabInfo } from './schema.js';

/**
 * hardware: times are real. instructions: the lab ran under TCG with icount, 1 ns = 1 executed
 * instruction. emulated: the lab ran under TCG on its wall clock (files from before icount).
 */
export type TimingBasis = 'hardware' | 'emulated' | 'instructions';
export const TIMING_BASES: readonly TimingBasis[] = ['hardware', 'emulated', 'instructions'];

/** The sentence every TCG wall-clock figure carries (once per table or section). */
export const EMULATED_NOTE = 'emulated (TCG): counts are exact, times are relative path lengths, not hardware time';
/** The sentence every icount figure carries. */
export const INSTRUCTIONS_NOTE =
  'instructions (TCG icount, 1 ns = 1 instruction): exact path lengths, not hardware time; VM entries and exits count as one instruction each, so compare exits by the exit counters';

/** The basis of a lab (or no lab): icount TCG is instructions, TCG without it emulated. */
export function timingFromLab(lab: LabInfo | undefined): TimingBasis {
  if (lab?.accel !== 'tcg') return 'hardware';
  return lab.clock === 'icount' ? 'instructions' : 'emulated';
}

/** The timing basis of a host fingerprint; files written before it was recorded are hardware. */
export function timingBasis(host: Partial<Pick<HostFingerprint, 'timing' | 'lab'>> | undefined): TimingBasis {
  if (host?.timing && TIMING_BASES.includes(host.timing)) return host.timing;
  return timingFromLab(host?.lab);
}

/** "hardware", "emulated (TCG)" or "instructions (TCG icount)", for headers and one-line summaries. */
export function timingLabel(t: TimingBasis): string {
  return t === 'emulated' ? 'emulated (TCG)' : t === 'instructions' ? 'instructions (TCG icount)' : 'hardware';
}

/** The note a figure of this basis carries, or '' on hardware. */
export function timingNote(t: TimingBasis): string {
  return t === 'emulated' ? EMULATED_NOTE : t === 'instructions' ? INSTRUCTIONS_NOTE : '';
}

/** True for the lab's TCG bases, whose times are not hardware time. */
export const isLabTiming = (t: TimingBasis) => t !== 'hardware';
