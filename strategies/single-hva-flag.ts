// The shared-hva variants that use the patched KVM's single-HVA memslot flags (kernel/0004):
// one host page (4 KiB) or one 2 MiB hugetlb page behind every GFN, routed by KVM instead of by
// 65 536 (or 128) userspace aliases.
import { closeSync } from 'node:fs';
import { HUGE_2M, HostMapping, PAGE } from '../runner/vmm/host-memory.js';
import { KVM_MEM_READONLY, KVM_MEM_SINGLE_HVA_2M_BIT, KVM_MEM_SINGLE_HVA_BIT, caps } from '../runner/vmm/kvm-abi.js';
import { MAP_SHARED, PROT_READ, mmapChecked } from '../runner/vmm/libc.js';
import { aliasRegion, allOnesMemfd, backingOf, memfdBytes, withBacking } from './backing.js';
import { patchedProbe } from './patched-kvm.js';
import { addHoleSlots } from './window-slots.js';
import type { Backing, HostInfo, ProbeResult, SetupContext } from './types.js';

export const FLAG_VARIANTS = ['flag-4k', 'flag-2m'];

/** measured on a KVM reporting KVM_CAP_SINGLE_HVA, else unsupported naming it. */
export function singleHvaProbe(host: HostInfo, variant: string, access: string): ProbeResult {
  const flag = variant === 'flag-2m' ? 'KVM_MEM_SINGLE_HVA_2M' : 'KVM_MEM_SINGLE_HVA';
  return patchedProbe(host, access, caps.KVM_CAP_SINGLE_HVA, `${flag}, one read-only slot per hole run over one ${variant === 'flag-2m' ? '2 MiB hugetlb' : '4 KiB'} page`);
}

/** One memfd unit of 0xff mapped once; every hole slot points at it with the single-HVA flag. */
export function singleHvaSetup(ctx: SetupContext): Backing {
  const huge = ctx.variant === 'flag-2m';
  const unit = huge ? HUGE_2M : PAGE;
  const label = `shared-hva ${ctx.variant}`;
  const fd = allOnesMemfd(unit, huge, label);
  // 2m: KVM reads GFN → userspace_addr + (offset in the slot mod 2 MiB), so each slot needs 2 MiB
  // of host addresses from its userspace_addr. A slot that starts mid-frame starts at the same
  // offset of the page as its GPA has in its 2 MiB frame (guest and host stay 2 MiB-congruent,
  // so KVM can map whole frames huge), and its period runs on into a second view of the page.
  const views = huge ? 2 : 1;
  let map: HostMapping;
  try {
    map = huge ? aliasRegion(fd, unit, views, label) : new HostMapping(mmapChecked(`mmap ${label}`, null, unit, PROT_READ, MAP_SHARED, fd), unit, label);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const flags = KVM_MEM_READONLY | 2 ** (huge ? KVM_MEM_SINGLE_HVA_2M_BIT : KVM_MEM_SINGLE_HVA_BIT);
  const hvaOf = (page: number) => map.ptr + (huge ? BigInt((ctx.window.base + page * PAGE) % HUGE_2M) : 0n);
  return withBacking(backingOf(map, { fd, mappings: views, resident: () => memfdBytes(fd) }), () => addHoleSlots(ctx, hvaOf, flags));
}
