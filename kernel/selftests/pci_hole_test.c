// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_MEM_PCI_HOLE (kernel/0001-*.patch): hole reads read all-ones with no
 * userspace exit, each as the series did it (no SPTE; before Linux 6.12 two
 * faults: one retry, one emulation; from 6.12, which retries only
 * write-protection faults, one), writes exit as KVM_EXIT_MMIO, slot rules and
 * errnos.
 * KVM_MEM_PCI_HOLE_MMIO (kernel/0006-*.patch): reads get MMIO SPTEs, one fault
 * per page and none after.  --stock: assert that this kernel has neither
 * (capabilities 0, EINVAL).  --bench N [mmio]: N hole reads, host ns per read.
 */
#include <sys/utsname.h>
#include <time.h>
#include "test_util.h"
#include "pcihole_uapi.h"

#define HOLE	0xb0000000u
#define HOLE_SIZE	0x100000u

/*
 * Faults per emulated hole read: 2 before Linux 6.12 (kvm_mmu_page_fault()
 * allowed a retry of any fault without cached MMIO info), 1 from 6.12.
 */
static int faults_per_read(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 2;
	return major > 6 || (major == 6 && minor >= 12) ? 1 : 2;
}

static void test_reads(struct vm *vm)
{
	int per_read = faults_per_read();
	long long exits0 = vcpu_stat(vm, "exits");
	long long mmio0 = vcpu_stat(vm, "mmio_exits");
	long long emul0 = vcpu_stat(vm, "insn_emulation");
	struct kvm_regs regs;
	unsigned long mmio;

	long long pf0, spte0;

	guest_read(vm, 0, NULL);	/* the code page */
	pf0 = vcpu_stat(vm, "pf_taken");
	spte0 = vcpu_stat(vm, "pf_mmio_spte_created");
	vm_reset(vm);
	g_read32_eax(vm, HOLE);
	g_read32_ebx(vm, HOLE + 0x8ffc);
	g_read16_ecx(vm, HOLE + 0x1ffe);
	g_read8_edx(vm, HOLE + HOLE_SIZE - 1);
	g_hlt(vm);
	mmio = vm_run_to_hlt(vm);
	regs = vm_regs(vm);
	CHECK(regs.rax == 0xffffffff, "32-bit hole read gave 0x%llx", regs.rax);
	CHECK(regs.rbx == 0xffffffff, "32-bit hole read gave 0x%llx", regs.rbx);
	CHECK(regs.rcx == 0xffff, "16-bit hole read gave 0x%llx", regs.rcx);
	CHECK(regs.rdx == 0xff, "8-bit hole read gave 0x%llx", regs.rdx);
	CHECK(mmio == 0, "4 hole reads made %lu userspace MMIO exits", mmio);
	CHECK(vcpu_stat(vm, "mmio_exits") - mmio0 == 0, "KVM stat mmio_exits moved");
	CHECK(vcpu_stat(vm, "exits") - exits0 >= 4,
	      "KVM stat exits moved by %lld, not >= 4: reads did not trap",
	      vcpu_stat(vm, "exits") - exits0);
	CHECK(vcpu_stat(vm, "insn_emulation") - emul0 >= 4,
	      "KVM stat insn_emulation moved by %lld, not >= 4",
	      vcpu_stat(vm, "insn_emulation") - emul0);
	CHECK(vcpu_stat(vm, "pf_taken") - pf0 == 4 * per_read,
	      "4 hole reads took %lld faults, not %d (%s)",
	      vcpu_stat(vm, "pf_taken") - pf0, 4 * per_read,
	      per_read == 2 ? "before 6.12: a retry, then the emulation" :
	      "from 6.12: the emulation, no retry");
	CHECK(vcpu_stat(vm, "pf_mmio_spte_created") == spte0,
	      "hole reads created %lld MMIO SPTEs, not 0 (the series installs none)",
	      vcpu_stat(vm, "pf_mmio_spte_created") - spte0);
}

