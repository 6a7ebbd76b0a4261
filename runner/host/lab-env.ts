// PCIHOLE_LAB: set by `bench lab` for the suite it runs inside its VM, as JSON
// {"accel":"tcg"|"kvm","outerKernel":…,"outerCpu":…,"outerHostId"?:…,"qemu":…,"guestKernel":…}.
// Absent or invalid: not a lab run (the fingerprint has no lab field).
import { asLabInfo, type LabInfo } from '../results/schema.js';

export const LAB_ENV = 'PCIHOLE_LAB';

/** The lab a run happens in, or undefined when PCIHOLE_LAB is unset, not JSON or not a lab description. */
export function labFromEnv(env: NodeJS.ProcessEnv = process.env): LabInfo | undefined {
  const text = env[LAB_ENV];
  if (!text) return undefined;
  try {
    return asLabInfo(JSON.parse(text));
  } catch {
    return undefined;
  }
}
