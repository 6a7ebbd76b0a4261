// Every strategy and variant of the registry on real KVM, one fresh-VM sample each of
// linux-q35-boot over ECAM: discovery, hole accesses against the analytic count of the
// strategy's own plan, where the hole accesses were served (VMM or kernel), hugepage
// mappings, and host memory of the backing. Strategies that cannot run here must say why.
// Host limits (vm.max_map_count for shared-hva/4k, hugetlb pages) are raised when root and
// restored after the file; without root those variants are skipped with the reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { strategies } from '../strategies/index.js';
import { fingerprint } from '../runner/host/host.js';
import { guestTscKhz } from '../runner/guest/guest-tsc.js';
import { ensureHostNeeds, restoreHost } from '../runner/host/host-prep.js';
import { enumerate } from '../runner/devices/pci-model.js';
import { planOnly, windowOf } from '../runner/measure/sample.js';
import { linuxQ35Boot } from '../workloads/linux-q35-boot.js';
import type { HostInfo, Strategy } from '../strategies/types.js';
import type { Sample } from '../runner/results/schema.js';
import { expectedFor, kvmSkipReason, openKvm, recordKeys, runCapturing, type GuestRecord } from './helpers-kvm.js';

const w = linuxQ35Boot;
const WINDOW = windowOf(w).size;
const MB2 = 0x200000;
const skip = kvmSkipReason();
const isRoot = process.getuid?.() === 0;

/** Strategies that serve hole reads without exiting to the VMM (a memslot or the in-kernel proxy). */
const IN_KERNEL = new Set(['memslot-flag', 'mmio-bus-device', 'shared-hva', 'ro-page', 'spte-prefetch']);
/** The proxies stand in for mechanisms no stock kernel has. */
const PROXIES = new Set(['memslot-flag', 'mmio-bus-device']);

const name = (s: Strategy, v: string) => (v ? `${s.id}/${v}` : s.id);

const opened = openKvm();
let host: HostInfo;
before(() => {
  if (!opened) return;
  host = { kvm: opened.kvm, fingerprint: fingerprint(opened.kvm, guestTscKhz(opened.kvm)), options: {} };
});
after(() => {
  restoreHost(); // put back any sysctl raised for shared-hva / hugetlb, whatever failed
  opened?.kvm.close();
});

/** Results of the rows that ran, for the cross-strategy checks. */
const ran = new Map<string, { sample: Sample; records: GuestRecord[] }>();
const expectedRecords = recordKeys(
  enumerate(w.topology).map((f) => ({ bus: f.bus, devfn: f.devfn, id: (f.spec.vendor | (f.spec.device << 16)) >>> 0, headerType: (f.spec.bridge ? 1 : 0) | (f.spec.multifunction ? 0x80 : 0) })),
);

describe(`every strategy on ${w.id} (ecam), one sample each`, { skip }, () => {
  for (const s of strategies) {
    for (const variant of s.variants) {
      test(name(s, variant), (t) => {
        const needs = s.hostNeeds?.(variant, w) ?? [];
        const limit = ensureHostNeeds(needs, isRoot);
        if (limit) {
          assert.ok(needs.length > 0 && limit.length > 0);
          if (!isRoot) assert.match(limit, /run: .*sudo /, 'the reason names the command to run');
          t.skip(`host limit: ${limit}`);
          return;
        }
        const probe = s.probe(host, variant, 'ecam', w);
        if (probe.status === 'unsupported') {
          assert.ok(probe.reason && probe.reason.trim().length > 10, `${name(s, variant)} is unsupported and must say why`);
          t.diagnostic(`unsupported here: ${probe.reason}`);
          return;
        }
        if (PROXIES.has(s.id)) {
          assert.equal(probe.status, 'proxy', 'no stock kernel has the mechanism: it runs as a labelled proxy');
          assert.ok(probe.reason.length > 0);
        }

        const { sample, records } = runCapturing({ kvm: host.kvm, cpuid: opened!.cpuid, strategy: s, variant, workload: w, access: 'ecam', options: {} });
        ran.set(name(s, variant), { sample, records });

        assert.equal(sample.discoveryOk, true, 'the guest found exactly the topology');
        const plan = planOnly(s, w, 'ecam', variant, {});
        const exp = expectedFor(w, plan.lastBus, plan.guest, 'ecam');
        const scan = sample.scans[0];
        assert.deepEqual(scan.phases.map((p) => p.name), w.phases);
        for (const p of scan.phases) {
          assert.equal(p.holeAccesses, exp.byPhase.holes[p.name], `${p.name}: hole accesses = analytic count of the plan`);
          assert.equal(p.accesses, exp.byPhase.accesses[p.name], `${p.name}: accesses = analytic count of the plan`);
        }
        const { holes, writes } = exp;
        const reads = exp.accesses - writes; // every hole access is a read (a probe)
        if (IN_KERNEL.has(s.id)) {
          assert.equal(sample.vmmHoleExits, 0, 'no hole access reached the VMM');
          assert.equal(sample.exits.mmio_read, reads - holes, 'only present-device reads exit to the VMM');
        } else {
          assert.equal(sample.vmmHoleExits, holes, 'every hole access exits to the VMM');
          assert.equal(sample.exits.mmio_read, reads);
        }
        if (s.id !== 'mmio-bus-device') {
          // (mmio-bus-device's coalesced count is checked on its own below)
          assert.equal(sample.exits.mmio_write + sample.exits.coalesced, writes, 'config writes (to present functions) reach the VMM');
          assert.equal(sample.exits.coalesced, 0, 'no coalesced-MMIO zone');
        }
        assert.equal(sample.kvmStats?.['vcpu.mmio_exits'], sample.exits.mmio_read + sample.exits.mmio_write, "KVM's count of MMIO exits equals the VMM's");
        assert.equal(sample.exits.io_in + sample.exits.io_out, 0, 'ECAM: no port I/O');
        assert.equal(sample.exits.other, 0, 'nothing outside config space');
        assert.equal(sample.exits.harness, 1);
        if (holes > 0 && scan.phases.some((p) => p.name === w.holePhase && p.holeAccesses > 0)) {
          assert.ok(typeof scan.nsPerAccess === 'number' && scan.nsPerAccess > 0, 'a positive ns per hole access');
        } else {
          assert.equal(scan.nsPerAccess, null, 'no hole-only phase: no per-access figure');
        }
        assert.ok(scan.ns > 0 && Number.isFinite(scan.ns));
        assert.ok(sample.setupMs >= 0);
      });
    }
  }
});

