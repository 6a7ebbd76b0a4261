// The pieces that boot a real Linux kernel without firmware, on plain buffers: the bzImage setup
// header (boot.rst), the vmlinux ELF segments, the zero page's offsets (zero-page.rst), the e820
// map, the hypervisor CPUID bit and the earlyprintk UART.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hdr, parseBzImage } from '../runner/guest/bzimage.js';
import { parseElf64 } from '../runner/guest/elf.js';
import { E820_RAM, E820_RESERVED, e820Map, linuxLayout, withHypervisorBit, writeLinuxImage, zeroPage, type LinuxBoot } from '../runner/guest/linux-boot.js';
import { COM1, SerialConsole } from '../runner/devices/serial.js';

/** A bzImage with the fields the parser reads: protocol 2.15, 64-bit entry, an XZ payload of 16 bytes. */
function fakeBzImage(o: { version?: number; xlf?: number; magic?: boolean } = {}): Uint8Array {
  const f = new Uint8Array(0x3000);
  const dv = new DataView(f.buffer);
  f[hdr.setupSects] = 3;
  dv.setUint16(hdr.bootFlag, 0xaa55, true);
  f[hdr.jump] = 0xeb;
  f[hdr.jump + 1] = 0x6a; // header ends at 0x202 + 0x6a = 0x26c
  dv.setUint32(hdr.header, o.magic === false ? 0 : 0x53726448, true);
  dv.setUint16(hdr.version, o.version ?? 0x20f, true);
  dv.setUint16(hdr.xloadflags, o.xlf ?? 0x7f, true);
  dv.setUint32(hdr.cmdlineSize, 0x7ff, true);
  dv.setUint32(hdr.initSize, 0x3f98000, true);
  dv.setUint32(hdr.payloadOffset, 0x100, true);
  dv.setUint32(hdr.payloadLength, 20, true);
  dv.setUint16(hdr.kernelVersion, 0x200, true);
  f.set(new TextEncoder().encode('6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1\0'), 0x400);
  const payload = 4 * 512 + 0x100;
  f.set([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], payload);
  dv.setUint32(payload + 16, 65906612, true); // size_append: the decompressed size
  return f;
}

describe('bzImage setup header', () => {
  test('reads protocol, sizes and the payload behind (setup_sects + 1) * 512', () => {
    const b = parseBzImage(fakeBzImage(), 'k');
    assert.equal(b.protocol, 0x20f);
    assert.equal(b.cmdlineSize, 0x7ff);
    assert.equal(b.initSize, 0x3f98000);
    assert.equal(b.compression, 'xz');
    assert.equal(b.payload.length, 20);
    assert.equal(b.vmlinuxSize, 65906612);
    assert.equal(b.kernelVersion, '6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1');
    // 0x1f1 up to 0x202 + the jump's length byte
    assert.equal(b.setupHeader.length, 0x26c - 0x1f1);
    assert.equal(b.setupHeader[0], 3);
  });
  test('refuses what the 64-bit entry cannot boot, naming the file', () => {
    assert.throws(() => parseBzImage(fakeBzImage({ magic: false }), 'k1'), /k1: not a bzImage/);
    assert.throws(() => parseBzImage(fakeBzImage({ version: 0x20b }), 'k2'), /k2: boot protocol 2\.11/);
    assert.throws(() => parseBzImage(fakeBzImage({ xlf: 0 }), 'k3'), /k3: .*XLF_KERNEL_64/);
    assert.throws(() => parseBzImage(new Uint8Array(100), 'k4'), /k4: 100 bytes/);
  });
});

/** An ELF64 x86-64 file with one PT_LOAD (and one PT_NOTE the loader must skip). */
function fakeElf(): Uint8Array {
  const f = new Uint8Array(0x400);
  const dv = new DataView(f.buffer);
  dv.setUint32(0, 0x7f454c46, false);
  f[4] = 2;
  f[5] = 1;
  dv.setUint16(18, 62, true);
  dv.setBigUint64(24, 0x1000000n, true);
  dv.setBigUint64(32, 64n, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, 2, true);
  const ph = (i: number, type: number, off: number, paddr: number, filesz: number, memsz: number) => {
    const p = 64 + 56 * i;
    dv.setUint32(p, type, true);
    dv.setBigUint64(p + 8, BigInt(off), true);
    dv.setBigUint64(p + 24, BigInt(paddr), true);
    dv.setBigUint64(p + 32, BigInt(filesz), true);
    dv.setBigUint64(p + 40, BigInt(memsz), true);
  };
  ph(0, 4, 0x200, 0, 0x10, 0x10);
  ph(1, 1, 0x300, 0x1000000, 0x100, 0x2000);
  f.fill(0xcc, 0x300, 0x400);
  return f;
}

describe('vmlinux ELF', () => {
  test('keeps PT_LOAD segments at their physical addresses and the entry', () => {
    const e = parseElf64(fakeElf(), 'v');
    assert.equal(e.entry, 0x1000000);
    assert.deepEqual(e.segments.map((s) => [s.paddr, s.data.length, s.memsz]), [[0x1000000, 0x100, 0x2000]]);
    assert.equal(e.segments[0].data[0], 0xcc);
  });
  test('refuses a file that is not ELF64 x86-64', () => {
    assert.throws(() => parseElf64(new Uint8Array(64), 'v1'), /v1: not an ELF file/);
    const f = fakeElf();
    f[4] = 1;
    assert.throws(() => parseElf64(f, 'v2'), /v2: not a little-endian ELF64/);
  });
});

