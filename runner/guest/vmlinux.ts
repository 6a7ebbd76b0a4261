// The vmlinux inside a bzImage, decompressed once with Debian's xz or zstd and kept in a cache:
// decompressing in the guest instead costs every VM ~13 s of emulated time in the lab (XZ), and
// Node's zlib reads neither format.
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HostError } from '../shared/errors.js';
import { cacheDirs, writableCacheDir } from '../shared/cache-dir.js';
import { parseBzImage, type BzImage } from './bzimage.js';

/** The command that decompresses each format, and the Debian package that has it. */
const TOOLS: Partial<Record<BzImage['compression'], { cmd: string; args: string[]; pkg: string }>> = {
  // --single-stream: the payload ends with 4 bytes of size after the XZ stream.
  xz: { cmd: 'xz', args: ['-dc', '--single-stream'], pkg: 'xz-utils' },
  zstd: { cmd: 'zstd', args: ['-dcq'], pkg: 'zstd' },
  gzip: { cmd: 'gzip', args: ['-dcq'], pkg: 'gzip' },
};

/** The kernel's bzImage and its decompressed vmlinux (from the cache, or made now). */
export function vmlinuxOf(bzImagePath: string): { bzImage: BzImage; vmlinux: Uint8Array } {
  let file: Buffer;
  try {
    file = readFileSync(bzImagePath);
  } catch (e) {
    throw new HostError(`cannot read the guest kernel ${bzImagePath}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  const bzImage = parseBzImage(file, bzImagePath);
  const st = statSync(bzImagePath);
  const key = `${basename(bzImagePath)}-${st.size}-${Math.floor(st.mtimeMs)}.elf`;
  for (const dir of cacheDirs('vmlinux')) {
    try {
      const v = readFileSync(join(dir, key));
      if (v.length === bzImage.vmlinuxSize) return { bzImage, vmlinux: v };
    } catch {
      // not cached there
    }
  }
  const tool = TOOLS[bzImage.compression];
  if (!tool) throw new HostError(`${bzImagePath}: its vmlinux is ${bzImage.compression}-compressed; this tool decompresses xz, zstd and gzip`);
  const payload = bzImage.payload.subarray(0, bzImage.payload.length - 4);
  const r = spawnSync(tool.cmd, tool.args, { input: payload, maxBuffer: bzImage.vmlinuxSize + 4096 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new HostError(`${tool.cmd} is not installed: it decompresses ${bzImagePath}; install it: sudo apt-get install ${tool.pkg}`);
  if (r.status !== 0 || r.stdout.length !== bzImage.vmlinuxSize)
    throw new HostError(`${tool.cmd} could not decompress ${bzImagePath} (exit ${r.status}, ${r.stdout?.length ?? 0} of ${bzImage.vmlinuxSize} bytes): ${String(r.stderr ?? '').trim()}`);
  const dir = writableCacheDir('vmlinux');
  if (dir) {
    // Written under a temporary name and renamed, so a reader never sees half a file.
    const tmp = join(dir, `.${key}.${process.pid}`);
    try {
      writeFileSync(tmp, r.stdout);
      renameSync(tmp, join(dir, key));
    } catch {
      rmSync(tmp, { force: true });
    }
  }
  return { bzImage, vmlinux: r.stdout };
}
