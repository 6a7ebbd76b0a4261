// The userspace PCI device model (runner/devices/pci-model.ts): configuration headers, BAR size
// probing, capability lists, the hole, the type-1 port mechanism and bridge routing.
// No KVM needed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_ONES, PciFunction, PciModel, enumerate, type FunctionSpec } from '../runner/devices/pci-model.js';
import { q35Topology } from '../workloads/q35-topology.js';

const devfn = (dev: number, fn: number) => (dev << 3) | fn;
const cf8 = (bus: number, df: number, reg: number, enable = true) => ((enable ? 0x80000000 : 0) | (bus << 16) | (df << 8) | (reg & 0xfc)) >>> 0;

const nic: FunctionSpec = {
  dev: 2,
  fn: 0,
  vendor: 0x8086,
  device: 0x10d3,
  classCode: 0x020000,
  name: 'nic',
  bars: [
    { size: 0x20000, kind: 'mem32' }, // BAR0
    { size: 0x1000000, kind: 'mem32', prefetchable: true }, // BAR1
    { size: 0x4000, kind: 'mem64' }, // BAR2+3
    { size: 0x200000000, kind: 'mem64', prefetchable: true }, // BAR4+5: 8 GiB
  ],
  caps: [{ id: 0x01 }, { id: 0x10, body: new Array(58).fill(0) }, { id: 0x11, body: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }],
  extCaps: [0x0001, 0x000e, 0x0010],
};
const ioDev: FunctionSpec = { dev: 3, fn: 0, vendor: 0x1af4, device: 0x1000, classCode: 0x0c0500, name: 'io', bars: [{ size: 32, kind: 'io' }, { size: 256, kind: 'io' }] };

describe('PciFunction header', () => {
  test('vendor, device, class code and revision', () => {
    const f = new PciFunction(nic);
    assert.equal(f.read(0, 2), 0x8086);
    assert.equal(f.read(2, 2), 0x10d3);
    assert.equal(f.read(0, 4), 0x10d38086);
    assert.equal(f.read(1, 1), 0x80);
    assert.equal(f.read(8, 4), 0x02000001, 'class 02, subclass 00, prog-if 00, revision 1');
    assert.equal(f.read(0x0b, 1), 0x02, 'base class byte');
  });

  test('header type: 0 for a device, 1 for a bridge, bit 7 for multifunction', () => {
    assert.equal(new PciFunction(nic).read(0x0e, 1), 0x00);
    assert.equal(new PciFunction({ ...nic, multifunction: true }).read(0x0e, 1), 0x80);
    const bridge = new PciFunction({ dev: 1, fn: 0, vendor: 0x1b36, device: 1, classCode: 0x060400, name: 'br', bridge: { children: [] } });
    assert.equal(bridge.read(0x0e, 1), 0x01);
    assert.equal(new PciFunction({ ...nic, bars: [], multifunction: true, bridge: { children: [] } }).read(0x0e, 1), 0x81);
  });

  test('identity registers are read-only', () => {
    const f = new PciFunction(nic);
    f.write(0, 4, 0x12345678);
    f.write(8, 4, 0xffffffff);
    f.write(0x0e, 1, 0x7f);
    assert.equal(f.read(0, 4), 0x10d38086);
    assert.equal(f.read(8, 4), 0x02000001);
    assert.equal(f.read(0x0e, 1), 0);
  });

  test('command register and interrupt line are writable', () => {
    const f = new PciFunction(nic);
    f.write(0x04, 2, 0x0406);
    f.write(0x3c, 1, 11);
    assert.equal(f.read(0x04, 2), 0x0406);
    assert.equal(f.read(0x3c, 1), 11);
  });

  test('reads of any width within the 4 KiB space, all-ones past its end', () => {
    const f = new PciFunction(nic);
    assert.equal(f.read(0xfff, 1), 0);
    assert.equal(f.read(0xffe, 4), 0xffffffff);
    assert.equal(f.read(0xfff, 2), 0xffff);
  });
});