describe('zero page and e820', () => {
  const boot = (over: Partial<LinuxBoot> = {}): LinuxBoot => ({
    bzImage: parseBzImage(fakeBzImage(), 'k'),
    vmlinux: parseElf64(fakeElf(), 'v'),
    cmdline: 'acpi=off pci=conf1,noearly,lastbus=255',
    ramSize: 256 << 20,
    reserved: [{ addr: 0xb0000000, size: 0x10000000 }],
    ...over,
  });
  test('the e820 map: low RAM, the BIOS area reserved, RAM from 1 MiB, the ECAM window reserved, in order', () => {
    assert.deepEqual(e820Map(256 << 20, [{ addr: 0xb0000000, size: 0x10000000 }]), [
      { addr: 0, size: 0x9fc00, type: E820_RAM },
      { addr: 0x9fc00, size: 0x100000 - 0x9fc00, type: E820_RESERVED },
      { addr: 0x100000, size: (256 << 20) - 0x100000, type: E820_RAM },
      { addr: 0xb0000000, size: 0x10000000, type: E820_RESERVED },
    ]);
  });
  test('fields at zero-page.rst offsets: setup header at 0x1f1, loader 0xff, cmd_line_ptr, e820 count and table, RSDP', () => {
    const p = zeroPage(boot({ acpi: { bytes: new Uint8Array(36), rsdp: 0xe0000 } }));
    const dv = new DataView(p.buffer);
    assert.equal(p[0x1f1], 3);
    assert.equal(dv.getUint16(0x1fe, true), 0xaa55);
    assert.equal(dv.getUint32(0x202, true), 0x53726448);
    assert.equal(p[0x210], 0xff);
    assert.equal(dv.getUint32(0x228, true), linuxLayout.cmdline);
    assert.equal(p[0x1e8], 4);
    assert.equal(dv.getBigUint64(0x2d0 + 20 * 3, true), 0xb0000000n);
    assert.equal(dv.getUint32(0x2d0 + 20 * 3 + 16, true), E820_RESERVED);
    assert.equal(dv.getBigUint64(0x070, true), 0xe0000n);
    assert.equal(new DataView(zeroPage(boot()).buffer).getBigUint64(0x070, true), 0n, 'acpi=off: no RSDP');
  });
  test('the image: kernel at its paddr, command line NUL-terminated, boot GDT code/data at 0x10/0x18', () => {
    const ram = new Uint8Array(32 << 20);
    writeLinuxImage(ram, boot({ ramSize: ram.length }));
    assert.equal(ram[0x1000000], 0xcc);
    const cmd = 'acpi=off pci=conf1,noearly,lastbus=255';
    assert.equal(new TextDecoder().decode(ram.subarray(linuxLayout.cmdline, linuxLayout.cmdline + cmd.length)), cmd);
    assert.equal(ram[linuxLayout.cmdline + cmd.length], 0);
    const dv = new DataView(ram.buffer);
    assert.equal(dv.getBigUint64(linuxLayout.gdt + 0x10, true), 0x00af9b000000ffffn, 'L=1 code');
    assert.equal(dv.getBigUint64(linuxLayout.gdt + 0x18, true), 0x00cf93000000ffffn);
  });
  test('refuses a command line too long for the kernel and a kernel too big for guest RAM', () => {
    assert.throws(() => writeLinuxImage(new Uint8Array(32 << 20), boot({ ramSize: 32 << 20, cmdline: 'x'.repeat(0x7ff) })), /command line is 2047 bytes, this kernel takes 2046/);
    assert.throws(() => writeLinuxImage(new Uint8Array(16 << 20), boot({ ramSize: 16 << 20 })), /does not fit in 16 MiB/);
  });
});

test('CPUID.1:ECX[31] (hypervisor) is set on leaf 1 only, in a copy', () => {
  const b = Buffer.alloc(8 + 40 * 2);
  b.writeUInt32LE(2, 0);
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(1, 48);
  b.writeUInt32LE(0x1234, 48 + 20);
  const out = withHypervisorBit(b);
  assert.equal(out.readUInt32LE(48 + 20), 0x80001234);
  assert.equal(out.readUInt32LE(8 + 20), 0);
  assert.equal(b.readUInt32LE(48 + 20), 0x1234, 'the input is unchanged');
});

test('earlyprintk UART: LSR always idle, divisor latch kept, THR bytes become lines', () => {
  const lines: string[] = [];
  const s = new SerialConsole((l) => lines.push(l));
  assert.equal(s.read(COM1 + 5), 0x60);
  s.write(COM1 + 3, 0x83); // DLAB
  s.write(COM1, 1); // DLL, not a character
  assert.equal(s.read(COM1), 1);
  s.write(COM1 + 3, 0x03);
  for (const c of 'ok\r\nPCI\n') s.write(COM1, c.charCodeAt(0));
  assert.deepEqual(lines, ['ok', 'PCI']);
  assert.equal(s.bytes, 8);
  assert.ok(s.owns(COM1 + 7) && !s.owns(COM1 + 8));
});
