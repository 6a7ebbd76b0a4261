import { proxyPlan, proxyProbe, proxySetup } from './in-kernel-proxy.js';
import { KERNEL_VARIANT, PCI_HOLE_CAP, PCI_HOLE_MMIO_CAP, patchedProbe } from './patched-kvm.js';
import { addHoleSlots } from './window-slots.js';
import { KVM_MEM_PCI_HOLE_BIT, KVM_MEM_PCI_HOLE_MMIO_BIT } from '../runner/vmm/kvm-abi.js';
import { NO_BACKING, fullWindowPlan, type Strategy, type StrategyOptions } from './types.js';

/** Ours, not the series': the flag's slots with KVM_MEM_PCI_HOLE_MMIO too (kernel/0006), reads mapped by MMIO SPTEs. */
export const KERNEL_MMIO_SPTE = 'kernel-mmio-spte';

const STANDS_FOR =
  'proxy for KVM_MEM_PCI_HOLE (never merged; upstream reused flag bit 2 for KVM_MEM_GUEST_MEMFD and cap 187 for KVM_CAP_STEAL_TIME): ' +
  'each hole read exits to KVM and is answered in-kernel by the IOAPIC data window; a patched kernel would answer from the memslot ' +
  '(a page-fault exit, not an MMIO-bus dispatch), and would exit to userspace on hole writes, which this workload does not make; ' +
  'the kernel variant runs the real flag on a patched KVM (kernel/0001)';

/** Capability and flag bit of the patched kernel: kernel/0001's private numbers unless --pci-hole-cap/--pci-hole-flag say otherwise. */
const capOf = (o: StrategyOptions) => o.pciHoleCap ?? PCI_HOLE_CAP;
const flagOf = (o: StrategyOptions) => (1 << (o.pciHoleFlag ?? KVM_MEM_PCI_HOLE_BIT)) >>> 0;
const MMIO_FLAG = (1 << KVM_MEM_PCI_HOLE_MMIO_BIT) >>> 0;

/** The KVM_MEM_PCI_HOLE series (2020): KVM answers hole reads with 0xff from a memslot that has no backing memory.
 *  Variant kernel: the series' mechanism as v2 proposed it (a read fault is emulated without an SPTE; on 6.1 it is
 *  retried once first). Variant kernel-mmio-spte: ours, not the series' — reads mapped by MMIO SPTEs as well. */
export const memslotFlag: Strategy = {
  id: 'memslot-flag',
  origin: 'the KVM_MEM_ALLONES RFC / KVM_MEM_PCI_HOLE v1-v2 series (2020); variant kernel-mmio-spte: pcihole-bench\'s improvement on it',
  summary:
    'memslot flag: KVM answers hole reads in-kernel, no backing memory (IOAPIC proxy; kernel: the series\' flag on a patched KVM; ' +
    'kernel-mmio-spte: ours, the flag with MMIO SPTEs for reads)',
  variants: ['', KERNEL_VARIANT, KERNEL_MMIO_SPTE],
  probe(host, variant, access) {
    if (variant === KERNEL_VARIANT) return patchedProbe(host, access, capOf(host.options), `KVM_MEM_PCI_HOLE, memslot flag bit ${Math.log2(flagOf(host.options))}, the series' read path`);
    if (variant === KERNEL_MMIO_SPTE) {
      const base = patchedProbe(host, access, capOf(host.options), `KVM_MEM_PCI_HOLE, memslot flag bit ${Math.log2(flagOf(host.options))}`);
      if (base.status !== 'measured') return base;
      return patchedProbe(host, access, PCI_HOLE_MMIO_CAP, `KVM_MEM_PCI_HOLE_MMIO, memslot flag bit ${KVM_MEM_PCI_HOLE_MMIO_BIT}: ours, not the series'; reads mapped by MMIO SPTEs`);
    }
    return proxyProbe(host, access, STANDS_FOR);
  },
  plan: (ctx) => (ctx.variant === KERNEL_VARIANT || ctx.variant === KERNEL_MMIO_SPTE ? fullWindowPlan(ctx) : proxyPlan(ctx)),
  setup(ctx) {
    if (ctx.variant === KERNEL_VARIANT || ctx.variant === KERNEL_MMIO_SPTE) {
      // Slots with no backing: the patched kernel requires userspace_addr 0 for KVM_MEM_PCI_HOLE.
      addHoleSlots(ctx, () => 0n, (flagOf(ctx.options) | (ctx.variant === KERNEL_MMIO_SPTE ? MMIO_FLAG : 0)) >>> 0);
      return NO_BACKING;
    }
    proxySetup(ctx);
    return NO_BACKING;
  },
};
