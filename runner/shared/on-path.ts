// Whether a command is installed: what the shell would find on PATH.
import { execFileSync } from 'node:child_process';

/** True when `sh` finds `cmd` on PATH. */
export function onPath(cmd: string): boolean {
  if (!/^[\w.+-]+$/.test(cmd)) return false;
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
