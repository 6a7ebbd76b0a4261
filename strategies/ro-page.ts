import { MADV_HUGEPAGE, MADV_NOHUGEPAGE, MAP_SHARED, PROT_READ, mmapChecked } from '../runner/vmm/libc.js';
import { closeSync } from 'node:fs';
import { HUGE_2M, HostMapping, PAGE } from '../runner/vmm/host-memory.js';
import { allOnesMemfd, backingOf, memfdBytes, withBacking } from './backing.js';
import { hugepagesFor, memslotProbe, thpProbe } from './host-checks.js';
import { addHoleSlots } from './window-slots.js';
import { Strategy, fullWindowPlan } from './types.js';

/** Michael Tsirkin's suggestion: a KVM_MEM_READONLY slot of real 0xff memory, ideally on hugepages.
 *  Reads are ordinary guest memory reads after the first-touch fault; writes exit to the VMM, which drops them. */
export const roPage: Strategy = {
  id: 'ro-page',
  origin: 'Michael S. Tsirkin, review of KVM_MEM_PCI_HOLE (2020): a read-only memslot of 0xff pages, hugepage-backed',
  summary: 'KVM_MEM_READONLY slot over the window backed by real 0xff memory (256 MiB for 256 buses)',
  variants: ['4k', 'thp', 'hugetlb'],
  hostNeeds: (variant, w) => (variant === 'hugetlb' ? [hugepagesFor((w.window.buses << 20) / HUGE_2M, 'a hugetlb-backed 0xff window')] : []),
  probe(host, variant, access) {
    const base = memslotProbe(host, access);
    if (base) return base;
    if (variant === 'thp') return thpProbe(host) ?? { status: 'measured' };
    return { status: 'measured' };
  },
  plan: fullWindowPlan,
  setup(ctx) {
    const size = ctx.window.size;
    if (ctx.variant === 'hugetlb') {
      const fd = allOnesMemfd(size, true, 'ro-page hugetlb');
      let map: HostMapping;
      try {
        map = new HostMapping(mmapChecked('mmap ro-page hugetlb', null, size, PROT_READ, MAP_SHARED, fd), size, 'ro-page hugetlb');
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      return withBacking(backingOf(map, { fd, mappings: 1, resident: () => memfdBytes(fd) }), () => addHoleSlots(ctx, (page) => map.ptr + BigInt(page * PAGE)));
    }
    const thp = ctx.variant === 'thp';
    const map = HostMapping.anonymous(size, `ro-page ${ctx.variant}`, thp ? HUGE_2M : PAGE);
    return withBacking(backingOf(map, { mappings: 1, resident: () => map.residentBytes() }), () => {
      map.madvise(thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE, thp ? 'MADV_HUGEPAGE' : 'MADV_NOHUGEPAGE');
      map.bytes.fill(0xff);
      addHoleSlots(ctx, (page) => map.ptr + BigInt(page * PAGE));
    });
  },
};
