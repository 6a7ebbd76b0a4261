// The registers a guest-fault report prints, and when they are not the fault's.
// On AMD SVM, KVM answers a shutdown intercept (a triple fault) by clearing the VMCB and putting
// the vCPU through INIT before it returns KVM_EXIT_SHUTDOWN (arch/x86/kvm/svm/svm.c,
// shutdown_interception → kvm_vcpu_reset(vcpu, true)), so KVM_GET_REGS/KVM_GET_SREGS then give
// the INIT state — rip 0xfff0, cs 0xf000, paging and protection off, CPL 0 — not the registers
// of the fault. VMX (and kvm_pvm) leave the guest's registers as they were.

/** The registers a report shows. */
export interface FaultRegs {
  rip: bigint;
  rsp: bigint;
  rflags: bigint;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  csSelector: number;
  csDpl: number;
}

const CR0_PE = 1n;

/** Whether the registers are the x86 INIT/reset state (real mode at f000:fff0). */
export function isInitState(r: FaultRegs): boolean {
  return r.rip === 0xfff0n && r.csSelector === 0xf000 && (r.cr0 & CR0_PE) === 0n;
}

/** The registers read after a shutdown are not the fault's: the backend is kvm_amd, or they are the INIT state anyway. */
export function registersWereReset(kind: string, backend: string, r: FaultRegs): boolean {
  return (kind === 'shutdown' && backend.startsWith('kvm_amd')) || isInitState(r);
}

function regsText(r: FaultRegs): string {
  const h = (x: bigint) => `0x${x.toString(16)}`;
  return `rip=${h(r.rip)} rsp=${h(r.rsp)} rflags=${h(r.rflags)} cr0=${h(r.cr0)} cr2=${h(r.cr2)} cr3=${h(r.cr3)} cs.dpl=${r.csDpl}`;
}

/** " rip=… cs.dpl=3", or, when the vCPU was reset, a sentence saying so with the INIT registers in brackets. */
export function faultRegistersText(kind: string, backend: string, r: FaultRegs): string {
  if (!registersWereReset(kind, backend, r)) return ` ${regsText(r)}`;
  const why = backend.startsWith('kvm_amd') ? 'KVM on AMD SVM puts the vCPU through INIT after a shutdown (triple fault)' : 'the vCPU was reset';
  return ` the faulting registers are lost: ${why}, so the registers read now are the INIT state, not the fault (${regsText(r)})`;
}