describe('BAR size probing', () => {
  /** Linux's __pci_read_base: save, write all-ones, read the mask, restore. */
  function probe(f: PciFunction, reg: number): { orig: number; mask: number; after: number } {
    const orig = f.read(reg, 4);
    f.write(reg, 4, 0xffffffff);
    const mask = f.read(reg, 4);
    f.write(reg, 4, orig);
    return { orig, mask, after: f.read(reg, 4) };
  }

  test('32-bit memory BAR: size mask with the flag bits kept, original restored', () => {
    const f = new PciFunction(nic);
    const b0 = probe(f, 0x10);
    assert.equal(b0.orig, 0x00000000);
    assert.equal(b0.mask, 0xfffe0000, '128 KiB, non-prefetchable mem32');
    assert.equal(b0.after, b0.orig);
    const b1 = probe(f, 0x14);
    assert.equal(b1.orig & 0xf, 0x8, 'prefetchable flag');
    assert.equal(b1.mask, 0xff000008, '16 MiB prefetchable');
    assert.equal(b1.after, b1.orig);
    // size from the mask as Linux computes it
    assert.equal((~(b1.mask & ~0xf) >>> 0) + 1, 0x1000000);
  });

  test('64-bit memory BAR below 4 GiB: low dword holds the mask and type 0b10, the upper dword is all writable', () => {
    const f = new PciFunction(nic);
    const lo = probe(f, 0x18);
    const hi = probe(f, 0x1c);
    assert.equal(lo.orig, 0x4, 'memory, 64-bit type');
    assert.equal(lo.mask, 0xffffc004, '16 KiB');
    assert.equal(hi.mask, 0xffffffff);
    assert.equal(lo.after, lo.orig);
    assert.equal(hi.after, hi.orig);
  });

  test('64-bit BAR larger than 4 GiB: the size shows in the upper dword', () => {
    const f = new PciFunction(nic);
    const lo = probe(f, 0x20);
    const hi = probe(f, 0x24);
    assert.equal(lo.mask, 0x0000000c, 'no writable low address bits, flags 64-bit + prefetchable');
    assert.equal(hi.mask, 0xfffffffe, '8 GiB = 2 in the upper dword');
    const size = (BigInt(~hi.mask >>> 0) << 32n) + BigInt(~(lo.mask & ~0xf) >>> 0) + 1n;
    assert.equal(size, 0x200000000n);
  });

  test('an address written to a BAR keeps only the bits above the size', () => {
    const f = new PciFunction(nic);
    f.write(0x10, 4, 0xfebf1234);
    assert.equal(f.read(0x10, 4), 0xfebe0000);
    // a byte write touches only its byte lane
    f.write(0x13, 1, 0x80);
    assert.equal(f.read(0x10, 4), 0x80be0000);
  });

  test('I/O BAR: bit 0 set, mask from bit 2 up', () => {
    const f = new PciFunction(ioDev);
    const b0 = probe(f, 0x10);
    assert.equal(b0.orig, 0x1);
    assert.equal(b0.mask, 0xffffffe1, '32 ports');
    assert.equal(b0.after, b0.orig);
    const b1 = probe(f, 0x14);
    assert.equal(b1.mask, 0xffffff01, '256 ports');
    f.write(0x10, 4, 0xc040);
    assert.equal(f.read(0x10, 4), 0xc041);
  });

  test('registers that are no BAR read 0 after an all-ones write', () => {
    const f = new PciFunction(ioDev);
    assert.equal(probe(f, 0x18).mask, 0);
    assert.equal(probe(f, 0x24).mask, 0);
  });

  test('too many BARs are rejected (6 on type 0, 2 on a bridge)', () => {
    const seven = Array.from({ length: 7 }, () => ({ size: 4096, kind: 'mem32' as const }));
    assert.throws(() => new PciFunction({ ...ioDev, bars: seven }), /too many BARs/);
    const three = [{ size: 4096, kind: 'mem32' as const }, { size: 4096, kind: 'mem64' as const }];
    assert.throws(() => new PciFunction({ ...ioDev, bars: three, bridge: { children: [] } }), /too many BARs/, 'a 64-bit BAR in the last bridge slot would spill into the bus numbers at 0x18');
    const five = Array.from({ length: 5 }, () => ({ size: 4096, kind: 'mem32' as const }));
    assert.throws(() => new PciFunction({ ...ioDev, bars: [...five, { size: 4096, kind: 'mem64' }] }), /too many BARs/, 'a 64-bit BAR needs two slots');
    assert.doesNotThrow(() => new PciFunction({ ...ioDev, bars: [...five.slice(1), { size: 4096, kind: 'mem64' }] }));
  });
});

