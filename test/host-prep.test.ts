// Host limits (runner/host-prep.ts): already met, not root (the reason names the sysctl to run),
// and as root: raised, then put back by restoreHost(). Uses vm.max_map_count.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ensureHostNeeds, raisedSysctls, readSysctl, restoreHost, type HostNeed } from '../runner/host-prep.js';

const PROC = '/proc/sys/vm/max_map_count';
const readProc = () => Number(readFileSync(PROC, 'utf8').trim());
const isRoot = process.getuid?.() === 0;
const need = (atLeast: number): HostNeed => ({ sysctl: 'vm.max_map_count', atLeast, why: 'a test' });

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
    const r = ensureHostNeeds([{ sysctl: 'vm.no_such_knob' as HostNeed['sysctl'], atLeast: 1, why: 'a test' }], true);
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
