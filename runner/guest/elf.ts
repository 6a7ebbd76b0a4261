// The loadable segments of an x86-64 vmlinux (ELF64, System V gABI "Program Header"), so that
// the VMM can place them at their physical addresses and enter startup_64 directly, as
// Firecracker does for its vmlinux guests: no decompressor runs in the guest.

export interface LoadSegment {
  /** Guest-physical load address (p_paddr). */
  paddr: number;
  /** Bytes from the file (p_filesz); the rest up to memsz is zero (bss). */
  data: Uint8Array;
  memsz: number;
}

export interface Elf64 {
  /** e_entry: for an x86-64 vmlinux, the physical address of startup_64 (vmlinux.lds ENTRY(phys_startup_64)). */
  entry: number;
  segments: LoadSegment[];
}

const PT_LOAD = 1;
const EM_X86_64 = 62;

export function parseElf64(file: Uint8Array, name: string): Elf64 {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 64 || dv.getUint32(0, false) !== 0x7f454c46) throw new Error(`${name}: not an ELF file`);
  if (file[4] !== 2 || file[5] !== 1 || dv.getUint16(18, true) !== EM_X86_64) throw new Error(`${name}: not a little-endian ELF64 x86-64 file`);
  const num = (at: number) => Number(dv.getBigUint64(at, true));
  const phoff = num(32);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const segments: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== PT_LOAD) continue;
    const offset = num(p + 8);
    const filesz = num(p + 32);
    if (offset + filesz > file.length) throw new Error(`${name}: segment ${i} runs past the end of the file`);
    segments.push({ paddr: num(p + 24), data: file.subarray(offset, offset + filesz), memsz: num(p + 40) });
  }
  if (!segments.length) throw new Error(`${name}: no loadable segment`);
  return { entry: num(24), segments };
}
