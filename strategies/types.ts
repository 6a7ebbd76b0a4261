// The strategy interface: how one idea from the 2020 review thread serves the ECAM window.
// The VMM calls these hooks and knows nothing about any particular strategy.
import type { Kvm } from '../runner/vmm/kvm.js';
import type { Vm } from '../runner/vmm/vm.js';
import type { Vcpu } from '../runner/vmm/vcpu.js';
import type { Remap4k } from '../runner/guest/page-tables.js';
import type { PresentFunction } from '../runner/guest/guest-image.js';
import type { HostNeed } from '../runner/host/host-prep.js';
import type { Access, HostFingerprint } from '../runner/results/schema.js';
import type { GuestKind, Workload } from '../workloads/types.js';

/** What probe() learns about the host. */
export interface HostInfo {
  kvm: Kvm;
  fingerprint: HostFingerprint;
  options: StrategyOptions;
}

/** Command-line knobs for strategies that a patched kernel can run for real. */
export interface StrategyOptions {
  /** KVM capability number of a patched kernel's PCI-hole memslot (--pci-hole-cap). */
  pciHoleCap?: number;
  /** Memslot flag bit of that kernel (--pci-hole-flag). */
  pciHoleFlag?: number;
}

/** measured: the real mechanism runs. proxy: a measured stand-in (reason says for what). unsupported: reason + the fix. */
export type ProbeResult =
  | { status: 'measured'; reason?: string }
  | { status: 'proxy'; reason: string }
  | { status: 'unsupported'; reason: string };

export type { PresentFunction } from '../runner/guest/guest-image.js';

/** Everything a strategy may look at when it plans one VM; there is no VM yet (plan() has no side effects). */
export interface PlanContext {
  workload: Workload;
  access: Access;
  variant: string;
  /** The ECAM window as the platform declares it. */
  window: { base: number; size: number; buses: number };
  present: PresentFunction[];
  options: StrategyOptions;
}

/** What setup() and afterVcpus() get: the plan's context and the VM to set up. */
export interface SetupContext extends PlanContext {
  vm: Vm;
}

/** What the guest is told and how its page tables map the window. */
export interface WindowPlan {
  /** The last bus declared to the guest (MCFG end bus). */
  lastBus: number;
  /** The guest's config base = window.base + configOffset. */
  configOffset: number;
  /** Maps the window with 4 KiB guest pages to chosen GPAs (default: identity, 2 MiB pages). */
  remap?: Remap4k;
  guest: GuestKind;
  /** Publish the present functions in the boot info (guest-enlightenment). */
  publishPresent?: boolean;
}

/** Host resources a strategy allocated for one VM (Strategy.backingShared says when one backing serves every VM). */
export interface Backing {
  /** Resident host bytes of the backing now (mincore); 0 when there is none. */
  residentBytes(): number;
  /** Host mappings (VMAs) the backing uses. */
  mappings: number;
  /** Releases everything; called after the VM is closed. */
  release(): void;
}

/** The platform's window as declared, identity-mapped on 2 MiB guest pages, the unchanged Linux scan. */
export function fullWindowPlan(ctx: Pick<PlanContext, 'window'>): WindowPlan {
  return { lastBus: ctx.window.buses - 1, configOffset: 0, guest: 'linux' };
}

export const NO_BACKING: Backing = { residentBytes: () => 0, mappings: 0, release: () => {} };

export interface Strategy {
  id: string;
  /** Who proposed it in the 2020 KVM_MEM_PCI_HOLE review, and where. */
  origin: string;
  /** One line for `bench list`. */
  summary: string;
  /** Variants (e.g. 4k, thp, hugetlb); [''] when there are none. */
  variants: string[];
  /** Can it run here, and as what? Must not change the host. */
  probe(host: HostInfo, variant: string, access: Access, workload: Workload): ProbeResult;
  /** Decides what the guest sees; no host side effects. */
  plan(ctx: PlanContext): WindowPlan;
  /** Before vCPUs exist: memslots, irqchip, backing memory. Timed as the strategy's setup. */
  setup(ctx: SetupContext): Backing;
  /** Host limits this variant needs; raised when root (and restored at exit), else it is unsupported. */
  hostNeeds?(variant: string, workload: Workload): HostNeed[];
  /** Whether the variant's backing is one host-wide allocation shared by every VM (default: no). */
  backingShared?(variant: string): boolean;
  /** After vCPUs exist (e.g. KVM_PRE_FAULT_MEMORY); also timed as setup. */
  afterVcpus?(ctx: SetupContext, vcpus: Vcpu[]): void;
}
