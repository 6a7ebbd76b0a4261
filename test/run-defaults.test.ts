// bench run's sample count: a quick look by default, enough for the gate when gated (docs/gate.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_HELP, defaultTimeoutS, samplesFor } from '../runner/cli/run-command.js';
import { UsageError } from '../runner/shared/errors.js';

test('10 fresh VMs per row, 100 with --gate, --samples wins either way', () => {
  assert.equal(samplesFor(undefined, false), 10);
  assert.equal(samplesFor(undefined, true), 100);
  assert.equal(samplesFor('7', true), 7);
  assert.equal(samplesFor('250', false), 250);
  assert.throws(() => samplesFor('0', true), UsageError);
  assert.match(RUN_HELP, /default: 10, a quick look; with --gate: 100/);
});

test('a sample may take 60 s, 900 s in the icount lab (its clock jumps ahead while the VM idles)', () => {
  const lab = (clock?: string) => ({ PCIHOLE_LAB: JSON.stringify({ accel: 'tcg', outerKernel: 'k', outerCpu: 'c', qemu: '7.2', guestKernel: 'g', ...(clock ? { clock } : {}) }) });
  assert.equal(defaultTimeoutS({}), 60);
  assert.equal(defaultTimeoutS(lab('icount')), 900);
  assert.equal(defaultTimeoutS(lab('wall')), 60);
  assert.match(RUN_HELP, /default: 60; 900\n\s+in the icount lab/);
});
