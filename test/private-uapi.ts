// The uapi of the patched KVM (kernel/*.patch) as the repository states it twice: in the
// patches' include/uapi/linux/kvm.h hunks and in kernel/selftests/pcihole_uapi.h, the header
// that the selftests and test/kvm-abi.test.ts compile against on a stock system.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KERNEL_DIR = join(root, 'kernel');
/** kernel/<series>/: one series of patches per Debian kernel series (6.1, 6.12). */
export const SERIES_DIRS = readdirSync(KERNEL_DIR)
  .filter((d) => /^\d+\.\d+$/.test(d))
  .map((d) => join(KERNEL_DIR, d));
export const PRIVATE_UAPI_DIR = join(KERNEL_DIR, 'selftests');
export const PRIVATE_UAPI_H = join(PRIVATE_UAPI_DIR, 'pcihole_uapi.h');

/** `#define NAME VALUE` (object-like, with a value) → VALUE with whitespace collapsed. */
export function defines(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const d = /^#define\s+([A-Za-z_]\w*)(?!\()\s+(.+?)\s*$/.exec(line);
    if (d) m.set(d[1], d[2].replace(/\s+/g, ' '));
  }
  return m;
}

/** `struct NAME { … };` blocks → their body with whitespace collapsed. */
export function structs(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of text.matchAll(/^struct\s+(\w+)\s*\{([^}]*)\};/gm)) m.set(s[1], s[2].replace(/\s+/g, ' ').trim());
  return m;
}

/** The lines a patch adds to include/uapi/linux/kvm.h, without the leading '+'. */
export function uapiAdditions(patch: string): string {
  const out: string[] = [];
  let inUapi = false;
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) inUapi = line.endsWith(' b/include/uapi/linux/kvm.h');
    else if (inUapi && line.startsWith('+') && !line.startsWith('+++')) out.push(line.slice(1));
  }
  return out.join('\n');
}

/** Every patch's uapi additions in a series folder, concatenated in apply order. */
export function patchUapi(kernelDir: string): string {
  return readdirSync(kernelDir)
    .filter((f) => f.endsWith('.patch'))
    .sort()
    .map((f) => uapiAdditions(readFileSync(join(kernelDir, f), 'utf8')))
    .join('\n');
}

/** Upstream ABI that kernel/6.1/0003 backports (upstream from 6.10): newer system headers may have it, under the same numbers. */
export const BACKPORTED = ['KVM_CAP_PRE_FAULT_MEMORY', 'KVM_PRE_FAULT_MEMORY'];

/** The macros pcihole_uapi.h defines (with a value), in file order; `privateOnly` drops the backported upstream ones. */
export function privateMacroNames(file = PRIVATE_UAPI_H, privateOnly = false): string[] {
  return [...defines(readFileSync(file, 'utf8')).keys()].filter((n) => !privateOnly || !BACKPORTED.includes(n));
}
