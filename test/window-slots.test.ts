// Which pages of the ECAM window are hole pages, and the read-only memslots over them
// (strategies/window-slots.ts). No KVM: addHoleSlots is given a recording stand-in VM.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE, addHoleSlots, holeRuns, presentPages, type PageRun } from '../strategies/window-slots.js';
import { KVM_MEM_READONLY } from '../runner/vmm/kvm-abi.js';
import { presentFunctions, windowOf } from '../runner/measure/sample.js';
import { linuxQ35Boot } from '../workloads/linux-q35-boot.js';
import type { SetupContext } from '../strategies/types.js';

/** Every page a list of runs covers, checking that runs are ordered and disjoint. */
function pagesOf(runs: PageRun[]): number[] {
  const out: number[] = [];
  let prevEnd = -1;
  for (const r of runs) {
    assert.ok(r.pages > 0, 'no empty run');
    assert.ok(r.first > prevEnd, 'runs are ordered, disjoint and maximal (a gap between runs)');
    for (let p = r.first; p < r.first + r.pages; p++) out.push(p);
    prevEnd = r.first + r.pages;
  }
  return out;
}

describe('holeRuns', () => {
  test('an empty window is one run', () => {
    assert.deepEqual(holeRuns(16, new Set()), [{ first: 0, pages: 16 }]);
  });

  test('present pages split the runs, at the start, inside and at the end', () => {
    assert.deepEqual(holeRuns(16, new Set([0, 5, 6, 15])), [
      { first: 1, pages: 4 },
      { first: 7, pages: 8 },
    ]);
    assert.deepEqual(holeRuns(8, new Set([3])), [
      { first: 0, pages: 3 },
      { first: 4, pages: 4 },
    ]);
  });

  test('a fully present window has no runs; present pages outside the window are ignored', () => {
    assert.deepEqual(holeRuns(4, new Set([0, 1, 2, 3])), []);
    assert.deepEqual(holeRuns(4, new Set([9])), [{ first: 0, pages: 4 }]);
  });

  test('runs cover exactly the pages that are not present', () => {
    const total = 1000;
    const present = new Set([0, 1, 2, 17, 18, 400, 998]);
    const covered = pagesOf(holeRuns(total, present));
    const want = Array.from({ length: total }, (_, i) => i).filter((p) => !present.has(p));
    assert.deepEqual(covered, want);
  });
});

describe('q35 window', () => {
  const present = presentPages({ present: presentFunctions(linuxQ35Boot) });
  const w = windowOf(linuxQ35Boot);

  test('present pages are bus << 8 | devfn of the six q35 functions', () => {
    assert.deepEqual([...present].sort((a, b) => a - b), [0x00, 0x08, 0x10, 0xf8, 0xfa, 0xfb]);
  });

  test('five hole runs around them, ending at the last page of bus 255', () => {
    assert.equal(w.size, 256 << 20);
    const runs = holeRuns(w.size / PAGE, present);
    assert.deepEqual(runs, [
      { first: 1, pages: 7 },
      { first: 9, pages: 7 },
      { first: 17, pages: 0xf8 - 17 },
      { first: 0xf9, pages: 1 },
      { first: 0xfc, pages: 65536 - 0xfc },
    ]);
    assert.equal(pagesOf(runs).length, 65536 - 6);
  });

  test('addHoleSlots: one read-only slot per run, at the run\'s GPA, backed at hvaOf(first page)', () => {
    const calls: { gpa: number; size: number; hva: bigint; flags: number }[] = [];
    const vm = { addMemory: (gpa: number, size: number, hva: bigint, flags = 0) => calls.push({ gpa, size, hva, flags }) };
    const ctx = { vm, window: w, present: presentFunctions(linuxQ35Boot) } as unknown as SetupContext;
    const hvaBase = 0x7f0000000000n;
    const n = addHoleSlots(ctx, (page) => hvaBase + BigInt(page * PAGE));
    const runs = holeRuns(w.size / PAGE, present);
    assert.equal(n, runs.length);
    assert.deepEqual(
      calls,
      runs.map((r) => ({ gpa: w.base + r.first * PAGE, size: r.pages * PAGE, hva: hvaBase + BigInt(r.first * PAGE), flags: KVM_MEM_READONLY })),
    );
    // no slot covers a present function's page, and the slots cover every hole page
    for (const p of present) assert.ok(!calls.some((c) => w.base + p * PAGE >= c.gpa && w.base + p * PAGE < c.gpa + c.size));
    assert.equal(calls.reduce((s, c) => s + c.size, 0), w.size - present.size * PAGE);
    assert.equal(calls[calls.length - 1].gpa + calls[calls.length - 1].size, 0xc0000000, 'the last slot ends at the window end');
  });

  test('addHoleSlots passes other flags through (memslot-flag on a patched kernel)', () => {
    const flags: number[] = [];
    const ctx = { vm: { addMemory: (_g: number, _s: number, _h: bigint, f = 0) => flags.push(f) }, window: w, present: [] } as unknown as SetupContext;
    assert.equal(addHoleSlots(ctx, () => 0n, 1 << 3), 1);
    assert.deepEqual(flags, [8]);
  });
});
