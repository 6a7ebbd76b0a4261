// buildRow (runner/measure/row.ts): statistics over samples, and the checks that turn a row into
// "failed". Samples are synthetic (invented round numbers, not measurements).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRow, type RowInput } from '../runner/measure/row.js';
import { userspaceExit } from '../strategies/userspace-exit.js';
import { linuxQ35Boot } from '../workloads/linux-q35-boot.js';
import type { Sample } from '../runner/results/schema.js';

const EXPECTED = 33 + 8160;

function sample(o: { ns?: number; holes?: [number, number]; discoveryOk?: boolean; setupMs?: number; memoryBytes?: number; scans?: number; warmPerAccess?: number } = {}): Sample {
  const [bus0, peer] = o.holes ?? [33, 8160];
  const ns = o.ns ?? 1_000_000;
  const scan = (pass: number, perAccess: number) => ({
    pass,
    ns,
    phases: [
      { name: 'bus-scan', ns: ns / 10, accesses: 45, holeAccesses: bus0 },
      { name: 'peer-bridge', ns: perAccess * peer, accesses: peer, holeAccesses: peer },
    ],
    nsPerAccess: peer ? perAccess : null,
  });
  const perAccess = (ns * 0.9) / Math.max(peer, 1);
  return {
    scans: Array.from({ length: o.scans ?? 1 }, (_, p) => scan(p, p > 0 ? (o.warmPerAccess ?? perAccess) : perAccess)),
    exits: { mmio_read: 45 + peer },
    kvmStats: {},
    vmmHoleExits: bus0 + peer,
    discoveryOk: o.discoveryOk ?? true,
    setupMs: o.setupMs ?? 0,
    vmCreateMs: 1,
    teardownMs: 1,
    memoryBytes: o.memoryBytes ?? 0,
    mappings: 0,
    hostRunNs: ns,
  };
}

function input(samples: Sample[], over: Partial<RowInput> = {}): RowInput {
  return {
    strategy: userspaceExit,
    variant: '',
    workload: linuxQ35Boot,
    access: 'ecam',
    status: 'measured',
    reason: '',
    expectedHoleAccesses: EXPECTED,
    samples,
    errors: [],
    backingShared: false,
    ...over,
  };
}

