// Probe checks shared by the memslot strategies.
import type { HostNeed } from '../runner/host/host-prep.js';
import { hugepages2mNeed } from '../runner/host/hugetlb.js';
import type { HostInfo, ProbeResult } from './types.js';

/** A read-only memslot needs KVM_CAP_READONLY_MEM and ECAM (port I/O never touches memory). */
export function memslotProbe(host: HostInfo, access: string): ProbeResult | null {
  if (access !== 'ecam') return { status: 'unsupported', reason: 'a memslot serves the ECAM window; conf1 accesses are port I/O and never reach it' };
  if (!host.kvm.checkExtension('KVM_CAP_READONLY_MEM')) return { status: 'unsupported', reason: 'KVM_CAP_READONLY_MEM is 0: this KVM has no read-only memslots' };
  return null;
}

/** THP must be enabled for madvise(MADV_HUGEPAGE) to give hugepages. */
export function thpProbe(host: HostInfo): ProbeResult | null {
  const t = host.fingerprint.thp.enabled;
  if (t === 'always' || t === 'madvise') return null;
  return { status: 'unsupported', reason: `transparent hugepages are '${t}'; run: echo madvise | sudo tee /sys/kernel/mm/transparent_hugepage/enabled` };
}

/** 2 MiB hugetlb pages in use by others plus `pages` for us (the 2048kB pool, not the default size's). */
export function hugepagesFor(pages: number, why: string, sysRoot?: string): HostNeed {
  return hugepages2mNeed(pages, why, sysRoot);
}
