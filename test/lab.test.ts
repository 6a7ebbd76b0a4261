// The lab VM's pure parts: the initramfs archive, the module load order, the accelerator choice,
// the guest's run script and QEMU's arguments. (The lab itself is exercised by `npm test` on a
// host without /dev/kvm: the real-KVM test files run inside it.)
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpioNewc } from '../runner/lab/cpio.js';
import { buildInitramfs, moduleBytes, moduleLoadOrder } from '../runner/lab/initramfs.js';
import { looksLikeSeries, parseSeries, seriesOf } from '../runner/lab/kernel-series.js';
import { chooseAccel, accelArgs } from '../runner/lab/accel.js';
import { defaultKernel, findLabHost, isStaticElf } from '../runner/lab/lab-host.js';
import { badShare, benchShares, hiddenFolders, mmuParams, parseMemoryMiB } from '../runner/lab/lab-command.js';
import { labMounts, qemuArgs, runScript, shq, type LabRun } from '../runner/lab/lab-vm.js';
import { UsageError } from '../runner/shared/errors.js';

const BUSYBOX = '/bin/busybox';
/** findLabHost also needs QEMU and a static busybox on this host. */
const findLabHostPossible = () => ['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64'].some((p) => existsSync(p)) && existsSync(BUSYBOX) && isStaticElf(BUSYBOX);

