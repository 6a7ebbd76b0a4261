// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_PRE_FAULT_MEMORY backport (kernel/0003-*.patch): a pre-faulted range
 * is mapped before the guest runs (pages_4k, or pages_2m over a THP), the
 * guest then takes no fault there, the leftover range is passed back, and
 * the errnos are upstream's; a pre-fault after a memslot deletion and before
 * any KVM_RUN completes (an alarm turns a spin into EINTR).  --stock: on
 * kernels before 6.10, capability 0 and the ioctl refused; from 6.10 on the
 * ioctl is upstream's and the stock modules take the same checks.
 */
#include <signal.h>
#include <sys/utsname.h>
#include "test_util.h"
#include "pcihole_uapi.h"

#define SLOT_GPA	0xb0000000u
#define SLOT_SIZE	0x400000u

static int pre_fault(struct vm *vm, struct kvm_pre_fault_memory *r)
{
	return ioctl(vm->vcpu, KVM_PRE_FAULT_MEMORY, r) ? errno : 0;
}

static void test_map_4k(struct vm *vm)
{
	struct kvm_pre_fault_memory r = { .gpa = SLOT_GPA, .size = 0x200000 };
	long long p4 = vm_stat(vm, "pages_4k"), pf;
	unsigned long exits;
	int e;

	e = pre_fault(vm, &r);
	CHECK(e == 0, "pre-fault 2 MiB: errno %d", e);
	CHECK(r.size == 0 && r.gpa == SLOT_GPA + 0x200000,
	      "leftover gpa 0x%llx size 0x%llx, not all done", r.gpa, r.size);
	CHECK(vm_stat(vm, "pages_4k") - p4 == 512, "pages_4k moved by %lld, not 512",
	      vm_stat(vm, "pages_4k") - p4);
	guest_read(vm, 0, NULL);	/* the code page */
	p4 = vm_stat(vm, "pages_4k");
	pf = vcpu_stat(vm, "pf_taken");
	CHECK(guest_read(vm, SLOT_GPA + 0x1ff000, &exits) == 0xffffffff && !exits,
	      "read of a pre-faulted page");
	CHECK(vcpu_stat(vm, "pf_taken") == pf, "a pre-faulted page faulted (%lld)",
	      vcpu_stat(vm, "pf_taken") - pf);
	/* Again: nothing new, still success. */
	r.gpa = SLOT_GPA;
	r.size = 0x1000;
	CHECK(pre_fault(vm, &r) == 0 && r.size == 0, "pre-faulting a mapped page");
	CHECK(vm_stat(vm, "pages_4k") == p4, "re-pre-fault added %lld SPTEs",
	      vm_stat(vm, "pages_4k") - p4);
}

static void test_partial_and_errors(struct vm *vm)
{
	struct kvm_pre_fault_memory r = { .gpa = SLOT_GPA + SLOT_SIZE - 0x1000, .size = 0x2000 };
	int e;

	e = pre_fault(vm, &r);
	CHECK(e == 0 && r.gpa == SLOT_GPA + SLOT_SIZE && r.size == 0x1000,
	      "range past the slot end: errno %d, leftover 0x%llx+0x%llx (want 0, the page after the slot)",
	      e, r.gpa, r.size);
	e = pre_fault(vm, &r);
	CHECK(e == ENOENT, "range without a memslot: errno %d, not ENOENT", e);
	r = (struct kvm_pre_fault_memory){ .gpa = SLOT_GPA, .size = 0x1000, .flags = 1 };
	CHECK(pre_fault(vm, &r) == EINVAL, "flags 1 accepted");
	r = (struct kvm_pre_fault_memory){ .gpa = SLOT_GPA + 0x800, .size = 0x1000 };
	CHECK(pre_fault(vm, &r) == EINVAL, "unaligned gpa accepted");
	r = (struct kvm_pre_fault_memory){ .gpa = SLOT_GPA, .size = 0x800 };
	CHECK(pre_fault(vm, &r) == EINVAL, "unaligned size accepted");
	r = (struct kvm_pre_fault_memory){ .gpa = SLOT_GPA, .size = 0 };
	CHECK(pre_fault(vm, &r) == EINVAL, "size 0 accepted");
	r = (struct kvm_pre_fault_memory){ .gpa = -0x1000ull, .size = 0x2000 };
	CHECK(pre_fault(vm, &r) == EINVAL, "wrapping range accepted");
}

