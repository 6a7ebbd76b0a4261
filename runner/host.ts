// The host fingerprint: what decides whether two results are comparable.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import type { Kvm } from './kvm.js';
import { caps, type CapName } from './kvm-abi.js';
import type { HostFingerprint } from '../reports/schema.js';

const read = (p: string, fallback = ''): string => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return fallback;
  }
};
/** "always [madvise] never" → "madvise" */
const bracketed = (s: string): string => /\[([^\]]+)\]/.exec(s)?.[1] ?? s;

const BACKENDS = ['kvm_intel', 'kvm_amd', 'kvm_pvm'];
/** Module parameters that change how a hole access is served. */
const KEY_PARAMS: Record<string, string[]> = {
  kvm: ['tdp_mmu', 'mmio_caching', 'eager_page_split', 'nx_huge_pages', 'halt_poll_ns'],
  kvm_intel: ['ept', 'enable_shadow_vmcs', 'unrestricted_guest', 'nested'],
  kvm_amd: ['npt', 'nested', 'avic'],
  kvm_pvm: ['pvm_native', 'pvm_emul_batch', 'force'],
};

/** A /proc/meminfo field (kB or a count); 0 when absent. */
export function meminfo(key: string): number {
  return Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(read('/proc/meminfo'))?.[1] ?? 0);
}

export function kvmBackend(): string {
  return BACKENDS.find((m) => existsSync(`/sys/module/${m}`)) ?? 'unknown';
}

export function kvmParams(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [mod, names] of Object.entries(KEY_PARAMS)) {
    const dir = `/sys/module/${mod}/parameters`;
    if (!existsSync(dir)) continue;
    const present = new Set(readdirSync(dir));
    for (const n of names) if (present.has(n)) out[`${mod}.${n}`] = read(`${dir}/${n}`);
  }
  return out;
}

export function fingerprint(kvm: Kvm, tscKhz: number): HostFingerprint {
  const capabilities: Record<string, number> = {};
  for (const c of Object.keys(caps) as CapName[]) capabilities[c] = kvm.checkExtension(c);
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(read('/proc/cpuinfo'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const fp: Omit<HostFingerprint, 'id'> = {
    kernel: release(),
    cpuModel,
    cpus: cpus().length,
    memoryBytes: totalmem(),
    kvmBackend: kvmBackend(),
    kvmParams: kvmParams(),
    capabilities,
    apiVersion: kvm.apiVersion(),
    tscKhz,
    thp: {
      enabled: bracketed(read('/sys/kernel/mm/transparent_hugepage/enabled', 'unavailable')),
      defrag: bracketed(read('/sys/kernel/mm/transparent_hugepage/defrag', 'unavailable')),
      shmemEnabled: bracketed(read('/sys/kernel/mm/transparent_hugepage/shmem_enabled', 'unavailable')),
    },
    hugetlb: { nrHugepages: meminfo('HugePages_Total'), freeHugepages: meminfo('HugePages_Free'), hugepageSizeKb: meminfo('Hugepagesize') },
    maxMapCount: Number(read('/proc/sys/vm/max_map_count', '0')),
    isRoot: process.getuid?.() === 0,
    node: process.version,
  };
  const id = createHash('sha256')
    .update(JSON.stringify([fp.kernel, fp.cpuModel, fp.cpus, fp.kvmBackend, fp.kvmParams]))
    .digest('hex')
    .slice(0, 12);
  return { ...fp, id };
}