describe('cpio newc archive', () => {
  const archive = cpioNewc([
    { name: 'bin', kind: 'dir', mode: 0o755 },
    { name: 'bin/hello', kind: 'file', mode: 0o755, data: Buffer.from('hi\n') },
    { name: 'bin/sh', kind: 'symlink', mode: 0o777, data: Buffer.from('busybox') },
    { name: 'odd-length-name', kind: 'file', mode: 0o644, data: Buffer.from('12345') },
  ]);

  test('every header starts on a 4-byte boundary and the archive ends with TRAILER!!!', () => {
    let at = 0;
    const names: string[] = [];
    while (at < archive.length) {
      assert.equal(archive.toString('ascii', at, at + 6), '070701', `magic at ${at}`);
      const field = (i: number) => parseInt(archive.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
      const size = field(6);
      const nameSize = field(11);
      const name = archive.toString('ascii', at + 110, at + 110 + nameSize - 1);
      names.push(name);
      at += 110 + nameSize;
      at += (4 - (at % 4)) % 4;
      at += size;
      at += (4 - (at % 4)) % 4;
      if (name === 'TRAILER!!!') break;
    }
    assert.deepEqual(names, ['bin', 'bin/hello', 'bin/sh', 'odd-length-name', 'TRAILER!!!']);
    assert.equal(at, archive.length);
  });

  test('busybox cpio lists and extracts it (types, modes, contents)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcihole-cpio-'));
    try {
      const r = spawnSync(BUSYBOX, ['cpio', '-idmv'], { cwd: dir, input: archive, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const ls = spawnSync(BUSYBOX, ['ls', '-lR', dir], { encoding: 'utf8' }).stdout;
      assert.match(ls, /-rwxr-xr-x .* hello/);
      assert.match(ls, /lrwxrwxrwx .* sh -> busybox/);
      assert.match(ls, /-rw-r--r-- .* odd-length-name/);
      assert.equal(spawnSync(BUSYBOX, ['cat', join(dir, 'bin/hello')], { encoding: 'utf8' }).stdout, 'hi\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('module load order from modules.dep', () => {
  const dep = [
    'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko',
    'kernel/net/9p/9pnet.ko:',
    'kernel/fs/netfs/netfs.ko:',
    'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/virtio/virtio_ring.ko:',
    'kernel/arch/x86/kvm/kvm.ko: kernel/virt/lib/irqbypass.ko',
    'kernel/arch/x86/kvm/kvm-amd.ko: kernel/drivers/crypto/ccp/ccp.ko kernel/arch/x86/kvm/kvm.ko kernel/virt/lib/irqbypass.ko',
    'kernel/virt/lib/irqbypass.ko:',
    'kernel/drivers/crypto/ccp/ccp.ko:',
  ].join('\n');

  test('dependencies come before the modules that need them, each once', () => {
    const order = moduleLoadOrder(dep, ['9pnet_virtio', '9p', 'kvm_amd']);
    assert.equal(new Set(order).size, order.length);
    const at = (m: string) => order.findIndex((p) => p.endsWith(`/${m}.ko`));
    assert.ok(at('9pnet') < at('9pnet_virtio') && at('9pnet') < at('9p'));
    assert.ok(at('netfs') < at('9p') && at('virtio_ring') < at('9pnet_virtio'));
    assert.ok(at('irqbypass') < at('kvm') && at('kvm') < at('kvm-amd') && at('ccp') < at('kvm-amd'));
    assert.equal(order.length, 9);
  });

  test('a module built into the kernel (modules.builtin) needs no file', () => {
    const order = moduleLoadOrder(dep, ['9pnet_virtio', '9p'], 'kernel/drivers/virtio/virtio_ring.ko\nkernel/fs/netfs/netfs.ko\n');
    assert.deepEqual(order, ['kernel/net/9p/9pnet.ko', 'kernel/net/9p/9pnet_virtio.ko', 'kernel/fs/9p/9p.ko']);
  });

  test('a module the kernel does not have is named', () => {
    assert.throws(() => moduleLoadOrder(dep, ['kvm_intel']), /module kvm_intel is not in modules.dep/);
  });
});

describe('accelerator choice', () => {
  const none = { kvmUsable: false, backend: null, nested: null };
  const pvm = { kvmUsable: true, backend: 'kvm_pvm', nested: null };
  const intelNested = { kvmUsable: true, backend: 'kvm_intel', nested: 'Y' };
  const amdFlat = { kvmUsable: true, backend: 'kvm_amd', nested: '0' };

  test('auto: KVM only where the host KVM nests, else TCG with the reason', () => {
    assert.deepEqual(chooseAccel('auto', intelNested), { accel: 'kvm', why: 'kvm_intel on this host offers nested virtualisation (nested=Y)' });
    const n = chooseAccel('auto', none);
    assert.ok('accel' in n && n.accel === 'tcg' && /no usable \/dev\/kvm/.test(n.why));
    const p = chooseAccel('auto', pvm);
    assert.ok('accel' in p && p.accel === 'tcg' && /kvm_pvm\) offers no nested/.test(p.why));
    const a = chooseAccel('auto', amdFlat);
    assert.ok('accel' in a && a.accel === 'tcg' && /kvm_amd.nested is 0 \(enable it: modprobe kvm_amd nested=1\)/.test(a.why));
  });

  test('--accel kvm where it cannot work is an error naming why; tcg always works', () => {
    const e = chooseAccel('kvm', pvm);
    assert.ok('error' in e && /--accel kvm: .*kvm_pvm.*use --accel tcg/.test(e.error));
    assert.deepEqual(chooseAccel('tcg', intelNested), { accel: 'tcg', why: 'asked for --accel tcg' });
  });

  test('QEMU options: host CPU under KVM, max CPU (SVM with NPT) under TCG, counting instructions', () => {
    assert.deepEqual(accelArgs('kvm'), ['-accel', 'kvm', '-cpu', 'host']);
    assert.deepEqual(accelArgs('tcg'), ['-accel', 'tcg', '-icount', 'shift=0,sleep=off', '-cpu', 'max']);
    assert.deepEqual(accelArgs('tcg', 'wall'), ['-accel', 'tcg', '-cpu', 'max'], '--clock wall');
    assert.deepEqual(accelArgs('kvm', 'wall'), ['-accel', 'kvm', '-cpu', 'host']);
  });
});

describe('lab host and options', () => {
  test('static busybox is recognised as static, node as dynamic', () => {
    assert.equal(isStaticElf(BUSYBOX), true);
    assert.equal(isStaticElf(process.execPath), false);
  });

  test('the default kernel is the newest one that has KVM modules', () => {
    const root = mkdtempSync(join(tmpdir(), 'pcihole-boot-'));
    try {
      const boot = join(root, 'boot');
      const mods = join(root, 'modules');
      mkdirSync(boot);
      for (const v of ['6.1.0-9-amd64', '6.1.0-57-amd64', '6.12.0-1-amd64']) writeFileSync(join(boot, `vmlinuz-${v}`), '');
      for (const v of ['6.1.0-9-amd64', '6.1.0-57-amd64']) {
        mkdirSync(join(mods, v, 'kernel/arch/x86/kvm'), { recursive: true });
        writeFileSync(join(mods, v, 'modules.dep'), '');
      }
      // 6.12 has no modules: skipped; 57 beats 9 numerically.
      assert.deepEqual(defaultKernel(boot, mods), { kernel: join(boot, 'vmlinuz-6.1.0-57-amd64'), version: '6.1.0-57-amd64', modulesDir: join(mods, '6.1.0-57-amd64') });
      assert.equal(defaultKernel(join(root, 'nowhere'), mods), null);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('--kernel 6.12 boots the newest 6.12 kernel; 6.1 stays the default; an unknown series is one line', () => {
    const root = mkdtempSync(join(tmpdir(), 'pcihole-boot-'));
    try {
      const boot = join(root, 'boot');
      const mods = join(root, 'modules');
      mkdirSync(boot);
      for (const v of ['6.1.0-57-amd64', '6.12.107+deb12-amd64', '6.12.118+deb12-amd64']) {
        writeFileSync(join(boot, `vmlinuz-${v}`), '');
        mkdirSync(join(mods, v, 'kernel/arch/x86/kvm'), { recursive: true });
        writeFileSync(join(mods, v, 'modules.dep'), '');
      }
      assert.equal(defaultKernel(boot, mods)?.version, '6.1.0-57-amd64', 'a newer 6.12 does not replace the default series');
      assert.equal(defaultKernel(boot, mods, '6.12')?.version, '6.12.118+deb12-amd64');
      if (findLabHostPossible()) {
        assert.equal(findLabHost({ kernel: '6.12' }, { boot, modules: mods }).kernelVersion, '6.12.118+deb12-amd64');
        assert.equal(findLabHost({ kernel: '6.12' }, { boot, modules: mods }).series, '6.12');
        assert.equal(findLabHost({}, { boot, modules: mods }).series, '6.1');
      }
      assert.throws(() => findLabHost({ kernel: '5.10' }, { boot, modules: mods }), (e: unknown) => e instanceof UsageError && /^--kernel 5\.10: expected a kernel series \(6\.1 or 6\.12\) or a vmlinuz file$/.test(e.message));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    assert.equal(seriesOf('6.12.118+deb12-amd64')?.id, '6.12');
    assert.equal(seriesOf('6.1.0-57-amd64')?.id, '6.1');
    assert.equal(seriesOf('6.18.44-fc-v1252'), null);
    assert.equal(looksLikeSeries('6.12'), true);
    assert.equal(looksLikeSeries('/boot/vmlinuz-6.12.118+deb12-amd64'), false, 'a path stays a path');
    assert.equal(parseSeries('--kernel', '6.12').sourceTarball, '/usr/src/linux-source-6.12.tar.xz');
  });

  test('--mmu shadow turns nested paging off in the vendor module; .ko.xz modules are unpacked', () => {
    assert.equal(mmuParams('tdp'), undefined);
    assert.deepEqual([...mmuParams('shadow')!], [['kvm_amd', 'npt=0'], ['kvm_intel', 'ept=0']]);
    const dir = mkdtempSync(join(tmpdir(), 'pcihole-mods-'));
    try {
      const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60, 7)]);
      writeFileSync(join(dir, 'a.ko'), elf);
      const xz = spawnSync('xz', ['-c', join(dir, 'a.ko')]);
      if (xz.status === 0) {
        writeFileSync(join(dir, 'a.ko.xz'), xz.stdout);
        assert.deepEqual(moduleBytes(join(dir, 'a.ko.xz')), elf);
      }
      assert.deepEqual(moduleBytes(join(dir, 'a.ko')), elf);
      assert.throws(() => moduleBytes(join(dir, 'a.ko.zst')), /only \.ko and \.ko\.xz modules/);
      // the load order carries each module's parameters for /init's insmod
      const deps = ['kvm', 'kvm_amd', 'kvm_intel', 'virtio_pci', '9pnet_virtio', '9p'];
      writeFileSync(join(dir, 'modules.dep'), deps.map((m) => `${m}.ko:`).join('\n') + '\n');
      for (const m of deps) writeFileSync(join(dir, `${m}.ko`), elf);
      const cpio = buildInitramfs({ modulesDir: dir, busybox: BUSYBOX, params: mmuParams('shadow') }).toString('latin1');
      assert.match(cpio, /virtio_pci\n9pnet_virtio\n9p\nkvm\nkvm_amd npt=0\nkvm_intel ept=0\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--memory takes MiB or a G/M suffix and rejects nonsense in one line', () => {
    assert.equal(parseMemoryMiB('6144'), 6144);
    assert.equal(parseMemoryMiB('6G'), 6144);
    assert.equal(parseMemoryMiB('2048M'), 2048);
    for (const bad of ['', 'lots', '512', '-1', '1T']) assert.throws(() => parseMemoryMiB(bad), (e: unknown) => e instanceof UsageError && /^--memory /.test(e.message));
  });

  test('results/ and every --out folder are shared writable', () => {
    assert.deepEqual(benchShares(['run', '--samples', '3'], '/w'), ['/w/results']);
    assert.deepEqual(benchShares(['run', '--out', 'x/runs'], '/w'), ['/w/results', '/w/x/runs']);
    assert.deepEqual(benchShares(['report', 'a.json', '--out=/tmp/r/report.html'], '/w'), ['/w/results', '/tmp/r']);
    // mktemp -d names have a dot: `run --out` is a folder whatever its name, never its parent /tmp
    assert.deepEqual(benchShares(['run', '--out', '/tmp/tmp.Ab3dE'], '/w'), ['/w/results', '/tmp/tmp.Ab3dE']);
    assert.deepEqual(benchShares(['run', '--out=/tmp/tmp.Ab3dE'], '/w'), ['/w/results', '/tmp/tmp.Ab3dE']);
    assert.deepEqual(benchShares(['gate', '--baseline', 'b.json', '--json', 'g/gate.json', '--markdown', '/tmp/m.x/g.md'], '/w'), ['/w/results', '/w/g', '/tmp/m.x']);
    assert.deepEqual(benchShares(['reference', '--json', 'ref.json'], '/w'), ['/w/results', '/w']);
    assert.deepEqual(benchShares(['env', '--json'], '/w'), ['/w/results']);
  });

  test('folders under the lab\'s own /tmp are shared read-only unless a writable share covers them', () => {
    assert.deepEqual(hiddenFolders(['/tmp/ci/p', '/tmp/ci/p'], ['/tmp/ci/p/results']), ['/tmp/ci/p']);
    assert.deepEqual(hiddenFolders(['/work/p', '/home/me'], []), [], 'the read-only root shows them');
    assert.deepEqual(hiddenFolders(['/tmp/x/p'], ['/tmp/x']), [], 'inside a writable share');
    assert.deepEqual(hiddenFolders(['/tmp', '/dev/shm/q'], []), ['/dev/shm/q'], '/tmp itself is the lab\'s own');
    assert.match(badShare('/tmp') ?? '', /^\/tmp cannot be shared into the lab \(it has a \/tmp of its own\); use a folder under it$/);
    assert.equal(badShare('/'), '/ cannot be shared into the lab (it has a / of its own); use a folder under it');
    assert.equal(badShare('/tmp/tmp.Ab3dE'), null);
  });
});

describe('the guest side', () => {
  const run: LabRun = {
    host: { qemu: 'q', qemuVersion: '7.2', kernel: 'k', kernelVersion: '6.1', series: '6.1', modulesDir: 'm', busybox: BUSYBOX },
    accel: 'tcg', cpus: 2, memoryMiB: 4096, timeoutS: 10,
    argv: ['/usr/bin/printf', '%s|', "it's", 'a b', '$HOME'],
    cwd: '/',
    env: { PCIHOLE_LAB: '{"accel":"tcg"}' },
    shares: ['/a,b'],
  };

  test('the run script passes every argument and variable through unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcihole-run-'));
    try {
      const script = runScript(run).replaceAll('/tmp/.pcihole-lab', dir).replace(/^\{ /m, '{ printf "%s|" "$PCIHOLE_LAB"; ');
      const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
      assert.equal(r.stdout, `{"accel":"tcg"}|it's|a b|$HOME|`);
      assert.equal(r.status, 0);
      // the command's own status comes back through the pipe
      const failing = runScript({ ...run, argv: ['sh', '-c', 'echo oops >&2; exit 3'] }).replaceAll('/tmp/.pcihole-lab', dir);
      const f = spawnSync('sh', ['-c', failing], { encoding: 'utf8' });
      assert.equal(f.status, 3);
      assert.equal(f.stdout, 'oops\n', 'stderr is merged into the piped output');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(shq("a'b"), `'a'\\''b'`);
  });

  test('QEMU gets the root read-only, the job and the shares writable, commas escaped', () => {
    const a = qemuArgs(run, '/k', '/i', '/job').join(' ');
    assert.match(a, /local,path=\/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap/);
    assert.match(a, /local,path=\/job,mount_tag=job,/);
    assert.match(a, /local,path=\/a,,b,mount_tag=share0,/);
    assert.match(a, /-accel tcg -icount shift=0,sleep=off -cpu max -smp 2 -m 4096M/);
    assert.match(a, /-no-reboot/);
    assert.match(a, /panic=-1/);
  });

  test('read-only folders and shares are mounted parents first, read-only ones with readonly=on', () => {
    const r = { ...run, shares: ['/tmp/c/p/results', '/tmp/out.x'], readOnly: ['/tmp/c/p'] };
    assert.deepEqual(labMounts(r), [
      { tag: 'share0', path: '/tmp/out.x', readOnly: false },
      { tag: 'share1', path: '/tmp/c/p', readOnly: true },
      { tag: 'share2', path: '/tmp/c/p/results', readOnly: false },
    ]);
    const a = qemuArgs(r, '/k', '/i', '/job').join(' ');
    assert.match(a, /local,path=\/tmp\/c\/p,mount_tag=share1,security_model=none,readonly=on,multidevs=remap/);
    assert.match(a, /local,path=\/tmp\/c\/p\/results,mount_tag=share2,security_model=none,multidevs=remap/);
  });
});

describe('bench lab bad input', () => {
  const cli = new URL('../runner/cli/cli.js', import.meta.url).pathname;
  const bench = (args: string[]) => spawnSync(process.execPath, [cli, 'lab', ...args], { encoding: 'utf8' });
  for (const [args, msg] of [
    [['--accel', 'fast', '--', 'env'], /^bench: --accel fast: expected auto, kvm or tcg\n$/],
    [['--clock', 'sundial', '--', 'env'], /^bench: --clock sundial: expected icount or wall\n$/],
    [['--cpus', '0', '--', 'env'], /^bench: --cpus 0: expected a whole number from 1 to 64\n$/],
    [['--memory', 'x', '--', 'env'], /^bench: --memory x: /],
    [[], /^bench: bench lab: give the command to run after --/],
    [['--', 'lab', 'env'], /^bench: bench lab -- lab: the lab does not nest\n$/],
    [['--kernel', '/nonexistent/vmlinuz', '--accel', 'tcg', '--', 'env'], /^bench: --kernel \/nonexistent\/vmlinuz: no such file\n$/],
  ] as const) {
    test(`${args.join(' ') || '(nothing)'}: one line, exit 2`, () => {
      const r = bench([...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stdout, '');
    });
  }
});

describe('a real lab VM', () => {
  // These boot QEMU (Debian's kernel, TCG or KVM): ~15-30 s each. They skip, naming the
  // packages, where the lab cannot run; CI installs them, so there they always run.
  const missing = (() => {
    try {
      findLabHost({});
      return false;
    } catch (e) {
      return (e as Error).message;
    }
  })();
  const cli = new URL('../runner/cli/cli.js', import.meta.url).pathname;
  /** Runs bench lab with a private TMPDIR; resolves with its status, output and what it left in TMPDIR. */
  const lab = (args: string[], onOutput?: (text: string, child: ChildProcess) => void, from: { cli: string; cwd?: string } = { cli }) =>
    new Promise<{ code: number | null; out: string; left: string[] }>((resolveRun) => {
      const tmp = mkdtempSync(join(tmpdir(), 'pcihole-labtest-'));
      const child = spawn(process.execPath, [from.cli, 'lab', ...args], { cwd: from.cwd, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const take = (b: Buffer) => {
        out += b.toString();
        onOutput?.(out, child);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      child.on('close', (code) => {
        const left = readdirSync(tmp);
        rmSync(tmp, { recursive: true, force: true });
        resolveRun({ code, out, left });
      });
    });
  const qemuChildren = () => spawnSync('pgrep', ['-f', 'pcihole-labtest-'], { encoding: 'utf8' }).stdout.trim();

  test('the command\'s exit status and output come back; nothing is left behind', { skip: missing, timeout: 300_000 }, async () => {
    const r = await lab(['--exec', '--', 'sh', '-c', 'echo "inside $(uname -r) $(test -c /dev/kvm && echo kvm)"; exit 3']);
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, /lab: ready /);
    assert.match(r.out, /^inside \S+ kvm$/m, 'the command ran in the guest kernel, with /dev/kvm');
    assert.deepEqual(r.left, [], 'the job folder is removed');
    assert.equal(qemuChildren(), '', 'QEMU is gone');
  });

  /** A copy of this checkout (what a run needs: package.json, dist, runtime node_modules, runner/reference) under /tmp, as a clone there would be. */
  const copyUnderTmp = () => {
    const root = new URL('../..', import.meta.url).pathname;
    const copy = mkdtempSync('/tmp/pcihole-clone-');
    const devOnly = new Set(['typescript', '@typescript', 'playwright-core', '@types']);
    for (const part of ['package.json', 'dist', 'node_modules', 'runner/reference'])
      cpSync(join(root, part), join(copy, part), { recursive: true, filter: (src) => !devOnly.has(src.slice(join(root, 'node_modules').length + 1)) });
    return copy;
  };

  test('a checkout under /tmp (hidden by the lab\'s own /tmp) runs there: bench lab -- env', { skip: missing, timeout: 300_000 }, async () => {
    const copy = copyUnderTmp();
    try {
      const r = await lab(['--', 'env'], undefined, { cli: join(copy, 'dist/runner/cli/cli.js'), cwd: copy });
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /^ {2}KVM backend {3}kvm_(amd|intel)$/m, r.out);
      assert.deepEqual(r.left, []);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('bench lab -- run --out a mktemp -d folder under /tmp: the results land there', { skip: missing, timeout: 600_000 }, async () => {
    const out = mkdtempSync('/tmp/tmp.');
    try {
      const r = await lab(['--', 'run', '--strategy', 'userspace-exit', '--samples', '1', '--no-harness-cost', '--no-report', '--out', out]);
      assert.equal(r.code, 0, r.out);
      const runs = readdirSync(out);
      assert.equal(runs.length, 1, `one run folder in ${out}: ${runs.join(', ')}`);
      const results = JSON.parse(readFileSync(join(out, runs[0], 'results.json'), 'utf8'));
      assert.equal(results.rows[0].status, 'measured');
      assert.deepEqual(r.left, []);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('SIGTERM stops QEMU, removes the job folder and exits 128+15', { skip: missing, timeout: 300_000 }, async () => {
    let sent = false;
    const r = await lab(['--exec', '--', 'sleep', '600'], (text, child) => {
      if (!sent && /lab: ready /.test(text)) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    assert.ok(sent, r.out);
    assert.equal(r.code, 143, r.out);
    assert.deepEqual(r.left, []);
    assert.equal(qemuChildren(), '');
  });

  test('--timeout stops the VM with one line naming it, exit 2', { skip: missing, timeout: 300_000 }, async () => {
    const r = await lab(['--timeout', '3', '--exec', '--', 'sleep', '600']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /lab: timed out after 3 s \(--timeout\)/);
    assert.deepEqual(r.left, []);
    assert.equal(qemuChildren(), '');
  });
});
