// The command line as a user meets it: bad input is one line and exit 2, runaway and faulting
// guests become failed rows while the run goes on, an interrupted run keeps its samples.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateResults, type ResultsFile } from '../runner/results/schema.js';
import { noAccessUnavailable, runWithoutKvmAccess } from './no-access.js';

const CLI = fileURLToPath(new URL('../runner/cli/cli.js', import.meta.url));
const hasKvm = existsSync('/dev/kvm');

function bench(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, naming `what`, no stack trace, exit 2. */
function assertBadInput(r: ReturnType<typeof bench>, what: string | RegExp) {
  assert.equal(r.code, 2, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0], /^bench: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  if (typeof what === 'string') assert.ok(lines[0].includes(what), `names ${what}: ${lines[0]}`);
  else assert.match(lines[0], what);
}

const made: string[] = [];
/** A temporary folder removed when the file's tests end. */
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

function runDirs(out: string): string[] {
  return existsSync(out) ? readdirSync(out).map((d) => join(out, d)) : [];
}

describe('bad input: one line, exit 2', () => {
  test('unknown command', () => assertBadInput(bench(['frobnicate']), "'frobnicate'"));
  test('unknown flag', () => assertBadInput(bench(['run', '--bogus']), '--bogus'));
  test('unknown strategy lists the valid ids', () => {
    const r = bench(['run', '--strategy', 'nope']);
    assertBadInput(r, '--strategy nope');
    assert.match(r.stderr, /userspace-exit/);
  });
  test('unknown workload lists the valid ids', () => {
    const r = bench(['run', '--workload', 'nope']);
    assertBadInput(r, '--workload nope');
    assert.match(r.stderr, /linux-q35-boot/);
  });
  test('unknown variant', () => assertBadInput(bench(['run', '--strategy', 'ro-page', '--variant', '3m']), '--variant 3m'));
  for (const v of ['0', '-1', 'abc', '1.5', '']) {
    test(`--samples ${JSON.stringify(v)}`, () => assertBadInput(bench(['run', '--samples', v]), '--samples'));
  }
  test('--timeout 0', () => assertBadInput(bench(['run', '--timeout', '0']), '--timeout'));
  test('--access bogus', () => assertBadInput(bench(['run', '--access', 'pio']), '--access pio'));
  test('--order bogus', () => assertBadInput(bench(['run', '--order', 'random']), '--order random'));
  test('reference --samples 0', () => assertBadInput(bench(['reference', '--samples', '0']), '--samples'));
  test('reference --json into a missing folder', () => assertBadInput(bench(['reference', '--json', '/nonexistent/dir/ref.json']), '--json'));
  test('--pci-hole-cap without --pci-hole-flag', () => assertBadInput(bench(['run', '--pci-hole-cap', '300']), '--pci-hole-flag'));
  test('an output folder that cannot be written', { skip: !hasKvm && 'no /dev/kvm' }, () => {
    const dir = tempDir('pcihole-ro-');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    assertBadInput(bench(['run', '--strategy', 'userspace-exit', '--samples', '1', '--out', join(file, 'sub')]), '--out');
  });
  test('/dev/kvm missing: run names the fix, the lab included', () => {
    const r = bench(['run', '--samples', '1'], { PCIHOLE_KVM_DEVICE: '/nonexistent/kvm' });
    assertBadInput(r, /does not exist: KVM is not available here; load kvm_intel or kvm_amd .*npx bench lab -- run$/);
    assert.equal(r.stdout, '', 'nothing else');
  });
  test('/dev/kvm missing: env prints the host facts first, then the fix (exit 2)', () => {
    const r = bench(['env'], { PCIHOLE_KVM_DEVICE: '/nonexistent/kvm' });
    assertBadInput(r, /does not exist: KVM is not available here; .*npx bench lab -- env$/);
    for (const fact of ['kernel', 'cpu', 'THP', 'hugetlb', 'max_map_count', 'timing']) assert.match(r.stdout, new RegExp(`^  ${fact}\\s`, 'm'), `env prints ${fact}`);
    assert.ok(r.stdout.includes(`  kernel        ${release()}\n`), r.stdout);
    const json = bench(['env', '--json'], { PCIHOLE_KVM_DEVICE: '/nonexistent/kvm' });
    assert.equal(json.code, 2);
    const out = JSON.parse(json.stdout) as { host: { kernel: string; thp: unknown }; kvm: null; problem: string };
    assert.equal(out.host.kernel, release());
    assert.equal(out.kvm, null);
    assert.match(out.problem, /npx bench lab -- env/);
  });
  test('a device that is not KVM', () => assertBadInput(bench(['env'], { PCIHOLE_KVM_DEVICE: '/dev/null' }), /not a KVM device/));
  test('permission denied names the kvm group', { skip: noAccessUnavailable() ?? false }, () => {
    const r = runWithoutKvmAccess([process.execPath, CLI, 'env']);
    assertBadInput({ code: r.status, stdout: r.stdout, stderr: r.stderr }, /permission denied on .*kvm group/);
  });
  test('report: missing, corrupt and wrong-schema files', () => {
    const dir = tempDir('pcihole-bad-');
    writeFileSync(join(dir, 'corrupt.json'), '{"schema": ');
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ schema: 'something-else', rows: [] }));
    assertBadInput(bench(['report', join(dir, 'missing.json')]), 'missing.json');
    assertBadInput(bench(['report', join(dir, 'corrupt.json')]), 'corrupt.json');
    assertBadInput(bench(['report', join(dir, 'other.json')]), 'other.json');
    assertBadInput(bench(['gate', '--baseline', join(dir, 'corrupt.json'), '--current', join(dir, 'other.json')]), 'corrupt.json');
  });
  test('help is not an error', () => {
    const r = bench(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /usage: bench <command>/);
    const run = bench(['run', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /--samples/);
  });
});