describe('buildRow', () => {
  test('good samples: status and reason kept, identity fields copied, hole count equals the analytic one', () => {
    const row = buildRow(input([sample(), sample(), sample()], { status: 'proxy', reason: 'stands in for X', variant: 'v', backingShared: true }));
    assert.equal(row.status, 'proxy');
    assert.equal(row.reason, 'stands in for X');
    assert.deepEqual([row.strategy, row.variant, row.workload, row.access], ['userspace-exit', 'v', 'linux-q35-boot', 'ecam']);
    assert.equal(row.origin, userspaceExit.origin);
    assert.equal(row.holeAccesses, EXPECTED);
    assert.equal(row.expectedHoleAccesses, EXPECTED);
    assert.equal(row.samples.length, 3);
    assert.equal(row.backingShared, true);
  });

  test('medians and quartiles of the cold scans, setup and memory', () => {
    const row = buildRow(
      input([
        sample({ ns: 3000, setupMs: 30, memoryBytes: 4096 }),
        sample({ ns: 1000, setupMs: 10, memoryBytes: 8192 }),
        sample({ ns: 2000, setupMs: 20, memoryBytes: 4096 }),
        sample({ ns: 10000, setupMs: 40, memoryBytes: 4096 }),
      ]),
    );
    assert.equal(row.stats.scanNs?.n, 4);
    assert.equal(row.stats.scanNs?.median, 2500);
    assert.equal(row.stats.scanNs?.min, 1000);
    assert.equal(row.stats.scanNs?.max, 10000);
    assert.equal(row.stats.scanNs?.p25, 1750);
    assert.equal(row.stats.scanNs?.p75, 4750);
    assert.equal(row.stats.setupMs?.median, 25);
    assert.equal(row.stats.nsPerAccess?.median, (2500 * 0.9) / 8160);
    assert.equal(row.memoryBytes, 4096);
    assert.equal(row.stats.warmNsPerAccess, null, 'one pass: no warm figure');
  });

  test('a rescanning workload reports the last pass as warm', () => {
    const w = { ...linuxQ35Boot, passes: 2 };
    const row = buildRow(input([sample({ scans: 2, warmPerAccess: 5 }), sample({ scans: 2, warmPerAccess: 7 }), sample({ scans: 2, warmPerAccess: 9 })], { workload: w }));
    assert.equal(row.stats.warmNsPerAccess?.median, 7);
    assert.equal(row.status, 'measured');
  });

  test('failed when a sample errored: the count and the first message are in the reason', () => {
    const row = buildRow(input([sample(), sample(), sample()], { errors: ['timeout: the guest did not signal done', 'second'] }));
    assert.equal(row.status, 'failed');
    assert.match(row.reason, /2 of 5 samples failed: timeout: the guest did not signal done/);
    assert.equal(row.samples.length, 3, 'finished samples are kept');
  });

  test('failed when every sample errored', () => {
    const row = buildRow(input([], { errors: ['guest stopped with shutdown'] }));
    assert.equal(row.status, 'failed');
    assert.match(row.reason, /1 of 1 samples failed/);
    assert.equal(row.stats.scanNs, null);
    assert.equal(row.memoryBytes, 0);
  });

  test('failed when the hole count differs from the analytic count, naming both', () => {
    const row = buildRow(input([sample({ holes: [33, 8159] }), sample({ holes: [33, 8159] })]));
    assert.equal(row.status, 'failed');
    assert.equal(row.holeAccesses, 33 + 8159);
    assert.match(row.reason, new RegExp(`${33 + 8159} hole accesses.*analytic count is ${EXPECTED}`));
  });

  test('failed when samples disagree on the hole count', () => {
    const row = buildRow(input([sample(), sample({ holes: [33, 8000] })]));
    assert.equal(row.status, 'failed');
    assert.match(row.reason, /hole accesses differ between samples \(8193, 8033\)/);
  });

  test('failed when discovery failed, with the number of samples; a proxy reason is kept after the problem', () => {
    const row = buildRow(input([sample(), sample({ discoveryOk: false }), sample({ discoveryOk: false })], { status: 'proxy', reason: 'stands in for X' }));
    assert.equal(row.status, 'failed');
    assert.match(row.reason, /discovery differs from the topology in 2 samples/);
    assert.match(row.reason, /; stands in for X$/);
  });

  test('every problem is listed', () => {
    const row = buildRow(input([sample({ holes: [0, 0], discoveryOk: false })], { errors: ['boom'] }));
    assert.equal(row.status, 'failed');
    for (const re of [/1 of 2 samples failed: boom/, /guest made 0 hole accesses/, /discovery differs/]) assert.match(row.reason, re);
  });

  test('unsupported rows keep their reason and status, with no samples and no statistics', () => {
    const reason = 'KVM_CAP_PRE_FAULT_MEMORY is 0: ...';
    const row = buildRow(input([], { status: 'unsupported', reason }));
    assert.equal(row.status, 'unsupported');
    assert.equal(row.reason, reason);
    assert.equal(row.holeAccesses, 0);
    assert.equal(row.expectedHoleAccesses, EXPECTED);
    assert.deepEqual(row.samples, []);
    assert.deepEqual(row.stats, { scanNs: null, nsPerAccess: null, warmNsPerAccess: null, setupMs: null });
  });

  test('a scan without a hole-only phase has no per-access figure', () => {
    const row = buildRow(input([sample({ holes: [0, 0] })], { expectedHoleAccesses: 0 }));
    assert.equal(row.status, 'measured');
    assert.equal(row.stats.nsPerAccess, null);
    assert.ok(row.stats.scanNs);
  });
});
