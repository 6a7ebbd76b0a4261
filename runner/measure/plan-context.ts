// What a strategy plans from, the same for the suite's scan program and a real kernel's boot.
import { enumerate } from '../devices/pci-model.js';
import type { Access } from '../results/schema.js';
import type { PlanContext, PresentFunction, Strategy, StrategyOptions, WindowPlan } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import type { Kvm } from '../vmm/kvm.js';
import type { RowOf } from '../shared/row-id.js';

/** One fresh VM of one row: the strategy and workload, with the host's KVM and its supported CPUID. */
export interface SampleRequest extends RowOf<Strategy, Workload> {
  kvm: Kvm;
  cpuid: Buffer;
  options: StrategyOptions;
}

/** The ECAM window a workload declares, in bytes. */
export function windowOf(w: Workload): PlanContext['window'] {
  return { base: w.window.base, size: w.window.buses << 20, buses: w.window.buses };
}

/** What a strategy plans from: the workload's window and the functions Linux would find. */
export function planContext(workload: Workload, access: Access, variant: string, options: StrategyOptions): PlanContext {
  return { workload, access, variant, window: windowOf(workload), present: presentFunctions(workload), options };
}

/** What the strategy would tell the guest, without a VM (plan() has no side effects). */
export function planOnly(strategy: Strategy, workload: Workload, access: Access, variant: string, options: StrategyOptions): WindowPlan {
  return strategy.plan(planContext(workload, access, variant, options));
}

/** The functions Linux would find, with its bus numbering. */
export function presentFunctions(w: Workload): PresentFunction[] {
  return enumerate(w.topology).map(({ bus, devfn, secondary, subordinate }) => ({ bus, devfn, secondary, subordinate }));
}
