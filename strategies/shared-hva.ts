import { closeSync } from 'node:fs';
import { HUGE_2M, PAGE } from '../runner/vmm/host-memory.js';
import { sysctlNeed } from '../runner/host/host-prep.js';
import { aliasRegion, allOnesMemfd, backingOf, memfdBytes, withBacking } from './backing.js';
import { hugepagesFor, memslotProbe } from './host-checks.js';
import { addHoleSlots } from './window-slots.js';
import { FLAG_VARIANTS, singleHvaProbe, singleHvaSetup } from './single-hva-flag.js';
import { Strategy, fullWindowPlan } from './types.js';

/** VMAs the tool itself may hold besides the aliases (Node, V8, libraries). */
const MAP_HEADROOM = 8192;

/** Sean Christopherson's suggestion: every GFN of the slot maps to the same host page of 0xff.
 *  Done here in userspace by aliasing one memfd page over the window; the 2m variant aliases one
 *  2 MiB hugetlb page 128 times, keeping the hugepage a 4 KiB single-HVA flag would lose. The flag-4k /
 *  flag-2m variants run the flag itself on a patched KVM (kernel/0004): one slot per hole run, one page. */
export const sharedHva: Strategy = {
  id: 'shared-hva',
  origin: 'Sean Christopherson, review of KVM_MEM_PCI_HOLE (2020): map every GFN of the hole to one host page',
  summary: 'read-only slot whose every page is the same 0xff page: one memfd page aliased over the window',
  variants: ['4k', '2m', ...FLAG_VARIANTS],
  hostNeeds(variant, w) {
    const size = w.window.buses << 20;
    if (variant === '2m') return [hugepagesFor(1, 'one 2 MiB page of 0xff aliased over the window')];
    if (variant === 'flag-2m') return [hugepagesFor(1, 'one 2 MiB page of 0xff behind a KVM_MEM_SINGLE_HVA_2M slot')];
    if (variant === 'flag-4k') return [];
    return [sysctlNeed('vm.max_map_count', size / PAGE + MAP_HEADROOM, `aliasing ${size / PAGE} pages (one VMA each)`)];
  },
  probe: (host, variant, access) => memslotProbe(host, access) ?? (FLAG_VARIANTS.includes(variant) ? singleHvaProbe(host, variant, access) : { status: 'measured' }),
  plan: fullWindowPlan,
  setup(ctx) {
    if (FLAG_VARIANTS.includes(ctx.variant)) return singleHvaSetup(ctx);
    const unit = ctx.variant === '2m' ? HUGE_2M : PAGE;
    const count = ctx.window.size / unit;
    const fd = allOnesMemfd(unit, ctx.variant === '2m', `shared-hva ${ctx.variant}`);
    try {
      const region = aliasRegion(fd, unit, count, `shared-hva ${ctx.variant}`);
      return withBacking(backingOf(region, { fd, mappings: count, resident: () => memfdBytes(fd) }), () => addHoleSlots(ctx, (page) => region.ptr + BigInt(page * PAGE)));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  },
};
