// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_REGISTER_MMIO_FILL (kernel/0002-*.patch): reads of a zone return its
 * fill byte with no userspace exit, writes are dropped in-kernel (default)
 * or exit (KVM_MMIO_FILL_WRITE_EXIT), zone rules and errnos.
 * --stock: assert that this kernel does not have it (capability 0, ENOTTY).
 */
#include "test_util.h"
#include "pcihole_uapi.h"

#define ZONE	0xb0000000u
#define ZONE_SIZE	0x100000u

static int fill_ioctl(struct vm *vm, unsigned long cmd, uint64_t addr,
		      uint64_t size, uint8_t fill, uint32_t flags)
{
	struct kvm_mmio_fill z = {
		.addr = addr, .size = size, .fill = fill, .flags = flags,
	};

	return ioctl(vm->fd, cmd, &z) ? errno : 0;
}

static void test_reads_and_dropped_writes(struct vm *vm)
{
	long long mmio0 = vcpu_stat(vm, "mmio_exits");
	long long exits0 = vcpu_stat(vm, "exits");
	struct kvm_regs regs;
	unsigned long mmio;

	vm_reset(vm);
	g_read32_eax(vm, ZONE);
	g_write32(vm, ZONE + 0x10, 0x12345678);
	g_read32_ebx(vm, ZONE + 0x10);
	g_read16_ecx(vm, ZONE + 0x7ffe);
	g_read8_edx(vm, ZONE + ZONE_SIZE - 1);
	g_hlt(vm);
	mmio = vm_run_to_hlt(vm);
	regs = vm_regs(vm);
	CHECK(regs.rax == 0xffffffff, "32-bit zone read gave 0x%llx", regs.rax);
	CHECK(regs.rbx == 0xffffffff, "read after a dropped write gave 0x%llx", regs.rbx);
	CHECK(regs.rcx == 0xffff, "16-bit zone read gave 0x%llx", regs.rcx);
	CHECK(regs.rdx == 0xff, "8-bit zone read gave 0x%llx", regs.rdx);
	CHECK(mmio == 0, "4 reads and 1 write made %lu userspace MMIO exits", mmio);
	CHECK(vcpu_stat(vm, "mmio_exits") - mmio0 == 0, "KVM stat mmio_exits moved");
	CHECK(vcpu_stat(vm, "exits") - exits0 >= 5, "KVM stat exits moved by %lld, not >= 5",
	      vcpu_stat(vm, "exits") - exits0);
}

static void test_write_exit_zone(struct vm *vm)
{
	uint32_t z2 = ZONE + 0x400000;
	struct kvm_regs regs;
	int r;

	r = fill_ioctl(vm, KVM_REGISTER_MMIO_FILL, z2, 0x1000, 0x5a, KVM_MMIO_FILL_WRITE_EXIT);
	CHECK(r == 0, "write-exit zone: errno %d", r);
	vm_reset(vm);
	g_write32(vm, z2 + 8, 0xcafef00d);
	g_read32_eax(vm, z2 + 8);
	g_hlt(vm);
	r = vm_run(vm);
	CHECK(r == KVM_EXIT_MMIO && vm->run->mmio.is_write &&
	      vm->run->mmio.phys_addr == z2 + 8 &&
	      *(uint32_t *)vm->run->mmio.data == 0xcafef00d,
	      "write to a write-exit zone: exit %d write %d gpa 0x%llx", r,
	      vm->run->mmio.is_write, vm->run->mmio.phys_addr);
	CHECK(vm_run_to_hlt(vm) == 0, "the read after the write exited to userspace");
	regs = vm_regs(vm);
	CHECK(regs.rax == 0x5a5a5a5a, "fill 0x5a zone read gave 0x%llx", regs.rax);
	r = fill_ioctl(vm, KVM_UNREGISTER_MMIO_FILL, z2, 0x1000, 0, 0);
	CHECK(r == 0, "unregistering the write-exit zone: errno %d", r);
}