static void test_map_2m(struct vm *vm)
{
	struct kvm_pre_fault_memory r = { .gpa = SLOT_GPA + SLOT_SIZE, .size = 0x200000 };
	long long p2 = vm_stat(vm, "pages_2m");
	uint8_t *thp;
	int e;

	if (!thp_usable()) {
		printf("  skip: THP is off, no 2 MiB pre-fault check\n");
		return;
	}
	thp = aligned_anon(0x200000, 0x200000, 0xff, 1);
	e = set_region(vm, 2, KVM_MEM_READONLY, SLOT_GPA + SLOT_SIZE, 0x200000, (uintptr_t)thp);
	CHECK(e == 0, "THP slot: errno %d", e);
	e = pre_fault(vm, &r);
	CHECK(e == 0 && r.size == 0, "pre-fault over THP: errno %d leftover 0x%llx", e, r.size);
	CHECK(vm_stat(vm, "pages_2m") - p2 == 1, "pages_2m moved by %lld, not 1",
	      vm_stat(vm, "pages_2m") - p2);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* KVM_PRE_FAULT_MEMORY is upstream from Linux 6.10 on. */
static int upstream_pre_fault(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major > 6 || (major == 6 && minor >= 10);
}

/*
 * Deleting a memslot makes the vCPU's roots obsolete; only vcpu_enter_guest()
 * frees them, so a pre-fault before the next KVM_RUN retried until a signal.
 * 0003 fixes that on 6.1; upstream's own ioctl (6.12 at least) still spins,
 * which is reported as a note there, not as a failure of this suite's code.
 */
static void test_after_delete(struct vm *vm)
{
	struct kvm_pre_fault_memory r = { .gpa = SLOT_GPA + 0x200000, .size = 0x2000 };
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	uint8_t *other = aligned_anon(0x1000, 0x1000, 0, 0);
	int e;

	sigaction(SIGALRM, &sa, NULL);
	CHECK(set_region(vm, 3, 0, 0x80000000u, 0x1000, (uintptr_t)other) == 0, "another slot");
	guest_read(vm, SLOT_GPA, NULL);		/* the vCPU has a root */
	CHECK(set_region(vm, 3, 0, 0x80000000u, 0, 0) == 0, "deleting it");
	alarm(10);
	e = pre_fault(vm, &r);
	alarm(0);
	if (e == EINTR && upstream_pre_fault())
		printf("  note: upstream KVM_PRE_FAULT_MEMORY after a memslot deletion spun on the obsolete root until a 10 s alarm (EINTR); 6.1's backport (0003) fixes it\n");
	else
		CHECK(e == 0 && r.size == 0,
		      "pre-fault after a memslot deletion: errno %d, leftover 0x%llx (EINTR: it spun until a 10 s alarm)",
		      e, r.size);
	CHECK(guest_read(vm, SLOT_GPA + 0x201000, NULL) == 0xffffffff, "the guest runs after it");
}

int main(int argc, char **argv)
{
	struct kvm_pre_fault_memory r = { .gpa = 0, .size = 0x1000 };
	int kvm = open_kvm();
	int cap = kvm_cap(kvm, KVM_CAP_PRE_FAULT_MEMORY);
	uint8_t *mem;
	struct vm vm;
	int e;

	int stock = argc > 1 && !strcmp(argv[1], "--stock");
	int upstream = upstream_pre_fault();

	vm_create(&vm, kvm);
	if (stock && !upstream) {
		CHECK(cap == 0, "KVM_CAP_PRE_FAULT_MEMORY is %d on a stock 6.1 kernel", cap);
		e = pre_fault(&vm, &r);
		CHECK(e == EINVAL || e == ENOTTY, "stock kernel: KVM_PRE_FAULT_MEMORY gave errno %d", e);
		return test_summary("pre_fault_test --stock");
	}
	CHECK(cap == 1, "KVM_CAP_PRE_FAULT_MEMORY is %d: %s", cap,
	      upstream ? "no TDP (upstream's capability is tdp_enabled)" :
	      "not the patched kvm.ko on TDP");
	if (cap != 1)
		return test_summary(stock ? "pre_fault_test --stock" : "pre_fault_test");
	mem = aligned_anon(SLOT_SIZE, 0x200000, 0xff, 0);
	e = set_region(&vm, 1, KVM_MEM_READONLY, SLOT_GPA, SLOT_SIZE, (uintptr_t)mem);
	CHECK(e == 0, "read-only slot: errno %d", e);
	test_map_4k(&vm);
	test_partial_and_errors(&vm);
	test_map_2m(&vm);
	test_after_delete(&vm);
	vm_destroy(&vm);
	return test_summary(stock ? "pre_fault_test --stock" : "pre_fault_test");
}
