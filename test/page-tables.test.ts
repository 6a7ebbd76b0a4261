// Guest page tables (runner/guest/page-tables.ts) written into a plain buffer and walked here like
// the MMU would: identity 2 MiB user pages over 4 GiB, and 4 KiB remaps of a window.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPageTables, type Remap4k } from '../runner/guest/page-tables.js';
import { PD0, PDPT, PML4, PT_POOL, PT_POOL_END, RAM_SIZE } from '../runner/guest/guest-layout.js';

const MB2 = 0x200000;
const GiB4 = 0x100000000;

function ram(): DataView {
  return new DataView(new ArrayBuffer(RAM_SIZE));
}
const entry = (dv: DataView, at: number) => dv.getBigUint64(at, true);

/** Walks PML4 → PDPT → PD (→ PT) for `va` as the MMU does; returns the physical address, the leaf size and every entry's flags. */
function walk(dv: DataView, va: number): { pa: number; size: '2M' | '4K'; flags: bigint[] } {
  const addr = (e: bigint) => Number(e & 0x000ffffffffff000n);
  const flags: bigint[] = [];
  const pml4e = entry(dv, PML4 + 8 * Math.floor(va / 2 ** 39));
  flags.push(pml4e & 0xfffn);
  const pdpte = entry(dv, addr(pml4e) + 8 * (Math.floor(va / 2 ** 30) % 512));
  flags.push(pdpte & 0xfffn);
  const pde = entry(dv, addr(pdpte) + 8 * (Math.floor(va / MB2) % 512));
  flags.push(pde & 0xfffn);
  if (pde & 0x80n) return { pa: Number(pde & 0x000fffffffe00000n) + (va % MB2), size: '2M', flags };
  const pte = entry(dv, addr(pde) + 8 * (Math.floor(va / 4096) % 512));
  flags.push(pte & 0xfffn);
  return { pa: addr(pte) + (va % 4096), size: '4K', flags };
}

describe('identity map', () => {
  test('PML4 and PDPT entries are user tables (0x7) pointing at the four page directories', () => {
    const dv = ram();
    assert.equal(buildPageTables(dv), 0, 'no page tables without a remap');
    assert.equal(entry(dv, PML4), BigInt(PDPT) | 0x7n);
    for (let g = 0; g < 4; g++) assert.equal(entry(dv, PDPT + 8 * g), BigInt(PD0 + 0x1000 * g) | 0x7n, `PDPT[${g}]`);
    assert.equal(entry(dv, PDPT + 8 * 4), 0n, 'nothing above 4 GiB');
    assert.equal(entry(dv, PML4 + 8), 0n);
  });

  test('all 2048 PD entries are 2 MiB user leaves (0x87) mapping their own address, with no sign bugs above 2 GiB', () => {
    const dv = ram();
    buildPageTables(dv);
    for (let i = 0; i < 2048; i++) {
      const want = BigInt(i) * BigInt(MB2) + 0x87n;
      assert.equal(entry(dv, PD0 + 8 * i), want, `PD entry ${i} (va 0x${(i * MB2).toString(16)})`);
    }
    assert.equal(entry(dv, PD0 + 8 * 2047), 0xffe00087n, 'the last 2 MiB below 4 GiB');
    assert.equal(entry(dv, PD0 + 8 * (0xb0000000 / MB2)), 0xb0000087n, 'the q35 ECAM window');
  });

  test('a walk resolves every probed address to itself on a 2 MiB page with U/S on every level', () => {
    const dv = ram();
    buildPageTables(dv);
    for (const va of [0, 0x10000, 0x7fffffff, 0x80000000, 0xb0001000, 0xe00ff000, 0xfec00010, GiB4 - 1]) {
      const w = walk(dv, va);
      assert.equal(w.pa, va, `0x${va.toString(16)}`);
      assert.equal(w.size, '2M');
      for (const f of w.flags) assert.equal(f & 0x7n, 0x7n, 'present, writable, user');
    }
  });
});

