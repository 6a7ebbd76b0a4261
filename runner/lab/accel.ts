// How the lab VM is accelerated: KVM on a host whose KVM offers nested virtualisation (the lab's
// own kvm_intel/kvm_amd then runs on virtual VMX/SVM at near-hardware speed), else QEMU's TCG
// emulator with `-cpu max`, whose SVM has nested paging (NPT), so the lab's kvm_amd still loads.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
  accel: Accel;
  /** One sentence: why this accelerator. */
  why: string;
}

/** Host facts the choice depends on; read from /dev/kvm and /sys/module by default. */
export interface AccelFacts {
  kvmUsable: boolean;
  /** kvm_intel / kvm_amd / kvm_pvm, whichever is loaded, or null. */
  backend: string | null;
  /** That module's `nested` parameter ('Y', 'N', '1', '0'), or null when it has none. */
  nested: string | null;
}

export function readAccelFacts(device = '/dev/kvm'): AccelFacts {
  let kvmUsable = false;
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
    kvmUsable = true;
  } catch {
    kvmUsable = false;
  }
  const backend = ['kvm_intel', 'kvm_amd', 'kvm_pvm'].find((m) => existsSync(`/sys/module/${m}`)) ?? null;
  let nested: string | null = null;
  try {
    if (backend) nested = readFileSync(`/sys/module/${backend}/parameters/nested`, 'utf8').trim();
  } catch {
    nested = null;
  }
  return { kvmUsable, backend, nested };
}

const nestedOn = (v: string | null) => v === 'Y' || v === '1';

/** The accelerator for `--accel auto|kvm|tcg`, or an error message when `kvm` cannot work here. */
export function chooseAccel(asked: 'auto' | Accel, f: AccelFacts): AccelChoice | { error: string } {
  const kvmOk = f.kvmUsable && (f.backend === 'kvm_intel' || f.backend === 'kvm_amd') && nestedOn(f.nested);
  const whyNot = !f.kvmUsable
    ? 'this host has no usable /dev/kvm'
    : f.backend === 'kvm_intel' || f.backend === 'kvm_amd'
      ? `${f.backend}.nested is ${f.nested ?? 'absent'} (enable it: modprobe ${f.backend} nested=1)`
      : `the host's KVM backend (${f.backend ?? 'unknown'}) offers no nested virtualisation`;
  if (asked === 'tcg') return { accel: 'tcg', why: 'asked for --accel tcg' };
  if (asked === 'kvm') return kvmOk ? { accel: 'kvm', why: `asked for --accel kvm; ${f.backend}.nested=${f.nested}` } : { error: `--accel kvm: ${whyNot}; use --accel tcg` };
  return kvmOk
    ? { accel: 'kvm', why: `${f.backend} on this host offers nested virtualisation (nested=${f.nested})` }
    : { accel: 'tcg', why: `${whyNot}: emulating the lab VM with TCG` };
}

/**
 * QEMU's accelerator and CPU options for a choice. Under TCG, `-icount shift=0,sleep=off` makes
 * QEMU's clock (and so the guest TSC) count executed instructions, 1 ns each, instead of following
 * the emulation's wall time: lab figures become exact path lengths, repeatable on a loaded host
 * (DESIGN.md §2c); sleep=off lets an idle guest skip ahead to its next timer at once.
 */
export function accelArgs(accel: Accel, clock: LabClock = 'icount'): string[] {
  if (accel === 'kvm') return ['-accel', 'kvm', '-cpu', 'host'];
  return ['-accel', 'tcg', ...(clock === 'icount' ? ['-icount', 'shift=0,sleep=off'] : []), '-cpu', 'max'];
}

/** What QEMU's clock follows under TCG: executed instructions (default) or the emulation's wall time. */
export type LabClock = 'icount' | 'wall';

/** What QEMU's clock counts under this accelerator (recorded in the fingerprint's lab.clock). */
export const labClock = (accel: Accel, clock: LabClock = 'icount'): LabClock | undefined => (accel === 'tcg' ? clock : undefined);
