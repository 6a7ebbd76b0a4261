// The few libc calls the VMM needs, bound once through koffi. Pointers are BigInt (koffi 3).
// ioctl is variadic in C; we declare one fixed prototype per argument kind, which is
// ABI-compatible on x86-64 for integer/pointer arguments.
import koffi from 'koffi';
import { constants as osc } from 'node:os';

const lib = koffi.load('libc.so.6');

export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MFD_CLOEXEC = 1;
export const MFD_HUGETLB = 4;
/** MFD_HUGE_2MB = 21 << MFD_HUGE_SHIFT (26): the 2 MiB size, whatever the host's default hugepage size. */
export const MFD_HUGE_2MB = 21 << 26;
/** mmap's MAP_FAILED, (void *)-1, as koffi returns it. */
export const MAP_FAILED = 0xffffffffffffffffn;

export const open = lib.func('int open(const char *path, int flags)') as (path: string, flags: number) => number;
export const close = lib.func('int close(int fd)') as (fd: number) => number;
/** dup(2): a second fd for the same open file (a vCPU thread's own handle on its vCPU). */
export const dup = lib.func('int dup(int fd)') as (fd: number) => number;
/** ioctl with no argument or an integer argument. */
export const ioctlInt = lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']) as (
  fd: number,
  req: number,
  arg: number | bigint,
) => number;
/** ioctl with a pointer to a caller-owned Buffer (struct in/out). */
export const ioctlBuf = lib.func('ioctl', 'int', ['int', 'unsigned long', 'void *']) as (
  fd: number,
  req: number,
  arg: Buffer | null,
) => number;
export const mmap = lib.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)') as (
  addr: bigint | null,
  len: number | bigint,
  prot: number,
  flags: number,
  fd: number,
  off: number | bigint,
) => bigint;
export const munmap = lib.func('int munmap(void *addr, size_t len)') as (addr: bigint, len: number | bigint) => number;
export const madvise = lib.func('int madvise(void *addr, size_t len, int advice)') as (
  addr: bigint,
  len: number | bigint,
  advice: number,
) => number;
export const mincore = lib.func('int mincore(void *addr, size_t len, void *vec)') as (
  addr: bigint,
  len: number | bigint,
  vec: Buffer,
) => number;
export const memfdCreate = lib.func('int memfd_create(const char *name, unsigned int flags)') as (
  name: string,
  flags: number,
) => number;
export const ftruncate = lib.func('int ftruncate(int fd, long len)') as (fd: number, len: number | bigint) => number;
/** sched_yield(2): gives the host CPU away (a vCPU spinning on a guest lock). */
export const schedYield = lib.func('int sched_yield()') as () => number;

/** errno of the last failed call on this thread. */
export function errno(): number {
  return koffi.errno();
}

// EWOULDBLOCK aliases EAGAIN (11): keep the name callers compare against.
const errnoNames = new Map<number, string>(Object.entries(osc.errno).filter(([k]) => k !== 'EWOULDBLOCK').map(([k, v]) => [v as number, k]));
/** "EINVAL" for 22, "errno 999" for unknown numbers. */
export function errnoName(e: number): string {
  return errnoNames.get(e) ?? `errno ${e}`;
}

/** An ArrayBuffer over native memory (no copy). The memory must outlive every view of it. */
export function view(ptr: bigint, len: number): ArrayBuffer {
  return koffi.view(ptr as unknown as object, len) as ArrayBuffer;
}

/** A failed system call: names the call and the errno. */
export class SysError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed: ${errnoName(errno)}`);
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

/** Throws SysError when a call returned -1. */
export function check(call: string, rc: number): number {
  if (rc < 0) throw new SysError(call, errno());
  return rc;
}

const EINTR = osc.errno.EINTR;
const EAGAIN = osc.errno.EAGAIN;

/** Runs a system call until it does not fail with EINTR/EAGAIN (a signal, e.g. a profiler's,
 *  can interrupt even KVM_CREATE_VM); throws SysError on any other failure. */
export function retrying(call: string, fn: () => number): number {
  for (;;) {
    const rc = fn();
    if (rc >= 0) return rc;
    const e = errno();
    if (e !== EINTR && e !== EAGAIN) throw new SysError(call, e);
  }
}

/** mmap that throws SysError instead of returning MAP_FAILED. */
export function mmapChecked(
  call: string,
  addr: bigint | null,
  len: number,
  prot: number,
  flags: number,
  fd: number,
  off = 0,
): bigint {
  const p = mmap(addr, len, prot, flags, fd, off);
  if (p === MAP_FAILED) throw new SysError(call, errno());
  return p;
}
