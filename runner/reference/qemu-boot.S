/* SPDX-License-Identifier: MIT */
/*
 * The QEMU column of `bench reference`: a 64 KiB ROM that QEMU maps at the reset vector
 * (-bios) in place of SeaBIOS. It puts the vCPU where the harness and the C loop put it with
 * KVM_SET_SREGS/KVM_SET_REGS (runner/guest/guest-image.ts enterLongModeCpl3): long mode on the
 * guest image's own page tables, CPL3, IOPL 3, the same registers, at the scan program.
 * Guest RAM already holds the image (a file QEMU maps as guest RAM).
 *
 * Build: cc -c -DPML4=.. -DCODE=.. -DINFO=.. -DSTACK=.. -DMARKS=.. -DRECORDS=.. -DECAM=..
 *        qemu-boot.S && ld -Ttext=0xffff0000 --oformat=binary
 */
	.text
	.globl _start
_start:
	.code16
start16:
	cli
	lgdtl %cs:(gdtr - _start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $pm32

	.code32
pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	/*
	 * What firmware would do on q35 (QEMU hw/pci-host/q35.c): PCIEXBAR (MCH 0x60) maps the
	 * 256-bus ECAM window; PAM0-6 (MCH 0x90-0x96) turn 0xc0000-0xfffff into RAM, where the
	 * guest layout keeps its stacks.
	 */
	movl $0x80000060, %eax
	movw $0xcf8, %dx
	outl %eax, %dx
	movl $(ECAM | 1), %eax
	movw $0xcfc, %dx
	outl %eax, %dx
	movl $0x80000064, %eax
	movw $0xcf8, %dx
	outl %eax, %dx
	xorl %eax, %eax
	movw $0xcfc, %dx
	outl %eax, %dx
	movl $0x80000090, %eax
	movw $0xcf8, %dx
	outl %eax, %dx
	movl $0x33333330, %eax
	movw $0xcfc, %dx
	outl %eax, %dx
	movl $0x80000094, %eax
	movw $0xcf8, %dx
	outl %eax, %dx
	movl $0x00333333, %eax
	movw $0xcfc, %dx
	outl %eax, %dx
	/* runner/guest/guest-layout.ts `entry`: CR4 PAE|OSFXSR|OSXMMEXCPT, EFER.LME, CR0 PE|ET|NE|PG */
	movl $0x620, %eax
	movl %eax, %cr4
	movl $PML4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl $0x80000031, %eax
	movl %eax, %cr0
	ljmpl $0x28, $lm64

	.code64
lm64:
	movl $STACK, %esp
	movl $INFO, %esi
	xorl %edi, %edi
	movl $INFO, %r10d
	movl $RECORDS, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	movl $MARKS, %r14d
	/* iretq to CPL3: ss 0x23, rsp, rflags IOPL 3, cs 0x1b, rip (the harness's selectors) */
	pushq $0x23
	pushq $STACK
	pushq $0x3002
	pushq $0x1b
	pushq $CODE
	iretq

	/*
	 * Accessed bits preset: the GDT lives in ROM, and a CPU setting the bit on a segment load
	 * writes to it; under KVM that write exits to QEMU, which drops it, and the load repeats
	 * forever (TCG lets it pass).
	 */
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08 code, 32-bit */
	.quad 0x00cf93000000ffff	/* 0x10 data */
	.quad 0x00affb000000ffff	/* 0x18 user code, 64-bit, DPL 3 */
	.quad 0x00cff3000000ffff	/* 0x20 user data, DPL 3 */
	.quad 0x00af9b000000ffff	/* 0x28 code, 64-bit */
gdtr:
	.word gdtr - gdt - 1
	.long gdt

	.org 0xfff0
	.code16
reset:
	jmp start16
	.org 0x10000
