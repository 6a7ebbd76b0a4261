// KVM statistics of a sample (runner/measure/scan-stats.ts) when the kernel lacks some or all of them:
// absent, never 0. The real statistics are read in test/kvm.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanStats, mappingGauges, sumRecords } from '../runner/measure/scan-stats.js';
import type { Vm } from '../runner/vmm/vm.js';

test('KVM_CAP_BINARY_STATS_FD 0 (Linux < 5.14): nothing is opened and the statistics are null, not {}', () => {
  // With the capability 0 no VM is touched (KVM_GET_STATS_FD would fail on every sample): null would throw if it were.
  assert.equal(ScanStats.begin(0, [], null as unknown as Vm).finish(), null);
});

test('mapping gauges only for the page sizes the kernel lists', () => {
  assert.deepEqual(mappingGauges({ 'vm.pages_4k': 12, 'vm.pages_2m': 3, 'vm.pages_1g': 0 }), { 'vm.pages_4k_now': 12, 'vm.pages_2m_now': 3 });
  assert.deepEqual(mappingGauges({ 'vm.pages_4k': 12 }), { 'vm.pages_4k_now': 12 }, 'no pages_2m: no pages_2m_now (not 0)');
  assert.deepEqual(mappingGauges({}), {});
});

test('vCPU statistics sum key-wise; a statistic one vCPU lacks is not invented for it', () => {
  assert.deepEqual(sumRecords([{ 'vcpu.exits': 2, 'vcpu.pf_taken': 1 }, { 'vcpu.exits': 3 }]), { 'vcpu.exits': 5, 'vcpu.pf_taken': 1 });
});