#define HOLE2	0xb1000000u

/* kvm.pci_hole_gpa_read: 1 when written (root, patched kvm.ko). */
static int set_gpa_read(char v)
{
	FILE *f = fopen("/sys/module/kvm/parameters/pci_hole_gpa_read", "w");
	int ok;

	if (!f)
		return 0;
	ok = fputc(v, f) == v;
	return !fclose(f) && ok;
}

/* Reads that cross a page: the second page has no cached MMIO info. */
static void test_split_reads(struct vm *vm, uint32_t base, const char *mode)
{
	unsigned long mmio;

	vm_reset(vm);
	g_read32_eax(vm, base + 0x2ffe);
	g_read16_ecx(vm, base + 0x4fff);
	g_hlt(vm);
	mmio = vm_run_to_hlt(vm);
	CHECK(vm_regs(vm).rax == 0xffffffff && vm_regs(vm).rcx == 0xffff && !mmio,
	      "%s: reads across a page gave 0x%llx 0x%llx, %lu exits",
	      mode, vm_regs(vm).rax, vm_regs(vm).rcx, mmio);
}

/* KVM_MEM_PCI_HOLE_MMIO: one fault per page makes an MMIO SPTE; then none. */
static void test_mmio_reads(struct vm *vm)
{
	long long pf0, spte0, ex0;
	unsigned long mmio;
	int round, r;

	r = set_region(vm, 3, KVM_MEM_PCI_HOLE | KVM_MEM_PCI_HOLE_MMIO, HOLE2, HOLE_SIZE, 0);
	CHECK(r == 0, "KVM_MEM_PCI_HOLE | KVM_MEM_PCI_HOLE_MMIO slot: errno %d", r);
	guest_read(vm, 0, NULL);
	for (round = 0; round < 2; round++) {
		pf0 = vcpu_stat(vm, "pf_taken");
		spte0 = vcpu_stat(vm, "pf_mmio_spte_created");
		ex0 = vcpu_stat(vm, "exits");
		vm_reset(vm);
		g_read32_eax(vm, HOLE2);
		g_read32_ebx(vm, HOLE2 + 0x8ffc);
		g_read16_ecx(vm, HOLE2 + 0x1ffe);
		g_read8_edx(vm, HOLE2 + HOLE_SIZE - 1);
		g_hlt(vm);
		mmio = vm_run_to_hlt(vm);
		CHECK(vm_regs(vm).rax == 0xffffffff && vm_regs(vm).rbx == 0xffffffff &&
		      vm_regs(vm).rcx == 0xffff && vm_regs(vm).rdx == 0xff,
		      "round %d: MMIO-SPTE hole reads are not all-ones", round);
		CHECK(mmio == 0, "round %d: %lu userspace MMIO exits", round, mmio);
		CHECK(vcpu_stat(vm, "pf_taken") - pf0 == (round ? 0 : 4),
		      "round %d: %lld faults, not %d", round,
		      vcpu_stat(vm, "pf_taken") - pf0, round ? 0 : 4);
		CHECK(vcpu_stat(vm, "pf_mmio_spte_created") - spte0 == (round ? 0 : 4),
		      "round %d: %lld MMIO SPTEs created, not %d", round,
		      vcpu_stat(vm, "pf_mmio_spte_created") - spte0, round ? 0 : 4);
		CHECK(vcpu_stat(vm, "exits") - ex0 >= 4, "round %d: reads did not trap", round);
	}
	test_split_reads(vm, HOLE2, "PCI_HOLE_MMIO, pci_hole_gpa_read=N");
	if (set_gpa_read('Y')) {
		test_split_reads(vm, HOLE2 + 0x10000, "PCI_HOLE_MMIO, pci_hole_gpa_read=Y");
		set_gpa_read('N');
	} else {
		printf("  skip: kvm.pci_hole_gpa_read is not writable here, Y not run\n");
	}
	r = set_region(vm, 4, KVM_MEM_PCI_HOLE_MMIO, HOLE2 + HOLE_SIZE, 0x1000, 0);
	CHECK(r == EINVAL, "PCI_HOLE_MMIO without PCI_HOLE: errno %d, not EINVAL", r);
	r = set_region(vm, 3, KVM_MEM_PCI_HOLE, HOLE2, HOLE_SIZE, 0);
	CHECK(r == EINVAL, "clearing PCI_HOLE_MMIO on the slot: errno %d, not EINVAL", r);
	r = set_region(vm, 3, 0, HOLE2, 0, 0);
	CHECK(r == 0, "deleting the PCI_HOLE_MMIO slot: errno %d", r);
}

