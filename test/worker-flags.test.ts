// How the icount lab keeps a scan's instruction count to the scan: the sample worker's V8 flags
// and the default sample order follow the timing basis (runner/measure/worker-flags.ts,
// run-matrix.ts). Hardware runs keep Node's defaults and the interleaved order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ICOUNT_WORKER_FLAGS, workerFlags } from '../runner/measure/worker-flags.js';
import { defaultOrder } from '../runner/measure/run-matrix.js';
import { fixtureLab } from './fixtures.js';

test('the worker runs V8 single-threaded with gc exposed in the icount lab only', () => {
  assert.deepEqual(ICOUNT_WORKER_FLAGS, ['--single-threaded', '--expose-gc']);
  assert.deepEqual(workerFlags(fixtureLab('icount')), ICOUNT_WORKER_FLAGS);
  assert.deepEqual(workerFlags(fixtureLab('tcg')), [], 'TCG on its wall clock: unchanged');
  assert.deepEqual(workerFlags(fixtureLab('kvm')), [], 'nested KVM: hardware time');
  assert.deepEqual(workerFlags(undefined), [], 'outside a lab');
});

test('rows run blocked (a worker process each) where time is instructions, interleaved elsewhere', () => {
  assert.equal(defaultOrder('instructions'), 'blocked');
  assert.equal(defaultOrder('hardware'), 'interleaved');
  assert.equal(defaultOrder('emulated'), 'interleaved');
});
