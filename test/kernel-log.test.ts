// A real kernel's boot log, without KVM: the phase bounds found among the present-function
// accesses, the accesses of each phase, the console's discovery lines, the CMOS RTC, the guest CPU.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigLog, LOG_HOLE, LOG_WRITE } from '../runner/devices/kernel-loop.js';
import { CmosRtc } from '../runner/devices/cmos-rtc.js';
import { boundTimes, boundsOf, phaseCounts, presentHash } from '../runner/measure/kernel-log.js';
import { discoveredFunctions, topologyFunctions } from '../runner/measure/kernel-sample.js';
import { guestCpuOf } from '../runner/guest/linux-boot.js';
import { linuxKernelQ35 } from '../workloads/linux-kernel-q35.js';

const at = (bus: number, dev: number, fn: number, reg: number) => (bus << 20) | (((dev << 3) | fn) << 12) | reg;

/** A boot in miniature: 2 present accesses, a hole read on bus 0, 1 more present, the fixup's
 *  reads on buses 1 and 2, 2 present accesses (one a write), a hole write, no more present ones. */
function miniBoot(): ConfigLog {
  const log = new ConfigLog(128);
  const put = (where: number, flags: number, ns = 0) => {
    log.where[log.n] = where;
    log.flags[log.n] = flags;
    log.ns[log.n++] = ns;
  };
  put(at(0, 0x18, 0, 0x68), 4 | LOG_HOLE); // before any present access
  put(at(0, 0, 0, 0), 4, 100);
  put(at(0, 1, 0, 0), 4, 200);
  put(at(0, 3, 0, 0), 4 | LOG_HOLE);
  put(at(0, 2, 0, 0), 4, 300);
  for (const bus of [1, 2]) for (let dev = 0; dev < 32; dev++) put(at(bus, dev, 0, 0), 2 | LOG_HOLE);
  put(at(0, 1, 0, 4), 2 | LOG_WRITE, 5000);
  put(at(0, 1, 0, 4), 2, 5100);
  put(at(0, 0x1f, 1, 0xe0), 4 | LOG_WRITE | LOG_HOLE);
  return log;
}

describe('a real kernel\'s config-access log', () => {
  test('the fixup sits before the first present access after the first hole read above bus 0', () => {
    const b = boundsOf(miniBoot());
    assert.deepEqual(b, { presentCount: 5, fixupAt: 3 });
    assert.deepEqual(boundTimes(miniBoot(), b!), [100, 300, 5000, 5100]);
  });

  test('accesses, holes and writes of each phase', () => {
    const log = miniBoot();
    const c = phaseCounts(log, boundsOf(log)!);
    assert.deepEqual(c, [
      { accesses: 2, holes: 1, writes: 0 }, // before-pci: the hole read, then present 0
      { accesses: 3, holes: 1, writes: 0 }, // bus-scan: present 1, the bus-0 hole, present 2
      { accesses: 65, holes: 64, writes: 1 }, // peer-bridge: 64 fixup reads, then present 3 (a write)
      { accesses: 1, holes: 0, writes: 0 }, // pci-rest: present 4
      { accesses: 1, holes: 1, writes: 1 }, // after-pci: the hole write
    ]);
    assert.equal(c.reduce((n, p) => n + p.accesses, 0), log.n);
  });

  test('no read above bus 0: no bounds (no fixup ran)', () => {
    const log = new ConfigLog(4);
    log.where[0] = at(0, 3, 0, 0);
    log.flags[0] = 4 | LOG_HOLE;
    log.where[1] = at(0, 0, 0, 0);
    log.flags[1] = 4;
    log.n = 2;
    assert.equal(boundsOf(log), null);
    // A fixup read after the last present access bounds no phase either.
    log.where[2] = at(1, 0, 0, 0);
    log.flags[2] = 2 | LOG_HOLE;
    log.n = 3;
    assert.equal(boundsOf(log), null);
  });

  test('the present-access hash ignores hole accesses and sees a changed present one', () => {
    const a = miniBoot();
    const b = miniBoot();
    b.where[3] = at(0, 4, 0, 0); // another hole
    assert.equal(presentHash(a), presentHash(b));
    b.where[2] = at(0, 1, 0, 8); // a present access to another register
    assert.notEqual(presentHash(a), presentHash(b));
  });
});

