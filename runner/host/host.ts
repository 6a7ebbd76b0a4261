// The host fingerprint: what decides whether two results are comparable.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import type { Kvm } from '../vmm/kvm.js';
import { caps, type CapName } from '../vmm/kvm-abi.js';
import type { HostFingerprint } from '../results/schema.js';
import { timingFromLab } from '../results/timing.js';
import { labFromEnv } from './lab-env.js';
import { HUGEPAGE_2M_KB, hugepages2m } from './hugetlb.js';

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
export const KEY_PARAMS: Record<string, string[]> = {
  kvm: ['tdp_mmu', 'mmio_caching', 'eager_page_split', 'nx_huge_pages', 'halt_poll_ns'],
  // eptad: EPT accessed/dirty bits, which change what an EPT violation costs.
  kvm_intel: ['ept', 'eptad', 'enable_shadow_vmcs', 'unrestricted_guest', 'nested'],
  kvm_amd: ['npt', 'nested', 'avic'],
  kvm_pvm: ['pvm_native', 'pvm_emul_batch', 'force'],
};

/** A /proc/meminfo field (kB or a count); 0 when absent. */
export function meminfo(key: string): number {
  return Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(read('/proc/meminfo'))?.[1] ?? 0);
}

/** The backend module, with "-shadow" when its nested paging is off (kvm_amd npt=0, kvm_intel ept=0):
 *  KVM then runs the shadow MMU (arch/x86/kvm/mmu/mmu.c without tdp_enabled), another path for every row. */
export function kvmBackend(sys = '/sys/module'): string {
  const m = BACKENDS.find((b) => existsSync(`${sys}/${b}`));
  if (!m) return 'unknown';
  const tdp = { kvm_amd: 'npt', kvm_intel: 'ept' }[m];
  return tdp && /^(N|0)$/.test(read(`${sys}/${m}/parameters/${tdp}`)) ? `${m}-shadow` : m;
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

/** What the fingerprint holds that needs no /dev/kvm (what `bench env` prints on a host without KVM). */
export type HostFacts = Omit<HostFingerprint, 'capabilities' | 'apiVersion' | 'tscKhz' | 'id'>;

export function hostFacts(env: NodeJS.ProcessEnv = process.env): HostFacts {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(read('/proc/cpuinfo'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const pool = hugepages2m();
  const lab = labFromEnv(env);
  return {
    kernel: release(),
    cpuModel,
    cpus: cpus().length,
    memoryBytes: totalmem(),
    kvmBackend: kvmBackend(),
    kvmParams: kvmParams(),
    thp: {
      enabled: bracketed(read('/sys/kernel/mm/transparent_hugepage/enabled', 'unavailable')),
      defrag: bracketed(read('/sys/kernel/mm/transparent_hugepage/defrag', 'unavailable')),
      shmemEnabled: bracketed(read('/sys/kernel/mm/transparent_hugepage/shmem_enabled', 'unavailable')),
    },
    // The 2 MiB pool the strategies allocate from, not the default size's (runner/host/hugetlb.ts).
    hugetlb: { nrHugepages: pool?.nr ?? 0, freeHugepages: pool?.free ?? 0, hugepageSizeKb: HUGEPAGE_2M_KB, defaultSizeKb: meminfo('Hugepagesize') },
    maxMapCount: Number(read('/proc/sys/vm/max_map_count', '0')),
    isRoot: process.getuid?.() === 0,
    node: process.version,
    ...(lab ? { lab } : {}),
    timing: timingFromLab(lab),
  };
}

/** The comparability hash: kernel, CPU, backend and its parameters; lab.accel only for lab runs
 *  (so ids of hosts measured outside a lab stay what they were), and lab.clock where recorded. */
export function hostId(fp: Pick<HostFingerprint, 'kernel' | 'cpuModel' | 'cpus' | 'kvmBackend' | 'kvmParams' | 'lab'>): string {
  const parts: unknown[] = [fp.kernel, fp.cpuModel, fp.cpus, fp.kvmBackend, fp.kvmParams];
  if (fp.lab) parts.push(fp.lab.accel);
  if (fp.lab?.clock) parts.push(fp.lab.clock);
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}

export function fingerprint(kvm: Kvm, tscKhz: number, env: NodeJS.ProcessEnv = process.env): HostFingerprint {
  const capabilities: Record<string, number> = {};
  for (const c of Object.keys(caps) as CapName[]) capabilities[c] = kvm.checkExtension(c);
  const fp: Omit<HostFingerprint, 'id'> = { ...hostFacts(env), capabilities, apiVersion: kvm.apiVersion(), tscKhz };
  return { ...fp, id: hostId(fp) };
}
