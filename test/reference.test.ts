// The pieces of `bench reference` and of the harness-cost calibration that need no KVM: the
// marks reader, the cost's text and schema, and the QEMU boot ROM, which is booted for real under
// QEMU TCG (counts only: TCG time is not measured here).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holePhaseNs, marksOf } from '../runner/measure/marks.js';
import { KVM_CPU_MODELS, QEMU, buildQemuRom, qemuCpuText, runQemu } from '../runner/measure/reference-qemu.js';
import { referenceImage } from '../runner/measure/harness-cost.js';
import { MARKS, MARK_ENTRY } from '../runner/guest/guest-layout.js';
import { onPath } from '../runner/shared/on-path.js';
import { harnessCostText } from '../runner/results/harness-cost-text.js';
import { validateResults } from '../runner/results/schema.js';
import { renderReport } from '../reports/html/page.js';
import { userspaceExit } from '../strategies/userspace-exit.js';
import { linuxQ35Boot } from '../workloads/linux-q35-boot.js';
import { makeResults } from './fixtures.js';

const missing = ['cc', 'ld', QEMU].filter((c) => !onPath(c));
const noQemu = missing.length > 0 && `${missing.join(', ')} missing (apt-get install gcc binutils qemu-system-x86)`;

const dir = mkdtempSync(join(tmpdir(), 'pcihole-reference-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A marks block as the guest leaves it: write pointer, then { tsc, accesses, holes }. */
function block(marks: [bigint, number, number][], pointer = MARKS + 8 + marks.length * MARK_ENTRY): Uint8Array {
  const b = Buffer.alloc(0x800);
  b.writeBigUInt64LE(BigInt(pointer), 0);
  marks.forEach(([tsc, a, h], i) => {
    b.writeBigUInt64LE(tsc, 8 + i * MARK_ENTRY);
    b.writeBigUInt64LE(BigInt(a), 16 + i * MARK_ENTRY);
    b.writeBigUInt64LE(BigInt(h), 24 + i * MARK_ENTRY);
  });
  return b;
}

describe('phase marks', () => {
  test('ns per hole read of the second phase, from TSC ticks and the TSC rate', () => {
    const m = marksOf(block([[1000n, 0, 0], [2000n, 43, 35], [2000n + 8160n * 3000n, 8203, 8195]]), MARKS)!;
    assert.equal(m.length, 3);
    // 3000 ticks per hole at 3 000 000 kHz = 1000 ns
    assert.equal(holePhaseNs(m, 3_000_000), 1000);
  });
  test('a write pointer outside the block, or too few marks, is an error, not a number', () => {
    assert.equal(marksOf(block([], MARKS + 8 + 1000 * MARK_ENTRY), MARKS), null);
    assert.equal(marksOf(block([], MARKS + 3), MARKS), null);
    assert.throws(() => holePhaseNs(marksOf(block([[1n, 0, 0]]), MARKS)!, 1000), /1 phase marks, expected 3/);
  });
});

describe('harness cost in results and report', () => {
  const cost = { samples: 3, cNs: 17_000, floorNs: 17_900, harnessNs: 18_500 };
  test('one line: the extra per exit, the ratio and the three loops', () => {
    assert.equal(harnessCostText(cost), '+1.50 µs over a minimal C KVM_RUN loop (harness/C 1.09×; C 17.0 µs, koffi floor 17.9 µs, harness 18.5 µs per exit; 3 fresh VMs each)');
    assert.equal(harnessCostText({ unavailable: 'cc is missing' }), 'not measured: cc is missing');
  });
  test('the schema accepts a cost or a reason and rejects anything else', () => {
    const ok = { ...makeResults(), harnessCost: cost };
    assert.doesNotThrow(() => validateResults(structuredClone(ok)));
    assert.doesNotThrow(() => validateResults({ ...makeResults(), harnessCost: { unavailable: 'no cc' } }));
    assert.throws(() => validateResults({ ...makeResults(), harnessCost: { ...cost, harnessNs: null } }), /harnessCost\.harnessNs is not a positive number/);
    assert.throws(() => validateResults({ ...makeResults(), harnessCost: 'fast' }), /harnessCost is not an object/);
  });
  test("the report's methodology states it, and says nothing when a file lacks it", () => {
    const html = renderReport([{ ...makeResults(), harnessCost: cost }], { labels: ['r'] });
    assert.match(html, /<strong>Harness cost\.<\/strong>[^<]*\+1\.50 µs over a minimal C KVM_RUN loop/);
    assert.doesNotMatch(renderReport([makeResults()], { labels: ['r'] }), /Harness cost\./);
  });
});

describe("QEMU's CPU model under KVM", () => {
  test('-cpu host first; without arch-capabilities only after the MSR 0x10a abort (kvm_pvm), never after another failure', () => {
    assert.deepEqual(KVM_CPU_MODELS.map((m) => m.cpu), ['host', 'host,-arch-capabilities']);
    const fallback = KVM_CPU_MODELS[1].after!;
    // QEMU 7.2's words on kvm_pvm (target/i386/kvm/kvm.c, kvm_buf_set_msrs)
    assert.ok(fallback.test('qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs\' failed.'));
    assert.ok(!fallback.test('qemu-system-x86_64: error: failed to set MSR 0x10ab to 0x1'));
    assert.ok(!fallback.test('qemu-system-x86_64: -accel kvm: Could not access KVM kernel module: Permission denied'));
  });
  test('the output names the model and what the host refused', () => {
    assert.equal(qemuCpuText({ cpu: 'host', refused: [] }), '-cpu host');
    assert.equal(qemuCpuText({ cpu: 'host,-arch-capabilities', refused: ['-cpu host: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69'] }), "-cpu host,-arch-capabilities (this host's KVM refused -cpu host: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69)");
  });
});

describe('QEMU boot ROM', { skip: noQemu }, () => {
  test('64 KiB, with a jump at the reset vector (0xfff0)', () => {
    const rom = readFileSync(buildQemuRom(dir, linuxQ35Boot.window.base));
    assert.equal(rom.length, 0x10000);
    assert.equal(rom[0xfff0], 0xe9, 'near jmp');
  });
  test('QEMU (TCG here) runs the userspace-exit image to its done port: the peer-bridge phase reads 8160 holes', () => {
    const rom = buildQemuRom(dir, linuxQ35Boot.window.base);
    const marks = runQemu(rom, referenceImage(userspaceExit, ''), join(dir, 'ram'), 'tcg');
    assert.equal(marks.length, 3);
    const [m0, m1, m2] = marks;
    assert.ok(m1.tsc > m0.tsc && m2.tsc > m1.tsc, 'TSC marks rise');
    // Bus 1..255 × 32 slots, function 0: every one absent on QEMU's q35 too.
    assert.equal(m2.holes - m1.holes, 8160);
    assert.equal(m2.accesses - m1.accesses, 8160);
    // QEMU's bus 0 with -nodefaults: host bridge, LPC, AHCI, SMBus, so fewer present reads than the harness's q35 model.
    assert.ok(m1.accesses > m1.holes && m1.holes > 0, `bus 0: ${m1.accesses} accesses, ${m1.holes} holes`);
  });
});