/** The row's sample, or a skip when it did not run here. */
function row(t: { skip(msg: string): void }, id: string): Sample | null {
  const r = ran.get(id);
  if (!r) t.skip(`${id} did not run on this host`);
  return r?.sample ?? null;
}

describe('per-strategy expectations', { skip }, () => {
  test('discovered functions are identical across every strategy that ran (and equal the topology)', () => {
    assert.ok(ran.size >= 2, `at least two strategies ran (${[...ran.keys()].join(', ')})`);
    for (const [id, r] of ran) assert.deepEqual(recordKeys(r.records), expectedRecords, id);
  });

  test('userspace-exit: all 8193 hole reads exit to the VMM', (t) => {
    const s = row(t, 'userspace-exit');
    if (s) assert.equal(s.vmmHoleExits, 33 + 8160);
  });

  test('guest-enlightenment makes no hole access', (t) => {
    const s = row(t, 'guest-enlightenment');
    if (!s) return;
    assert.equal(s.scans[0].phases.reduce((n, p) => n + p.holeAccesses, 0), 0);
    assert.equal(s.vmmHoleExits, 0);
    assert.equal(s.scans[0].nsPerAccess, null);
  });

  test('right-sized-window makes only the bus-0 hole reads', (t) => {
    const s = row(t, 'right-sized-window');
    if (!s) return;
    const strat = strategies.find((x) => x.id === 'right-sized-window') as Strategy;
    assert.equal(planOnly(strat, w, 'ecam', '', {}).lastBus, 0, 'q35 has only bus 0');
    const ph = Object.fromEntries(s.scans[0].phases.map((p) => [p.name, p.holeAccesses]));
    assert.deepEqual(ph, { 'bus-scan': w.expected(255, 'linux').holes['bus-scan'], 'peer-bridge': 0 });
    assert.equal(s.vmmHoleExits, 33);
  });

  test('hugepage mappings: ro-page/thp, ro-page/hugetlb and shared-hva/2m map 2 MiB pages, ro-page/4k none', (t) => {
    if (!host.kvm.checkExtension('KVM_CAP_BINARY_STATS_FD')) return t.skip('this kernel has no KVM_GET_STATS_FD (Linux < 5.14): no vm.pages_2m to read');
    const ran2m = ['ro-page/thp', 'ro-page/hugetlb', 'shared-hva/2m'].filter((id) => ran.has(id));
    const ran4k = ran.get('ro-page/4k');
    if (!ran2m.length && !ran4k) return t.skip('none of these ran here');
    const stat = (id: string, k: string) => ran.get(id)?.sample.kvmStats?.[k];
    for (const id of ran2m) assert.ok((stat(id, 'vm.pages_2m_now') ?? 0) > 0, `${id}: vm.pages_2m_now > 0`);
    if (ran4k) {
      // Guest RAM is MADV_NOHUGEPAGE too: with THP "always" it would otherwise add 2 MiB mappings here.
      assert.equal(stat('ro-page/4k', 'vm.pages_2m'), 0, `ro-page/4k: no 2 MiB mapping during the scan (THP ${host.fingerprint.thp.enabled})`);
      assert.equal(stat('ro-page/4k', 'vm.pages_2m_now'), 0, `ro-page/4k: no 2 MiB mapping held after it (THP ${host.fingerprint.thp.enabled})`);
    }
  });

  test('host memory of the backing: ro-page ≈ the window, shared-hva one page, others none', (t) => {
    let checked = 0;
    for (const [id, r] of ran) {
      const m = r.sample.memoryBytes;
      if (id.startsWith('ro-page/') || id === 'spte-prefetch') {
        assert.ok(m >= WINDOW * 0.95 && m <= WINDOW, `${id}: ${m} bytes ≈ ${WINDOW}`);
        assert.equal(r.sample.mappings, 1, `${id}: one mapping`);
      } else if (id === 'shared-hva/4k') {
        assert.equal(m, 4096);
        assert.equal(r.sample.mappings, WINDOW / 4096, 'one VMA per 4 KiB alias');
      } else if (id === 'shared-hva/2m') {
        assert.equal(m, MB2);
        assert.equal(r.sample.mappings, WINDOW / MB2, 'one VMA per 2 MiB alias');
      } else {
        assert.equal(m, 0, `${id}: no backing`);
        assert.equal(r.sample.mappings, 0);
      }
      checked++;
    }
    if (!checked) t.skip('no strategy ran');
  });

  test('mmio-bus-device: config writes are absorbed by the coalesced ring or exit, exactly once each', (t) => {
    const s = row(t, 'mmio-bus-device');
    if (!s) return;
    const strat = strategies.find((x) => x.id === 'mmio-bus-device') as Strategy;
    const plan = planOnly(strat, w, 'ecam', '', {});
    assert.equal(s.exits.mmio_write + s.exits.coalesced, expectedFor(w, plan.lastBus, plan.guest, 'ecam').writes);
  });
});