describe('4 KiB remap of a window', () => {
  const base = 0xb0000000;
  const IOAPIC = 0xfec00000;
  // 4 MiB = two page tables; odd pages to the IOAPIC page, even pages to themselves
  const remap: Remap4k = { va: base, pages: 1024, gpaOf: (i) => (i % 2 ? IOAPIC : base + i * 4096) };

  test('PD entries of the window point into the PT pool as user tables; the rest stay 2 MiB leaves', () => {
    const dv = ram();
    assert.equal(buildPageTables(dv, remap), 2);
    const pdIndex = base / MB2;
    assert.equal(entry(dv, PD0 + 8 * pdIndex), BigInt(PT_POOL) | 0x7n);
    assert.equal(entry(dv, PD0 + 8 * (pdIndex + 1)), BigInt(PT_POOL + 0x1000) | 0x7n);
    assert.equal(entry(dv, PD0 + 8 * (pdIndex + 2)), BigInt(base + 2 * MB2) | 0x87n, 'past the remap: identity 2 MiB');
    assert.equal(entry(dv, PD0 + 8 * (pdIndex - 1)), BigInt(base - MB2) | 0x87n, 'before the remap: identity 2 MiB');
  });

  test('PTEs map each page to the chosen GPA with 0x7, including GPAs above 2 GiB', () => {
    const dv = ram();
    buildPageTables(dv, remap);
    for (let i = 0; i < 1024; i++) {
      const pte = entry(dv, PT_POOL + 8 * i);
      assert.equal(pte, BigInt(remap.gpaOf(i)) | 0x7n, `PTE ${i}`);
    }
    assert.equal(entry(dv, PT_POOL), 0xb0000007n);
    assert.equal(entry(dv, PT_POOL + 8), 0xfec00007n);
  });

  test('a walk through the remap reaches the chosen pages at 4 KiB granularity', () => {
    const dv = ram();
    buildPageTables(dv, remap);
    const w0 = walk(dv, base + 0x10);
    assert.deepEqual([w0.pa, w0.size], [base + 0x10, '4K']);
    const w1 = walk(dv, base + 0x1010);
    assert.deepEqual([w1.pa, w1.size], [IOAPIC + 0x10, '4K'], 'register 0 of a hole page + 0x10 lands on IOWIN');
    const last = walk(dv, base + 1023 * 4096 + 0xffc);
    assert.equal(last.pa, IOAPIC + 0xffc);
    for (const f of last.flags) assert.equal(f & 0x7n, 0x7n);
    assert.equal(walk(dv, base + 4 * 1024 * 1024).size, '2M');
  });

  test('a remap of the whole 256 MiB window fits the pool and leaves RAM below the pool alone', () => {
    const dv = ram();
    const marker = 0x1234_5678_9abc_def0n;
    dv.setBigUint64(PT_POOL - 8, marker, true);
    const tables = buildPageTables(dv, { va: base, pages: 65536, gpaOf: (i) => base + i * 4096 });
    assert.equal(tables, 128);
    assert.ok(PT_POOL + tables * 0x1000 <= PT_POOL_END);
    assert.equal(dv.getBigUint64(PT_POOL - 8, true), marker);
    assert.equal(walk(dv, base + 0xfffffff).pa, base + 0xfffffff);
    assert.equal(walk(dv, base + 0xfffffff).size, '4K');
  });

  test('a window at 0xE0000000 (microvm) maps correctly', () => {
    const dv = ram();
    buildPageTables(dv, { va: 0xe0000000, pages: 512, gpaOf: () => 0xfffff000 });
    assert.equal(entry(dv, PT_POOL + 8 * 511), 0xfffff007n);
    assert.equal(walk(dv, 0xe01ff123).pa, 0xfffff123);
  });

  test('bad remaps throw', () => {
    assert.throws(() => buildPageTables(ram(), { ...remap, va: base + 0x1000 }), /whole 2 MiB regions/, 'unaligned start');
    assert.throws(() => buildPageTables(ram(), { ...remap, pages: 513 }), /whole 2 MiB regions/, 'partial 2 MiB region');
    const poolTables = (PT_POOL_END - PT_POOL) / 0x1000;
    assert.throws(() => buildPageTables(ram(), { va: 0, pages: (poolTables + 1) * 512, gpaOf: () => 0 }), /page tables, the pool holds/, 'more tables than the pool');
  });

  test('a remap reaching past 4 GiB is rejected', () => {
    assert.throws(() => buildPageTables(ram(), { va: GiB4 - MB2, pages: 1024, gpaOf: () => 0 }));
  });
});
