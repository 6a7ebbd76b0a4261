// The VMM on real KVM: the system fd, binary statistics, one linux-q35-boot sample under
// userspace-exit through ECAM and through type-1 port I/O, and a guest fault.
// Skipped with the reason when /dev/kvm is missing or not accessible.
import { noAccessUnavailable, runWithoutKvmAccess } from './no-access.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { Kvm } from '../runner/vmm/kvm.js';
import { HostError } from '../runner/shared/errors.js';
import { KVM_API_VERSION } from '../runner/vmm/kvm-abi.js';
import { errnoName } from '../runner/vmm/libc.js';
import { Asm, mem, r } from '../runner/guest/x86.js';
import { HostMapping } from '../runner/vmm/host-memory.js';
import { CODE, INFO, PRESENT_LIST, PRESENT_MAX, RAM_SIZE, STACK_TOP } from '../runner/guest/guest-layout.js';
import { enterLongModeCpl3, writeImage } from '../runner/guest/guest-image.js';
import { runSample } from '../runner/measure/sample.js';
import { GuestFault } from '../runner/measure/guest-readback.js';
import { VcpuThreads } from '../runner/measure/vcpu-thread.js';
import { PciModel } from '../runner/devices/pci-model.js';
import { q35Topology } from '../workloads/q35-topology.js';
import { userspaceExit } from '../strategies/userspace-exit.js';
import type { Strategy } from '../strategies/types.js';
import { linuxQ35Boot } from '../workloads/linux-q35-boot.js';
import type { Workload } from '../workloads/types.js';
import type { Access } from '../runner/results/schema.js';
import { expectedFor, kvmSkipReason, openKvm } from './helpers-kvm.js';
import { kvmBackend } from '../runner/host/host.js';
import { isInitState } from '../runner/measure/fault-registers.js';

const skip = kvmSkipReason();
const opened = openKvm();
after(() => opened?.kvm.close());
const K = () => opened as NonNullable<typeof opened>;

describe('Kvm.open errors', () => {
  test('a missing device is a HostError that says KVM is not available and how to get it', () => {
    assert.throws(() => Kvm.open('/nonexistent/kvm'), (e: unknown) => {
      assert.ok(e instanceof HostError, `HostError, got ${String(e)}`);
      assert.match(e.message, /\/nonexistent\/kvm does not exist/);
      assert.match(e.message, /kvm_intel or kvm_amd|nested virtualization/);
      assert.equal(e.exitCode, 2);
      return true;
    });
  });

  test('PCIHOLE_KVM_DEVICE chooses the device', () => {
    const old = process.env.PCIHOLE_KVM_DEVICE;
    process.env.PCIHOLE_KVM_DEVICE = '/nonexistent/other-kvm';
    try {
      assert.throws(() => Kvm.open(), (e: unknown) => e instanceof HostError && /\/nonexistent\/other-kvm does not exist/.test(e.message));
    } finally {
      if (old === undefined) delete process.env.PCIHOLE_KVM_DEVICE;
      else process.env.PCIHOLE_KVM_DEVICE = old;
    }
  });
});

