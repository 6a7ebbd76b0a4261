// runner/kvm-build without building anything: the Makefile tweak, the cache key, the cache
// check, the package check and the kernel choice. Pure logic on temp folders and fake hosts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostError } from '../runner/shared/errors.js';
import { MODULES, defaultKernel, isCached, listPatches, patchHash, tweakMakefile } from '../runner/kvm-build/kvm-build.js';
import { missingPackages, neededPackages, versionMismatch } from '../runner/kvm-build/debian-packages.js';
import { seriesById } from '../runner/lab/kernel-series.js';

const SOURCE_TARBALL = seriesById('6.1')!.sourceTarball;
import { onPath } from '../runner/shared/on-path.js';

const tmp = mkdtempSync(join(tmpdir(), 'kvm-build-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const folder = (files: Record<string, string> = {}) => {
  const d = join(tmp, `d${n++}`);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
};

/** The head of linux-source-6.1's arch/x86/kvm/Makefile (6.1.192), the part the tweak touches. */
const MAKEFILE_6_1 = [
  '# SPDX-License-Identifier: GPL-2.0',
  '',
  'ccflags-y += -I $(srctree)/arch/x86/kvm',
  'ccflags-$(CONFIG_KVM_WERROR) += -Werror',
  '',
  'include $(srctree)/virt/kvm/Makefile.kvm',
  '',
  'kvm-y\t\t\t+= x86.o emulate.o i8259.o irq.o lapic.o \\',
  '',
].join('\n');

describe('tweakMakefile: arch/x86/kvm/Makefile built out of tree', () => {
  const out = tweakMakefile(MAKEFILE_6_1);
  const lines = out.split('\n');

  test("includes the copy's virt/kvm/Makefile.kvm, not the headers tree's", () => {
    assert.ok(lines.includes('include $(src)/../../../virt/kvm/Makefile.kvm'));
    assert.ok(!out.includes('include $(srctree)/virt/kvm/Makefile.kvm'));
  });

  test('adds the trace-header paths and the patched uapi header right after the first ccflags line', () => {
    const at = lines.indexOf('ccflags-y += -I $(srctree)/arch/x86/kvm');
    assert.ok(at >= 0, 'the original ccflags line is kept');
    const added = lines.slice(at + 1, at + 4);
    assert.ok(added[0].startsWith('#'), 'a comment says why');
    assert.equal(added[1], 'ccflags-y += -I $(src) -I $(src)/../../../include/trace');
    assert.match(added[2], /^LINUXINCLUDE := -I\$\(src\)\/\.\.\/\.\.\/\.\.\/include\/uapi -I\$\(src\)\/\.\.\/\.\.\/\.\.\/include \$\(LINUXINCLUDE\)$/);
  });

  test('changes nothing else', () => {
    const back = out
      .replace('include $(src)/../../../virt/kvm/Makefile.kvm', 'include $(srctree)/virt/kvm/Makefile.kvm')
      .split('\n')
      .filter((l, i, all) => !(i > 0 && all[i - 1] === 'ccflags-y += -I $(srctree)/arch/x86/kvm') && !l.startsWith('ccflags-y += -I $(src) ') && !l.startsWith('LINUXINCLUDE'))
      .join('\n');
    assert.equal(back, MAKEFILE_6_1);
  });

  test('an unexpected Makefile (or one already tweaked) is a HostError, not a silent half-tweak', () => {
    assert.throws(() => tweakMakefile(out), HostError);
    assert.throws(() => tweakMakefile(MAKEFILE_6_1.replace('include $(srctree)/virt', 'include $(objtree)/virt')), HostError);
    assert.throws(() => tweakMakefile(MAKEFILE_6_1.replace('ccflags-y += -I $(srctree)/arch/x86/kvm\n', '')), /not the expected one/);
  });
});

describe('the cache key: listPatches and patchHash', () => {
  test('listPatches: *.patch only, in file-name order, full paths', () => {
    const d = folder({ '0002-b.patch': 'b', '0001-a.patch': 'a', 'README': 'x', 'selftest.c': 'y' });
    assert.deepEqual(listPatches(d), [join(d, '0001-a.patch'), join(d, '0002-b.patch')]);
  });

  test('listPatches: a missing folder or one without patches is a HostError naming it', () => {
    const empty = folder({ 'notes.txt': '' });
    assert.throws(() => listPatches(empty), (e: Error) => e instanceof HostError && e.message.includes(empty) && /no \*\.patch/.test(e.message));
    assert.throws(() => listPatches(join(tmp, 'nowhere')), (e: Error) => e instanceof HostError && /no such folder/.test(e.message));
  });

  test('patchHash: 12 hex digits, the same for the same names and bytes wherever they live', () => {
    const a = folder({ '0001-x.patch': 'one', '0002-y.patch': 'two' });
    const b = folder({ '0001-x.patch': 'one', '0002-y.patch': 'two' });
    const h = patchHash(listPatches(a));
    assert.match(h, /^[0-9a-f]{12}$/);
    assert.equal(patchHash(listPatches(b)), h);
  });

  test('patchHash changes with a byte, a name, the order or one more patch', () => {
    const base = folder({ '0001-x.patch': 'one', '0002-y.patch': 'two' });
    const h = patchHash(listPatches(base));
    const others = [
      folder({ '0001-x.patch': 'one', '0002-y.patch': 'twO' }),
      folder({ '0001-x.patch': 'one', '0002-z.patch': 'two' }),
      folder({ '0001-x.patch': 'one', '0002-y.patch': 'two', '0003-z.patch': '' }),
    ].map((d) => patchHash(listPatches(d)));
    others.push(patchHash(listPatches(base).reverse()));
    // Moving bytes between two patches must not collide either (names and contents are delimited).
    others.push(patchHash(listPatches(folder({ '0001-x.patch': 'onet', '0002-y.patch': 'wo' }))));
    for (const o of others) assert.notEqual(o, h);
    assert.equal(new Set(others).size, others.length);
  });

  test('isCached: every module and build.json, else not', () => {
    const files = Object.fromEntries([...MODULES, 'build.json'].map((m) => [m, '']));
    assert.equal(isCached(folder(files)), true);
    for (const missing of [...MODULES, 'build.json']) {
      const { [missing]: _, ...rest } = files;
      assert.equal(isCached(folder(rest)), false, `without ${missing}`);
    }
    assert.equal(isCached(join(tmp, 'nowhere')), false);
  });
});

describe('Debian packages', () => {
  const kernel = '6.1.0-57-amd64';

  test('neededPackages: the source tarball and the headers of that kernel, then the tools', () => {
    const need = neededPackages(kernel);
    assert.deepEqual(need.map((p) => p.pkg), ['linux-source-6.1', `linux-headers-${kernel}`, 'make', 'gcc', 'patch', 'xz-utils', 'binutils']);
    assert.deepEqual(need[0].sign, { file: SOURCE_TARBALL });
    assert.deepEqual(need[1].sign, { file: `/lib/modules/${kernel}/build/Makefile` });
    assert.deepEqual(need.slice(2).map((p) => p.sign), ['make', 'gcc', 'patch', 'xz', 'strip'].map((command) => ({ command })));
  });

  test('missingPackages: what the host lacks, in apt-get order; nothing when all is there', () => {
    const everything = { file: () => true, command: () => true };
    assert.deepEqual(missingPackages(kernel, everything), []);
    const noSourceNoXz = { file: (p: string) => p !== SOURCE_TARBALL, command: (c: string) => c !== 'xz' };
    assert.deepEqual(missingPackages(kernel, noSourceNoXz), ['linux-source-6.1', 'xz-utils']);
    const otherHeaders = { file: (p: string) => !p.includes('6.1.0-58'), command: () => true };
    assert.deepEqual(missingPackages('6.1.0-58-amd64', otherHeaders), ['linux-headers-6.1.0-58-amd64']);
    assert.deepEqual(missingPackages(kernel, otherHeaders), []);
  });

  test('6.12: its own source tarball, pinned to the image\'s version; another kernel is refused in one line', () => {
    const need = neededPackages('6.12.118+deb12-amd64');
    assert.deepEqual(need.slice(0, 2).map((p) => p.pkg), ['linux-source-6.12=6.12.118-1~deb12u1', 'linux-headers-6.12.118+deb12-amd64']);
    assert.deepEqual(need[0].sign, { file: '/usr/src/linux-source-6.12.tar.xz' });
    assert.throws(() => neededPackages('6.18.44-fc-v1252'), (e: unknown) => e instanceof HostError && /^kernel 6\.18\.44-fc-v1252: kernel\/ has patches for Debian's 6\.1 and 6\.12 kernels only/.test(e.message));
  });

  test('onPath: finds sh, not a made-up command, and refuses shell syntax', () => {
    assert.equal(onPath('sh'), true);
    assert.equal(onPath('pcihole-no-such-command'), false);
    assert.equal(onPath('sh; true'), false);
    assert.equal(onPath('$(true)'), false);
  });

  test('versionMismatch: source and headers from different uploads are refused with the fix', () => {
    assert.equal(versionMismatch(kernel, '6.1.192-3', '6.1.192-3'), null);
    assert.equal(versionMismatch(kernel, null, '6.1.192-3'), null);
    const m = versionMismatch(kernel, '6.1.192-3', '6.1.190-1');
    assert.match(m ?? '', /^linux-source-6\.1 is 6\.1\.192-3 but linux-headers-6\.1\.0-57-amd64 is 6\.1\.190-1: .*apt-get install linux-source-6\.1 linux-headers-6\.1\.0-57-amd64/);
  });
});

describe('defaultKernel: which kernel to build for', () => {
  const modules = (versions: Record<string, boolean>) => {
    const root = folder();
    for (const [v, build] of Object.entries(versions)) mkdirSync(join(root, v, build ? 'build' : 'kernel'), { recursive: true });
    return root;
  };

  test('the running kernel when it is a Debian 6.1 kernel with headers', () => {
    assert.equal(defaultKernel('6.1.0-9-amd64', modules({ '6.1.0-9-amd64': true, '6.1.0-57-amd64': true })), '6.1.0-9-amd64');
    assert.equal(defaultKernel('6.1.0-9-cloud-amd64', modules({ '6.1.0-9-cloud-amd64': true })), '6.1.0-9-cloud-amd64');
  });

  test('else the newest 6.1 ABI by number (57 after 9), whatever the running kernel', () => {
    const root = modules({ '6.1.0-9-amd64': true, '6.1.0-57-amd64': true, '6.1.0-10-amd64': false });
    assert.equal(defaultKernel('6.18.0-v782', root), '6.1.0-57-amd64');
    assert.equal(defaultKernel('6.1.0-10-amd64', root), '6.1.0-57-amd64', 'running 6.1 without headers');
  });

  test('a series: the newest 6.12 build when asked for 6.12, never a 6.12 for the default 6.1', () => {
    const root = modules({ '6.1.0-57-amd64': true, '6.12.107+deb12-amd64': true, '6.12.118+deb12-amd64': true });
    assert.equal(defaultKernel('6.18.0-v782', root, '6.12'), '6.12.118+deb12-amd64');
    assert.equal(defaultKernel('6.12.107+deb12-amd64', root, '6.12'), '6.12.107+deb12-amd64', 'the running one of the series');
    assert.equal(defaultKernel('6.18.0-v782', root), '6.1.0-57-amd64');
  });

  test('null when /lib/modules has no Debian 6.1 kernel', () => {
    assert.equal(defaultKernel('6.18.0-v782', modules({ '6.18.0-v782': true, '6.12.0-1-amd64': true, '6.1.0-57-arm64': true })), null);
    assert.equal(defaultKernel('6.1.0-57-amd64', join(tmp, 'no-modules')), null);
  });
});

describe('the extracted source covers the patches', () => {
  test('every file a kernel/SERIES/*.patch touches is under SOURCE_PARTS', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const { SERIES_DIRS } = await import('./private-uapi.js');
    const { SOURCE_PARTS } = await import('../runner/kvm-build/kvm-build.js');
    const touched = SERIES_DIRS.flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.patch'))
        .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/^diff --git a\/(\S+) /gm)].map((m) => m[1])),
    );
    assert.ok(touched.length > 0);
    for (const file of touched) assert.ok(SOURCE_PARTS.some((p) => file === p || file.startsWith(p + '/')), `${file} is patched but not extracted`);
  });
});

