// Host limits (runner/host/host-prep.ts): already met, not root (the reason names the sysctl to run),
// and as root: raised, then put back by restoreHost(). Uses vm.max_map_count, and a sysfs tree
// of its own for the 2 MiB hugetlb pool (runner/host/hugetlb.ts).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHostNeeds, ensureHostNeeds, raisedLimits, raisedSysctls, readSysctl, restoreAndRecord, restoreHost, sysctlNeed, type HostNeed } from '../runner/host/host-prep.js';
import { hugepages2m, hugepages2mDir, HUGEPAGES_2M_NAME } from '../runner/host/hugetlb.js';
import { hugepagesFor } from '../strategies/host-checks.js';

const PROC = '/proc/sys/vm/max_map_count';
const readProc = () => Number(readFileSync(PROC, 'utf8').trim());
const isRoot = process.getuid?.() === 0;
const need = (atLeast: number): HostNeed => sysctlNeed('vm.max_map_count', atLeast, 'a test');

// Never leave the host changed, whatever fails.
after(() => restoreHost());

describe('ensureHostNeeds', () => {
  test('readSysctl reads /proc/sys', () => {
    assert.equal(readSysctl('vm.max_map_count'), readProc());
  });

  test('no needs, or needs already met: null, nothing raised', () => {
    const now = readProc();
    assert.equal(ensureHostNeeds([], false), null);
    assert.equal(ensureHostNeeds([need(now), need(1)], false), null);
    assert.equal(ensureHostNeeds([need(now)], true), null);
    assert.deepEqual(raisedSysctls(), []);
    assert.equal(readProc(), now);
  });

  test('not root and too low: a reason with the current value, the need and the sysctl to run; nothing changes', () => {
    const now = readProc();
    const r = ensureHostNeeds([need(now + 4096)], false);
    assert.ok(r);
    assert.match(r, new RegExp(`vm\\.max_map_count is ${now}`));
    assert.match(r, /a test/);
    assert.ok(r.includes(`sudo sysctl vm.max_map_count=${now + 4096}`), r);
    assert.equal(readProc(), now);
    assert.deepEqual(raisedSysctls(), []);
  });

  test('a sysctl that does not exist is reported, not thrown', () => {
    const r = ensureHostNeeds([sysctlNeed('vm.no_such_knob', 1, 'a test')], true);
    assert.match(r ?? '', /vm\.no_such_knob is not readable/);
  });

  test('as root: raises the value, remembers the original once, and restoreHost puts it back', { skip: isRoot ? false : 'needs root to write /proc/sys/vm/max_map_count' }, () => {
    const original = readProc();
    assert.equal(ensureHostNeeds([need(original + 1000)], true), null);
    assert.equal(readProc(), original + 1000);
    assert.deepEqual(raisedSysctls(), ['vm.max_map_count']);
    // a second, higher need raises again; the original stays the one to restore
    assert.equal(ensureHostNeeds([need(original + 2000)], true), null);
    assert.equal(readProc(), original + 2000);
    restoreHost();
    assert.equal(readProc(), original);
    assert.deepEqual(raisedSysctls(), []);
    restoreHost(); // safe twice
    assert.equal(readProc(), original);
  });
});

