// The "koffi floor" column of `bench reference`: the least a TypeScript VMM can do per exit —
// KVM_RUN through koffi, the exit reason read from kvm_run, all-ones for every read — with no
// device model, no dispatch and no counters. harness − floor is the harness's own JS per exit;
// floor − C loop is what calling KVM_RUN from JavaScript costs (V8 → N-API → koffi → libc).
import { ioctlInt } from '../vmm/libc.js';
import { exitReasons as X, ioctls, run as R } from '../vmm/kvm-abi.js';
import { guestRam } from '../vmm/host-memory.js';
import type { Kvm } from '../vmm/kvm.js';
import { enterLongModeCpl3 } from '../guest/guest-image.js';
import { MARKS, MARKS_STRIDE, PORT_DONE, RAM_SIZE } from '../guest/guest-layout.js';
import { HostError } from '../shared/errors.js';
import { marksOf, type Mark } from './marks.js';

/** Runs the image in a fresh VM with the minimal loop; returns the phase marks and the TSC rate. */
export function runKoffiFloor(kvm: Kvm, cpuid: Buffer, image: Uint8Array): { marks: Mark[]; tscKhz: number } {
  const vm = kvm.createVm();
  const ram = guestRam(RAM_SIZE);
  try {
    vm.addMemory(0, RAM_SIZE, ram.ptr);
    ram.bytes.set(image);
    const vcpu = vm.createVcpu(0);
    enterLongModeCpl3(vcpu, cpuid, 0);
    const fd = vcpu.fd;
    const u32 = new Uint32Array(vcpu.runView.buffer);
    const u8 = new Uint8Array(vcpu.runView.buffer);
    for (;;) {
      if (ioctlInt(fd, ioctls.KVM_RUN, 0) < 0) throw new HostError('KVM_RUN failed in the koffi floor loop');
      const reason = u32[R.exit_reason >> 2];
      if (reason === X.KVM_EXIT_MMIO) {
        u32[R.mmio_data >> 2] = 0xffffffff;
        continue;
      }
      if (reason !== X.KVM_EXIT_IO) throw new HostError(`the koffi floor loop stopped on exit reason ${reason}`);
      if ((u8[R.io_port] | (u8[R.io_port + 1] << 8)) === PORT_DONE) break;
      u32[u32[R.io_data_offset >> 2] >> 2] = 0xffffffff;
    }
    const marks = marksOf(ram.bytes.subarray(MARKS, MARKS + MARKS_STRIDE), MARKS);
    if (!marks) throw new HostError('the guest corrupted its marks block in the koffi floor loop');
    return { marks, tscKhz: vcpu.tscKhz() };
  } finally {
    vm.close();
    ram.release();
  }
}