static void test_write_exits(struct vm *vm)
{
	struct kvm_run *run = vm->run;
	struct kvm_regs regs;
	int r;

	vm_reset(vm);
	g_write32(vm, HOLE + 0x3004, 0x12345678);
	g_read32_eax(vm, HOLE + 0x3004);
	g_hlt(vm);
	r = vm_run(vm);
	CHECK(r == KVM_EXIT_MMIO, "hole write: exit reason %d, not KVM_EXIT_MMIO", r);
	if (r != KVM_EXIT_MMIO)
		return;
	CHECK(run->mmio.is_write && run->mmio.phys_addr == HOLE + 0x3004 &&
	      run->mmio.len == 4 && *(uint32_t *)run->mmio.data == 0x12345678,
	      "hole write exit: write %d gpa 0x%llx len %u data 0x%x",
	      run->mmio.is_write, run->mmio.phys_addr, run->mmio.len,
	      *(uint32_t *)run->mmio.data);
	CHECK(vm_run_to_hlt(vm) == 0, "the read after the write exited to userspace");
	regs = vm_regs(vm);
	CHECK(regs.rax == 0xffffffff, "read after write gave 0x%llx: a hole keeps nothing",
	      regs.rax);
}

static void test_slot_rules(struct vm *vm)
{
	int r;

	r = set_region(vm, 2, KVM_MEM_PCI_HOLE | KVM_MEM_READONLY, HOLE + 0x200000, 0x1000, 0);
	CHECK(r == EINVAL, "PCI_HOLE|READONLY: errno %d, not EINVAL", r);
	r = set_region(vm, 2, KVM_MEM_PCI_HOLE | KVM_MEM_LOG_DIRTY_PAGES, HOLE + 0x200000, 0x1000, 0);
	CHECK(r == EINVAL, "PCI_HOLE|LOG_DIRTY_PAGES: errno %d, not EINVAL", r);
	r = set_region(vm, 2, KVM_MEM_PCI_HOLE, HOLE + 0x200000, 0x1000, (uintptr_t)vm->ram);
	CHECK(r == EINVAL, "PCI_HOLE with a userspace_addr: errno %d, not EINVAL", r);
	r = set_region(vm, 2, 1u << 14, HOLE + 0x200000, 0x1000, (uintptr_t)vm->ram);
	CHECK(r == EINVAL, "unknown flag bit 14: errno %d, not EINVAL", r);
	r = set_region(vm, 2, KVM_MEM_PCI_HOLE, HOLE + 0x80000, 0x100000, 0);
	CHECK(r == EEXIST, "overlapping hole slot: errno %d, not EEXIST", r);
	r = set_region(vm, 2, 0, HOLE + 0xff000, 0x2000, (uintptr_t)vm->ram);
	CHECK(r == EEXIST, "RAM slot overlapping the hole: errno %d, not EEXIST", r);
	r = set_region(vm, 1, 0, HOLE, HOLE_SIZE, 0);
	CHECK(r == EINVAL, "clearing PCI_HOLE on the slot: errno %d, not EINVAL", r);
	r = set_region(vm, 2, KVM_MEM_PCI_HOLE, HOLE + HOLE_SIZE, 0x1000, 0);
	CHECK(r == 0, "adjacent hole slot: errno %d", r);
	r = set_region(vm, 2, KVM_MEM_PCI_HOLE, HOLE + 0x400000, 0x1000, 0);
	CHECK(r == 0, "moving a hole slot: errno %d", r);
	r = set_region(vm, 2, KVM_MEM_PCI_HOLE, HOLE + 0x400000, 0, 0);
	CHECK(r == 0, "deleting the moved hole slot: errno %d", r);
}

