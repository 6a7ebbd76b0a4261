import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { soak } from '../runner/measure/soak.js';
import { strategies } from '../strategies/index.js';
import { workloads } from '../workloads/index.js';

test('fresh VMs release their fds and mappings (ro-page/4k and the in-kernel proxy)', { skip: !existsSync('/dev/kvm') && 'no /dev/kvm' }, () => {
  const w = workloads.find((x) => x.id === 'linux-q35-boot')!;
  for (const [id, variant] of [['ro-page', '4k'], ['mmio-bus-device', '']] as const) {
    const s = strategies.find((x) => x.id === id)!;
    const points = soak(s, variant, w, 12, 4);
    const base = points[1];
    const last = points[points.length - 1];
    assert.equal(last.fds, base.fds, `${id}: open fds after ${last.vms} VMs`);
    // Total VMAs move as glibc/V8 add arenas; the VMs' own mappings must not move at all.
    assert.equal(last.vmMaps, base.vmMaps, `${id}: VM mappings after ${last.vms} VMs`);
  }
});
