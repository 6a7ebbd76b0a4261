// The /dev/kvm system fd: API version, capabilities, vCPU mmap size, supported CPUID, VM creation.
import { O_CLOEXEC, O_RDWR, SysError, retrying, close, errno, ioctlBuf, ioctlInt, open } from './libc.js';
import { CPUID_ENTRY_SIZE, KVM_API_VERSION, caps, ioctls, type CapName } from './kvm-abi.js';
import { HostError } from '../shared/errors.js';
import { Vm } from './vm.js';

/** Why this API version cannot be used (KVM's API has been 12 since Linux 2.6.22), or null. */
export function apiVersionProblem(version: number, path: string): string | null {
  return version === KVM_API_VERSION ? null : `${path} reports KVM API version ${version}, this tool speaks version ${KVM_API_VERSION}`;
}

/** The one-line fix for a host without a KVM device; `command` is what to run in the lab VM instead. */
export function noKvmMessage(path: string, command = '<command>'): string {
  return `${path} does not exist: KVM is not available here; load kvm_intel or kvm_amd (or enable nested virtualization for this VM), or run the suite in its own VM: npx bench lab -- ${command}`;
}

export class Kvm {
  private constructor(
    readonly fd: number,
    readonly path: string,
  ) {}

  /** Opens /dev/kvm and checks the API version; a missing device or a permission problem becomes a
   *  HostError with the fix (`command`: the bench command the user ran, for the lab hint). */
  static open(path = process.env.PCIHOLE_KVM_DEVICE ?? '/dev/kvm', command?: string): Kvm {
    const fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      const e = new SysError(`open ${path}`, errno());
      if (e.code === 'ENOENT') throw new HostError(noKvmMessage(path, command));
      if (e.code === 'EACCES' || e.code === 'EPERM')
        throw new HostError(`permission denied on ${path}: add your user to the kvm group (sudo usermod -aG kvm $USER, then log in again) or run as root`);
      throw new HostError(`cannot open ${path}: ${e.code}`);
    }
    const kvm = new Kvm(fd, path);
    let v: number;
    try {
      v = kvm.apiVersion();
    } catch (e) {
      kvm.close();
      throw new HostError(`${path} is not a KVM device (KVM_GET_API_VERSION: ${e instanceof SysError ? e.code : String(e)})`);
    }
    const problem = apiVersionProblem(v, path);
    if (problem) {
      kvm.close();
      throw new HostError(problem);
    }
    return kvm;
  }

  apiVersion(): number {
    return retrying('KVM_GET_API_VERSION', () => ioctlInt(this.fd, ioctls.KVM_GET_API_VERSION, 0));
  }

  /** KVM_CHECK_EXTENSION: 0 when absent, otherwise a capability-specific positive value. */
  checkExtension(cap: CapName | number): number {
    const rc = ioctlInt(this.fd, ioctls.KVM_CHECK_EXTENSION, typeof cap === 'number' ? cap : caps[cap]);
    return rc < 0 ? 0 : rc;
  }

  vcpuMmapSize(): number {
    return retrying('KVM_GET_VCPU_MMAP_SIZE', () => ioctlInt(this.fd, ioctls.KVM_GET_VCPU_MMAP_SIZE, 0));
  }

  /** KVM_GET_SUPPORTED_CPUID as a ready-to-pass struct kvm_cpuid2 buffer. */
  supportedCpuid(): Buffer {
    for (let n = 64; n <= 4096; n *= 2) {
      const buf = Buffer.alloc(8 + n * CPUID_ENTRY_SIZE);
      buf.writeUInt32LE(n, 0);
      if (ioctlBuf(this.fd, ioctls.KVM_GET_SUPPORTED_CPUID, buf) >= 0) {
        const nent = buf.readUInt32LE(0);
        return buf.subarray(0, 8 + nent * CPUID_ENTRY_SIZE);
      }
      const e = errno();
      if (new SysError('', e).code !== 'E2BIG') throw new SysError('KVM_GET_SUPPORTED_CPUID', e);
    }
    throw new Error('KVM_GET_SUPPORTED_CPUID: more than 4096 entries');
  }

  /** KVM_GET_TSC_KHZ on a throwaway VM's vCPU is the guest TSC rate; callers use Vcpu.tscKhz(). */
  createVm(): Vm {
    const runSize = this.vcpuMmapSize();
    const fd = retrying('KVM_CREATE_VM', () => ioctlInt(this.fd, ioctls.KVM_CREATE_VM, 0));
    return new Vm(fd, runSize);
  }

  close(): void {
    close(this.fd);
  }
}
