// The real kernel's exit loop warmed up in a fresh sample worker before its first boot: fresh VMs
// of the suite's scan program (linux-q35-boot on the row's access method) served by the same
// KernelLoop code, so that V8 has optimised its config-access path. A real boot reaches its fixup
// after only ~500 config accesses (against ~20 000 UART exits), and the icount lab measured the
// fixup's userspace exits at 20.6 k instructions each in a fresh worker, 15.3 k after one discarded
// boot and 11.3 k after two, where the scan program's warm loop takes ~8 k.
import type { Kvm } from '../vmm/kvm.js';
import { guestRam } from '../vmm/host-memory.js';
import { writeImage, enterLongModeCpl3 } from '../guest/guest-image.js';
import { PORT_DONE, RAM_SIZE } from '../guest/guest-layout.js';
import { KernelLoop } from '../devices/kernel-loop.js';
import { PciModel } from '../devices/pci-model.js';
import type { Access } from '../results/schema.js';
import { linuxQ35Boot } from '../../workloads/linux-q35-boot.js';

/** VMs of the scan program run through KernelLoop (each ~8 200 config exits). */
export const KERNEL_LOOP_WARMUP_VMS = 6;

/** Runs `vms` scan-program VMs through KernelLoop; throws when one does not signal done. */
export function warmKernelLoop(kvm: Kvm, cpuid: Buffer, access: Access, vms = KERNEL_LOOP_WARMUP_VMS): void {
  const w = linuxQ35Boot;
  for (let i = 0; i < vms; i++) {
    const vm = kvm.createVm();
    let ram: ReturnType<typeof guestRam> | null = null;
    try {
      ram = guestRam(RAM_SIZE);
      vm.addMemory(0, RAM_SIZE, ram.ptr);
      writeImage(ram.bytes, w.program(access, 'linux'), { configBase: w.window.base, lastBus: w.window.buses - 1, vcpus: 1, passes: 1 });
      const vcpu = vm.createVcpu(0);
      enterLongModeCpl3(vcpu, cpuid, 0);
      const loop = new KernelLoop({
        pci: new PciModel(w.topology),
        ecam: access === 'ecam' ? { base: w.window.base, size: w.window.buses << 20 } : null,
        endMarker: 'never printed: the scan program has no console',
        logCapacity: 1 << 14,
        readExits: null,
        exitsAt: [],
        donePort: PORT_DONE,
      });
      const stop = loop.run(vcpu);
      if (stop.kind !== 'end') throw new Error(`warming up the kernel exit loop: the scan program stopped with ${stop.kind}`);
    } finally {
      try {
        vm.close(); // before the memory its slot points at is unmapped
      } finally {
        ram?.release();
      }
    }
  }
}