static void test_delete(struct vm *vm)
{
	unsigned long mmio;
	int r;

	r = set_region(vm, 1, KVM_MEM_PCI_HOLE, HOLE, 0, 0);
	CHECK(r == 0, "deleting the hole slot: errno %d", r);
	vm_reset(vm);
	g_read32_eax(vm, HOLE);
	g_hlt(vm);
	mmio = vm_run_to_hlt(vm);
	CHECK(mmio == 1, "read after deletion: %lu userspace MMIO exits, not 1", mmio);
}

static double bench(struct vm *vm, int n)
{
	struct timespec a, b;
	int i;

	vm_reset(vm);
	for (i = 0; i < n; i++)
		g_read32_eax(vm, HOLE + ((i * 0x1000u) % HOLE_SIZE));
	g_hlt(vm);
	clock_gettime(CLOCK_MONOTONIC, &a);
	vm_run_to_hlt(vm);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

int main(int argc, char **argv)
{
	int kvm = open_kvm();
	int cap = kvm_cap(kvm, KVM_CAP_PCI_HOLE_MEM);
	int mcap = kvm_cap(kvm, KVM_CAP_PCI_HOLE_MMIO);
	struct vm vm;
	int r;

	vm_create(&vm, kvm);
	if (argc > 1 && !strcmp(argv[1], "--stock")) {
		CHECK(cap == 0, "KVM_CAP_PCI_HOLE_MEM is %d on a stock kernel", cap);
		r = set_region(&vm, 1, KVM_MEM_PCI_HOLE, HOLE, HOLE_SIZE, 0);
		CHECK(r == EINVAL, "stock kernel: KVM_MEM_PCI_HOLE gave errno %d, not EINVAL", r);
		CHECK(mcap == 0, "KVM_CAP_PCI_HOLE_MMIO is %d on a stock kernel", mcap);
		return test_summary("pci_hole_test --stock");
	}
	CHECK(cap == 1, "KVM_CAP_PCI_HOLE_MEM (0x%x) is %d: not the patched kvm.ko",
	      KVM_CAP_PCI_HOLE_MEM, cap);
	if (cap != 1)
		return test_summary("pci_hole_test");
	CHECK(mcap == 1, "KVM_CAP_PCI_HOLE_MMIO (0x%x) is %d", KVM_CAP_PCI_HOLE_MMIO, mcap);
	r = set_region(&vm, 1, KVM_MEM_PCI_HOLE |
		       (argc > 3 && !strcmp(argv[3], "mmio") ? KVM_MEM_PCI_HOLE_MMIO : 0),
		       HOLE, HOLE_SIZE, 0);
	CHECK(r == 0, "KVM_MEM_PCI_HOLE slot: errno %d", r);
	if (argc > 2 && !strcmp(argv[1], "--bench")) {
		int n = atoi(argv[2]);

		bench(&vm, n);	/* first touch (MMIO SPTEs with mmio) */
		printf("pci_hole_test: %.0f ns per hole read (%d reads, warm)\n", bench(&vm, n), n);
		return 0;
	}
	test_reads(&vm);
	test_write_exits(&vm);
	test_split_reads(&vm, HOLE, "PCI_HOLE");
	if (mcap == 1)
		test_mmio_reads(&vm);
	test_slot_rules(&vm);
	test_delete(&vm);
	vm_destroy(&vm);
	return test_summary("pci_hole_test");
}