describe('what the kernel printed', () => {
  test('discovery: pci 0000:BB:DD.F [vendor:device] lines against the topology', () => {
    const lines = [
      '[    0.512000] pci 0000:00:00.0: [8086:29c0] type 00 class 0x060000',
      'pci 0000:00:01.0: [1234:1111] type 00 class 0x030000',
      'pci 0000:00:01.0: reg 0x10: [mem 0xc0000000-0xc0ffffff pref]',
      'pci 0000:00:02.0: [8086:10d3] type 00 class 0x020000',
      'pci 0000:00:1f.0: [8086:2918] type 00 class 0x060100',
      'pci 0000:00:1f.2: [8086:2922] type 00 class 0x010601',
      'pci 0000:00:1f.3: [8086:2930] type 00 class 0x0c0500',
    ];
    assert.deepEqual(discoveredFunctions(lines), topologyFunctions(linuxKernelQ35));
    assert.notDeepEqual(discoveredFunctions(lines.slice(1)), topologyFunctions(linuxKernelQ35));
  });
});

describe('devices and CPU of a real kernel\'s VM', () => {
  test('CMOS RTC: a stopped clock with update-in-progress clear', () => {
    const rtc = new CmosRtc();
    const reg = (r: number) => {
      rtc.write(0x70, r | 0x80); // bit 7 masks NMIs, not part of the index
      return rtc.read(0x71);
    };
    assert.equal(reg(0x0a) & 0x80, 0, 'UIP clear');
    assert.equal(reg(0x09), 0x26, 'year 26 in BCD');
    assert.equal(reg(0x0b) & 0x04, 0, 'BCD mode');
    assert.equal(reg(0x0d), 0x80, 'valid time');
    assert.ok(rtc.owns(0x70) && rtc.owns(0x71) && !rtc.owns(0x72));
  });

  test('guest CPU: vendor from leaf 0, family with the extended family', () => {
    const buf = Buffer.alloc(8 + 40 * 2);
    buf.writeUInt32LE(2, 0);
    buf.writeUInt32LE(0, 8); // leaf 0: "AuthenticAMD" in EBX EDX ECX
    buf.write('Auth', 8 + 16, 'latin1');
    buf.write('enti', 8 + 24, 'latin1');
    buf.write('cAMD', 8 + 20, 'latin1');
    buf.writeUInt32LE(1, 48); // leaf 1: family 0xf + extended 0x8 = 0x17
    buf.writeUInt32LE(0x00800f12, 48 + 12);
    assert.deepEqual(guestCpuOf(buf), { vendor: 'AuthenticAMD', family: 0x17 });
  });

  test('expected hole accesses: amd.c\'s two conf1 reads only on AMD families 0xf-0x16, p2sb\'s five always, the 8193 of the scan', () => {
    const holes = (access: 'ecam' | 'conf1', family: number) => linuxKernelQ35.expected(255, 'linux', access, { vendor: 'AuthenticAMD', family }).holes;
    assert.deepEqual(holes('conf1', 0xf), { 'before-pci': 1, 'bus-scan': 30, 'peer-bridge': 8164, 'pci-rest': 5, 'after-pci': 0 });
    assert.deepEqual(holes('ecam', 0xf), { 'before-pci': 0, 'bus-scan': 33, 'peer-bridge': 8160, 'pci-rest': 5, 'after-pci': 0 });
    assert.equal(holes('conf1', 0x19)['before-pci'], 0);
    assert.equal(linuxKernelQ35.expected(0, 'linux', 'ecam').holes['peer-bridge'], 0);
  });
});
