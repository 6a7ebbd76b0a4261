import { proxyPlan, proxyProbe, proxySetup } from './in-kernel-proxy.js';
import { KERNEL_VARIANT, PCI_HOLE_CAP, patchedProbe } from './patched-kvm.js';
import { addHoleSlots } from './window-slots.js';
import { KVM_MEM_PCI_HOLE_BIT } from '../runner/vmm/kvm-abi.js';
import { NO_BACKING, fullWindowPlan, type Strategy, type StrategyOptions } from './types.js';

const STANDS_FOR =
  'proxy for KVM_MEM_PCI_HOLE (never merged; upstream reused flag bit 2 for KVM_MEM_GUEST_MEMFD and cap 187 for KVM_CAP_STEAL_TIME): ' +
  'each hole read exits to KVM and is answered in-kernel by the IOAPIC data window; a patched kernel would answer from the memslot ' +
  '(a page-fault exit, not an MMIO-bus dispatch), and would exit to userspace on hole writes, which this workload does not make; ' +
  'the kernel variant runs the real flag on a patched KVM (kernel/0001)';

/** Capability and flag bit of the patched kernel: kernel/0001's private numbers unless --pci-hole-cap/--pci-hole-flag say otherwise. */
const capOf = (o: StrategyOptions) => o.pciHoleCap ?? PCI_HOLE_CAP;
const flagOf = (o: StrategyOptions) => (1 << (o.pciHoleFlag ?? KVM_MEM_PCI_HOLE_BIT)) >>> 0;

/** The KVM_MEM_PCI_HOLE series (2020): KVM answers hole reads with 0xff from a memslot that has no backing memory. */
export const memslotFlag: Strategy = {
  id: 'memslot-flag',
  origin: 'the KVM_MEM_ALLONES RFC / KVM_MEM_PCI_HOLE v1-v2 series (2020)',
  summary: 'memslot flag: KVM answers hole reads in-kernel, no backing memory (IOAPIC proxy; variant kernel: the real flag on a patched KVM)',
  variants: ['', KERNEL_VARIANT],
  probe(host, variant, access) {
    if (variant === KERNEL_VARIANT) return patchedProbe(host, access, capOf(host.options), `KVM_MEM_PCI_HOLE, memslot flag bit ${Math.log2(flagOf(host.options))}`);
    return proxyProbe(host, access, STANDS_FOR);
  },
  plan: (ctx) => (ctx.variant === KERNEL_VARIANT ? fullWindowPlan(ctx) : proxyPlan(ctx)),
  setup(ctx) {
    if (ctx.variant === KERNEL_VARIANT) {
      // Slots with no backing: the patched kernel requires userspace_addr 0 for KVM_MEM_PCI_HOLE.
      addHoleSlots(ctx, () => 0n, flagOf(ctx.options));
      return NO_BACKING;
    }
    proxySetup(ctx);
    return NO_BACKING;
  },
};