describe('probes', { skip }, () => {
  test('conf1: the memslot and proxy strategies are unsupported with a reason; the others run', () => {
    for (const s of strategies) {
      for (const v of s.variants) {
        const p = s.probe(host, v, 'conf1', w);
        if (IN_KERNEL.has(s.id)) {
          assert.equal(p.status, 'unsupported', name(s, v));
          assert.match(p.reason ?? '', /conf1|port I\/O/, name(s, v));
        } else assert.notEqual(p.status, 'unsupported', name(s, v));
      }
    }
  });

  test('every unsupported probe on ecam carries a reason; spte-prefetch follows KVM_CAP_PRE_FAULT_MEMORY', () => {
    for (const s of strategies)
      for (const v of s.variants) {
        const p = s.probe(host, v, 'ecam', w);
        if (p.status === 'unsupported') assert.ok((p.reason ?? '').trim().length > 0, name(s, v));
      }
    const spte = strategies.find((s) => s.id === 'spte-prefetch') as Strategy;
    const p = spte.probe(host, '', 'ecam', w);
    if (host.kvm.checkExtension('KVM_CAP_PRE_FAULT_MEMORY') === 0) {
      assert.equal(p.status, 'unsupported');
      assert.match(p.reason ?? '', /KVM_CAP_PRE_FAULT_MEMORY is 0/);
    } else assert.equal(p.status, 'measured');
  });

  test('the registry lists every strategy of the review thread, each with an origin and variants', () => {
    const ids = strategies.map((s) => s.id);
    assert.deepEqual(ids, ['userspace-exit', 'memslot-flag', 'mmio-bus-device', 'shared-hva', 'ro-page', 'spte-prefetch', 'guest-enlightenment', 'right-sized-window']);
    assert.equal(new Set(ids).size, ids.length);
    for (const s of strategies) {
      assert.ok(s.origin.length > 0 && s.summary.length > 0, s.id);
      assert.ok(s.variants.length > 0, s.id);
    }
    assert.deepEqual(strategies.find((s) => s.id === 'ro-page')?.variants, ['4k', 'thp', 'hugetlb']);
    assert.deepEqual(strategies.find((s) => s.id === 'shared-hva')?.variants, ['4k', '2m', 'flag-4k', 'flag-2m']);
    // The proxies stay the default variant (''); the patched-KVM mechanisms are a variant of their own.
    assert.deepEqual(strategies.find((s) => s.id === 'memslot-flag')?.variants, ['', 'kernel', 'kernel-mmio-spte']);
    assert.deepEqual(strategies.find((s) => s.id === 'mmio-bus-device')?.variants, ['', 'kernel']);
    assert.deepEqual(strategies.find((s) => s.id === 'spte-prefetch')?.variants, ['', 'fault-2m', 'fault-2m-batch']);
  });
});
