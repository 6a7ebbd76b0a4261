import type { Kvm } from '../vmm/kvm.js';

/** The guest TSC rate (KVM_GET_TSC_KHZ is a vCPU ioctl): asked of a throwaway VM's vCPU. */
export function guestTscKhz(kvm: Kvm): number {
  const vm = kvm.createVm();
  try {
    return vm.createVcpu(0).tscKhz();
  } finally {
    vm.close();
  }
}
