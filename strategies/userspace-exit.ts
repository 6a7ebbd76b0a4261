import { NO_BACKING, type Strategy, fullWindowPlan } from './types.js';

/** Today's QEMU/kvmtool behaviour: no memslot over the window, so every access is a
 *  KVM_EXIT_MMIO (or a port-I/O exit for conf1) answered by the VMM with all-ones. */
export const userspaceExit: Strategy = {
  id: 'userspace-exit',
  origin: 'status quo (QEMU, kvmtool: memset(data, 0xff, len) on KVM_EXIT_MMIO)',
  summary: 'baseline: no memslot, every hole access exits to the VMM',
  variants: [''],
  probe: () => ({ status: 'measured' }),
  plan: fullWindowPlan,
  setup: () => NO_BACKING,
};
