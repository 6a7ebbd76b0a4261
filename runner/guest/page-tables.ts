// (Addresses reach 4 GiB: they are added, never OR-ed, since JS bit operators are 32-bit.)
// Guest page tables: the low 4 GiB identity-mapped with 2 MiB user pages (U/S set on every
// level so CPL3 code may touch them), plus optional 4 KiB remaps of one range.
// Under shadow paging an SPTE is never larger than the guest's own mapping, so the ECAM
// window stays on 2 MiB guest pages (as Linux's huge ioremap) unless a strategy asks otherwise.
import { PD0, PDPT, PML4, PT_POOL, PT_POOL_END } from './guest-layout.js';

const P = 1;
const RW = 2;
const US = 4;
const PS = 0x80;
const TABLE = P | RW | US; // 0x7
const LEAF_2M = P | RW | US | PS; // 0x87
const LEAF_4K = P | RW | US;
const MB2 = 0x200000;

/** Maps guest-virtual pages of [va, va + pages*4 KiB) to chosen guest-physical pages. */
export interface Remap4k {
  va: number;
  pages: number;
  /** GPA for page i of the range (4 KiB aligned). */
  gpaOf(i: number): number;
}

/** Writes PML4/PDPT/PDs (and PTs for the remap) into guest RAM. Returns the PT pages used. */
export function buildPageTables(ram: DataView, remap?: Remap4k): number {
  const put = (at: number, v: number) => ram.setBigUint64(at, BigInt(v), true);
  put(PML4, PDPT + TABLE);
  for (let g = 0; g < 4; g++) {
    put(PDPT + 8 * g, PD0 + 0x1000 * g + TABLE);
    for (let i = 0; i < 512; i++) {
      const va = g * 0x40000000 + i * MB2;
      put(PD0 + 0x1000 * g + 8 * i, va + LEAF_2M);
    }
  }
  if (!remap) return 0;
  if (remap.va % MB2 !== 0 || remap.pages % 512 !== 0) throw new Error('4 KiB remap must cover whole 2 MiB regions');
  if (remap.va + remap.pages * 4096 > 0x100000000) throw new Error('4 KiB remap must lie below 4 GiB (the page directories cover 4 GiB)');
  const tables = remap.pages / 512;
  if (PT_POOL + tables * 0x1000 > PT_POOL_END) throw new Error(`4 KiB remap needs ${tables} page tables, the pool holds ${(PT_POOL_END - PT_POOL) / 0x1000}`);
  for (let t = 0; t < tables; t++) {
    const pt = PT_POOL + t * 0x1000;
    const va = remap.va + t * MB2;
    put(PD0 + Math.floor(va / MB2) * 8, pt + TABLE);
    for (let i = 0; i < 512; i++) put(pt + 8 * i, remap.gpaOf(t * 512 + i) + LEAF_4K);
  }
  return tables;
}
