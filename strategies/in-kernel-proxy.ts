// The measured proxy shared by memslot-flag and mmio-bus-device: a hole read still causes a
// real exit that KVM answers in the kernel, through a real KVM_MMIO_BUS device that returns
// all-ones — the in-kernel IOAPIC's data window (IOWIN, +0x10) with IOREGSEL pointing past
// the last redirection entry (virt/kvm/ioapic.c ioapic_read_indirect: "default: ... ~0ULL").
// Routing without touching the scan code: the guest's config base is window + 0x10, and its
// page tables map every hole page of the window to the IOAPIC page, so register 0 of an
// absent function lands on IOWIN. Present functions' pages map to their real ECAM pages and
// the device model subtracts the 0x10 (only the last 16 bytes of their 4 KiB are lost).
import { IOAPIC_BASE, IOAPIC_IOWIN } from '../runner/vmm/kvm-abi.js';
import type { HostInfo, PlanContext, ProbeResult, SetupContext, WindowPlan } from './types.js';
import { PAGE, presentPages } from './window-slots.js';

/** IOREGSEL value whose IOWIN reads return all-ones (redirection index (0xff-0x10)/2 = 119 ≥ 24 pins). */
export const IOREGSEL_ALL_ONES = 0xff;

export function proxyPlan(ctx: PlanContext): WindowPlan {
  const present = presentPages(ctx);
  const base = ctx.window.base;
  return {
    lastBus: ctx.window.buses - 1,
    configOffset: IOAPIC_IOWIN,
    remap: { va: base, pages: ctx.window.size / PAGE, gpaOf: (i) => (present.has(i) ? base + i * PAGE : IOAPIC_BASE) },
    guest: 'linux',
  };
}

/** Before vCPUs: the in-kernel irqchip (KVM_CREATE_IRQCHIP) with IOREGSEL parked out of range. */
export function proxySetup(ctx: SetupContext): void {
  ctx.vm.createIrqchip();
  ctx.vm.setIoapicRegsel(IOREGSEL_ALL_ONES);
}

/** The proxy needs the in-kernel irqchip and ECAM (port I/O never reaches an MMIO device). */
export function proxyProbe(host: HostInfo, access: string, standsFor: string): ProbeResult {
  if (access !== 'ecam') return { status: 'unsupported', reason: 'serves the ECAM window; conf1 accesses are port I/O and never reach it' };
  if (!host.kvm.checkExtension('KVM_CAP_IRQCHIP')) return { status: 'unsupported', reason: 'KVM_CAP_IRQCHIP is 0: no in-kernel IOAPIC to stand in for the device' };
  return { status: 'proxy', reason: standsFor };
}