describe('capability lists', () => {
  test('status bit 4, pointer at 0x34, dword-aligned chain in order, ending with 0', () => {
    const f = new PciFunction(nic);
    assert.equal(f.read(0x06, 2) & 0x10, 0x10);
    let at = f.read(0x34, 1);
    assert.ok(at >= 0x40, `first capability at 0x${at.toString(16)} is past the header`);
    const ids: number[] = [];
    const seen = new Set<number>();
    while (at) {
      assert.equal(at & 3, 0, `capability at 0x${at.toString(16)} is dword-aligned`);
      assert.ok(at < 0x100, 'standard capabilities live below 0x100');
      assert.ok(!seen.has(at), 'no loop');
      seen.add(at);
      ids.push(f.read(at, 1));
      const next = f.read(at + 1, 1);
      if (next) assert.ok(next > at, 'the next capability follows the previous one');
      at = next;
    }
    assert.deepEqual(ids, [0x01, 0x10, 0x11]);
  });

  test('capability bodies do not overlap the next header', () => {
    const f = new PciFunction(nic);
    const msix = [...seen(f)].find((a) => f.read(a, 1) === 0x11);
    assert.ok(msix !== undefined);
    assert.deepEqual(Array.from({ length: 10 }, (_, i) => f.read(msix + 2 + i, 1)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const pcie = [...seen(f)].find((a) => f.read(a, 1) === 0x10) as number;
    assert.ok(f.read(pcie + 1, 1) >= pcie + 2 + 58, 'next pointer leaves room for the 58-byte body');
  });

  test('no capabilities: status bit 4 clear and pointer 0', () => {
    const f = new PciFunction(ioDev);
    assert.equal(f.read(0x06, 2) & 0x10, 0);
    assert.equal(f.read(0x34, 1), 0);
  });

  test('extended capabilities chain from 0x100 (id, version 1, next), ending with 0', () => {
    const f = new PciFunction(nic);
    let at = 0x100;
    const ids: number[] = [];
    while (at) {
      assert.ok(at >= 0x100 && at < 0x1000 && (at & 3) === 0, `extended capability at 0x${at.toString(16)}`);
      const h = f.read(at, 4);
      ids.push(h & 0xffff);
      assert.equal((h >>> 16) & 0xf, 1, 'version 1');
      at = h >>> 20;
    }
    assert.deepEqual(ids, [0x0001, 0x000e, 0x0010]);
    assert.equal(new PciFunction(ioDev).read(0x100, 4), 0, 'no extended capabilities: header 0 ends the list');
  });
});

function* seen(f: PciFunction): Generator<number> {
  for (let at = f.read(0x34, 1); at; at = f.read(at + 1, 1)) yield at;
}

describe('PciModel: the hole', () => {
  test('ALL_ONES by access width', () => {
    assert.equal(ALL_ONES[1], 0xff);
    assert.equal(ALL_ONES[2], 0xffff);
    assert.equal(ALL_ONES[4], 0xffffffff);
  });

  test('reads of absent functions return all-ones of the access width and are counted', () => {
    const m = new PciModel(q35Topology);
    assert.equal(m.read(0, devfn(3, 0), 0, 1), 0xff);
    assert.equal(m.read(0, devfn(3, 0), 0, 2), 0xffff);
    assert.equal(m.read(0, devfn(3, 0), 0, 4), 0xffffffff);
    assert.equal(m.read(7, 0, 0x0e, 1), 0xff);
    assert.equal(m.read(0, devfn(0x1f, 1), 0, 4), 0xffffffff, 'a missing function of a multifunction device');
    assert.deepEqual(m.counters, { reads: 5, writes: 0, holeReads: 5, holeWrites: 0 });
    assert.equal(m.read(0, devfn(0x1f, 2), 0, 4), 0x29228086);
    assert.deepEqual(m.counters, { reads: 6, writes: 0, holeReads: 5, holeWrites: 0 });
  });

  test('writes to absent functions are dropped and counted; present ones are not disturbed', () => {
    const m = new PciModel(q35Topology);
    const before = Array.from({ length: 64 }, (_, i) => m.read(0, devfn(1, 0), i * 4, 4));
    m.write(0, devfn(3, 0), 0x04, 2, 0x7);
    m.write(0, devfn(1, 1), 0x10, 4, 0);
    m.write(9, 0, 0, 4, 0);
    assert.equal(m.counters.holeWrites, 3);
    assert.equal(m.counters.writes, 3);
    assert.equal(m.read(0, devfn(3, 0), 0x04, 2), 0xffff, 'still a hole');
    assert.deepEqual(Array.from({ length: 64 }, (_, i) => m.read(0, devfn(1, 0), i * 4, 4)), before);
    m.write(0, devfn(1, 0), 0x04, 2, 0x3);
    assert.equal(m.counters.holeWrites, 3, 'a present write is no hole write');
    assert.equal(m.read(0, devfn(1, 0), 0x04, 2), 0x3);
  });

  test('ECAM offsets decode as bus[27:20] devfn[19:12] reg[11:0], also above 2 GiB', () => {
    const m = new PciModel(q35Topology);
    assert.equal(m.ecamRead((0 << 20) | (devfn(0x1f, 3) << 12) | 0, 4), 0x29308086);
    assert.equal(m.ecamRead((devfn(0x1f, 3) << 12) | 2, 2), 0x2930);
    assert.equal(m.ecamRead((devfn(0x1f, 0) << 12) | 0x0e, 1), 0x80);
    assert.equal(m.ecamRead(255 * 0x100000 + (0xff << 12) + 0xffc, 4), 0xffffffff, 'the last dword of the last bus');
    m.ecamWrite((devfn(2, 0) << 12) | 0x10, 4, 0xffffffff);
    assert.equal(m.ecamRead((devfn(2, 0) << 12) | 0x10, 4), 0xfffe0000);
  });
});

describe('PciModel: type-1 port mechanism', () => {
  test('0xCF8 latches the address; 0xCFC+n reads byte offset n of the selected dword', () => {
    const m = new PciModel(q35Topology);
    assert.equal(m.portWrite(0xcf8, 4, cf8(0, devfn(0x1f, 2), 0)), true);
    assert.equal(m.portRead(0xcf8, 4), cf8(0, devfn(0x1f, 2), 0));
    assert.equal(m.portRead(0xcfc, 4), 0x29228086);
    assert.equal(m.portRead(0xcfc, 2), 0x8086);
    assert.equal(m.portRead(0xcfe, 2), 0x2922);
    assert.equal(m.portRead(0xcfd, 1), 0x80);
    assert.equal(m.portRead(0xcff, 1), 0x29);
    m.portWrite(0xcf8, 4, cf8(0, devfn(0x1f, 0), 0x0c));
    assert.equal(m.portRead(0xcfe, 1), 0x80, 'header type at 0x0e = 0x0c + 2');
  });

  test('the low two address bits of 0xCF8 are ignored (the port offset selects the byte)', () => {
    const m = new PciModel(q35Topology);
    m.portWrite(0xcf8, 4, (cf8(0, devfn(2, 0), 0x08) | 0x3) >>> 0);
    assert.equal(m.portRead(0xcfc, 4), 0x02000001);
  });

  test('holes read all-ones of the access width through the ports', () => {
    const m = new PciModel(q35Topology);
    m.portWrite(0xcf8, 4, cf8(4, 0, 0));
    assert.equal(m.portRead(0xcfc, 4), 0xffffffff);
    assert.equal(m.portRead(0xcfc, 2), 0xffff);
    assert.equal(m.portRead(0xcfd, 1), 0xff);
    assert.equal(m.counters.holeReads, 3);
  });

  test('writes through 0xCFC reach the function; hole writes are dropped', () => {
    const m = new PciModel(q35Topology);
    m.portWrite(0xcf8, 4, cf8(0, devfn(2, 0), 0x10));
    assert.equal(m.portWrite(0xcfc, 4, 0xffffffff), true);
    assert.equal(m.portRead(0xcfc, 4), 0xfffe0000);
    m.portWrite(0xcf8, 4, cf8(0, devfn(2, 0), 0x04));
    m.portWrite(0xcfc, 2, 0x0007);
    assert.equal(m.portRead(0xcfc, 2), 0x0007);
    m.portWrite(0xcf8, 4, cf8(0, devfn(9, 0), 0x04));
    m.portWrite(0xcfc, 2, 0x0007);
    assert.equal(m.counters.holeWrites, 1);
  });

  test('enable bit clear: data reads are all-ones and reach no function, writes are ignored', () => {
    const m = new PciModel(q35Topology);
    m.portWrite(0xcf8, 4, cf8(0, devfn(0, 0), 0, false));
    assert.equal(m.portRead(0xcfc, 4), 0xffffffff);
    assert.equal(m.portRead(0xcfe, 2), 0xffff);
    assert.equal(m.portRead(0xcfc, 1), 0xff);
    m.portWrite(0xcf8, 4, cf8(0, devfn(2, 0), 0x04, false));
    m.portWrite(0xcfc, 2, 0x0007);
    assert.deepEqual(m.counters, { reads: 0, writes: 0, holeReads: 0, holeWrites: 0 });
    m.portWrite(0xcf8, 4, cf8(0, devfn(2, 0), 0x04));
    assert.equal(m.portRead(0xcfc, 2), 0, 'the disabled write did not land');
  });

  test('ports it does not own are left to the caller', () => {
    const m = new PciModel(q35Topology);
    assert.equal(m.portRead(0x80, 1), undefined);
    assert.equal(m.portRead(0xcfb, 1), undefined);
    assert.equal(m.portRead(0xcf8, 1), undefined, '0xCF8 is only a dword register');
    assert.equal(m.portWrite(0x5000, 1, 0), false);
    assert.equal(m.portWrite(0xd00, 4, 0), false);
  });
});

describe('bridges', () => {
  const leaf = (dev: number, device: number): FunctionSpec => ({ dev, fn: 0, vendor: 0x1af4, device, classCode: 0x010000, name: `leaf ${device}` });
  const bridge = (dev: number, children: FunctionSpec[], fn = 0): FunctionSpec => ({ dev, fn, vendor: 0x1b36, device: 0x000c, classCode: 0x060400, name: `bridge ${dev}`, bridge: { children } });
  /** Programs primary/secondary/subordinate as pci_scan_bridge does (one dword write at 0x18). */
  const program = (m: PciModel, bus: number, df: number, sec: number, sub: number) => m.write(bus, df, 0x18, 4, bus | (sec << 8) | (sub << 16));

  test('a child is invisible until the guest programs secondary/subordinate, then answers at that bus', () => {
    const m = new PciModel([leaf(0, 1), bridge(1, [leaf(0, 0x42)])]);
    assert.equal(m.read(1, 0, 0, 4), 0xffffffff, 'bus 1 is not routed yet');
    assert.equal(m.find(1, 0), null);
    program(m, 0, devfn(1, 0), 5, 5);
    assert.equal(m.read(0, devfn(1, 0), 0x19, 1), 5);
    assert.equal(m.read(0, devfn(1, 0), 0x1a, 1), 5);
    assert.equal(m.read(1, 0, 0, 4), 0xffffffff, 'not at bus 1 when the guest chose bus 5');
    assert.equal(m.read(5, 0, 0, 4), 0x00421af4);
    assert.equal(m.read(5, devfn(1, 0), 0, 4), 0xffffffff, 'other slots of the secondary bus are holes');
    assert.equal(m.find(5, 0)?.spec.device, 0x42);
  });

  test('nested bridges route through [secondary, subordinate]', () => {
    const m = new PciModel([bridge(1, [bridge(0, [leaf(3, 0x77)])])]);
    program(m, 0, devfn(1, 0), 1, 1); // subordinate too small for the grandchild
    program(m, 1, 0, 2, 2);
    assert.equal(m.read(1, 0, 0x0e, 1), 0x01, 'the inner bridge is visible at bus 1');
    assert.equal(m.read(2, devfn(3, 0), 0, 2), 0xffff, 'bus 2 is outside the outer bridge window');
    program(m, 0, devfn(1, 0), 1, 2);
    assert.equal(m.read(2, devfn(3, 0), 0, 2), 0x1af4);
    assert.equal(m.read(2, devfn(3, 0), 2, 2), 0x77);
  });

  test('bus-number registers are writable on bridges only (0x18 is BAR2 on a type-0 header)', () => {
    const m = new PciModel([leaf(0, 1), bridge(1, [])]);
    program(m, 0, devfn(0, 0), 1, 1);
    assert.equal(m.read(0, 0, 0x18, 4), 0, 'type 0 without BAR2: nothing writable');
    program(m, 0, devfn(1, 0), 3, 4);
    assert.equal(m.read(0, devfn(1, 0), 0x18, 4), 0x00040300);
  });

  test('enumerate(): Linux depth-first bus numbers and secondary/subordinate ranges', () => {
    // bus 0: 00.0 host, 01.0 bridge A { 00.0 bridge C { 00.0 X }, 01.0 Y }, 02.0 bridge B { 00.0 Z }
    // declared out of order: Linux scans by devfn
    const topo: FunctionSpec[] = [
      bridge(2, [leaf(0, 0x5a)]),
      leaf(0, 0x00),
      bridge(1, [leaf(1, 0x59), bridge(0, [leaf(0, 0x58)])]),
    ];
    const e = enumerate(topo).map((x) => ({ bus: x.bus, devfn: x.devfn, dev: x.spec.device, sec: x.secondary, sub: x.subordinate }));
    const byDevice = new Map(e.map((x) => [x.dev, x]));
    assert.equal(e.length, 7);
    assert.deepEqual(byDevice.get(0x00), { bus: 0, devfn: 0, dev: 0x00, sec: 0, sub: 0 });
    const bridges = e.filter((x) => x.sec);
    // A = 00:01.0 gets bus 1; its child bridge C gets 2; A's range closes at 2; B gets 3.
    assert.deepEqual(
      bridges.map((b) => [b.bus, b.devfn, b.sec, b.sub]).sort((a, b) => a[2] - b[2]),
      [
        [0, devfn(1, 0), 1, 2],
        [1, devfn(0, 0), 2, 2],
        [0, devfn(2, 0), 3, 3],
      ],
    );
    assert.deepEqual([byDevice.get(0x58)?.bus, byDevice.get(0x58)?.devfn], [2, 0], 'X behind C');
    assert.deepEqual([byDevice.get(0x59)?.bus, byDevice.get(0x59)?.devfn], [1, devfn(1, 0)], 'Y beside C');
    assert.deepEqual([byDevice.get(0x5a)?.bus, byDevice.get(0x5a)?.devfn], [3, 0], 'Z behind B');
    // Bus 0's functions come first, in devfn order.
    assert.deepEqual(e.slice(0, 3).map((x) => x.devfn), [0, 8, 16]);
  });

  test('programming bridges as enumerate() says makes every function answer at its bus', () => {
    const topo: FunctionSpec[] = [leaf(0, 0), bridge(1, [bridge(0, [leaf(0, 0x58)]), leaf(1, 0x59)]), bridge(2, [leaf(0, 0x5a)])];
    const m = new PciModel(topo);
    const e = enumerate(topo);
    for (const x of e) if (x.spec.bridge) program(m, x.bus, x.devfn, x.secondary, x.subordinate);
    for (const x of e) {
      assert.equal(m.read(x.bus, x.devfn, 0, 4), (x.spec.vendor | (x.spec.device << 16)) >>> 0, `${x.spec.name} at ${x.bus}:${x.devfn.toString(16)}`);
    }
    assert.equal(m.counters.holeReads, 0);
    assert.equal(m.read(4, 0, 0, 4), 0xffffffff, 'no bus beyond the last subordinate');
  });

  test('q35 enumerates flat on bus 0', () => {
    const e = enumerate(q35Topology);
    assert.deepEqual(e.map((x) => [x.bus, x.devfn]), [[0, 0], [0, 8], [0, 16], [0, 0xf8], [0, 0xfa], [0, 0xfb]]);
    assert.ok(e.every((x) => x.secondary === 0 && x.subordinate === 0));
  });
});
