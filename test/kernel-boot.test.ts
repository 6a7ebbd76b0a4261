// Debian's own kernel booted by the VMM on real KVM (linux-kernel-q35): its PCI lines are the
// topology, its hole accesses per phase are the workload's expected counts (the scan's 8193 plus
// the kernel's extras, explained in workloads/linux-kernel-q35.ts), and under a strategy that
// serves the hole in KVM the fixup's reads stop reaching the VMM. On kvm_pvm the row is unsupported.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kvmSkipReason, KVM_DEVICE } from './helpers-kvm.js';
import { openHost, admitRow } from '../runner/measure/admit.js';
import { runSample } from '../runner/measure/sample.js';
import { guestCpuOf } from '../runner/guest/linux-boot.js';
import { strategies } from '../strategies/index.js';
import { linuxKernelQ35 } from '../workloads/linux-kernel-q35.js';
import type { Access, Sample } from '../runner/results/schema.js';

const skip = kvmSkipReason();
const host = skip ? null : openHost('test', {});
const pvm = host?.fingerprint.kvmBackend === 'kvm_pvm';
const byId = (id: string) => strategies.find((s) => s.id === id)!;

function boot(strategy: string, variant: string, access: Access): Sample {
  if (!host) throw new Error(`no KVM at ${KVM_DEVICE}`);
  const row = { strategy: byId(strategy), variant, workload: linuxKernelQ35, access };
  assert.notEqual(admitRow(host, row).status, 'unsupported', `${strategy}/${variant} ${access} can run here`);
  return runSample({ kvm: host.kvm, cpuid: host.kvm.supportedCpuid(), options: {}, ...row });
}

const holesByPhase = (s: Sample) => Object.fromEntries(s.scans[0].phases.map((p) => [p.name, p.holeAccesses]));
const expectedHoles = (access: Access) => linuxKernelQ35.expected(255, 'linux', access, guestCpuOf(host!.kvm.supportedCpuid())).holes;

// Only the branch of this host's backend is declared, so that neither shows as a skip.
if (pvm) {
  describe('linux-kernel-q35 on kvm_pvm', () => {
    test('unsupported, saying why', () => {
      const r = admitRow(host!, { strategy: byId('userspace-exit'), variant: '', workload: linuxKernelQ35, access: 'conf1' });
      assert.equal(r.status, 'unsupported');
      assert.match(r.status === 'unsupported' ? r.reason : '', /kvm_pvm cannot boot a real kernel/);
    });
  });
} else {
  describe('linux-kernel-q35: Debian\'s kernel on real KVM', { skip }, () => {
    test('conf1, userspace-exit: the topology found, every hole access seen, the scan\'s 8193 in its phases', () => {
      const s = boot('userspace-exit', '', 'conf1');
      assert.equal(s.discoveryOk, true, 'the kernel\'s pci 0000:00:… lines are the six functions');
      assert.deepEqual(holesByPhase(s), expectedHoles('conf1'));
      const h = holesByPhase(s);
      assert.equal(h['bus-scan'] + h['peer-bridge'] - h['before-pci'], 8193, 'bus 0: 33, buses 1-255: 8160 (amd.c\'s reads aside)');
      assert.equal(s.vmmHoleExits, Object.values(h).reduce((a, b) => a + b, 0));
      assert.equal(s.kernel?.counts, 'own');
      assert.ok(s.exits.rtc > 0 && s.exits.rtc < 1000, `the stopped CMOS clock ends the RTC polling (${s.exits.rtc} exits)`);
      assert.ok((s.kernel?.fixupKvmExits ?? 0) >= 2 * 8164, 'two port exits per fixup read');
    });

    test('ECAM with conf1 hidden: userspace-exit sees the fixup\'s reads, ro-page/4k serves them in KVM', () => {
      const u = boot('userspace-exit', '', 'ecam');
      assert.equal(u.discoveryOk, true);
      assert.deepEqual(holesByPhase(u), expectedHoles('ecam'));
      assert.equal(u.exits.hidden_conf1 > 0, true, 'the kernel tried conf1 and found it hidden');
      assert.ok((u.kernel?.fixupKvmExits ?? 0) >= 8160);
      const ro = boot('ro-page', '4k', 'ecam');
      assert.equal(ro.discoveryOk, true);
      assert.equal(ro.vmmHoleExits, 2, 'hole reads are served by the read-only slot; p2sb\'s two writes to 00:1f.1 exit');
      assert.equal(ro.kernel?.counts, 'reference', 'the counts are the reference boot\'s; the present accesses repeated it');
      assert.equal(ro.kernel?.presentAccesses, u.kernel?.presentAccesses);
      assert.deepEqual(holesByPhase(ro), expectedHoles('ecam'));
      const holeReads = Object.values(expectedHoles('ecam')).reduce((a, b) => a + b, 0) - 2; // p2sb's 2 writes aside
      assert.equal(u.exits.mmio_read - ro.exits.mmio_read, holeReads, 'every hole read left the VMM\'s exits');
      // KVM still exits once per fixup read (a fault on each new 4 KiB page of the read-only slot), in the kernel.
      assert.ok((ro.kernel?.fixupKvmExits ?? 0) >= 8160, `${ro.kernel?.fixupKvmExits} KVM exits in the fixup's bracket`);
    });
  });
}
