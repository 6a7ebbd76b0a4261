// Runs a command as root without the capabilities that bypass file permissions, against a
// private 0000-mode copy of the /dev/kvm node: EACCES wherever the repo lives and whatever
// mode the real /dev/kvm has. (Switching to user nobody would also lose access to the repo.)
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why this host cannot run the check, or null. */
export function noAccessUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (to make a device node and drop capabilities)';
  if (!existsSync('/dev/kvm')) return 'no /dev/kvm';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'needs setpriv (util-linux)';
  return null;
}

/** Runs `args` with PCIHOLE_KVM_DEVICE set to an inaccessible KVM device node. */
export function runWithoutKvmAccess(args: string[]): SpawnSyncReturns<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pcihole-eacces-'));
  try {
    const node = join(dir, 'kvm');
    const mk = spawnSync('mknod', [node, 'c', '10', '232'], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`mknod failed: ${mk.stderr}`);
    chmodSync(node, 0o000);
    return spawnSync('setpriv', ['--inh-caps=-all', '--bounding-set=-dac_override,-dac_read_search', ...args], {
      encoding: 'utf8',
      env: { ...process.env, PCIHOLE_KVM_DEVICE: node },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
