// The guest-fault report's registers (runner/measure/fault-registers.ts): printed as the fault's on VMX
// and kvm_pvm; on AMD SVM, or whenever they are the INIT state, said to be lost instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultRegistersText, isInitState, registersWereReset, type FaultRegs } from '../runner/measure/fault-registers.js';

/** A CPL3 long-mode guest stopped at a ud2 (the state runner/guest/guest-image.ts enters). */
const atFault: FaultRegs = { rip: 0x10001n, rsp: 0x100000n, rflags: 0x3002n, cr0: 0x80000031n, cr2: 0n, cr3: 0x1000n, csSelector: 0x1b, csDpl: 3 };
/** What KVM_GET_REGS/SREGS return on SVM after the shutdown: the INIT state (cr0 keeps only ET and any CD/NW). */
const init: FaultRegs = { rip: 0xfff0n, rsp: 0n, rflags: 0x2n, cr0: 0x10n, cr2: 0n, cr3: 0n, csSelector: 0xf000, csDpl: 0 };

test('INIT state: rip 0xfff0 in cs 0xf000 with protection off; a long-mode fault is not it', () => {
  assert.equal(isInitState(init), true);
  assert.equal(isInitState({ ...init, cr0: 0x60000010n }), true, 'the power-on value of cr0 too');
  assert.equal(isInitState(atFault), false);
  assert.equal(isInitState({ ...atFault, rip: 0xfff0n }), false, 'rip alone is not enough');
});

test('kvm_intel / kvm_pvm: the registers are printed as the fault', () => {
  for (const backend of ['kvm_intel', 'kvm_pvm', 'unknown']) {
    assert.equal(registersWereReset('shutdown', backend, atFault), false);
    assert.equal(faultRegistersText('shutdown', backend, atFault), ' rip=0x10001 rsp=0x100000 rflags=0x3002 cr0=0x80000031 cr2=0x0 cr3=0x1000 cs.dpl=3');
  }
});

test('kvm_amd after a shutdown: the report says the registers are the INIT state, not the fault', () => {
  const t = faultRegistersText('shutdown', 'kvm_amd', init);
  assert.match(t, /^ the faulting registers are lost: KVM on AMD SVM puts the vCPU through INIT after a shutdown \(triple fault\)/);
  assert.match(t, /the INIT state, not the fault \(rip=0xfff0 .*cs\.dpl=0\)$/);
  assert.doesNotMatch(t, /^ rip=/, 'never printed as if they were the fault');
});

test('kvm_amd, other exits keep their registers; any backend whose registers are the INIT state is flagged', () => {
  assert.equal(registersWereReset('internal-error', 'kvm_amd', atFault), false);
  assert.match(faultRegistersText('internal-error', 'kvm_amd', atFault), /^ rip=0x10001 /);
  assert.match(faultRegistersText('shutdown', 'kvm_intel', init), /^ the faulting registers are lost: the vCPU was reset/);
});