describe('Kvm.open errors that need a device', { skip }, () => {
  // EACCES (a 0000 device node, root without DAC-override capabilities) must become the kvm-group fix.
  test('permission denied is a HostError naming the kvm group fix', { skip: noAccessUnavailable() ?? false }, () => {
    const script = `import { Kvm } from ${JSON.stringify(new URL('../runner/vmm/kvm.js', import.meta.url).href)};
      try { Kvm.open(); console.log('opened'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
    const out = runWithoutKvmAccess([process.execPath, '--input-type=module', '-e', script]);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /^HostError: permission denied on /);
    assert.match(out.stdout, /kvm group/);
    assert.match(out.stdout, /usermod -aG kvm/);
  });

  test('a device that is not KVM is a HostError', () => {
    assert.throws(() => Kvm.open('/dev/null'), (e: unknown) => e instanceof HostError && /\/dev\/null/.test(e.message));
  });
});

describe('libc errno names', () => {
  test('errno names round-trip for the codes the VMM tests by name', () => {
    for (const name of ['EINTR', 'ENOENT', 'EACCES', 'EINVAL', 'E2BIG', 'EOPNOTSUPP'] as const) assert.equal(errnoName(constants.errno[name]), name);
    assert.equal(errnoName(99999), 'errno 99999');
  });

  // Vcpu.run() and Vcpu.preFault() retry when errnoName(e) === 'EAGAIN'; on Linux EAGAIN and
  // EWOULDBLOCK are both 11 and the last name in os.constants.errno wins.
  test('EAGAIN is named EAGAIN (KVM_RUN retries it by name)', () => {
    assert.equal(errnoName(constants.errno.EAGAIN), 'EAGAIN');
  });
});

describe('Kvm on /dev/kvm', { skip }, () => {
  test('API version 12 and the vCPU mmap size', () => {
    assert.equal(K().kvm.apiVersion(), 12);
    assert.equal(KVM_API_VERSION, 12);
    const size = K().kvm.vcpuMmapSize();
    assert.ok(size >= 4096 && size % 4096 === 0, `vCPU mmap size ${size}`);
  });

  test('checkExtension: basic capabilities present, unknown ones 0', () => {
    const kvm = K().kvm;
    assert.ok(kvm.checkExtension('KVM_CAP_USER_MEMORY') > 0);
    assert.ok(kvm.checkExtension('KVM_CAP_NR_MEMSLOTS') > 0);
    assert.equal(kvm.checkExtension(3), kvm.checkExtension('KVM_CAP_USER_MEMORY'), 'by number or by name');
    assert.equal(kvm.checkExtension(0x7ffffff0), 0);
  });

  test('supported CPUID is a kvm_cpuid2 with at least leaf 0 and leaf 1', () => {
    const b = K().cpuid;
    const nent = b.readUInt32LE(0);
    assert.ok(nent > 1);
    assert.equal(b.length, 8 + nent * 40);
    const leaves = Array.from({ length: nent }, (_, i) => b.readUInt32LE(8 + i * 40));
    assert.ok(leaves.includes(0) && leaves.includes(1));
  });

  test('binary stats: exits, mmio_exits and pf_fixed per vCPU; pages_4k per VM; exits grow across KVM_RUN', () => {
    const vm = K().kvm.createVm();
    const ram = HostMapping.anonymous(RAM_SIZE, 'test RAM');
    try {
      vm.addMemory(0, RAM_SIZE, ram.ptr);
      const vstats = vm.vmStats();
      assert.ok(vstats.names.includes('pages_4k'), `VM stats: ${vstats.names.join(' ')}`);
      // a guest that reads the ECAM window once (an MMIO exit) and stops
      const a = new Asm(CODE);
      a.movImm(r.rax, 0xb0000000).mov(r.eax, mem(r.rax, 0, 32)).bytesRaw([0x0f, 0x0b]); // mov eax, [0xb0000000]; ud2
      writeImage(ram.bytes, a.assemble(), { configBase: 0, lastBus: 0, vcpus: 1, passes: 1 });
      const v = vm.createVcpu(0);
      enterLongModeCpl3(v, K().cpuid, 0);
      const s = v.stats();
      for (const n of ['exits', 'mmio_exits', 'pf_fixed']) assert.ok(s.names.includes(n), `vCPU stats lack ${n}: ${s.names.join(' ')}`);
      const before = s.read();
      assert.ok(before.every((x) => Number.isInteger(x) && x >= 0));
      const e = v.run();
      assert.equal(e.kind, 'mmio');
      if (e.kind === 'mmio') {
        assert.equal(e.addr, 0xb0000000);
        assert.equal(e.len, 4);
        assert.equal(e.isWrite, false);
      }
      const d = s.delta(before, s.read());
      assert.ok(d['vcpu.exits'] >= 1);
      assert.equal(d['vcpu.mmio_exits'], 1);
      const pages4k = vm.vmStats().snapshot()['vm.pages_4k'];
      assert.equal(typeof pages4k, 'number', 'vm.pages_4k is in the VM statistics');
      assert.ok(Number.isInteger(pages4k) && pages4k >= 0, `vm.pages_4k = ${pages4k}`);
      assert.equal(Object.keys(d).length, s.names.length, 'one delta per counter');
    } finally {
      vm.close();
      ram.release();
    }
  });
});

describe('KVM statistics of a sample', { skip }, () => {
  test('recorded when KVM_CAP_BINARY_STATS_FD is set (gauges only for statistics the kernel lists); null, never {} or 0, when it is 0', () => {
    const cap = K().kvm.checkExtension('KVM_CAP_BINARY_STATS_FD');
    const s = runSample({ kvm: K().kvm, cpuid: K().cpuid, strategy: userspaceExit, variant: '', workload: linuxQ35Boot, access: 'ecam', options: {} });
    if (!cap) {
      assert.equal(s.kvmStats, null, 'no KVM_GET_STATS_FD (Linux < 5.14): statistics absent');
      return;
    }
    const st = s.kvmStats;
    assert.ok(st !== null, 'KVM_GET_STATS_FD exists: statistics recorded');
    assert.equal(typeof st['vcpu.exits'], 'number');
    for (const size of ['4k', '2m']) assert.equal(`vm.pages_${size}_now` in st, `vm.pages_${size}` in st, `vm.pages_${size}_now only when the kernel has vm.pages_${size}`);
    const vm = K().kvm.createVm();
    const names = new Set(vm.vmStats().names);
    vm.close();
    for (const k of Object.keys(st).filter((k) => k.startsWith('vm.') && !k.endsWith('_now'))) assert.ok(names.has(k.slice(3)), `${k} is a statistic this kernel lists`);
  });
});

describe('linux-q35-boot under userspace-exit', { skip }, () => {
  test('the analytic count is 33 bus-0 holes + 8160 peer-bridge probes', () => {
    const exp = linuxQ35Boot.expected(255, 'linux');
    assert.deepEqual(exp.holes, { 'bus-scan': 33, 'peer-bridge': 8160 });
    assert.equal(expectedFor(linuxQ35Boot, 255, 'linux', 'ecam').holes, 8193);
  });

  const one = (access: Access) => runSample({ kvm: K().kvm, cpuid: K().cpuid, strategy: userspaceExit, variant: '', workload: linuxQ35Boot, access, options: {} });

  for (const access of ['ecam', 'conf1'] as const) {
    test(`${access}: discovery, hole accesses per phase, exits, timing`, () => {
      const exp = expectedFor(linuxQ35Boot, 255, 'linux', access);
      const reads = exp.accesses - exp.writes;
      const s = one(access);
      assert.equal(s.discoveryOk, true);
      assert.equal(s.scans.length, 1);
      const scan = s.scans[0];
      assert.deepEqual(scan.phases.map((p) => p.name), linuxQ35Boot.phases);
      for (const p of scan.phases) {
        assert.equal(p.holeAccesses, exp.byPhase.holes[p.name], `${p.name} hole accesses`);
        assert.equal(p.accesses, exp.byPhase.accesses[p.name], `${p.name} accesses`);
        assert.ok(p.ns > 0, `${p.name} took time`);
      }
      assert.equal(s.vmmHoleExits, 8193, 'every hole access exited to the VMM');
      if (access === 'ecam') {
        assert.equal(s.exits.mmio_read, reads, 'one MMIO read exit per config read');
        assert.equal(s.exits.mmio_write, exp.writes, 'one MMIO write exit per config write');
        assert.equal(s.exits.io_in + s.exits.io_out, 0);
        assert.equal(s.kvmStats?.['vcpu.mmio_exits'], exp.accesses, 'KVM counted the same MMIO exits');
      } else {
        assert.equal(s.exits.io_out, exp.accesses + exp.writes, 'a 0xCF8 write per access, plus a 0xCFC write per config write');
        assert.equal(s.exits.io_in, reads, 'a 0xCFC read per config read');
        assert.equal(s.exits.io_in + s.exits.io_out, 2 * exp.accesses, 'two port exits per access');
        assert.equal(s.exits.mmio_read + s.exits.mmio_write, 0);
      }
      assert.equal(s.exits.other, 0);
      assert.equal(s.exits.harness, 1);
      assert.equal(typeof scan.nsPerAccess, 'number');
      assert.ok((scan.nsPerAccess as number) > 0 && Number.isFinite(scan.nsPerAccess));
      const peer = scan.phases.find((p) => p.name === 'peer-bridge');
      assert.ok(peer);
      assert.ok(Math.abs((scan.nsPerAccess as number) - peer.ns / peer.holeAccesses) < 1e-6, 'ns per access = peer-bridge phase / its hole reads');
      assert.ok(scan.ns >= peer.ns);
      assert.ok(s.hostRunNs > 0);
      assert.equal(s.memoryBytes, 0, 'no backing');
      assert.ok(s.setupMs >= 0 && s.vmCreateMs >= 0);
    });
  }
});

describe('guest faults', { skip }, () => {
  /** On AMD SVM the registers after a triple fault are the INIT state, not the fault's. */
  const svm = kvmBackend().startsWith('kvm_amd');
  const ud2: Workload = { ...linuxQ35Boot, id: 'ud2-test', program: () => Uint8Array.of(0x90, 0x0f, 0x0b) }; // nop; ud2

  test('Vcpu.run(): #UD at CPL3 with no IDT triple-faults into KVM_EXIT_SHUTDOWN (registers: the faulting rip; on SVM the INIT state)', () => {
    const vm = K().kvm.createVm();
    const ram = HostMapping.anonymous(RAM_SIZE, 'test RAM');
    try {
      vm.addMemory(0, RAM_SIZE, ram.ptr);
      writeImage(ram.bytes, ud2.program('ecam', 'linux'), { configBase: 0, lastBus: 0, vcpus: 1, passes: 1 });
      const v = vm.createVcpu(0);
      enterLongModeCpl3(v, K().cpuid, 0);
      const regs = v.getRegs();
      assert.equal(regs.rip, BigInt(CODE));
      assert.equal(regs.rsp, BigInt(STACK_TOP));
      assert.equal(regs.rflags & 0x3000n, 0x3000n, 'IOPL 3');
      const s = v.getSregs();
      assert.equal(s.cs.dpl, 3);
      assert.equal(s.cs.l, 1);
      assert.equal(v.run().kind, 'shutdown');
      const g = v.getRegs();
      const sr = v.getSregs();
      if (svm) {
        // KVM on AMD SVM puts the vCPU through INIT on a shutdown intercept (svm.c shutdown_interception).
        const init = { rip: g.rip, rsp: g.rsp, rflags: g.rflags, cr0: sr.cr0, cr2: sr.cr2, cr3: sr.cr3, csSelector: sr.cs.selector, csDpl: sr.cs.dpl };
        assert.ok(isInitState(init), `kvm_amd: INIT state after the shutdown (rip 0x${g.rip.toString(16)}, cs 0x${sr.cs.selector.toString(16)}, cr0 0x${sr.cr0.toString(16)})`);
        assert.equal(sr.cs.dpl, 0);
      } else {
        assert.equal(g.rip, BigInt(CODE + 1), 'stopped at the ud2 after the nop');
        assert.equal(sr.cs.dpl, 3);
      }
    } finally {
      vm.close();
      ram.release();
    }
  });

  test('runSample(): a guest fault is a GuestFault naming the exit, the run and the registers', () => {
    assert.throws(
      () => runSample({ kvm: K().kvm, cpuid: K().cpuid, strategy: userspaceExit, variant: '', workload: ud2, access: 'ecam', options: {} }),
      (e: unknown) => {
        assert.ok(e instanceof GuestFault, String(e));
        assert.match(e.message, /guest stopped with shutdown under userspace-exit on ud2-test \(ecam\)/);
        if (svm) {
          assert.match(e.message, /the faulting registers are lost: KVM on AMD SVM puts the vCPU through INIT after a shutdown/);
          assert.match(e.message, /registers read now are the INIT state, not the fault \(rip=0xfff0 /);
        } else {
          assert.match(e.message, new RegExp(`rip=0x${(CODE + 1).toString(16)}\\b`));
          assert.match(e.message, /cr0=0x80000031/);
          assert.match(e.message, /cr3=0x1000\b/);
          assert.match(e.message, /cs\.dpl=3/);
          assert.doesNotMatch(e.message, /INIT state/);
        }
        return true;
      },
    );
  });

  test('a failed sample releases its VM, vCPU and guest RAM; the next sample runs normally', () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    // Whether [hva, hva + RAM_SIZE) is still one of this process's mappings.
    const mapped = (hva: bigint) =>
      readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .some((l) => {
          const [lo, hi] = (l.split(' ')[0] ?? '').split('-').map((x) => BigInt(`0x${x || '0'}`));
          return lo === hva && hi === hva + BigInt(RAM_SIZE);
        });
    let ramHva = 0n;
    const failing = (why: 'guest fault' | 'setup throws'): Strategy => ({
      ...userspaceExit,
      setup(ctx) {
        ramHva = ctx.vm.slots[0].hva;
        if (why === 'setup throws') throw new Error('strategy setup failed');
        return userspaceExit.setup(ctx);
      },
    });
    const fail = (why: 'guest fault' | 'setup throws') =>
      assert.throws(
        () => runSample({ kvm: K().kvm, cpuid: K().cpuid, strategy: failing(why), variant: '', workload: why === 'guest fault' ? ud2 : linuxQ35Boot, access: 'ecam', options: {} }),
        why === 'guest fault' ? GuestFault : /strategy setup failed/,
      );
    fail('guest fault'); // once first: whatever the process opens once (and keeps) is not a leak
    for (const why of ['guest fault', 'setup throws'] as const) {
      const before = fds();
      fail(why);
      assert.equal(fds(), before, `${why}: no fd left open (VM, vCPU, statistics)`);
      assert.ok(ramHva !== 0n, `${why}: the sample got as far as the strategy's setup`);
      assert.equal(mapped(ramHva), false, `${why}: guest RAM unmapped`);
    }
    const s = runSample({ kvm: K().kvm, cpuid: K().cpuid, strategy: userspaceExit, variant: '', workload: linuxQ35Boot, access: 'ecam', options: {} });
    assert.equal(s.discoveryOk, true);
  });

  test('port I/O exits reuse one data view per size (no allocation on the conf1 path)', () => {
    const vm = K().kvm.createVm();
    const ram = HostMapping.anonymous(RAM_SIZE, 'test RAM');
    try {
      vm.addMemory(0, RAM_SIZE, ram.ptr);
      // out 0xCF8 (4 bytes), in 0xCFC (2 bytes), twice; then in 0xCFC (1 byte), ud2
      const a = new Asm(CODE);
      for (let i = 0; i < 2; i++) a.movImm(r.edx, 0xcf8).outDx(32).movImm(r.edx, 0xcfc).inDx(16);
      a.inDx(8).bytesRaw([0x0f, 0x0b]);
      writeImage(ram.bytes, a.assemble(), { configBase: 0, lastBus: 0, vcpus: 1, passes: 1 });
      const v = vm.createVcpu(0);
      enterLongModeCpl3(v, K().cpuid, 0);
      const views: Uint8Array[] = [];
      for (const [port, size, isOut] of [[0xcf8, 4, true], [0xcfc, 2, false], [0xcf8, 4, true], [0xcfc, 2, false], [0xcfc, 1, false]] as const) {
        const e = v.run();
        assert.equal(e.kind, 'io');
        if (e.kind !== 'io') return;
        assert.deepEqual([e.port, e.size, e.count, e.isOut], [port, size, 1, isOut]);
        assert.equal(e.data.length, size);
        if (!isOut) e.data.fill(0xff);
        views.push(e.data);
      }
      assert.equal(views[2], views[0], 'the 4-byte view is reused');
      assert.equal(views[3], views[1], 'the 2-byte view is reused');
      assert.equal(views[4].byteOffset, views[0].byteOffset, 'every view starts at the data offset');
      assert.equal(v.run().kind, 'shutdown');
    } finally {
      vm.close();
      ram.release();
    }
  });
});

