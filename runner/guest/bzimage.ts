// The setup header of a bzImage (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header"),
// read so that a VMM can boot the kernel without firmware: the header is copied into the zero page
// and the compressed payload (the vmlinux ELF) is found from payload_offset/payload_length.

/** Setup header offsets in the bzImage file and in struct boot_params (the same offsets). */
export const hdr = {
  setupSects: 0x1f1,
  bootFlag: 0x1fe,
  /** The 2-byte jump at 0x200; the byte at 0x201 is the header's length past 0x202. */
  jump: 0x200,
  header: 0x202,
  version: 0x206,
  /** Pointer (less 0x200) to the kernel's version string. */
  kernelVersion: 0x20e,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  cmdLinePtr: 0x228,
  kernelAlignment: 0x230,
  xloadflags: 0x236,
  cmdlineSize: 0x238,
  payloadOffset: 0x248,
  payloadLength: 0x24c,
  prefAddress: 0x258,
  initSize: 0x260,
} as const;

const HDRS = 0x53726448; // "HdrS"
/** xloadflags bit 0: the kernel has the 64-bit entry point (boot.rst "64-bit Boot Protocol"). */
const XLF_KERNEL_64 = 1 << 0;

export type Compression = 'xz' | 'zstd' | 'gzip' | 'lz4' | 'lzma' | 'lzo' | 'bzip2' | 'unknown';

export interface BzImage {
  /** Boot protocol version, e.g. 0x20f for 2.15. */
  protocol: number;
  /** Bytes 0x1f1 up to the end of the setup header, to copy into the zero page at 0x1f1. */
  setupHeader: Uint8Array;
  cmdlineSize: number;
  initSize: number;
  /** The compressed vmlinux as the decompressor sees it (its last 4 bytes: the decompressed size). */
  payload: Uint8Array;
  compression: Compression;
  /** The version string the build put in the setup code (e.g. "6.1.0-57-amd64 (debian-kernel@…) #1 SMP …"), '' when absent. */
  kernelVersion: string;
  /** The decompressed size the build appended to the payload (arch/x86/boot/compressed/Makefile size_append). */
  vmlinuxSize: number;
}

/** Magic numbers at the start of each compressed payload (arch/x86/boot/compressed/Makefile suffixes). */
function compressionOf(p: Uint8Array): Compression {
  const starts = (...b: number[]) => b.every((x, i) => p[i] === x);
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x02, 0x21, 0x4c, 0x18)) return 'lz4';
  if (starts(0x5d, 0x00, 0x00)) return 'lzma';
  if (starts(0x89, 0x4c, 0x5a, 0x4f)) return 'lzo';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  return 'unknown';
}

/** Parses a bzImage; throws naming `name` and what is wrong when it cannot be booted by the 64-bit protocol. */
export function parseBzImage(file: Uint8Array, name: string): BzImage {
  if (file.length < 0x1000) throw new Error(`${name}: ${file.length} bytes, too short for a bzImage`);
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (dv.getUint16(hdr.bootFlag, true) !== 0xaa55 || dv.getUint32(hdr.header, true) !== HDRS) throw new Error(`${name}: not a bzImage (no 0xAA55 boot flag or "HdrS" header)`);
  const protocol = dv.getUint16(hdr.version, true);
  // 2.12 brought xloadflags (XLF_KERNEL_64), 2.08 payload_offset/payload_length.
  if (protocol < 0x20c) throw new Error(`${name}: boot protocol ${(protocol >> 8).toString()}.${protocol & 0xff}, the 64-bit entry needs 2.12 or later`);
  if (!(dv.getUint16(hdr.xloadflags, true) & XLF_KERNEL_64)) throw new Error(`${name}: the kernel has no 64-bit entry point (xloadflags XLF_KERNEL_64 is clear)`);
  const setupSects = file[hdr.setupSects] || 4; // 0 means 4 (boot.rst)
  const protectedMode = (setupSects + 1) * 512;
  const offset = protectedMode + dv.getUint32(hdr.payloadOffset, true);
  const length = dv.getUint32(hdr.payloadLength, true);
  if (length < 4 || offset + length > file.length) throw new Error(`${name}: payload [${offset}, +${length}) lies outside the file`);
  const payload = file.subarray(offset, offset + length);
  const end = hdr.header + file[hdr.jump + 1];
  return {
    protocol,
    setupHeader: file.slice(hdr.setupSects, end),
    cmdlineSize: dv.getUint32(hdr.cmdlineSize, true),
    initSize: dv.getUint32(hdr.initSize, true),
    payload,
    compression: compressionOf(payload),
    kernelVersion: versionString(file, dv.getUint16(hdr.kernelVersion, true)),
    vmlinuxSize: new DataView(payload.buffer, payload.byteOffset + length - 4, 4).getUint32(0, true),
  };
}

/** The NUL-terminated string at kernel_version + 0x200 (boot.rst "kernel_version"); '' when absent. */
function versionString(file: Uint8Array, ptr: number): string {
  if (!ptr) return '';
  const at = ptr + 0x200;
  const end = file.indexOf(0, at);
  if (at >= file.length || end < 0 || end - at > 256) return '';
  return new TextDecoder().decode(file.subarray(at, end));
}
