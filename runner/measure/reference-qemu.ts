// The QEMU column of `bench reference`: the same guest image run by qemu-system-x86_64 on q35,
// booted from a ROM of our own (runner/reference/qemu-boot.S) that enters the scan program in
// the state the harness gives it. Guest RAM is a file shared with QEMU (memory-backend-file,
// share=on), so the guest's TSC marks are read from it once the guest writes the done port,
// where isa-debug-exit ends QEMU. QEMU answers each hole read from its own memory API
// (hw/pci-host/q35.c → pcie_mmcfg_data_read: no device, all-ones): one exit to QEMU per read.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, openSync, readSync, closeSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostError } from '../shared/errors.js';
import { onPath } from '../shared/on-path.js';
import { CODE, INFO, MARKS, MARKS_STRIDE, PML4, PORT_DONE, RECORDS, STACK_TOP } from '../guest/guest-layout.js';
import { marksOf, type Mark } from './marks.js';

const SOURCE = fileURLToPath(new URL('../../../runner/reference/qemu-boot.S', import.meta.url));
export const QEMU = 'qemu-system-x86_64';
/** Guest RAM QEMU gets: the image (guest-layout RAM_SIZE) and room above it. */
const QEMU_RAM = 16 << 20;

/** Why QEMU cannot run here, or null. */
export function qemuUnavailable(): string | null {
  if (!onPath(QEMU)) return `${QEMU} is not installed (apt-get install qemu-system-x86)`;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'QEMU needs a usable /dev/kvm (-accel kvm)';
  }
  return null;
}

/** Assembles and links the boot ROM into dir; returns its path. */
export function buildQemuRom(dir: string, ecamBase: number): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const defs = { PML4, CODE, INFO, STACK: STACK_TOP, MARKS, RECORDS, ECAM: ecamBase };
  const obj = join(dir, 'qemu-boot.o');
  const rom = join(dir, 'qemu-boot.rom');
  try {
    execFileSync('cc', ['-c', ...Object.entries(defs).map(([k, v]) => `-D${k}=${hex(v)}`), '-o', obj, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('ld', ['-Ttext=0xffff0000', '--oformat=binary', '-o', rom, obj], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new HostError(`cannot build the QEMU boot ROM (needs cc and ld: apt-get install gcc binutils): ${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n')[0]}`);
  }
  return rom;
}

/**
 * CPU models for -accel kvm, in the order tried: the host's CPU, then the same without
 * IA32_ARCH_CAPABILITIES (MSR 0x10a). kvm_pvm refuses QEMU's write of that MSR, and QEMU 7.2
 * aborts in kvm_buf_set_msrs ("failed to set MSR 0x10a to …"); the guest never reads it.
 */
export const KVM_CPU_MODELS: { cpu: string; after?: RegExp }[] = [
  { cpu: 'host' },
  { cpu: 'host,-arch-capabilities', after: /failed to set MSR 0x10a\b/ },
];

/** A QEMU run that did not reach the done port, with QEMU's stderr. */
export class QemuFailed extends HostError {
  constructor(
    readonly status: string,
    readonly stderr: string,
  ) {
    super(`QEMU did not run the scan to its end (status ${status}): ${firstLine(stderr)}`);
  }
}

const firstLine = (text: string) => text.trim().split('\n')[0] ?? '';

/** Boots one fresh QEMU VM on the image; returns the guest's phase marks. */
export function runQemu(rom: string, image: Uint8Array, ramFile: string, accel = 'kvm', cpu = accel === 'kvm' ? 'host' : 'max'): Mark[] {
  const fd = openSync(ramFile, 'w+');
  try {
    writeSync(fd, image, 0, image.length, 0);
    ftruncateSync(fd, QEMU_RAM);
  } finally {
    closeSync(fd);
  }
  const args = [
    ...['-accel', accel, '-machine', 'q35,memory-backend=ram', '-cpu', cpu, '-m', `${QEMU_RAM >> 20}M`],
    ...['-object', `memory-backend-file,id=ram,size=${QEMU_RAM >> 20}M,mem-path=${ramFile},share=on`],
    ...['-bios', rom, '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'none', '-monitor', 'none'],
    ...['-device', `isa-debug-exit,iobase=${PORT_DONE},iosize=1`],
  ];
  const r = spawnSync(QEMU, args, { encoding: 'utf8', timeout: 300_000 });
  // isa-debug-exit exits with (value << 1) | 1; anything else (0: reset after a triple fault
  // under -no-reboot) means the guest never signalled done.
  if (r.error || r.status === null || (r.status & 1) === 0) throw new QemuFailed(String(r.status ?? r.signal ?? r.error?.message), r.stderr ?? '');
  return readMarks(ramFile);
}

/** The CPU model QEMU ran with under KVM, and why it is not the first one tried. */
export interface QemuCpu {
  cpu: string;
  /** QEMU's complaint about each model tried before this one. */
  refused: string[];
}

/**
 * Runs the image under -accel kvm with the first CPU model of KVM_CPU_MODELS that this host's KVM
 * accepts: the next model is tried only when QEMU failed with the complaint that model answers.
 */
export function runQemuKvm(rom: string, image: Uint8Array, ramFile: string): { marks: Mark[]; cpu: QemuCpu } {
  const refused: string[] = [];
  let last: QemuFailed | null = null;
  for (const { cpu, after } of KVM_CPU_MODELS) {
    if (last && !after?.test(last.stderr)) break;
    try {
      return { marks: runQemu(rom, image, ramFile, 'kvm', cpu), cpu: { cpu, refused } };
    } catch (e) {
      if (!(e instanceof QemuFailed)) throw e;
      last = e;
      refused.push(`-cpu ${cpu}: ${firstLine(e.stderr) || `status ${e.status}`}`);
    }
  }
  throw last!;
}

/** One line: the model QEMU ran with, and what it fell back from. */
export function qemuCpuText(c: QemuCpu): string {
  return `-cpu ${c.cpu}${c.refused.length ? ` (this host's KVM refused ${c.refused.join('; ')})` : ''}`;
}

/** The marks block of vCPU 0 in a RAM file. */
function readMarks(ramFile: string): Mark[] {
  const buf = Buffer.alloc(MARKS_STRIDE);
  const fd = openSync(ramFile, 'r');
  try {
    readSync(fd, buf, 0, buf.length, MARKS);
  } finally {
    closeSync(fd);
  }
  const marks = marksOf(buf, MARKS);
  if (!marks) throw new HostError(`the guest's marks block under QEMU is corrupt (write pointer ${buf.readBigUInt64LE(0)})`);
  return marks;
}
