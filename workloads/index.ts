import type { Workload } from './types.js';
import { linuxQ35Boot } from './linux-q35-boot.js';

/** Every workload, in the order `bench list` and `--workload all` use. */
export const workloads: Workload[] = [linuxQ35Boot];

export type { Workload } from './types.js';
