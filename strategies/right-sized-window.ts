import { NO_BACKING, type Strategy } from './types.js';

/** Later in the same thread (pci=lastbus=N, a smaller MCFG): declare only the buses that exist.
 *  The guest runs the unchanged Linux scan; the peer-bridge fixup stops at the declared last bus. */
export const rightSizedWindow: Strategy = {
  id: 'right-sized-window',
  origin: 'KVM_MEM_PCI_HOLE review thread (2020), later replies: pci=lastbus= / an MCFG that ends at the last real bus',
  summary: 'MCFG declares buses 0..last real bus only; the unchanged Linux scan probes fewer buses',
  variants: [''],
  probe: () => ({ status: 'measured' }),
  plan: (ctx) => ({
    lastBus: Math.max(0, ...ctx.present.map((p) => Math.max(p.bus, p.subordinate))),
    configOffset: 0,
    guest: 'linux',
  }),
  setup: () => NO_BACKING,
};
