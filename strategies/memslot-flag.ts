import { proxyPlan, proxyProbe, proxySetup } from './in-kernel-proxy.js';
import { addHoleSlots } from './window-slots.js';
import { NO_BACKING, fullWindowPlan, type Strategy, type StrategyContext } from './types.js';

const STANDS_FOR =
  'proxy for KVM_MEM_PCI_HOLE (never merged; upstream reused flag bit 2 for KVM_MEM_GUEST_MEMFD and cap 187 for KVM_CAP_STEAL_TIME): ' +
  'each hole read exits to KVM and is answered in-kernel by the IOAPIC data window; a patched kernel would answer from the memslot ' +
  '(a page-fault exit, not an MMIO-bus dispatch), and would exit to userspace on hole writes, which this workload does not make';

const realKernel = (ctx: Pick<StrategyContext, 'options'>) => ctx.options.pciHoleCap !== undefined && ctx.options.pciHoleFlag !== undefined;

/** The KVM_MEM_PCI_HOLE series (2020): KVM answers hole reads with 0xff from a memslot that has no backing memory. */
export const memslotFlag: Strategy = {
  id: 'memslot-flag',
  origin: 'the KVM_MEM_ALLONES RFC / KVM_MEM_PCI_HOLE v1-v2 series (2020)',
  summary: 'memslot flag: KVM answers hole reads in-kernel, no backing memory (proxy unless --pci-hole-cap/--pci-hole-flag name a patched kernel)',
  variants: [''],
  probe(host, _variant, access) {
    const o = host.options;
    if (o.pciHoleCap !== undefined && o.pciHoleFlag !== undefined) {
      if (access !== 'ecam') return { status: 'unsupported', reason: 'a memslot serves the ECAM window; conf1 is port I/O' };
      if (!host.kvm.checkExtension(o.pciHoleCap))
        return { status: 'unsupported', reason: `capability ${o.pciHoleCap} (--pci-hole-cap) is 0 on this kernel: it is not a KVM_MEM_PCI_HOLE kernel` };
      return { status: 'measured', reason: `patched kernel: capability ${o.pciHoleCap}, memslot flag bit ${o.pciHoleFlag}` };
    }
    return proxyProbe(host, access, STANDS_FOR);
  },
  plan: (ctx) => (realKernel(ctx) ? fullWindowPlan(ctx) : proxyPlan(ctx)),
  setup(ctx) {
    if (realKernel(ctx)) {
      // The series' slots have no backing: userspace_addr is not used for KVM_MEM_PCI_HOLE.
      addHoleSlots(ctx, () => 0n, (1 << (ctx.options.pciHoleFlag as number)) >>> 0);
      return NO_BACKING;
    }
    proxySetup(ctx);
    return NO_BACKING;
  },
};