describe('bench kvm test: the matrix rows the patches decide', () => {
  test('patched: all as expected passes; a kernel row left unsupported fails, one line each', async () => {
    const { MATRIX_EXPECT, matrixFailures } = await import('../runner/kvm-build/kvm-command.js');
    const pf = (perHole: number) => [{ kvmStats: { 'vcpu.pf_taken': Math.round(perHole * 8193) } }];
    const rows = MATRIX_EXPECT.map((e) => ({
      strategy: e.strategy, variant: e.variant, status: e.patched, reason: '', holeAccesses: 8193,
      samples: pf(e.faultsPerHole ? (e.faultsPerHole[0] + e.faultsPerHole[1]) / 2 : 0.02),
    }));
    const lines: string[] = [];
    assert.equal(matrixFailures(rows, false, (l) => lines.push(l)), 0);
    assert.equal(lines.length, MATRIX_EXPECT.length);
    rows[1] = { ...rows[1], status: 'unsupported' };
    assert.equal(matrixFailures(rows.slice(0, -1), false, () => {}), 2, 'one wrong status, one missing row');
    // The series' row with one fault per read is not the series' read path (no retry): a failure, with the figure.
    const series = rows.findIndex((r) => r.strategy === 'memslot-flag' && r.variant === 'kernel');
    rows[1] = { ...rows[1], status: MATRIX_EXPECT[1].patched };
    rows[series] = { ...rows[series], samples: pf(1.002) };
    const why: string[] = [];
    assert.equal(matrixFailures(rows, false, (l) => why.push(l)), 1);
    assert.ok(why.some((l) => /FAIL patched memslot-flag\/kernel: 1\.002 faults per hole access, want 1\.95-2\.05/.test(l)), why.join('\n'));
  });

  test('6.12: spte-prefetch is measured on stock (upstream KVM_PRE_FAULT_MEMORY), the series reads fault once', async () => {
    const { matrixExpect, MATRIX_EXPECT } = await import('../runner/kvm-build/kvm-command.js');
    const e = matrixExpect('6.12');
    const row = (s: string, v: string) => e.find((x) => x.strategy === s && x.variant === v)!;
    assert.equal(row('spte-prefetch', '').stock, 'measured');
    assert.equal(row('spte-prefetch', '').stockReason, undefined);
    assert.deepEqual(row('memslot-flag', 'kernel').faultsPerHole, [0.95, 1.05]);
    assert.equal(row('spte-prefetch', 'fault-2m').stock, 'unsupported');
    assert.equal(matrixExpect('6.1'), MATRIX_EXPECT);
    assert.equal(e.length, MATRIX_EXPECT.length);
  });

  test('stock: unsupported must name the missing capability', async () => {
    const { MATRIX_EXPECT, matrixFailures } = await import('../runner/kvm-build/kvm-command.js');
    const reasonFor = (e: (typeof MATRIX_EXPECT)[number]) =>
      e.strategy === 'spte-prefetch' && !e.variant
        ? 'KVM_CAP_PRE_FAULT_MEMORY is 0: ...'
        : `capability 0x${e.variant === 'fault-2m-batch' ? 10006 : { 'memslot-flag': 10001, 'mmio-bus-device': 10002, 'shared-hva': 10003, 'spte-prefetch': 10004 }[e.strategy]} (x) is 0: a stock KVM`;
    const rows = MATRIX_EXPECT.map((e) => ({ strategy: e.strategy, variant: e.variant, status: e.stock, reason: e.stock === 'unsupported' ? reasonFor(e) : 'proxy for …' }));
    assert.equal(matrixFailures(rows, true, () => {}), 0);
    const vague = rows.map((r) => (r.status === 'unsupported' ? { ...r, reason: 'not supported' } : r));
    assert.equal(matrixFailures(vague, true, () => {}), MATRIX_EXPECT.filter((e) => e.stock === 'unsupported').length);
  });

  test('rows that run on both modules must cost the same faults, emulations and MMIO exits', async () => {
    const { stockRowsDiffer } = await import('../runner/kvm-build/kvm-command.js');
    const row = (strategy: string, variant: string, status: string, pf: number) => ({
      strategy, variant, status, reason: '',
      samples: [{ kvmStats: { 'vcpu.pf_taken': pf, 'vcpu.pf_fixed': 10, 'vcpu.insn_emulation': 8193, 'vcpu.exits': pf + 50 } }],
    });
    const stock = [row('memslot-flag', '', 'proxy', 150), row('memslot-flag', 'kernel', 'unsupported', 0), row('shared-hva', '4k', 'measured', 8209)];
    const same = [row('memslot-flag', '', 'proxy', 150), row('memslot-flag', 'kernel', 'measured', 16402), row('shared-hva', '4k', 'measured', 8210)];
    const lines: string[] = [];
    assert.equal(stockRowsDiffer(same, stock, (l) => lines.push(l)), 0, 'the kernel row is not compared; 1 fault in 8209 is within 0.1 %');
    assert.equal(lines.length, 2);
    const worse = [row('memslot-flag', '', 'proxy', 160), ...same.slice(1)];
    assert.equal(stockRowsDiffer(worse, stock, (l) => lines.push(l)), 1);
    assert.match(lines.at(-2) ?? '', /FAIL same counts memslot-flag on.*vcpu\.pf_taken 160 vs 150/);
  });
});