describe('vCPU threads', { skip }, () => {
  test('an abandoned sample: the thread ran on its own dup of the vCPU fd, stops at its next exit and closes it', () => {
    // fds of this process that are the given anon inode (e.g. "kvm-vcpu:0")
    const openAs = (what: string) =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === `anon_inode:${what}`;
        } catch {
          return false; // the directory's own fd, closed by now
        }
      }).length;
    const vm = K().kvm.createVm();
    const ram = HostMapping.anonymous(RAM_SIZE, 'test RAM');
    try {
      vm.addMemory(0, RAM_SIZE, ram.ptr);
      // The guest never signals done: out 0x80 in a loop (an exit each time).
      const a = new Asm(CODE);
      const top = a.label();
      a.bind(top).movImm(r.edx, 0x80).outDx(8).jmp(top);
      writeImage(ram.bytes, a.assemble(), { configBase: 0, lastBus: 0, vcpus: 1, passes: 1 });
      const v = vm.createVcpu(0);
      enterLongModeCpl3(v, K().cpuid, 0);
      assert.equal(openAs('kvm-vcpu:0'), 1);
      const threads = new VcpuThreads([v], {
        topology: q35Topology,
        pciBuffer: PciModel.sharedBuffer(q35Topology),
        ecam: { base: 0xb0000000, size: 256 << 20, configOffset: 0 },
        drainCoalesced: false,
        mmapSize: K().kvm.vcpuMmapSize(),
      });
      threads.start();
      assert.equal(openAs('kvm-vcpu:0'), 2, 'the thread holds its own fd for the vCPU');
      assert.throws(() => threads.join(300), /0 of 1 finished within 0.3 s/);
      threads.abort();
      assert.equal(threads.settle(5000), true, 'the thread stopped at its next exit');
      assert.equal(openAs('kvm-vcpu:0'), 1, 'and closed its fd: closing ours now leaves no handle on this vCPU');
    } finally {
      vm.close();
      ram.release();
    }
  });
});

describe('guest layout', () => {
  test('the published present list (u32 entries) fits in the info page', () => {
    assert.equal(PRESENT_LIST + 4 * PRESENT_MAX, INFO + 0x1000);
    const ram = new Uint8Array(RAM_SIZE);
    const present = (n: number) => Array.from({ length: n }, (_, i) => ({ bus: i >> 8, devfn: i & 0xff, secondary: 0, subordinate: 0 }));
    writeImage(ram, Uint8Array.of(0x90), { configBase: 0, lastBus: 0, vcpus: 1, passes: 1, present: present(PRESENT_MAX) });
    const dv = new DataView(ram.buffer);
    assert.equal(dv.getUint32(PRESENT_LIST + 4 * (PRESENT_MAX - 1), true), PRESENT_MAX - 1, 'the last entry, just below the marks');
    assert.throws(() => writeImage(new Uint8Array(RAM_SIZE), Uint8Array.of(0x90), { configBase: 0, lastBus: 0, vcpus: 1, passes: 1, present: present(PRESENT_MAX + 1) }), /too many present functions/);
  });
});
