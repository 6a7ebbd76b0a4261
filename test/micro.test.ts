// bench micro (runner/measure/micro.ts): tinybench's statistics of the harness's own per-exit
// costs, without /dev/kvm.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { microCosts } from '../runner/measure/micro.js';
import { q35Topology } from '../workloads/q35-topology.js';

describe('bench micro', () => {
  it('times a koffi call and a hole read through the exit loop, with tinybench statistics', () => {
    const costs = microCosts(q35Topology, 20);
    assert.deepEqual(costs.map((c) => c.name), ['koffi libc call', 'hole read exit']);
    for (const c of costs) {
      assert.ok(c.samples > 10, `${c.name}: ${c.samples} samples`);
      assert.ok(c.meanNs > 0 && Number.isFinite(c.meanNs), `${c.name}: mean ${c.meanNs} ns`);
      assert.ok(c.p50Ns <= c.p99Ns, `${c.name}: p50 ${c.p50Ns} > p99 ${c.p99Ns}`);
      assert.ok(Number.isFinite(c.rme), `${c.name}: rme ${c.rme}`);
    }
  });
});
