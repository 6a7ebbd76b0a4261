// With transparent hugepages "always", only the strategies that ask for hugepages get 2 MiB
// mappings: guest RAM and ro-page/4k are MADV_NOHUGEPAGE, so a VM without a hugepage strategy
// holds no 2 MiB mapping (vm.pages_2m delta and vm.pages_2m_now gauge both 0). As root the file
// switches THP to "always" for its tests and puts the old mode back; otherwise it needs the host
// to be in "always" already. Real KVM only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { runSample } from '../runner/measure/sample.js';
import { userspaceExit } from '../strategies/userspace-exit.js';
import { roPage } from '../strategies/ro-page.js';
import type { Strategy } from '../strategies/types.js';
import { linuxQ35Boot } from '../workloads/linux-q35-boot.js';
import { kvmSkipReason, openKvm } from './helpers-kvm.js';

const THP = '/sys/kernel/mm/transparent_hugepage/enabled';
const isRoot = process.getuid?.() === 0;

/** "always [madvise] never" → "madvise"; null without THP. */
function thpMode(): string | null {
  try {
    return /\[([^\]]+)\]/.exec(readFileSync(THP, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

function skipReason(): string | false {
  const kvm = kvmSkipReason();
  if (kvm) return kvm;
  const mode = thpMode();
  if (mode === null) return `${THP} is missing: this kernel has no transparent hugepages`;
  if (mode !== 'always' && !isRoot) return `THP is "${mode}": run as root (the test switches it to always and back) or: echo always | sudo tee ${THP}`;
  return false;
}

const skip = skipReason();
const opened = skip ? null : openKvm();
let restoreMode: string | null = null;

before(() => {
  const mode = thpMode();
  if (skip || mode === 'always') return;
  restoreMode = mode;
  writeFileSync(THP, 'always');
});
after(() => {
  if (restoreMode) writeFileSync(THP, restoreMode);
  opened?.kvm.close();
});

describe('THP always: no 2 MiB mapping unless a strategy asks for one', { skip }, () => {
  const sample = (strategy: Strategy, variant: string) => {
    const o = opened as NonNullable<typeof opened>;
    const s = runSample({ kvm: o.kvm, cpuid: o.cpuid, strategy, variant, workload: linuxQ35Boot, access: 'ecam', options: {} });
    assert.equal(s.discoveryOk, true);
    return s.kvmStats;
  };
  const noStats = () => (opened?.kvm.checkExtension('KVM_CAP_BINARY_STATS_FD') ? false : 'this kernel has no KVM_GET_STATS_FD (Linux < 5.14)');

  test('the host is in THP always for these tests', () => {
    assert.equal(thpMode(), 'always');
  });

  for (const [strategy, variant, what] of [
    [userspaceExit, '', 'userspace-exit (guest RAM only)'],
    [roPage, '4k', 'ro-page/4k (guest RAM and a 4 KiB 0xff window)'],
  ] as const) {
    test(`${what}: vm.pages_2m and vm.pages_2m_now are 0`, { skip: noStats() }, () => {
      const st = sample(strategy, variant);
      assert.equal(st?.['vm.pages_2m'], 0, 'no 2 MiB mapping made during the scan');
      assert.equal(st?.['vm.pages_2m_now'], 0, 'no 2 MiB mapping held after the scan');
    });
  }

  test('control: ro-page/thp does get 2 MiB mappings here (the statistic sees THP)', { skip: noStats() }, () => {
    const st = sample(roPage, 'thp');
    assert.ok((st?.['vm.pages_2m_now'] ?? 0) > 0, `vm.pages_2m_now = ${st?.['vm.pages_2m_now']}`);
  });
});
