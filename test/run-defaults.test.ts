// bench run's sample count: a quick look by default, enough for the gate when gated (docs/gate.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_HELP, samplesFor } from '../runner/cli/run-command.js';
import { UsageError } from '../runner/shared/errors.js';

test('10 fresh VMs per row, 100 with --gate, --samples wins either way', () => {
  assert.equal(samplesFor(undefined, false), 10);
  assert.equal(samplesFor(undefined, true), 100);
  assert.equal(samplesFor('7', true), 7);
  assert.equal(samplesFor('250', false), 250);
  assert.throws(() => samplesFor('0', true), UsageError);
  assert.match(RUN_HELP, /default: 10, a quick look; with --gate: 100/);
});
