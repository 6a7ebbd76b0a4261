// What the `kernel` variants of memslot-flag and mmio-bus-device need from a patched KVM
// (kernel/*.patch, built by `bench kvm build`): a private capability, and the reason a stock
// kernel gives when it is missing.
import { caps } from '../runner/vmm/kvm-abi.js';
import type { HostInfo, ProbeResult } from './types.js';

/** The variant that runs the mechanism itself on a patched KVM; '' stays the IOAPIC proxy. */
export const KERNEL_VARIANT = 'kernel';

/** measured on a kernel that reports `cap`, else unsupported with the capability and the fix. */
export function patchedProbe(host: HostInfo, access: string, cap: number, what: string): ProbeResult {
  if (access !== 'ecam') return { status: 'unsupported', reason: 'serves the ECAM window; conf1 accesses are port I/O and never reach it' };
  if (!host.kvm.checkExtension(cap))
    return {
      status: 'unsupported',
      reason: `capability 0x${cap.toString(16)} (${what}) is 0: a stock KVM; build and load the patched modules (bench kvm build, docs/patched-kvm.md; bench lab --kvm-modules DIR)`,
    };
  return { status: 'measured', reason: `patched KVM: ${what}, capability 0x${cap.toString(16)}` };
}

export const PCI_HOLE_CAP = caps.KVM_CAP_PCI_HOLE_MEM;
export const MMIO_FILL_CAP = caps.KVM_CAP_MMIO_FILL;
export const PCI_HOLE_MMIO_CAP = caps.KVM_CAP_PCI_HOLE_MMIO;
