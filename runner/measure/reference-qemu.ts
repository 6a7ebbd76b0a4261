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

/** Boots one fresh QEMU VM on the image; returns the guest's phase marks. */
export function runQemu(rom: string, image: Uint8Array, ramFile: string, accel = 'kvm'): Mark[] {
  const fd = openSync(ramFile, 'w+');
  try {
    writeSync(fd, image, 0, image.length, 0);
    ftruncateSync(fd, QEMU_RAM);
  } finally {
    closeSync(fd);
  }
  const args = [
    ...['-accel', accel, '-machine', 'q35,memory-backend=ram', '-cpu', accel === 'kvm' ? 'host' : 'max', '-m', `${QEMU_RAM >> 20}M`],
    ...['-object', `memory-backend-file,id=ram,size=${QEMU_RAM >> 20}M,mem-path=${ramFile},share=on`],
    ...['-bios', rom, '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'none', '-monitor', 'none'],
    ...['-device', `isa-debug-exit,iobase=${PORT_DONE},iosize=1`],
  ];
  const r = spawnSync(QEMU, args, { encoding: 'utf8', timeout: 300_000 });
  // isa-debug-exit exits with (value << 1) | 1; anything else (0: reset after a triple fault
  // under -no-reboot) means the guest never signalled done.
  if (r.error || r.status === null || (r.status & 1) === 0) {
    throw new HostError(`QEMU did not run the scan to its end (status ${r.status ?? r.signal ?? r.error?.message}): ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}`);
  }
  return readMarks(ramFile);
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
