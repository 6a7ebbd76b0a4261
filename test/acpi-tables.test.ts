// The ACPI tables of runner/guest/acpi-tables.ts read back byte by byte at the spec's offsets:
// checksums, lengths and layout, the pointers between tables, the MADT and MCFG entries, and
// the DSDT's AML (EisaIds, the Memory32Fixed over ECAM); plus the AML encoder's PkgLength.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acpiChecksum, buildAcpiTables, type AcpiSpec, type AcpiTables } from '../runner/guest/acpi-tables.js';
import { eisaId, integer, pkgLength } from '../runner/guest/aml.js';

const MiB = 0x100000;
const q35: AcpiSpec = {
  base: 0xe0000,
  size: 0x10000,
  cpus: 4,
  lapicAddress: 0xfee00000,
  ioapic: { id: 0, address: 0xfec00000, gsiBase: 0 },
  ecam: { base: 0xb0000000, startBus: 0, endBus: 255 },
  pciWindows: { io: [[0, 0xcf7], [0xd00, 0xffff]], mem32: [[0xc0000000, 0xfebfffff]] },
};

function tableOf(t: AcpiTables, signature: string): { bytes: Uint8Array; dv: DataView; gpa: number } {
  const e = t.tables.find((x) => x.signature === signature);
  assert.ok(e, `${signature} is laid out`);
  const bytes = t.bytes.subarray(e.gpa - t.rsdp, e.gpa - t.rsdp + e.length);
  return { bytes, dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), gpa: e.gpa };
}
const text = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
/** Index of `needle` in `hay`, or -1. */
function find(hay: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

/** The length a PkgLength encodes, decoded as 20.2.4 says. */
function decodePkg(p: number[]): number {
  const follow = p[0] >> 6;
  if (follow === 0) return p[0] & 0x3f;
  let v = p[0] & 0xf;
  for (let i = 1; i <= follow; i++) v += p[i] * 2 ** (4 + 8 * (i - 1));
  return v;
}

describe('layout and checksums', () => {
  const t = buildAcpiTables(q35);

  test('RSDP first at base, then XSDT, FACP, DSDT, APIC, MCFG, each 16-byte aligned, none overlapping, all inside size', () => {
    assert.equal(t.rsdp, q35.base);
    assert.deepEqual(t.tables.map((x) => x.signature), ['RSD PTR ', 'XSDT', 'FACP', 'DSDT', 'APIC', 'MCFG']);
    assert.equal(t.tables[0].gpa, q35.base);
    for (let i = 0; i < t.tables.length; i++) {
      const x = t.tables[i];
      assert.equal(x.gpa % 16, 0, `${x.signature} aligned`);
      if (i > 0) assert.ok(x.gpa >= t.tables[i - 1].gpa + t.tables[i - 1].length, `${x.signature} after ${t.tables[i - 1].signature}`);
    }
    const last = t.tables[t.tables.length - 1];
    assert.equal(t.bytes.length, last.gpa + last.length - q35.base);
    assert.ok(t.bytes.length <= q35.size);
  });

  test('every SDT carries its signature, its laid-out length, the OEM ids and a zero checksum', () => {
    for (const x of t.tables.slice(1)) {
      const { bytes, dv } = tableOf(t, x.signature);
      assert.equal(text(bytes, 0, 4), x.signature);
      assert.equal(dv.getUint32(4, true), x.length, `${x.signature} length`);
      assert.equal(text(bytes, 10, 16), 'PCIHOL');
      assert.equal(text(bytes, 16, 24), 'PCIHOLEB');
      assert.equal(dv.getUint32(24, true), 1, 'OEM revision');
      assert.equal(acpiChecksum(bytes), 0, `${x.signature} checksum`);
    }
  });

  test('RSDP: revision 2, length 36, both checksums 0, RSDT 0, XSDT address', () => {
    const { bytes, dv } = tableOf(t, 'RSD PTR ');
    assert.equal(bytes.length, 36);
    assert.equal(text(bytes, 0, 8), 'RSD PTR ');
    assert.equal(text(bytes, 9, 15), 'PCIHOL');
    assert.equal(bytes[15], 2);
    assert.equal(dv.getUint32(16, true), 0, 'RSDT address');
    assert.equal(dv.getUint32(20, true), 36);
    assert.equal(acpiChecksum(bytes.subarray(0, 20)), 0, 'ACPI 1.0 checksum');
    assert.equal(acpiChecksum(bytes), 0, 'extended checksum');
    assert.equal(dv.getBigUint64(24, true), BigInt(tableOf(t, 'XSDT').gpa));
  });

  test('a corrupted byte shows in the checksum', () => {
    const { bytes } = tableOf(buildAcpiTables(q35), 'MCFG');
    bytes[50] ^= 1;
    assert.notEqual(acpiChecksum(bytes), 0);
  });

  test('too small a size throws naming the size; so does a bad spec', () => {
    const need = t.bytes.length;
    assert.doesNotThrow(() => buildAcpiTables({ ...q35, size: need }));
    assert.throws(() => buildAcpiTables({ ...q35, size: need - 1 }), new RegExp(`need ${need} bytes, the ${need - 1} bytes`));
    assert.throws(() => buildAcpiTables({ ...q35, base: q35.base + 8 }), /not 16-byte aligned/);
    assert.throws(() => buildAcpiTables({ ...q35, cpus: 0 }), /at least one CPU/);
    assert.throws(() => buildAcpiTables({ ...q35, cpus: 256 }), /cpus 256/);
    assert.throws(() => buildAcpiTables({ ...q35, ecam: { base: 0xf0000000, startBus: 0, endBus: 255 } }), /end below 4 GiB/);
    assert.throws(() => buildAcpiTables({ ...q35, pciWindows: { io: [[0, 0x10000]], mem32: [] } }), /does not fit in 2 bytes/);
  });
});

describe('table contents', () => {
  const t = buildAcpiTables(q35);

  test('XSDT lists FACP, APIC and MCFG by GPA', () => {
    const { dv, bytes } = tableOf(t, 'XSDT');
    assert.equal(bytes.length, 36 + 3 * 8);
    const entries = [0, 1, 2].map((i) => Number(dv.getBigUint64(36 + 8 * i, true)));
    assert.deepEqual(entries, ['FACP', 'APIC', 'MCFG'].map((s) => tableOf(t, s).gpa));
    for (const [i, s] of ['FACP', 'APIC', 'MCFG'].entries()) assert.equal(text(t.bytes, entries[i] - t.rsdp, entries[i] - t.rsdp + 4), s);
  });

  test('FADT: revision 6.5, 276 bytes, HW-reduced, DSDT and X_DSDT at the DSDT, no FACS, boot flags without 8042', () => {
    const { dv, bytes } = tableOf(t, 'FACP');
    const dsdt = tableOf(t, 'DSDT').gpa;
    assert.equal(bytes.length, 276);
    assert.equal(bytes[8], 6);
    assert.equal(bytes[131], 5, 'minor version');
    assert.equal(dv.getUint32(40, true), dsdt, 'DSDT');
    assert.equal(dv.getBigUint64(140, true), BigInt(dsdt), 'X_DSDT');
    assert.equal(dv.getUint32(36, true), 0, 'FIRMWARE_CTRL');
    assert.equal(dv.getBigUint64(132, true), 0n, 'X_FIRMWARE_CTRL');
    const flags = dv.getUint32(112, true);
    assert.ok(flags & (1 << 20), 'HW_REDUCED_ACPI');
    const boot = dv.getUint16(109, true);
    assert.equal(boot & 0b11, 0, 'no legacy devices, no 8042');
    assert.ok(boot & (1 << 2), 'VGA not present');
    assert.ok(boot & (1 << 5), 'CMOS RTC not present');
  });

  test('MADT: the local APIC address, one enabled Local APIC per cpu (ids and UIDs 0..n-1), one I/O APIC', () => {
    for (const cpus of [1, 4, 255]) {
      const { dv, bytes } = tableOf(buildAcpiTables({ ...q35, cpus, ioapic: { id: 2, address: 0xfec01000, gsiBase: 24 } }), 'APIC');
      assert.equal(dv.getUint32(36, true), 0xfee00000);
      const lapics: number[][] = [];
      const ioapics: number[][] = [];
      for (let o = 44; o < bytes.length; o += bytes[o + 1]) {
        assert.ok(bytes[o + 1] > 0, 'entry length');
        if (bytes[o] === 0) lapics.push([bytes[o + 1], bytes[o + 2], bytes[o + 3], dv.getUint32(o + 4, true)]);
        else if (bytes[o] === 1) ioapics.push([bytes[o + 1], bytes[o + 2], dv.getUint32(o + 4, true), dv.getUint32(o + 8, true)]);
        else assert.fail(`unexpected MADT entry type ${bytes[o]}`);
      }
      assert.deepEqual(lapics, Array.from({ length: cpus }, (_, i) => [8, i, i, 1]), `${cpus} Local APICs`);
      assert.deepEqual(ioapics, [[12, 2, 0xfec01000, 24]]);
    }
  });

  test('MCFG: one allocation for segment 0 with the ECAM base and bus range', () => {
    const { dv, bytes } = tableOf(t, 'MCFG');
    assert.equal(bytes.length, 60);
    assert.equal(dv.getBigUint64(36, true), 0n, 'reserved');
    assert.equal(dv.getBigUint64(44, true), 0xb0000000n);
    assert.equal(dv.getUint16(52, true), 0);
    assert.deepEqual([bytes[54], bytes[55]], [0, 255]);
  });

  test('MCFG with a start bus: its base is where bus 0 would be, so bus startBus lands on ecam.base', () => {
    const { dv, bytes } = tableOf(buildAcpiTables({ ...q35, ecam: { base: 0xe0000000, startBus: 16, endBus: 31 } }), 'MCFG');
    assert.equal(Number(dv.getBigUint64(44, true)) + bytes[54] * MiB, 0xe0000000);
    assert.deepEqual([bytes[54], bytes[55]], [16, 31]);
  });

  test('DSDT AML: EisaIds PNP0A08, PNP0A03, PNP0C02 and a Memory32Fixed over exactly the ECAM window', () => {
    const { bytes } = tableOf(t, 'DSDT');
    assert.equal(bytes[8], 2, 'revision 2: 64-bit AML integers');
    const dword = 0x0c;
    for (const [id, v] of [['PNP0A08', 0x080ad041], ['PNP0A03', 0x030ad041], ['PNP0C02', 0x020cd041]] as const) {
      assert.ok(find(bytes, [dword, ...le32(v)]) > 0, `EisaId ${id}`);
    }
    const mem32Fixed = [0x86, 0x09, 0x00, 0x01, ...le32(0xb0000000), ...le32(256 * MiB)];
    assert.ok(find(bytes, mem32Fixed) > 0, 'Memory32Fixed(ReadWrite, 0xB0000000, 256 MiB)');
    assert.equal(bytes[36], 0x10, 'the AML is one Scope');
    const pkgBytes = 1 + (bytes[37] >> 6);
    assert.equal(find(bytes, [0x5c, ...ascii('_SB_')]), 37 + pkgBytes, 'Scope (\\_SB): ScopeOp, PkgLength, then the name');
    assert.equal(decodePkg([...bytes.subarray(37, 37 + pkgBytes)]), bytes.length - 37, "the Scope's PkgLength runs to the end of the DSDT");
  });

  test('DSDT _CRS of PCI0: a WordIO and a DWordMemory producer per window', () => {
    const { bytes } = tableOf(t, 'DSDT');
    // 0x88 length 13, type 1 (I/O), producer with fixed min and max, EntireRange, granularity 0, min, max, translation 0, length
    assert.ok(find(bytes, [0x88, 13, 0, 1, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3]) > 0, 'WordIO 0xD00-0xFFFF');
    assert.ok(find(bytes, [0x88, 13, 0, 1, 0x0c, 0x03, 0, 0, 0, 0, 0xf7, 0x0c, 0, 0, 0xf8, 0x0c]) > 0, 'WordIO 0-0xCF7');
    // 0x87 length 23, type 0 (memory), producer with fixed min and max, read-write non-cacheable
    assert.ok(find(bytes, [0x87, 23, 0, 0, 0x0c, 0x01, ...le32(0), ...le32(0xc0000000), ...le32(0xfebfffff), ...le32(0), ...le32(0x3ec00000)]) > 0, 'DWordMemory');
  });

  test('DSDT with 16 buses from bus 16: the Memory32Fixed covers 16 MiB at ecam.base, _BBN is 16', () => {
    const { bytes } = tableOf(buildAcpiTables({ ...q35, ecam: { base: 0xe0000000, startBus: 16, endBus: 31 } }), 'DSDT');
    assert.ok(find(bytes, [0x86, 0x09, 0x00, 0x01, ...le32(0xe0000000), ...le32(16 * MiB)]) > 0);
    assert.ok(find(bytes, [0x08, ...ascii('_BBN'), 0x0a, 16]) > 0, 'Name(_BBN, 0x10)');
    // WordBusNumber: 0x88, length 13, type 2 (bus), producer with fixed min and max, min 16, max 31, length 16
    assert.ok(find(bytes, [0x88, 13, 0, 2, 0x0c, 0, 0, 0, 16, 0, 31, 0, 0, 0, 16, 0]) > 0);
  });
});

describe('AML encoding', () => {
  test('PkgLength counts its own bytes and changes size at encoded lengths 63/64, 4095/4096, 2^20-1/2^20', () => {
    const cases: Array<[number, number[]]> = [
      [0, [0x01]],
      [62, [0x3f]], // encodes 63: the largest single byte
      [63, [0x41, 0x04]], // 63 + 2 = 65
      [4093, [0x4f, 0xff]], // encodes 4095: the largest two-byte form
      [4094, [0x81, 0x00, 0x01]], // 4094 + 3 = 4097
      [2 ** 20 - 4, [0x8f, 0xff, 0xff]], // encodes 2^20 - 1
      [2 ** 20 - 3, [0xc1, 0x00, 0x00, 0x01]], // 2^20 - 3 + 4 = 2^20 + 1
    ];
    for (const [body, want] of cases) {
      const got = pkgLength(body);
      assert.deepEqual(got, want, `body ${body}`);
      assert.equal(decodePkg(got), body + got.length, `body ${body} decodes to body + its own bytes`);
    }
    assert.throws(() => pkgLength(2 ** 28), /28 bits/);
  });

  test('integers take the shortest encoding', () => {
    assert.deepEqual(integer(0), [0x00]);
    assert.deepEqual(integer(1), [0x01]);
    assert.deepEqual(integer(0xff), [0x0a, 0xff]);
    assert.deepEqual(integer(0x100), [0x0b, 0x00, 0x01]);
    assert.deepEqual(integer(0x10000), [0x0c, 0x00, 0x00, 0x01, 0x00]);
    assert.throws(() => integer(2 ** 32));
  });

  test('EisaId packs like iasl', () => {
    assert.equal(eisaId('PNP0A03'), 0x030ad041);
    assert.equal(eisaId('PNP0C02'), 0x020cd041);
    assert.throws(() => eisaId('pnp0a03'));
  });
});
