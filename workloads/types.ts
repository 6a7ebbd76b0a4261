import type { FunctionSpec } from '../runner/devices/pci-model.js';
import type { Access } from '../runner/shared/access.js';
import type { GuestCpu } from '../runner/guest/linux-boot.js';

/** How the guest finds devices: Linux's probing scan, or the VMM's published list (guest-enlightenment). */
export type GuestKind = 'linux' | 'enlightened';

/** Analytic counts for one scan pass. */
export interface ExpectedCounts {
  /** Config accesses (reads and writes) by phase name. */
  accesses: Record<string, number>;
  /** Hole accesses (probes of absent functions) by phase name. */
  holes: Record<string, number>;
  /** Config writes by phase name (all to present functions: BAR sizing, bus numbers), where the workload counts them. */
  writes?: Record<string, number>;
}

/** A real Linux kernel that the VMM boots instead of the suite's scan program (runner/measure/kernel-sample.ts). */
export interface KernelGuest {
  /** Guest RAM in bytes, from GPA 0. */
  ramSize: number;
  /** The command line for an access method when the platform declares buses 0..lastBus (conf1:
   *  pci=lastbus=; ECAM: the MCFG's end bus, which the VMM writes into the ACPI tables). verbose:
   *  the console prints what the discovery check reads (the reference boot); else it stays quiet
   *  (each character is exits: the measured boots). */
  cmdline(access: Access, lastBus: number, verbose: boolean): string;
  /** The console line that ends the boot. */
  endMarker: string;
}

/** A workload: a topology with its ECAM window, plus a scan program that knows its expected result. */
export interface Workload {
  id: string;
  /** One line for `bench list`. */
  summary: string;
  /** ECAM (MMCONFIG) window as the platform declares it. */
  window: { base: number; buses: number };
  /** The present functions, bridges with their children. */
  topology: FunctionSpec[];
  /** Access methods this workload can use, and why not the others. */
  access: Access[];
  accessNote?: string;
  vcpus: number;
  /** Scan passes per VM (rescan > 1); the first is cold. */
  passes: number;
  /** Phase names in the order the program marks them. */
  phases: string[];
  /** The phase made only of hole accesses (ns per access is measured on it), if any. */
  holePhase: string | null;
  /** Phases kept in a scan's `phases` but left out of its total ns (e.g. a start barrier, whose
   *  length is mostly host scheduling, not guest work). Default: none. */
  untimedPhases?: string[];
  /** Throws an Error naming the limit when the program cannot handle this topology (e.g. more
   *  bridges on one bus than its stack frame holds). runner/measure/sample.ts checkCapacity calls it
   *  with the workload's own topology before any VM exists. */
  checkTopology?(topology: FunctionSpec[]): void;
  /** Set when the guest is a real kernel: then program() is never called. */
  kernel?: KernelGuest;
  /** Builds the guest program. Identical bytes for every strategy of the same guest kind. */
  program(access: Access, guest: GuestKind): Uint8Array;
  /** Analytic accesses and hole accesses of one pass when the VMM declares buses 0..lastBus.
   *  A scan program's hole accesses never depend on the access method; other counts may (default:
   *  ecam). A real kernel's also depend on the method and on the guest's CPU (`cpu`). */
  expected(lastBus: number, guest: GuestKind, access?: Access, cpu?: GuestCpu): ExpectedCounts;
}
