// The harness's own cost per userspace exit (results.json harnessCost), as one line of text.
import type { HarnessCost } from './schema.js';
import { fmtNs, fmtRatio } from '../shared/format.js';

/** "+1.49 µs over a minimal C loop (1.09×; C 17.0 µs, koffi floor 17.9 µs, harness 18.5 µs; 3 fresh VMs each)" */
export function harnessCostText(cost: HarnessCost): string {
  if ('unavailable' in cost) return `not measured: ${cost.unavailable}`;
  const extra = cost.harnessNs - cost.cNs;
  return (
    `${extra >= 0 ? '+' : '−'}${fmtNs(Math.abs(extra))} over a minimal C KVM_RUN loop (harness/C ${fmtRatio(cost.harnessNs / cost.cNs)}; ` +
    `C ${fmtNs(cost.cNs)}, koffi floor ${fmtNs(cost.floorNs)}, harness ${fmtNs(cost.harnessNs)} per exit; ${cost.samples} fresh VMs each)`
  );
}