describe('runaway and faulting guests', { skip: !hasKvm && 'no /dev/kvm' }, () => {
  test('a guest that never signals done times out, a faulting one reports registers, the run goes on', () => {
    const out = tempDir('pcihole-faulty-');
    // The hang limit must outlast a sample process's start: seconds under TCG (the lab), not on hardware.
    const limit = (JSON.parse(process.env.PCIHOLE_LAB ?? '{}') as { accel?: string }).accel === 'tcg' ? '40' : '5';
    const r = bench(['run', '--strategy', 'userspace-exit', '--workload', 'test-hang,test-fault,linux-q35-boot', '--samples', '2', '--timeout', limit, '--out', out, '--no-report', '--no-harness-cost'], {
      PCIHOLE_TEST_WORKLOADS: '1',
    });
    assert.equal(r.code, 1, 'failed rows make exit status 1');
    const [dir] = runDirs(out);
    const file = validateResults(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    assert.equal(file.complete, true);
    const by = (w: string) => file.rows.find((x) => x.workload === w)!;
    assert.equal(by('test-hang').status, 'failed');
    assert.match(by('test-hang').reason, /timeout/);
    assert.equal(by('test-fault').status, 'failed');
    if (file.host.kvmBackend.startsWith('kvm_amd')) {
      // SVM puts the vCPU through INIT after a triple fault: the report must not print that state as the fault.
      assert.match(by('test-fault').reason, /shutdown under userspace-exit on test-fault .*the faulting registers are lost: KVM on AMD SVM .*INIT state.*rip=0xfff0/);
    } else {
      assert.match(by('test-fault').reason, /shutdown under userspace-exit on test-fault .*rip=0x[0-9a-f]+ .*cr3=0x1000/);
      assert.doesNotMatch(by('test-fault').reason, /INIT state/);
    }
    assert.equal(by('linux-q35-boot').status, 'measured', 'the good row still ran');
    assert.equal(by('linux-q35-boot').samples.length, 2);
  });
});

describe('interrupted run', { skip: !hasKvm && 'no /dev/kvm' }, () => {
  test('SIGTERM leaves valid results of the finished samples, marked incomplete; a second run gets its own folder', async () => {
    const out = tempDir('pcihole-int-');
    const child = spawn(process.execPath, [CLI, 'run', '--strategy', 'userspace-exit', '--samples', '200', '--out', out, '--no-report'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const results = () => {
      const [dir] = runDirs(out);
      const p = dir && join(dir, 'results.json');
      return p && existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as ResultsFile) : null;
    };
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !((results()?.rows[0]?.samples.length ?? 0) >= 2)) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 143, '128 + SIGTERM');
    assert.match(stderr, /SIGTERM: stopped; the samples finished so far are saved/);
    const file = validateResults(results());
    assert.equal(file.complete, false);
    const n = file.rows[0].samples.length;
    assert.ok(n >= 2 && n < 200, `kept ${n} finished samples`);
    assert.ok(readFileSync(join(runDirs(out)[0], 'results.csv'), 'utf8').startsWith('strategy,variant,workload,access,status'));
    const again = bench(['run', '--strategy', 'userspace-exit', '--samples', '1', '--out', out, '--no-report']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(runDirs(out).length, 2, 'a second run never overwrites the first');
    // The closing calibration: what the harness adds per userspace exit, against a C loop and the koffi floor.
    const second = validateResults(JSON.parse(readFileSync(join(runDirs(out)[1], 'results.json'), 'utf8')));
    const cost = second.harnessCost;
    assert.ok(cost && !('unavailable' in cost), `harnessCost measured: ${JSON.stringify(cost)}`);
    assert.equal(cost.samples, 3);
    assert.ok(cost.cNs > 0 && cost.floorNs > 0 && cost.harnessNs > 0);
    assert.match(again.stdout, /harness cost per userspace exit: [+−][\d.]+ (ns|µs) over a minimal C KVM_RUN loop \(harness\/C [\d.]+×/);
  });
});

describe('bench reference', { skip: !hasKvm && 'no /dev/kvm' }, () => {
  test('C loop, koffi floor, harness and QEMU on the same image, each a number per userspace exit', () => {
    const r = bench(['reference', '--samples', '1']);
    assert.equal(r.code, 0, r.stderr);
    const t = String.raw`[\d.]+ (?:ns|µs|ms)`;
    assert.match(r.stdout, new RegExp(String.raw`^exit\s+${t}\s+${t}\s+${t}\s+${t}\s+[\d.]+×`, 'm'), r.stdout);
    for (const mode of ['ioapic', 'ro4k', 'rothp']) assert.match(r.stdout, new RegExp(String.raw`^${mode}\s+${t}\s+—\s+${t}\s+—`, 'm'));
    assert.match(r.stdout, /of which calling KVM_RUN from JavaScript \(koffi floor − C\): /);
    assert.match(r.stdout, /QEMU per userspace exit: [\d.]+ (ns|µs|ms) \(QEMU\/C [\d.]+×\); harness\/QEMU [\d.]+×/);
    // kvm_pvm refuses MSR 0x10a under -cpu host: QEMU then runs without arch-capabilities, and says so.
    const cpu = /^QEMU ran with -cpu (\S+)(?: \(this host's KVM refused (.*)\))?$/m.exec(r.stdout);
    assert.ok(cpu, r.stdout);
    assert.ok(cpu[1] === 'host' ? cpu[2] === undefined : cpu[1] === 'host,-arch-capabilities' && /failed to set MSR 0x10a/.test(cpu[2]), cpu[0]);
  });
});

describe('KVM API version', () => {
  test('anything but 12 is refused with the version named', async () => {
    const { apiVersionProblem } = await import('../runner/vmm/kvm.js');
    assert.equal(apiVersionProblem(12, '/dev/kvm'), null);
    assert.match(apiVersionProblem(11, '/dev/kvm') ?? '', /\/dev\/kvm reports KVM API version 11, this tool speaks version 12/);
    assert.match(apiVersionProblem(13, '/dev/kvm') ?? '', /version 13/);
  });
});
