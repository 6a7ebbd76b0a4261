// The host fingerprint's lab and timing fields (runner/host/lab-env.ts, runner/host/host.ts,
// runner/results/timing.ts): PCIHOLE_LAB is validated, emulated timing follows accel tcg, and the host id
// changes with lab.accel only for lab runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { labFromEnv } from '../runner/host/lab-env.js';
import { KEY_PARAMS, hostFacts, hostId } from '../runner/host/host.js';
import { timingBasis, timingLabel, EMULATED_NOTE } from '../runner/results/timing.js';
import type { LabInfo } from '../runner/results/schema.js';

const LAB: LabInfo = { accel: 'tcg', outerKernel: '6.18.4-v782', outerCpu: 'AMD EPYC', qemu: '7.2.19', guestKernel: '6.1.0-57-amd64' };
const env = (lab: unknown) => ({ PCIHOLE_LAB: typeof lab === 'string' ? lab : JSON.stringify(lab) });

test('PCIHOLE_LAB: a valid description is kept (extra fields dropped), anything else ignored', () => {
  assert.deepEqual(labFromEnv(env(LAB)), LAB);
  assert.deepEqual(labFromEnv(env({ ...LAB, accel: 'kvm', outerHostId: '0120de7a751b', extra: 1 })), { ...LAB, accel: 'kvm', outerHostId: '0120de7a751b' });
  assert.equal(labFromEnv({}), undefined, 'absent');
  assert.equal(labFromEnv(env('')), undefined, 'empty');
  assert.equal(labFromEnv(env('{"accel":')), undefined, 'not JSON');
  assert.equal(labFromEnv(env({ ...LAB, accel: 'hvf' })), undefined, 'unknown accel');
  assert.equal(labFromEnv(env({ ...LAB, qemu: undefined })), undefined, 'missing field');
  assert.equal(labFromEnv(env({ ...LAB, outerHostId: 7 })), undefined, 'outerHostId not a string');
  assert.equal(labFromEnv(env([LAB])), undefined, 'not an object');
});

test('hostFacts: lab and timing from PCIHOLE_LAB; emulated iff accel is tcg', () => {
  const tcg = hostFacts(env(LAB));
  assert.deepEqual(tcg.lab, LAB);
  assert.equal(tcg.timing, 'emulated');
  const kvm = hostFacts(env({ ...LAB, accel: 'kvm' }));
  assert.equal(kvm.timing, 'hardware');
  const none = hostFacts({});
  assert.equal('lab' in none, false, 'no lab field outside a lab');
  assert.equal(none.timing, 'hardware');
  assert.equal(hostFacts(env({ ...LAB, clock: 'icount' })).timing, 'instructions');
  assert.equal('lab' in hostFacts(env({ ...LAB, clock: 'sundial' })), false, 'an unknown clock is not a lab description');
  const bad = hostFacts(env({ ...LAB, accel: 'emulated' }));
  assert.equal('lab' in bad, false, 'an invalid PCIHOLE_LAB is ignored');
});

test('host id: unchanged outside a lab, and lab.accel is part of it inside one', () => {
  const base = { kernel: '6.1.0-57-amd64', cpuModel: 'AMD EPYC', cpus: 2, kvmBackend: 'kvm_amd', kvmParams: { 'kvm_amd.npt': 'Y' } };
  const before = createHash('sha256').update(JSON.stringify([base.kernel, base.cpuModel, base.cpus, base.kvmBackend, base.kvmParams])).digest('hex').slice(0, 12);
  assert.equal(hostId(base), before, 'ids of non-lab hosts stay what they were');
  const tcg = hostId({ ...base, lab: { ...LAB, accel: 'tcg' } });
  const kvm = hostId({ ...base, lab: { ...LAB, accel: 'kvm' } });
  assert.notEqual(tcg, before);
  assert.notEqual(tcg, kvm, 'the same guest kernel under TCG and under KVM are different hosts');
  assert.equal(hostId({ ...base, lab: { ...LAB, qemu: '9.0', outerCpu: 'other' } }), tcg, 'only accel of the lab enters the id');
  assert.notEqual(hostId({ ...base, lab: { ...LAB, clock: 'icount' } }), tcg, 'TCG counting instructions is another host than TCG on its wall clock');
});

test('timing basis of a fingerprint: recorded value, else from the lab, else hardware (older files)', () => {
  assert.equal(timingBasis({}), 'hardware');
  assert.equal(timingBasis(undefined), 'hardware');
  assert.equal(timingBasis({ timing: 'emulated' }), 'emulated');
  assert.equal(timingBasis({ lab: { ...LAB, accel: 'tcg' } }), 'emulated');
  assert.equal(timingBasis({ lab: { ...LAB, accel: 'kvm' } }), 'hardware');
  assert.equal(timingBasis({ lab: { ...LAB, clock: 'icount' } }), 'instructions');
  assert.equal(timingBasis({ timing: 'instructions' }), 'instructions');
  assert.equal(timingLabel('emulated'), 'emulated (TCG)');
  assert.equal(EMULATED_NOTE, 'emulated (TCG): counts are exact, times are relative path lengths, not hardware time');
});

test('recorded KVM parameters include EPT A/D bits and the SVM paging ones', () => {
  assert.ok(KEY_PARAMS.kvm_intel.includes('ept') && KEY_PARAMS.kvm_intel.includes('eptad'));
  assert.ok(KEY_PARAMS.kvm_amd.includes('npt') && KEY_PARAMS.kvm_amd.includes('nested'));
  assert.ok(KEY_PARAMS.kvm.includes('tdp_mmu'));
});
