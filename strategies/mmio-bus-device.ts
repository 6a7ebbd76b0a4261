import { proxyPlan, proxyProbe, proxySetup } from './in-kernel-proxy.js';
import { NO_BACKING, type Strategy } from './types.js';

const STANDS_FOR =
  'proxy for an in-kernel KVM_MMIO_BUS device over the hole (no stock kernel has one): hole reads exit to KVM and are answered ' +
  'in-kernel by the IOAPIC data window; writes to the window are absorbed by a real coalesced-MMIO zone (KVM_REGISTER_COALESCED_MMIO) ' +
  'and applied by the VMM at its next exit instead of exiting each';

/** Sean Christopherson's suggestion: an in-kernel MMIO-bus device answers hole reads with all-ones and drops writes. */
export const mmioBusDevice: Strategy = {
  id: 'mmio-bus-device',
  origin: 'Sean Christopherson, review of KVM_MEM_PCI_HOLE (2020): an in-kernel KVM_MMIO_BUS device instead of a memslot flag',
  summary: 'in-kernel MMIO-bus device answers hole reads, coalesced-MMIO zone absorbs writes (proxy)',
  variants: [''],
  probe(host, _variant, access) {
    const p = proxyProbe(host, access, STANDS_FOR);
    if (p.status === 'proxy' && !host.kvm.checkExtension('KVM_CAP_COALESCED_MMIO'))
      return { status: 'unsupported', reason: 'KVM_CAP_COALESCED_MMIO is 0: no in-kernel write absorption' };
    return p;
  },
  plan: proxyPlan,
  setup(ctx) {
    proxySetup(ctx);
    ctx.vm.registerCoalescedMmio(ctx.window.base, ctx.window.size);
    return NO_BACKING;
  },
};
