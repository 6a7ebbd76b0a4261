// Which kernel a real-kernel workload boots: Debian's own build, as the lab runs it.
import { existsSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { HostError } from '../shared/errors.js';

export const GUEST_KERNEL_ENV = 'PCIHOLE_GUEST_KERNEL';

/** $PCIHOLE_GUEST_KERNEL; else /boot/vmlinuz-$(uname -r) (in the lab: the kernel whose KVM is
 *  measured); else the newest Debian /boot/vmlinuz-*-amd64. */
export function guestKernelPath(env: NodeJS.ProcessEnv = process.env, boot = '/boot'): string {
  const set = env[GUEST_KERNEL_ENV];
  if (set) return set;
  const running = join(boot, `vmlinuz-${release()}`);
  if (existsSync(running)) return running;
  let names: string[] = [];
  try {
    names = readdirSync(boot).filter((n) => /^vmlinuz-.*-amd64$/.test(n));
  } catch {
    // no /boot
  }
  const newest = names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).pop();
  if (newest) return join(boot, newest);
  throw new HostError(`no guest kernel in ${boot}: install Debian's (sudo apt-get install linux-image-amd64) or set ${GUEST_KERNEL_ENV} to a bzImage`);
}
