// Guests that misbehave on purpose, for the hardening tests: one never signals done, one
// faults. Listed only when PCIHOLE_TEST_WORKLOADS=1 (see runner/measure/workload-registry.ts).
import { GuestProgram } from '../runner/guest/guest-program.js';
import { q35Topology } from './q35-topology.js';
import type { Workload } from './types.js';

function faulty(id: string, summary: string, body: (g: GuestProgram) => void): Workload {
  return {
    id,
    summary,
    window: { base: 0xb0000000, buses: 256 },
    topology: q35Topology,
    access: ['ecam'],
    vcpus: 1,
    passes: 1,
    phases: ['bus-scan', 'peer-bridge'],
    holePhase: 'peer-bridge',
    program(access) {
      const g = new GuestProgram(access);
      body(g);
      return g.finish();
    },
    expected: () => ({ accesses: { 'bus-scan': 0, 'peer-bridge': 0 }, holes: { 'bus-scan': 0, 'peer-bridge': 0 } }),
  };
}

/** Spins at CPL3 forever: KVM_RUN never returns, only the timeout can stop it. */
export const testHang = faulty('test-hang', 'test only: a guest that never signals done', (g) => {
  const top = g.a.label('spin');
  g.a.bind(top).jmp(top);
});

/** Executes ud2 with no IDT: a triple fault, KVM_EXIT_SHUTDOWN. */
export const testFault = faulty('test-fault', 'test only: a guest that triple-faults', (g) => {
  g.a.bytesRaw([0x0f, 0x0b]);
});
