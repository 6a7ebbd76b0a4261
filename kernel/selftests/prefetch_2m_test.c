// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_MEM_PREFETCH_2M (kernel/0005-*.patch), and KVM_MEM_PREFETCH_2M_BATCH
 * (kernel/0007-*.patch) the same way: one guest fault maps its whole
 * 2 MiB-aligned range, clipped to the slot (pages_4k counts it exactly),
 * later reads there take no fault, a THP-backed range maps one 2 MiB SPTE,
 * writes exit, the flag rules; guest faults in the slot while another thread
 * deletes memslots neither hang the vCPU nor the deletion (an alarm turns a
 * hang into a failure).  --stock: capability 0, the flag refused.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include "test_util.h"
#include "pcihole_uapi.h"

#define HOLE	0xb0000000u
/* Starts one page into a 2 MiB frame and ends one page into the second next. */
#define START	(HOLE + 0x1000)
#define SIZE	0x400000u

static void test_prefetch(struct vm *vm, uint32_t flag)
{
	uint8_t *mem = aligned_anon(SIZE, 0x200000, 0xff, 0);
	long long p4, pf;
	unsigned long exits;
	int e;

	printf("  %s\n", flag == KVM_MEM_PREFETCH_2M ? "KVM_MEM_PREFETCH_2M" : "KVM_MEM_PREFETCH_2M_BATCH");
	e = set_region(vm, 1, KVM_MEM_READONLY | flag, START, SIZE, (uintptr_t)mem);
	CHECK(e == 0, "prefetch slot: errno %d", e);
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

#define FRAMES	16
#define DELETES	20

static atomic_int deletes_done;

static void *deleter(void *arg)
{
	struct vm *vm = arg;
	uint8_t *other = aligned_anon(0x1000, 0x1000, 0, 0);
	int i;

	for (i = 0; i < DELETES; i++) {
		if (set_region(vm, 5, 0, 0x80000000u, 0x1000, (uintptr_t)other) ||
		    set_region(vm, 5, 0, 0x80000000u, 0, 0))
			break;
		atomic_store(&deletes_done, i + 1);
		usleep(20000);
	}
	atomic_store(&deletes_done, -1);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * Every deletion zaps all roots (kvm_mmu_zap_all_fast).  One that lands while
 * a fault's prefetch loop runs made that loop retry on an obsolete root that
 * only vcpu_enter_guest() frees, while the deletion's second
 * synchronize_srcu() waited for the loop: both hung until a signal.
 */
static void test_concurrent_delete(struct vm *vm, uint32_t flag)
{
	size_t size = FRAMES * 0x200000u;
	uint8_t *mem = aligned_anon(size, 0x200000, 0xff, 0);
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	sigset_t alrm;
	pthread_t t;
	uint8_t *loop;
	int f, r, done, stopped, passes = 0, intr = 0;

	CHECK(set_region(vm, 1, KVM_MEM_READONLY | flag, HOLE, size,
			 (uintptr_t)mem) == 0, "prefetch slot of %d frames", FRAMES);
	vm_reset(vm);
	loop = vm->code;
	for (f = 0; f < FRAMES; f++)
		g_read32_eax(vm, HOLE + f * 0x200000u + 0x1000);
	emit(vm, "\xe6\x80", 2);		/* out 0x80, al */
	emit(vm, "\xe9", 1);		/* jmp loop */
	emit32(vm, (uint32_t)(loop - (vm->code + 4)));

	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);	/* the deleter inherits it */
	atomic_store(&deletes_done, 0);
	pthread_create(&t, NULL, deleter, vm);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);	/* SIGALRM hits the vCPU */
	alarm(30);
	do {
		done = atomic_load(&deletes_done);
		r = ioctl(vm->vcpu, KVM_RUN, NULL);
		if (r < 0 && errno == EINTR) {
			intr = 1;
			break;
		}
		if (r < 0)
			die("KVM_RUN");
		if (vm->run->exit_reason != KVM_EXIT_IO)
			break;
		passes++;
	} while (done >= 0);
	alarm(0);
	stopped = atomic_load(&deletes_done);
	pthread_join(t, NULL);
	CHECK(!intr, "KVM_RUN hung until a 30 s alarm (%d passes, %d of %d deletions done then)",
	      passes, stopped, DELETES);
	CHECK(intr || vm->run->exit_reason == KVM_EXIT_IO, "exit reason %d, not KVM_EXIT_IO",
	      vm->run->exit_reason);
	CHECK(atomic_load(&deletes_done) == -1, "the deleter did not finish");
	printf("  concurrent deletion: %d guest passes over %d frames, %d deletions\n",
	       passes, FRAMES, DELETES);
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
	CHECK(set_region(vm, 2, KVM_MEM_PREFETCH_2M_BATCH, HOLE, 0x200000, a) == EINVAL,
	      "writable PREFETCH_2M_BATCH slot accepted");
	CHECK(set_region(vm, 2, KVM_MEM_READONLY | KVM_MEM_PREFETCH_2M_BATCH | KVM_MEM_SINGLE_HVA,
			 HOLE, 0x200000, a) == EINVAL, "PREFETCH_2M_BATCH with SINGLE_HVA accepted");
}

int main(int argc, char **argv)
{
	int kvm = open_kvm();
	int cap = kvm_cap(kvm, KVM_CAP_PREFETCH_2M);
	int bcap = kvm_cap(kvm, KVM_CAP_PREFETCH_2M_BATCH);
	struct vm vm;

	vm_create(&vm, kvm);
	if (argc > 1 && !strcmp(argv[1], "--stock")) {
		CHECK(cap == 0, "KVM_CAP_PREFETCH_2M is %d on a stock kernel", cap);
		CHECK(set_region(&vm, 1, KVM_MEM_READONLY | KVM_MEM_PREFETCH_2M, HOLE, 0x200000,
				 (uintptr_t)aligned_anon(0x200000, 0x1000, 0xff, 0)) == EINVAL,
		      "stock kernel accepted KVM_MEM_PREFETCH_2M");
		CHECK(bcap == 0, "KVM_CAP_PREFETCH_2M_BATCH is %d on a stock kernel", bcap);
		return test_summary("prefetch_2m_test --stock");
	}
	CHECK(cap == 1, "KVM_CAP_PREFETCH_2M (0x%x) is %d: not the patched kvm.ko on TDP",
	      KVM_CAP_PREFETCH_2M, cap);
	if (cap != 1)
		return test_summary("prefetch_2m_test");
	CHECK(bcap == 1, "KVM_CAP_PREFETCH_2M_BATCH (0x%x) is %d", KVM_CAP_PREFETCH_2M_BATCH, bcap);
	test_prefetch(&vm, KVM_MEM_PREFETCH_2M);
	if (bcap == 1)
		test_prefetch(&vm, KVM_MEM_PREFETCH_2M_BATCH);
	test_thp(&vm);
	test_rules(&vm);
	test_concurrent_delete(&vm, KVM_MEM_PREFETCH_2M);
	if (bcap == 1)
		test_concurrent_delete(&vm, KVM_MEM_PREFETCH_2M_BATCH);
	vm_destroy(&vm);
	return test_summary("prefetch_2m_test");
}
