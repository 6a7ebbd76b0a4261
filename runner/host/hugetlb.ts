// The 2 MiB hugetlb pool. The strategies allocate MFD_HUGETLB | MFD_HUGE_2MB pages, but
// vm.nr_hugepages and /proc/meminfo's HugePages_* describe the DEFAULT hugepage size, which is
// 1 GiB on a host booted with default_hugepagesz=1G (raising vm.nr_hugepages to 128 there would
// reserve 128 GiB). Each size has its own pool under /sys/kernel/mm/hugepages/hugepages-<size>kB/
// (Documentation/admin-guide/mm/hugetlbpage.rst): read and raise the 2048kB one.
import { readFileSync } from 'node:fs';
import type { HostNeed } from './host-prep.js';
import { HUGEPAGES_2M_NAME } from '../results/host-limits.js';

export const HUGEPAGE_2M_KB = 2048;
/** The 2 MiB pool's size as a need and a raised limit are named (results.json host.raisedLimits):
 *  defined with the results' other limit names in runner/results/host-limits.ts. */
export { HUGEPAGES_2M_NAME };

/** The 2 MiB pool's directory under a sysfs root ('/sys' on a real host; tests pass their own). */
export function hugepages2mDir(sysRoot = '/sys'): string {
  return `${sysRoot}/kernel/mm/hugepages/hugepages-${HUGEPAGE_2M_KB}kB`;
}

/** Pages in the 2 MiB pool and how many are free; null when this kernel has no 2 MiB hugetlb pool. */
export function hugepages2m(sysRoot = '/sys'): { nr: number; free: number } | null {
  const dir = hugepages2mDir(sysRoot);
  try {
    const nr = Number(readFileSync(`${dir}/nr_hugepages`, 'utf8').trim());
    const free = Number(readFileSync(`${dir}/free_hugepages`, 'utf8').trim());
    return Number.isFinite(nr) && Number.isFinite(free) ? { nr, free } : null;
  } catch {
    return null;
  }
}

/** A need for `pages` 2 MiB pages on top of those others hold now (nr_hugepages − free_hugepages). */
export function hugepages2mNeed(pages: number, why: string, sysRoot = '/sys'): HostNeed {
  const pool = hugepages2m(sysRoot);
  const inUse = pool ? pool.nr - pool.free : 0;
  const atLeast = inUse + pages;
  const path = `${hugepages2mDir(sysRoot)}/nr_hugepages`;
  return {
    name: HUGEPAGES_2M_NAME,
    path,
    atLeast,
    why: `${why} (${pages} × 2 MiB hugetlb pages)`,
    fix: `echo ${atLeast} | sudo tee ${path}`,
  };
}
