// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_MEM_PREFETCH_2M (kernel/0005-*.patch): one guest fault maps its whole
 * 2 MiB-aligned range, clipped to the slot (pages_4k counts it exactly),
 * later reads there take no fault, a THP-backed range maps one 2 MiB SPTE,
 * writes exit, the flag rules.  --stock: capability 0, the flag refused.
 */
#include "test_util.h"
#include "pcihole_uapi.h"

#define HOLE	0xb0000000u
/* Starts one page into a 2 MiB frame and ends one page into the second next. */
#define START	(HOLE + 0x1000)
#define SIZE	0x400000u

static void test_prefetch(struct vm *vm)
{
	uint8_t *mem = aligned_anon(SIZE, 0x200000, 0xff, 0);
	long long p4, pf;
	unsigned long exits;
	int e;

	e = set_region(vm, 1, KVM_MEM_READONLY | KVM_MEM_PREFETCH_2M, START, SIZE, (uintptr_t)mem);
	CHECK(e == 0, "PREFETCH_2M slot: errno %d", e);
	guest_read(vm, 0, NULL);	/* the code page */
	p4 = vm_stat(vm, "pages_4k");
	pf = vcpu_stat(vm, "pf_taken");
	CHECK(guest_read(vm, START + 0x5000, &exits) == 0xffffffff && !exits, "first read");
	CHECK(vm_stat(vm, "pages_4k") - p4 == 511,
	      "a fault in the first 2 MiB (511 pages in the slot) mapped %lld pages",
	      vm_stat(vm, "pages_4k") - p4);
	CHECK(vcpu_stat(vm, "pf_taken") - pf == 1, "pf_taken +%lld, not 1",
	      vcpu_stat(vm, "pf_taken") - pf);
	CHECK(guest_read(vm, START, NULL) == 0xffffffff &&
	      guest_read(vm, HOLE + 0x1ff000, NULL) == 0xffffffff &&
	      vcpu_stat(vm, "pf_taken") - pf == 1, "prefetched pages faulted");

	p4 = vm_stat(vm, "pages_4k");
	CHECK(guest_read(vm, HOLE + 0x280000, NULL) == 0xffffffff, "read in the second 2 MiB");
	CHECK(vm_stat(vm, "pages_4k") - p4 == 512, "second 2 MiB: %lld pages, not 512",
	      vm_stat(vm, "pages_4k") - p4);
	p4 = vm_stat(vm, "pages_4k");
	CHECK(guest_read(vm, START + SIZE - 4, NULL) == 0xffffffff, "read of the slot's last page");
	CHECK(vm_stat(vm, "pages_4k") - p4 == 1,
	      "the third 2 MiB holds one page of the slot: %lld mapped", vm_stat(vm, "pages_4k") - p4);
	guest_read(vm, START + SIZE, &exits);
	CHECK(exits == 1, "read past the slot: %lu userspace exits, not 1", exits);

	vm_reset(vm);
	g_write32(vm, START + 0x8000, 1);
	g_hlt(vm);
	e = vm_run(vm);
	CHECK(e == KVM_EXIT_MMIO && vm->run->mmio.is_write, "write: exit %d, not an MMIO write", e);
	vm_run_to_hlt(vm);
	CHECK(set_region(vm, 1, 0, START, 0, 0) == 0, "deleting the slot");
}

static void test_thp(struct vm *vm)
{
	uint8_t *thp;
	long long p2, p4;

	if (!thp_usable()) {
		printf("  skip: THP is off, no hugepage check\n");
		return;
	}
	thp = aligned_anon(0x200000, 0x200000, 0xff, 1);
	CHECK(set_region(vm, 1, KVM_MEM_READONLY | KVM_MEM_PREFETCH_2M, HOLE, 0x200000,
			 (uintptr_t)thp) == 0, "THP slot");
	guest_read(vm, 0, NULL);	/* the code page: deleting a slot zapped all */
	p2 = vm_stat(vm, "pages_2m");
	p4 = vm_stat(vm, "pages_4k");
	CHECK(guest_read(vm, HOLE + 0x3000, NULL) == 0xffffffff, "THP read");
	CHECK(vm_stat(vm, "pages_2m") - p2 == 1 && vm_stat(vm, "pages_4k") == p4,
	      "a THP range: pages_2m +%lld pages_4k +%lld (want +1, +0: no prefetch after a hugepage)",
	      vm_stat(vm, "pages_2m") - p2, vm_stat(vm, "pages_4k") - p4);
	CHECK(set_region(vm, 1, 0, HOLE, 0, 0) == 0, "deleting the slot");
}

static void test_rules(struct vm *vm)
{
	uintptr_t a = (uintptr_t)aligned_anon(0x200000, 0x1000, 0xff, 0);

	CHECK(set_region(vm, 2, KVM_MEM_PREFETCH_2M, HOLE, 0x200000, a) == EINVAL,
	      "writable PREFETCH_2M slot accepted");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY | KVM_MEM_PREFETCH_2M | KVM_MEM_LOG_DIRTY_PAGES,
			 HOLE, 0x200000, a) == EINVAL, "PREFETCH_2M with dirty logging accepted");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY | KVM_MEM_PREFETCH_2M, HOLE, 0x200000, a) == 0, "a slot");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY, HOLE, 0x200000, a) == EINVAL,
	      "flag cleared on a live slot");
	CHECK(set_region(vm, 2, 0, HOLE, 0, 0) == 0, "deleting it");
}

int main(int argc, char **argv)
{
	int kvm = open_kvm();
	int cap = kvm_cap(kvm, KVM_CAP_PREFETCH_2M);
	struct vm vm;

	vm_create(&vm, kvm);
	if (argc > 1 && !strcmp(argv[1], "--stock")) {
		CHECK(cap == 0, "KVM_CAP_PREFETCH_2M is %d on a stock kernel", cap);
		CHECK(set_region(&vm, 1, KVM_MEM_READONLY | KVM_MEM_PREFETCH_2M, HOLE, 0x200000,
				 (uintptr_t)aligned_anon(0x200000, 0x1000, 0xff, 0)) == EINVAL,
		      "stock kernel accepted KVM_MEM_PREFETCH_2M");
		return test_summary("prefetch_2m_test --stock");
	}
	CHECK(cap == 1, "KVM_CAP_PREFETCH_2M (0x%x) is %d: not the patched kvm.ko on TDP",
	      KVM_CAP_PREFETCH_2M, cap);
	if (cap != 1)
		return test_summary("prefetch_2m_test");
	test_prefetch(&vm);
	test_thp(&vm);
	test_rules(&vm);
	vm_destroy(&vm);
	return test_summary("prefetch_2m_test");
}
