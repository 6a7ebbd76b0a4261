/* SPDX-License-Identifier: GPL-2.0-only */
/* The uapi additions of kernel/000*.patch, for tests built against stock headers. */
#ifndef PCIHOLE_UAPI_H
#define PCIHOLE_UAPI_H

#include <linux/kvm.h>

#ifndef KVM_MEM_PCI_HOLE
#define KVM_MEM_PCI_HOLE	(1UL << 15)
#define KVM_CAP_PCI_HOLE_MEM 0x10001
#endif

#ifndef KVM_CAP_MMIO_FILL
#define KVM_CAP_MMIO_FILL 0x10002
#define KVM_MMIO_FILL_WRITE_EXIT	(1 << 0)
struct kvm_mmio_fill {
	__u64 addr;
	__u64 size;
	__u8  fill;
	__u8  pad[3];
	__u32 flags;
};
#define KVM_REGISTER_MMIO_FILL	_IOW(KVMIO, 0xf0, struct kvm_mmio_fill)
#define KVM_UNREGISTER_MMIO_FILL	_IOW(KVMIO, 0xf1, struct kvm_mmio_fill)
#endif

/* Linux 6.10's ABI, backported by kernel/0003. */
#ifndef KVM_CAP_PRE_FAULT_MEMORY
#define KVM_CAP_PRE_FAULT_MEMORY 236
struct kvm_pre_fault_memory {
	__u64 gpa;
	__u64 size;
	__u64 flags;
	__u64 padding[5];
};
#define KVM_PRE_FAULT_MEMORY	_IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory)
#endif

#ifndef KVM_CAP_SINGLE_HVA
#define KVM_MEM_SINGLE_HVA	(1UL << 14)
#define KVM_MEM_SINGLE_HVA_2M	(1UL << 13)
#define KVM_CAP_SINGLE_HVA 0x10003
#endif

#ifndef KVM_CAP_PREFETCH_2M
#define KVM_MEM_PREFETCH_2M	(1UL << 12)
#define KVM_CAP_PREFETCH_2M 0x10004
#endif

#ifndef KVM_CAP_PCI_HOLE_MMIO
#define KVM_MEM_PCI_HOLE_MMIO	(1UL << 11)
#define KVM_CAP_PCI_HOLE_MMIO 0x10005
#endif

#ifndef KVM_CAP_PREFETCH_2M_BATCH
#define KVM_MEM_PREFETCH_2M_BATCH	(1UL << 10)
#define KVM_CAP_PREFETCH_2M_BATCH 0x10006
#endif

#endif
