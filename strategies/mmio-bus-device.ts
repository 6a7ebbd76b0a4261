import { proxyPlan, proxyProbe, proxySetup } from './in-kernel-proxy.js';
import { KERNEL_VARIANT, MMIO_FILL_CAP, patchedProbe } from './patched-kvm.js';
import { PAGE, holeRuns, presentPages } from './window-slots.js';
import { NO_BACKING, fullWindowPlan, type Strategy } from './types.js';

const STANDS_FOR =
  'proxy for an in-kernel KVM_MMIO_BUS device over the hole (no stock kernel has one): each hole read exits to KVM and is answered ' +
  'in-kernel by a real MMIO-bus device, the IOAPIC data window, which is what such a device would be. Hole writes follow the reads to ' +
  'the IOAPIC stand-in and are dropped in-kernel; a coalesced-MMIO zone (KVM_REGISTER_COALESCED_MMIO) is registered over the hole runs ' +
  'of the window as the device\'s write sink. Linux never writes an absent function, so no workload here exercises writes; present ' +
  'devices keep full exits; the kernel variant runs the real device on a patched KVM (kernel/0002)';

/** Sean Christopherson's suggestion: an in-kernel MMIO-bus device answers hole reads with all-ones and drops writes. */
export const mmioBusDevice: Strategy = {
  id: 'mmio-bus-device',
  origin: 'Sean Christopherson, review of KVM_MEM_PCI_HOLE (2020): an in-kernel KVM_MMIO_BUS device instead of a memslot flag',
  summary: 'in-kernel MMIO-bus device answers hole reads and drops writes (IOAPIC proxy; variant kernel: KVM_REGISTER_MMIO_FILL on a patched KVM)',
  variants: ['', KERNEL_VARIANT],
  probe(host, variant, access) {
    if (variant === KERNEL_VARIANT) return patchedProbe(host, access, MMIO_FILL_CAP, 'KVM_REGISTER_MMIO_FILL, writes dropped in-kernel');
    const p = proxyProbe(host, access, STANDS_FOR);
    if (p.status === 'proxy' && !host.kvm.checkExtension('KVM_CAP_COALESCED_MMIO'))
      return { status: 'unsupported', reason: 'KVM_CAP_COALESCED_MMIO is 0: no in-kernel write sink' };
    return p;
  },
  plan: (ctx) => (ctx.variant === KERNEL_VARIANT ? fullWindowPlan(ctx) : proxyPlan(ctx)),
  setup(ctx) {
    // Zones only over hole pages: present functions' config accesses must still reach the VMM at once.
    const runs = holeRuns(ctx.window.size / PAGE, presentPages(ctx));
    if (ctx.variant === KERNEL_VARIANT) {
      for (const r of runs) ctx.vm.registerMmioFill(ctx.window.base + r.first * PAGE, r.pages * PAGE, 0xff);
      return NO_BACKING;
    }
    proxySetup(ctx);
    for (const r of runs) ctx.vm.registerCoalescedMmio(ctx.window.base + r.first * PAGE, r.pages * PAGE);
    return NO_BACKING;
  },
};