static void test_rules(struct vm *vm)
{
	struct kvm_mmio_fill z = { .addr = ZONE + 0x800000, .size = 0x1000 };
	int r;

	r = fill_ioctl(vm, KVM_REGISTER_MMIO_FILL, ZONE + 0x800000, 0, 0xff, 0);
	CHECK(r == EINVAL, "size 0: errno %d, not EINVAL", r);
	r = fill_ioctl(vm, KVM_REGISTER_MMIO_FILL, ~0ull - 0xfff, 0x2000, 0xff, 0);
	CHECK(r == EINVAL, "addr + size overflows: errno %d, not EINVAL", r);
	r = fill_ioctl(vm, KVM_REGISTER_MMIO_FILL, ZONE + 0x800000, 1ull << 31, 0xff, 0);
	CHECK(r == EINVAL, "size 2 GiB (> INT_MAX): errno %d, not EINVAL", r);
	r = fill_ioctl(vm, KVM_REGISTER_MMIO_FILL, ZONE + 0x800000, 0x1000, 0xff, 2);
	CHECK(r == EINVAL, "unknown flag 2: errno %d, not EINVAL", r);
	z.pad[1] = 1;
	r = ioctl(vm->fd, KVM_REGISTER_MMIO_FILL, &z) ? errno : 0;
	CHECK(r == EINVAL, "non-zero padding: errno %d, not EINVAL", r);
	r = fill_ioctl(vm, KVM_REGISTER_MMIO_FILL, ZONE + 0xff000, 0x2000, 0xff, 0);
	CHECK(r == EEXIST, "zone overlapping a zone: errno %d, not EEXIST", r);
	r = fill_ioctl(vm, KVM_REGISTER_MMIO_FILL, ZONE + ZONE_SIZE, 0x1000, 0xff, 0);
	CHECK(r == 0, "adjacent zone: errno %d", r);
	r = fill_ioctl(vm, KVM_UNREGISTER_MMIO_FILL, ZONE + ZONE_SIZE, 0x2000, 0, 0);
	CHECK(r == ENOENT, "unregistering a different size: errno %d, not ENOENT", r);
	r = fill_ioctl(vm, KVM_UNREGISTER_MMIO_FILL, ZONE + ZONE_SIZE, 0x1000, 0, 0);
	CHECK(r == 0, "unregistering the adjacent zone: errno %d", r);
	r = fill_ioctl(vm, KVM_UNREGISTER_MMIO_FILL, ZONE + ZONE_SIZE, 0x1000, 0, 0);
	CHECK(r == ENOENT, "unregistering it twice: errno %d, not ENOENT", r);
}

static void test_unregister(struct vm *vm)
{
	unsigned long mmio;
	int r;

	r = fill_ioctl(vm, KVM_UNREGISTER_MMIO_FILL, ZONE, ZONE_SIZE, 0, 0);
	CHECK(r == 0, "unregistering the zone: errno %d", r);
	vm_reset(vm);
	g_read32_eax(vm, ZONE);
	g_write32(vm, ZONE, 1);
	g_hlt(vm);
	mmio = vm_run_to_hlt(vm);
	CHECK(mmio == 2, "read and write after unregistering: %lu userspace MMIO exits, not 2",
	      mmio);
}

int main(int argc, char **argv)
{
	int kvm = open_kvm();
	int cap = kvm_cap(kvm, KVM_CAP_MMIO_FILL);
	struct vm vm;
	int r;

	vm_create(&vm, kvm);
	if (argc > 1 && !strcmp(argv[1], "--stock")) {
		CHECK(cap == 0, "KVM_CAP_MMIO_FILL is %d on a stock kernel", cap);
		r = fill_ioctl(&vm, KVM_REGISTER_MMIO_FILL, ZONE, ZONE_SIZE, 0xff, 0);
		CHECK(r == ENOTTY, "stock kernel: KVM_REGISTER_MMIO_FILL gave errno %d, not ENOTTY", r);
		return test_summary("mmio_fill_test --stock");
	}
	CHECK(cap == 1, "KVM_CAP_MMIO_FILL (0x%x) is %d: not the patched kvm.ko",
	      KVM_CAP_MMIO_FILL, cap);
	if (cap != 1)
		return test_summary("mmio_fill_test");
	r = fill_ioctl(&vm, KVM_REGISTER_MMIO_FILL, ZONE, ZONE_SIZE, 0xff, 0);
	CHECK(r == 0, "KVM_REGISTER_MMIO_FILL: errno %d", r);
	test_reads_and_dropped_writes(&vm);
	test_write_exit_zone(&vm);
	test_rules(&vm);
	test_unregister(&vm);
	vm_destroy(&vm);
	return test_summary("mmio_fill_test");
}
