// kernel/selftests/pcihole_uapi.h must say what the patches' uapi hunks say: same macro values,
// same struct layouts. kvm-abi.test.ts checks runner/vmm/kvm-abi.ts against that header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BACKPORTED, PRIVATE_UAPI_H, SERIES_DIRS, defines, patchUapi, structs, uapiAdditions } from './private-uapi.js';

const header = readFileSync(PRIVATE_UAPI_H, 'utf8');

test('kernel/ holds the 6.1 series (and any other) as folders of patches', () => {
  assert.ok(SERIES_DIRS.map((d) => basename(d)).includes('6.1'), SERIES_DIRS.join(', '));
});

for (const dir of SERIES_DIRS) {
  const series = basename(dir);
  // 6.12 has KVM_PRE_FAULT_MEMORY upstream: its series adds only the private ABI.
  const upstream = (name: string) => series !== '6.1' && BACKPORTED.includes(name);

  test(`${series}: every macro of pcihole_uapi.h is added by a kernel/${series} patch with the same value`, () => {
    const fromPatches = defines(patchUapi(dir));
    const fromHeader = defines(header);
    assert.ok(fromHeader.size > 0, 'pcihole_uapi.h defines no macros');
    for (const [name, value] of fromHeader) {
      if (upstream(name)) continue;
      assert.ok(fromPatches.has(name), `${name} is in pcihole_uapi.h but no patch adds it to include/uapi/linux/kvm.h`);
      assert.equal(value, fromPatches.get(name), `${name}: pcihole_uapi.h says ${value}, the patch ${fromPatches.get(name)}`);
    }
  });

  test(`${series}: every macro and struct a patch adds to the uapi header is in pcihole_uapi.h`, () => {
    const fromHeader = defines(header);
    for (const name of defines(patchUapi(dir)).keys()) assert.ok(fromHeader.has(name), `a patch adds ${name}; pcihole_uapi.h lacks it`);
    const hs = structs(header);
    for (const [name, body] of structs(patchUapi(dir))) assert.equal(hs.get(name), body, `struct ${name}`);
  });
}

test('the helpers read what they claim: uapi hunks only, values and struct bodies normalised', () => {
  const patch = [
    'diff --git a/virt/kvm/kvm_main.c b/virt/kvm/kvm_main.c',
    '+#define NOT_UAPI 1',
    'diff --git a/include/uapi/linux/kvm.h b/include/uapi/linux/kvm.h',
    '+++ b/include/uapi/linux/kvm.h',
    '+#define KVM_X\t(1UL  << 3)',
    '+#define FN(x) (x)',
    ' #define CONTEXT 2',
    '+struct s {',
    '+\t__u64 a;',
    '+};',
  ].join('\n');
  const u = uapiAdditions(patch);
  assert.deepEqual([...defines(u)], [['KVM_X', '(1UL << 3)']]);
  assert.deepEqual([...structs(u)], [['s', '__u64 a;']]);
});
