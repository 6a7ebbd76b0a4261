// Shared by the memslot strategies: which 4 KiB pages of the ECAM window are hole pages, and
// read-only memslots over them. Present functions' pages get no slot, so their config
// accesses still exit to the VMM's device model as they do under every strategy.
import { KVM_MEM_READONLY } from '../runner/vmm/kvm-abi.js';
import type { PlanContext, SetupContext } from './types.js';

export const PAGE = 4096;

/** A run of consecutive hole pages: [first, first + pages). */
export interface PageRun {
  first: number;
  pages: number;
}

/** Page index in the window of each present function (bus << 8 | devfn). */
export function presentPages(ctx: Pick<PlanContext, 'present'>): Set<number> {
  return new Set(ctx.present.map((p) => (p.bus << 8) | p.devfn));
}

/** The window's hole pages as maximal runs, in order. */
export function holeRuns(totalPages: number, present: Set<number>): PageRun[] {
  const runs: PageRun[] = [];
  let start = -1;
  for (let p = 0; p <= totalPages; p++) {
    const hole = p < totalPages && !present.has(p);
    if (hole && start < 0) start = p;
    if (!hole && start >= 0) {
      runs.push({ first: start, pages: p - start });
      start = -1;
    }
  }
  return runs;
}

/** One KVM_MEM_READONLY slot per hole run; `hvaOf(page)` gives the host address backing window page `page`. */
export function addHoleSlots(ctx: SetupContext, hvaOf: (page: number) => bigint, flags = KVM_MEM_READONLY): number {
  const runs = holeRuns(ctx.window.size / PAGE, presentPages(ctx));
  for (const r of runs) ctx.vm.addMemory(ctx.window.base + r.first * PAGE, r.pages * PAGE, hvaOf(r.first), flags);
  return runs.length;
}