describe('2 MiB hugetlb pages come from the 2048kB pool, not the default hugepage size', () => {
  // A sysfs tree shaped like a host booted with default_hugepagesz=1G: the default-size pool
  // (1048576kB, what vm.nr_hugepages and /proc/meminfo HugePages_* describe) and the 2 MiB pool.
  const root = mkdtempSync(join(tmpdir(), 'pcihole-sysfs-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const pool = (kb: number, nr: number, free: number) => {
    const dir = join(root, 'kernel/mm/hugepages', `hugepages-${kb}kB`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'nr_hugepages'), `${nr}\n`);
    writeFileSync(join(dir, 'free_hugepages'), `${free}\n`);
    return dir;
  };
  const giga = pool(1048576, 4, 4);
  const two = pool(2048, 10, 6);
  const read = (dir: string) => Number(readFileSync(join(dir, 'nr_hugepages'), 'utf8'));

  test('the pool read is hugepages-2048kB under the given sysfs root', () => {
    assert.equal(hugepages2mDir(root), two);
    assert.equal(hugepages2mDir(), '/sys/kernel/mm/hugepages/hugepages-2048kB');
    assert.deepEqual(hugepages2m(root), { nr: 10, free: 6 });
    assert.equal(hugepages2m(join(root, 'nowhere')), null, 'no 2 MiB pool: null, not 0 pages');
  });

  test('a need for 128 pages asks the 2 MiB pool for the 4 in use plus 128, with a tee command, never vm.nr_hugepages', () => {
    const n = hugepagesFor(128, 'a test', root);
    assert.equal(n.path, join(two, 'nr_hugepages'));
    assert.equal(n.atLeast, 4 + 128);
    assert.equal(n.name, 'hugepages-2048kB/nr_hugepages');
    assert.doesNotMatch(`${n.name} ${n.fix}`, /vm\.nr_hugepages/);
    const r = ensureHostNeeds([n], false);
    assert.equal(r, `hugepages-2048kB/nr_hugepages is 10, a test (128 × 2 MiB hugetlb pages) needs 132; run: echo 132 | sudo tee ${join(two, 'nr_hugepages')}`);
    assert.match(describeHostNeeds([n], true).raises.join(), /hugepages-2048kB\/nr_hugepages 10 → 132/);
    assert.equal(read(two), 10, 'not root: nothing written');
  });

  test('as root: the 2 MiB pool is raised and restored; the default-size pool is never touched', () => {
    assert.equal(ensureHostNeeds([hugepagesFor(128, 'a test', root)], true), null);
    assert.equal(read(two), 132);
    assert.deepEqual(raisedSysctls(), ['hugepages-2048kB/nr_hugepages']);
    restoreHost();
    assert.equal(read(two), 10);
    assert.equal(read(giga), 4);
    assert.deepEqual(raisedSysctls(), []);
  });

  test('as root: the run records each raised limit (value before, value during) and whether it was put back', () => {
    assert.deepEqual(raisedLimits(), []);
    assert.equal(ensureHostNeeds([hugepagesFor(128, 'a test', root)], true), null);
    assert.deepEqual(raisedLimits(), [{ name: HUGEPAGES_2M_NAME, from: 10, to: 132 }]);
    // a second, larger need: the value before stays the first one, the value during follows
    const more = hugepagesFor(130, 'a test', root);
    assert.ok(more.atLeast > 132);
    assert.equal(ensureHostNeeds([more], true), null);
    assert.deepEqual(raisedLimits(), [{ name: HUGEPAGES_2M_NAME, from: 10, to: more.atLeast }]);
    assert.deepEqual(restoreAndRecord(), [{ name: HUGEPAGES_2M_NAME, from: 10, to: more.atLeast, restored: true }]);
    assert.equal(read(two), 10);
    assert.deepEqual(raisedLimits(), [], 'restored: nothing left to record');
    assert.deepEqual(restoreAndRecord(), []);
  });

  test('as root: a limit that cannot be put back is recorded as not restored', () => {
    const gone = pool(2048 * 1000, 1, 1); // a pool of its own, removed before the restore
    const n: HostNeed = { name: 'test-pool', path: join(gone, 'nr_hugepages'), atLeast: 5, why: 'a test', fix: 'none' };
    assert.equal(ensureHostNeeds([n], true), null);
    rmSync(gone, { recursive: true, force: true });
    const stderr = process.stderr.write;
    let said = '';
    process.stderr.write = ((chunk: string) => ((said += chunk), true)) as typeof process.stderr.write;
    try {
      assert.deepEqual(restoreAndRecord(), [{ name: 'test-pool', from: 1, to: 5, restored: false }]);
    } finally {
      process.stderr.write = stderr;
    }
    assert.match(said, /could not restore test-pool to 1/);
  });

  test('a host without a 2 MiB pool: the need is reported as not readable', () => {
    const r = ensureHostNeeds([hugepagesFor(1, 'a test', join(root, 'nowhere'))], true);
    assert.match(r ?? '', /hugepages-2048kB\/nr_hugepages is not readable/);
  });
});
