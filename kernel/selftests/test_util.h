/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small KVM selftest harness for the kernel/ patches: a VM with 1 MiB of
 * RAM at GPA 0, one vCPU in 32-bit protected mode (flat segments, no paging)
 * running code assembled at GUEST_CODE, per-vCPU binary stats by name, and
 * TEST_ASSERT-style checks that count failures and never stop early.
 */
#ifndef PCIHOLE_TEST_UTIL_H
#define PCIHOLE_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE	0x100000
#define GUEST_CODE	0x1000

static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("  FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static inline void die(const char *what)
{
	printf("  FATAL %s: %s\n", what, strerror(errno));
	exit(1);
}

struct vm {
	int kvm, fd, vcpu, stats;
	struct kvm_run *run;
	uint8_t *ram;
	uint8_t *code;		/* next free byte of guest code */
	unsigned long userspace_exits, mmio_exits;
};

static inline int kvm_cap(int kvm, long cap)
{
	int r = ioctl(kvm, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static inline void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = 1;
	s->g = 1;
}

static inline void vm_create(struct vm *vm, int kvm)
{
	struct kvm_userspace_memory_region ram = { .slot = 0 };
	struct kvm_sregs sregs;
	int size;

	memset(vm, 0, sizeof(*vm));
	vm->kvm = kvm;
	vm->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM");
	vm->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->ram == MAP_FAILED)
		die("mmap");
	ram.memory_size = RAM_SIZE;
	ram.userspace_addr = (uintptr_t)vm->ram;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &ram))
		die("KVM_SET_USER_MEMORY_REGION ram");
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		die("KVM_CREATE_VCPU");
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	set_seg(&sregs.cs, 0x8, 11);
	set_seg(&sregs.ds, 0x10, 3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 = 0x11;	/* PE | ET */
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	vm->stats = ioctl(vm->vcpu, KVM_GET_STATS_FD, NULL);
	vm->code = vm->ram + GUEST_CODE;
}

static inline void vm_destroy(struct vm *vm)
{
	close(vm->stats);
	close(vm->vcpu);
	close(vm->fd);
	munmap(vm->ram, RAM_SIZE);
}

/* Starts a new guest program at GUEST_CODE with zeroed registers. */
static inline void vm_reset(struct vm *vm)
{
	struct kvm_regs regs = { .rip = GUEST_CODE, .rflags = 2 };

	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
	vm->code = vm->ram + GUEST_CODE;
}

static inline void emit(struct vm *vm, const void *bytes, int n)
{
	memcpy(vm->code, bytes, n);
	vm->code += n;
}

static inline void emit32(struct vm *vm, uint32_t v)
{
	emit(vm, &v, 4);
}

/* mov eax, [addr] / ebx / movzx ecx, word / movzx edx, byte */
static inline void g_read32_eax(struct vm *vm, uint32_t a) { emit(vm, "\xa1", 1); emit32(vm, a); }
static inline void g_read32_ebx(struct vm *vm, uint32_t a) { emit(vm, "\x8b\x1d", 2); emit32(vm, a); }
static inline void g_read16_ecx(struct vm *vm, uint32_t a) { emit(vm, "\x0f\xb7\x0d", 3); emit32(vm, a); }
static inline void g_read8_edx(struct vm *vm, uint32_t a) { emit(vm, "\x0f\xb6\x15", 3); emit32(vm, a); }
/* mov dword [addr], imm32 */
static inline void g_write32(struct vm *vm, uint32_t a, uint32_t v)
{
	emit(vm, "\xc7\x05", 2);
	emit32(vm, a);
	emit32(vm, v);
}

static inline void g_hlt(struct vm *vm) { emit(vm, "\xf4", 1); }

/* Runs until an exit other than EINTR; counts userspace exits by kind. */
static inline int vm_run(struct vm *vm)
{
	while (ioctl(vm->vcpu, KVM_RUN, NULL) < 0)
		if (errno != EINTR)
			die("KVM_RUN");
	vm->userspace_exits++;
	if (vm->run->exit_reason == KVM_EXIT_MMIO)
		vm->mmio_exits++;
	return vm->run->exit_reason;
}

/* Runs to HLT, answering MMIO exits with all-ones reads; returns MMIO exits. */
static inline unsigned long vm_run_to_hlt(struct vm *vm)
{
	unsigned long before = vm->mmio_exits;
	int r;

	while ((r = vm_run(vm)) == KVM_EXIT_MMIO)
		if (!vm->run->mmio.is_write)
			memset(vm->run->mmio.data, 0xff, vm->run->mmio.len);
	if (r != KVM_EXIT_HLT) {
		printf("  FATAL unexpected exit reason %d\n", r);
		exit(1);
	}
	return vm->mmio_exits - before;
}

static inline struct kvm_regs vm_regs(struct vm *vm)
{
	struct kvm_regs regs;

	if (ioctl(vm->vcpu, KVM_GET_REGS, &regs))
		die("KVM_GET_REGS");
	return regs;
}

/* A statistic by name from a KVM_GET_STATS_FD fd, or -1 when absent. */
static inline long long fd_stat(int fd, const char *name)
{
	struct kvm_stats_header h;
	long long value = -1;
	size_t dsize;
	char *descs;
	uint32_t i;

	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return -1;
	dsize = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(dsize * h.num_desc);
	if (!descs || pread(fd, descs, dsize * h.num_desc,
			    h.desc_offset) != (ssize_t)(dsize * h.num_desc))
		die("read stats descriptors");
	for (i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsize);
		uint64_t v;

		if (strcmp(d->name, name))
			continue;
		if (pread(fd, &v, sizeof(v), h.data_offset + d->offset) == sizeof(v))
			value = (long long)v;
		break;
	}
	free(descs);
	return value;
}

/* A per-vCPU statistic by name, or -1 when absent. */
static inline long long vcpu_stat(struct vm *vm, const char *name)
{
	return fd_stat(vm->stats, name);
}

/* A per-VM statistic by name (e.g. pages_4k, pages_2m), or -1 when absent. */
static inline long long vm_stat(struct vm *vm, const char *name)
{
	int fd = ioctl(vm->fd, KVM_GET_STATS_FD, NULL);
	long long v = fd_stat(fd, name);

	if (fd >= 0)
		close(fd);
	return v;
}

/* KVM_SET_USER_MEMORY_REGION; 0 or the errno. */
static inline int set_region(struct vm *vm, uint32_t slot, uint32_t flags,
		      uint64_t gpa, uint64_t size, uint64_t hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) ? errno : 0;
}

/* An anonymous mapping of @size aligned to @align, filled with @fill; 4 KiB or THP pages. */
static inline uint8_t *aligned_anon(size_t size, size_t align, int fill, int thp)
{
	uint8_t *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		die("mmap aligned");
	a = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	madvise(a, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(a, fill, size);
	return a;
}

/* THP is usable when its mode is [always] or [madvise]. */
static inline int thp_usable(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	return strstr(buf, "[always]") || strstr(buf, "[madvise]");
}

/* Runs one guest read of @gpa to HLT; returns eax, and userspace exits in *exits. */
static inline uint32_t guest_read(struct vm *vm, uint32_t gpa, unsigned long *exits)
{
	unsigned long mmio;

	vm_reset(vm);
	g_read32_eax(vm, gpa);
	g_hlt(vm);
	mmio = vm_run_to_hlt(vm);
	if (exits)
		*exits = mmio;
	return (uint32_t)vm_regs(vm).rax;
}

static inline int test_summary(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, checks, failures);
	return failures ? 1 : 0;
}

static inline int open_kvm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0)
		die("open /dev/kvm");
	return kvm;
}

#endif
