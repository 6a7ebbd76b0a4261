import type { Strategy } from './types.js';
import { userspaceExit } from './userspace-exit.js';
import { memslotFlag } from './memslot-flag.js';
import { mmioBusDevice } from './mmio-bus-device.js';
import { sharedHva } from './shared-hva.js';
import { roPage } from './ro-page.js';
import { sptePrefetch } from './spte-prefetch.js';
import { guestEnlightenment } from './guest-enlightenment.js';
import { rightSizedWindow } from './right-sized-window.js';

/** Every strategy, baseline first, in the order tables and charts use. */
export const strategies: Strategy[] = [userspaceExit, memslotFlag, mmioBusDevice, sharedHva, roPage, sptePrefetch, guestEnlightenment, rightSizedWindow];

export type { Strategy } from './types.js';
