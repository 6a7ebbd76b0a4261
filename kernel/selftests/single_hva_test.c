// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_MEM_SINGLE_HVA / KVM_MEM_SINGLE_HVA_2M (kernel/0004-*.patch): every
 * GFN reads the one host page (or the same offset of one 2 MiB), mapping
 * sizes in the VM's stats, writes exit, the slot's end is respected, an
 * invalidation of the shared page reaches every GFN, the flag rules.
 * --stock: capability 0, the flags refused.
 */
#include "test_util.h"
#include "pcihole_uapi.h"

#define HOLE	0xb0000000u
#define SIZE	0x800000u

static void test_4k(struct vm *vm)
{
	uint8_t *page = aligned_anon(0x1000, 0x1000, 0x11, 0);
	long long p4, p2;
	unsigned long exits;
	uint8_t *fresh;
	int e;

	guest_read(vm, 0, NULL);	/* the code page */
	p4 = vm_stat(vm, "pages_4k");
	p2 = vm_stat(vm, "pages_2m");

	page[0x800] = 0x22;
	e = set_region(vm, 1, KVM_MEM_READONLY | KVM_MEM_SINGLE_HVA, HOLE, SIZE, (uintptr_t)page);
	CHECK(e == 0, "SINGLE_HVA slot: errno %d", e);
	CHECK(guest_read(vm, HOLE, &exits) == 0x11111111 && !exits, "GFN 0 offset 0");
	CHECK(guest_read(vm, HOLE + 5 * 0x1000 + 0x800, &exits) == 0x11111122 && !exits,
	      "GFN 5 offset 0x800 does not read the page's offset 0x800");
	CHECK(guest_read(vm, HOLE + SIZE - 4, &exits) == 0x11111111 && !exits, "last GFN");
	CHECK(vm_stat(vm, "pages_4k") - p4 == 3 && vm_stat(vm, "pages_2m") == p2,
	      "3 GFNs: pages_4k +%lld pages_2m +%lld (want +3, +0)",
	      vm_stat(vm, "pages_4k") - p4, vm_stat(vm, "pages_2m") - p2);
	guest_read(vm, HOLE + SIZE, &exits);
	CHECK(exits == 1, "read past the slot: %lu userspace exits, not 1", exits);

	/* A new page at the same HVA: every GFN must see it (MMU notifier). */
	fresh = mmap(page, 0x1000, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (fresh == MAP_FAILED)
		die("mmap MAP_FIXED");
	memset(fresh, 0x33, 0x1000);
	CHECK(guest_read(vm, HOLE, NULL) == 0x33333333, "GFN 0 still reads the old page");
	CHECK(guest_read(vm, HOLE + SIZE - 4, NULL) == 0x33333333,
	      "the last GFN still reads the old page: invalidation missed it");

	vm_reset(vm);
	g_write32(vm, HOLE + 0x3000, 0x12345678);
	g_hlt(vm);
	e = vm_run(vm);
	CHECK(e == KVM_EXIT_MMIO && vm->run->mmio.is_write &&
	      vm->run->mmio.phys_addr == HOLE + 0x3000, "write: exit %d, not an MMIO write", e);
	vm_run_to_hlt(vm);
	CHECK(set_region(vm, 1, 0, HOLE, 0, 0) == 0, "deleting the slot");
}

static void test_2m(struct vm *vm)
{
	uint8_t *huge;
	long long p2 = vm_stat(vm, "pages_2m");
	unsigned long exits;
	uint32_t i;
	int thp = thp_usable(), e;

	huge = aligned_anon(0x200000, 0x200000, 0, thp);
	for (i = 0; i < 0x200000; i += 0x1000)
		*(uint32_t *)(huge + i) = i >> 12;
	e = set_region(vm, 1, KVM_MEM_READONLY | KVM_MEM_SINGLE_HVA_2M, HOLE, SIZE, (uintptr_t)huge);
	CHECK(e == 0, "SINGLE_HVA_2M slot: errno %d", e);
	CHECK(guest_read(vm, HOLE + 3 * 0x200000 + 0x5000, &exits) == 5 && !exits,
	      "third 2 MiB, page 5 does not read page 5");
	CHECK(guest_read(vm, HOLE + 0x1ff000, &exits) == 0x1ff && !exits, "page 511");
	if (thp)
		CHECK(vm_stat(vm, "pages_2m") - p2 == 2, "two 2 MiB ranges touched: pages_2m +%lld, not +2",
		      vm_stat(vm, "pages_2m") - p2);
	else
		printf("  skip: THP is off, no 2 MiB mapping check\n");
	CHECK(set_region(vm, 1, 0, HOLE, 0, 0) == 0, "deleting the slot");
}

static void test_rules(struct vm *vm)
{
	uint8_t *page = aligned_anon(0x1000, 0x1000, 0xff, 0);
	uintptr_t a = (uintptr_t)page;

	CHECK(set_region(vm, 2, KVM_MEM_SINGLE_HVA, HOLE, SIZE, a) == EINVAL, "writable single-HVA slot accepted");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY | KVM_MEM_SINGLE_HVA | KVM_MEM_LOG_DIRTY_PAGES,
			 HOLE, SIZE, a) == EINVAL, "single-HVA with dirty logging accepted");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY | KVM_MEM_SINGLE_HVA | KVM_MEM_SINGLE_HVA_2M,
			 HOLE, SIZE, a) == EINVAL, "both single-HVA flags accepted");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY | KVM_MEM_SINGLE_HVA, HOLE, SIZE, a) == 0, "a slot");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY, HOLE, SIZE, a) == EINVAL, "flag cleared on a live slot");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY | KVM_MEM_SINGLE_HVA_2M, HOLE, SIZE, a) == EINVAL,
	      "period changed on a live slot");
	CHECK(set_region(vm, 2, 0, HOLE, 0, 0) == 0, "deleting it");
}

int main(int argc, char **argv)
{
	int kvm = open_kvm();
	int cap = kvm_cap(kvm, KVM_CAP_SINGLE_HVA);
	struct vm vm;
	uint8_t *page;

	vm_create(&vm, kvm);
	if (argc > 1 && !strcmp(argv[1], "--stock")) {
		page = aligned_anon(0x1000, 0x1000, 0xff, 0);
		CHECK(cap == 0, "KVM_CAP_SINGLE_HVA is %d on a stock kernel", cap);
		CHECK(set_region(&vm, 1, KVM_MEM_READONLY | KVM_MEM_SINGLE_HVA, HOLE, SIZE,
				 (uintptr_t)page) == EINVAL, "stock kernel accepted KVM_MEM_SINGLE_HVA");
		return test_summary("single_hva_test --stock");
	}
	CHECK(cap == 1, "KVM_CAP_SINGLE_HVA (0x%x) is %d: not the patched kvm.ko", KVM_CAP_SINGLE_HVA, cap);
	if (cap != 1)
		return test_summary("single_hva_test");
	test_4k(&vm);
	test_2m(&vm);
	test_rules(&vm);
	vm_destroy(&vm);
	return test_summary("single_hva_test");
}
