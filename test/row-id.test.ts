// The one row identity and its labels (runner/shared/row-id.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rowIdLabel, rowIdOf, strategyLabel } from '../runner/shared/row-id.js';

describe('row identity', () => {
  it('strategyLabel: strategy/variant, or the strategy alone without a variant', () => {
    assert.equal(strategyLabel({ strategy: 'ro-page', variant: '4k' }), 'ro-page/4k');
    assert.equal(strategyLabel({ strategy: 'userspace-exit', variant: '' }), 'userspace-exit');
  });

  it('rowIdLabel: strategy/variant workload access', () => {
    assert.equal(rowIdLabel({ strategy: 'ro-page', variant: 'thp', workload: 'linux-q35-boot', access: 'conf1' }), 'ro-page/thp linux-q35-boot conf1');
  });

  it('rowIdOf: the ids of a row holding registry objects', () => {
    assert.deepEqual(rowIdOf({ strategy: { id: 's', extra: 1 } as { id: string }, variant: '', workload: { id: 'w' }, access: 'ecam' }), { strategy: 's', variant: '', workload: 'w', access: 'ecam' });
  });
});
