import type { Strategy } from './types.js';
import { userspaceExit } from './userspace-exit.js';

/** Every strategy, baseline first, in the order tables and charts use. */
export const strategies: Strategy[] = [userspaceExit];

export type { Strategy } from './types.js';
