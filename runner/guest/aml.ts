// A tiny AML encoder (ACPI 6.5 chapter 20) and the resource descriptors of a _CRS buffer (6.4):
// just what the DSDT of runner/guest/acpi-tables.ts declares. Every function returns the bytes.

export type Bytes = number[];

const ZERO_OP = 0x00;
const ONE_OP = 0x01;
const NAME_OP = 0x08;
const BYTE_PREFIX = 0x0a;
const WORD_PREFIX = 0x0b;
const DWORD_PREFIX = 0x0c;
const SCOPE_OP = 0x10;
const BUFFER_OP = 0x11;
const EXT_OP_PREFIX = 0x5b;
const DEVICE_OP = 0x82; // after EXT_OP_PREFIX
const ROOT_CHAR = 0x5c; // '\'
const NAME_SEG_SIZE = 4;

/** `v` as `n` little-endian bytes; throws if it is not an unsigned integer that fits. */
function le(v: number, n: 1 | 2 | 4, what: string): Bytes {
  if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** (8 * n)) throw new Error(`${what} 0x${v.toString(16)} does not fit in ${n} bytes`);
  const out: Bytes = [];
  for (let i = 0; i < n; i++, v = Math.floor(v / 256)) out.push(v % 256);
  return out;
}

/** The PkgLength (20.2.4) in front of `body` bytes: the length it encodes counts its own bytes.
 *  One byte holds up to 63 in bits 0-5; otherwise bits 6-7 count the 1-3 bytes that follow,
 *  bits 0-3 hold the low nibble and each following byte the next 8 bits. */
export function pkgLength(body: number): Bytes {
  if (body + 1 <= 0x3f) return [body + 1];
  for (let follow = 1; follow <= 3; follow++) {
    const total = body + 1 + follow;
    if (total >= 2 ** (4 + 8 * follow)) continue;
    const out = [(follow << 6) | (total & 0xf)];
    for (let i = 0, rest = total >> 4; i < follow; i++, rest >>= 8) out.push(rest & 0xff);
    return out;
  }
  throw new Error(`AML package of ${body} bytes exceeds PkgLength's 28 bits`);
}

/** A NameSeg (20.2.2): a leading A-Z or '_', then A-Z, 0-9 or '_', padded to 4 with '_'. */
function nameSeg(name: string): Bytes {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(name)) throw new Error(`bad AML NameSeg '${name}'`);
  return [...name.padEnd(NAME_SEG_SIZE, '_')].map((c) => c.charCodeAt(0));
}

/** A NameString: one NameSeg, absolute when it starts with '\'. */
function nameString(path: string): Bytes {
  return path.startsWith('\\') ? [ROOT_CHAR, ...nameSeg(path.slice(1))] : nameSeg(path);
}

/** An Integer in its shortest form: ZeroOp, OneOp, or Byte/Word/DWord-prefixed (20.2.3). */
export function integer(v: number): Bytes {
  if (v === 0) return [ZERO_OP];
  if (v === 1) return [ONE_OP];
  if (v <= 0xff) return [BYTE_PREFIX, ...le(v, 1, 'AML integer')];
  if (v <= 0xffff) return [WORD_PREFIX, ...le(v, 2, 'AML integer')];
  return [DWORD_PREFIX, ...le(v, 4, 'AML integer')];
}

/** ASL's EISAID() (19.6): three letters packed 5 bits each, then four hex digits, stored
 *  in that byte order, so "PNP0A03" reads as the DWord 0x030AD041. */
export function eisaId(id: string): number {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new Error(`bad EISA id '${id}'`);
  const letter = (i: number) => id.charCodeAt(i) - 0x40; // 'A' is 1
  const vendor = (letter(0) << 10) | (letter(1) << 5) | letter(2);
  const product = parseInt(id.slice(3), 16);
  return (vendor >> 8) + (vendor & 0xff) * 0x100 + (product >> 8) * 0x10000 + (product & 0xff) * 0x1000000;
}

export const name = (seg: string, value: Bytes): Bytes => [NAME_OP, ...nameSeg(seg), ...value];

