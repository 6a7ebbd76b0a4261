import type { Workload } from './types.js';
import { linuxQ35Boot } from './linux-q35-boot.js';
import { ecamExhaustive } from './ecam-exhaustive.js';
import { cloudDense } from './cloud-dense.js';
import { rescan } from './rescan.js';
import { microvmPcie } from './microvm-pcie.js';
import { parallel2Vcpu } from './parallel-2vcpu.js';
import { linuxKernelQ35 } from './linux-kernel-q35.js';

/** Every workload, in the order `bench list` and `--workload all` use. */
export const workloads: Workload[] = [linuxQ35Boot, ecamExhaustive, cloudDense, rescan, microvmPcie, parallel2Vcpu, linuxKernelQ35];

export type { Workload } from './types.js';
