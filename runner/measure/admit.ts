// Before a command measures anything: /dev/kvm opened (a HostError with the fix when it cannot
// be), the host fingerprint results are tagged with, and whether each row can run here — the
// workload offers the access method, the host limits its variant needs are met, the strategy's
// probe says yes. `bench run`, `bench soak` and `bench env` all go through here.
import { Kvm } from '../vmm/kvm.js';
import { fingerprint } from '../host/host.js';
import { guestTscKhz } from '../guest/guest-tsc.js';
import { describeHostNeeds, ensureHostNeeds, type HostNeed } from '../host/host-prep.js';
import type { HostInfo, ProbeResult, Strategy, StrategyOptions } from '../../strategies/types.js';
import type { Workload } from '../../workloads/types.js';
import type { RowOf } from '../shared/row-id.js';
import { planOnly } from './plan-context.js';

/** Opens /dev/kvm for `command` (named in the missing-device hint) and takes the host fingerprint. */
export function openHost(command: string, options: StrategyOptions = {}): HostInfo {
  const kvm = Kvm.open(undefined, command);
  return { kvm, fingerprint: fingerprint(kvm, guestTscKhz(kvm)), options };
}

/** Can this row run here? Raises the host limits it needs when root (restored at exit). */
export function admitRow(host: HostInfo, row: RowOf<Strategy, Workload>): ProbeResult {
  return admit(host, row, (needs) => ({ blocked: ensureHostNeeds(needs, host.fingerprint.isRoot), raises: [] })).probe;
}

/** admitRow that changes nothing (`bench env`): short host limits are only described; for root,
 *  `raises` says what a run would raise for a row they do not block. */
export function previewRow(host: HostInfo, row: RowOf<Strategy, Workload>): { probe: ProbeResult; raises: string[] } {
  return admit(host, row, (needs) => describeHostNeeds(needs, host.fingerprint.isRoot));
}

type MeetNeeds = (needs: HostNeed[]) => { blocked: string | null; raises: string[] };

function admit(host: HostInfo, row: RowOf<Strategy, Workload>, meet: MeetNeeds): { probe: ProbeResult; raises: string[] } {
  const { strategy, variant, workload, access } = row;
  if (!workload.access.includes(access)) return { probe: { status: 'unsupported', reason: workload.accessNote ?? `${workload.id} does not support ${access}` }, raises: [] };
  const needs = meet(strategy.hostNeeds?.(variant, workload) ?? []);
  if (needs.blocked) return { probe: { status: 'unsupported', reason: needs.blocked }, raises: [] };
  const probe = strategy.probe(host, variant, access, workload);
  const kernelWhy = probe.status === 'unsupported' ? null : kernelProblem(host, row);
  if (kernelWhy) return { probe: { status: 'unsupported', reason: kernelWhy }, raises: [] };
  return { probe, raises: needs.raises };
}

/** Why a real-kernel workload cannot run this row here, or null. */
function kernelProblem(host: HostInfo, row: RowOf<Strategy, Workload>): string | null {
  if (!row.workload.kernel) return null;
  if (host.fingerprint.kvmBackend === 'kvm_pvm')
    return 'kvm_pvm cannot boot a real kernel: in the feasibility study of this workload a directly loaded vmlinux stopped there with KVM_EXIT_INTERNAL_ERROR at cmpxchg16b, xrstor and int3 (guest CPL0 is emulated, ~3600x slower than CPL3); run it in the lab: bench lab -- run --workload linux-kernel-q35';
  const plan = planOnly(row.strategy, row.workload, row.access, row.variant, host.options);
  if (plan.remap || plan.configOffset !== 0) return 'remaps the guest\'s view of the window in its page tables; a real kernel builds its own';
  if (plan.guest !== 'linux' || plan.publishPresent) return 'changes the guest\'s scan code; a real kernel runs its own';
  return null;
}