export function scope(path: string, ...terms: Bytes[]): Bytes {
  const body = [...nameString(path), ...terms.flat()];
  return [SCOPE_OP, ...pkgLength(body.length), ...body];
}

export function device(seg: string, ...terms: Bytes[]): Bytes {
  const body = [...nameSeg(seg), ...terms.flat()];
  return [EXT_OP_PREFIX, DEVICE_OP, ...pkgLength(body.length), ...body];
}

function buffer(data: Bytes): Bytes {
  const body = [...integer(data.length), ...data];
  return [BUFFER_OP, ...pkgLength(body.length), ...body];
}

// Resource data (6.4). A large item (6.4.3) is a tag byte 0x80 | item name, a u16 length of
// the rest, then the item; the End Tag (6.4.2.9) closes the template.
const LARGE_ITEM = 0x80;
const FIXED_MEMORY32 = LARGE_ITEM | 0x06; // 6.4.3.4
const DWORD_ADDRESS = LARGE_ITEM | 0x07; // 6.4.3.5.2
const WORD_ADDRESS = LARGE_ITEM | 0x08; // 6.4.3.5.3
const END_TAG = 0x79; // small item 0x0F, length 1
/** An End Tag checksum of 0 means "treat the template as checksummed" (6.4.2.9). */
const END_TAG_NO_CHECKSUM = 0;

/** Address space resource types (6.4.3.5, byte 3 of the descriptor). */
const SPACE_MEMORY = 0;
const SPACE_IO = 1;
const SPACE_BUS = 2;
/** General flags: _MIF and _MAF set (the range is exactly [min, max]), positive decode, and
 *  bit 0 clear = ResourceProducer, which Linux (drivers/acpi/resource.c acpi_decode_space)
 *  turns into an IORESOURCE_WINDOW the root bridge hands to its children. */
const MIN_MAX_FIXED_PRODUCER = 0x0c;
/** Bit 0 (_RW) of a memory descriptor's flags: read-write; the other bits 0 = non-cacheable
 *  (QEMU's choice for the PCI hole). */
const MEM_READ_WRITE = 0x01;
/** Type-specific flags: I/O decodes ISA and non-ISA ranges ("EntireRange"). */
const IO_ENTIRE_RANGE = 0x03;

function large(tag: number, item: Bytes): Bytes {
  return [tag, ...le(item.length, 2, 'resource descriptor length'), ...item];
}

/** A Word or DWord Address Space Descriptor for [min, max]: granularity and translation 0, the
 *  length max - min + 1 as 6.4.3.5 requires when both _MIF and _MAF are set. */
function addressSpace(size: 2 | 4, type: number, typeFlags: number, min: number, max: number): Bytes {
  if (max < min) throw new Error(`resource range 0x${min.toString(16)}-0x${max.toString(16)} is empty`);
  const field = (v: number) => le(v, size, 'resource range');
  const granularity = 0;
  const translation = 0;
  return large(size === 2 ? WORD_ADDRESS : DWORD_ADDRESS, [
    ...[type, MIN_MAX_FIXED_PRODUCER, typeFlags],
    ...[granularity, min, max, translation, max - min + 1].flatMap(field),
  ]);
}

export const wordBusNumber = (min: number, max: number) => addressSpace(2, SPACE_BUS, 0, min, max);
export const wordIo = (min: number, max: number) => addressSpace(2, SPACE_IO, IO_ENTIRE_RANGE, min, max);
export const dwordMemory = (min: number, max: number) => addressSpace(4, SPACE_MEMORY, MEM_READ_WRITE, min, max);

/** Memory32Fixed(ReadWrite, base, length) (6.4.3.4). */
export const memory32Fixed = (base: number, length: number) =>
  large(FIXED_MEMORY32, [MEM_READ_WRITE, ...le(base, 4, 'Memory32Fixed base'), ...le(length, 4, 'Memory32Fixed length')]);

/** ASL's ResourceTemplate(): a Buffer of the descriptors and the End Tag. */
export const resourceTemplate = (...descriptors: Bytes[]): Bytes => buffer([...descriptors.flat(), END_TAG, END_TAG_NO_CHECKSUM]);
