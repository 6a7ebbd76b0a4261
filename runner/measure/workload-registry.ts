// Lookup of workloads by id for the CLI and the sample worker. The misbehaving test guests
// join the list only when PCIHOLE_TEST_WORKLOADS=1, so users never see them.
import { workloads } from '../../workloads/index.js';
import { testFault, testHang } from '../../workloads/faulty-guests.js';
import type { Workload } from '../../workloads/types.js';

export function allWorkloads(): Workload[] {
  return process.env.PCIHOLE_TEST_WORKLOADS === '1' ? [...workloads, testHang, testFault] : workloads;
}
