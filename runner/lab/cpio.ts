// A minimal writer for the "newc" cpio format, the one the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII header per
// entry, name and data each padded to 4 bytes, closed by the TRAILER!!! entry.

/** One file, directory or symlink of the archive. */
export interface CpioEntry {
  /** Path inside the archive, without a leading slash ("bin/busybox"). */
  name: string;
  /** 'file' (with data), 'dir', or 'symlink' (data = the target). */
  kind: 'file' | 'dir' | 'symlink';
  /** Permission bits, e.g. 0o755. */
  mode: number;
  data?: Uint8Array;
}

const TYPE_BITS = { file: 0o100000, dir: 0o040000, symlink: 0o120000 } as const;
const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

function header(ino: number, mode: number, nlink: number, size: number, nameSize: number): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return '070701' + [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, nameSize, 0].map(hex8).join('');
}

/** The archive as one buffer (uncompressed: the kernel takes it as is). */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const push = (ino: number, mode: number, nlink: number, name: string, data: Uint8Array) => {
    const nameBytes = Buffer.from(name + '\0');
    const head = Buffer.from(header(ino, mode, nlink, data.length, nameBytes.length), 'ascii');
    parts.push(head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length)), Buffer.from(data), Buffer.alloc(pad4(data.length)));
  };
  entries.forEach((e, i) => {
    const data = e.kind === 'dir' ? new Uint8Array(0) : (e.data ?? new Uint8Array(0));
    push(i + 1, TYPE_BITS[e.kind] | (e.mode & 0o7777), e.kind === 'dir' ? 2 : 1, e.name.replace(/^\/+/, ''), data);
  });
  push(0, 0, 1, 'TRAILER!!!', new Uint8Array(0));
  return Buffer.concat(parts);
}
