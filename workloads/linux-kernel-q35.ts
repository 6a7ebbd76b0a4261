import type { Workload } from './types.js';
import { q35Topology } from './q35-topology.js';
import { scanExpected } from './linux-scan.js';

/** The phases of a real kernel's boot, bounded by accesses to present functions (the same under
 *  every strategy): up to the first, the root bus scan, the peer-bridge fixup between the two
 *  around it, the rest of PCI up to the last, and the rest of the boot to the end marker. */
export const KERNEL_PHASES = ['before-pci', 'bus-scan', 'peer-bridge', 'pci-rest', 'after-pci'];

const COMMON = 'console=ttyS0 earlyprintk=serial,ttyS0,115200,keep 8250.nr_uarts=0 panic=-1 reboot=t io_delay=none';

/** The no-root panic: the boot ends there (no initramfs). */
const END_MARKER = 'Kernel panic';

/** Debian's own kernel booted by the VMM on linux-q35-boot's topology: the kernel's PCI enumeration
 *  instead of the suite's imitation of it. conf1: no ACPI, type-1 ports, pci=lastbus (legacy.c
 *  pcibios_fixup_peer_bridges scans buses 1..lastbus); ECAM: the suite's ACPI tables (MCFG, a
 *  PNP0C02 over the window) with conf1 hidden, the MCFG's end bus as pcibios_last_bus
 *  (mmconfig-shared.c). pci=noearly: no early conf1 probes (early_quirks, amd_numa). */
export const linuxKernelQ35: Workload = {
  id: 'linux-kernel-q35',
  summary: 'Debian\'s kernel booted to its no-root panic on q35\'s 6 functions: the kernel\'s own bus-0 scan and peer-bridge fixup (conf1, or ECAM with ACPI tables)',
  window: { base: 0xb0000000, buses: 256 },
  topology: q35Topology,
  access: ['conf1', 'ecam'],
  vcpus: 1,
  passes: 1,
  phases: KERNEL_PHASES,
  holePhase: 'peer-bridge',
  kernel: {
    ramSize: 256 << 20,
    // loglevel=7 prints the kernel's pci 0000:… lines (KERN_INFO), which the discovery check reads;
    // loglevel=4 keeps the console to warnings, so that no line is printed inside a timed phase.
    cmdline: (access, lastBus, verbose) =>
      `${COMMON} loglevel=${verbose ? 7 : 4} ` + (access === 'conf1' ? `acpi=off pci=conf1,noearly,lastbus=${lastBus}` : 'pci=noearly'),
    endMarker: END_MARKER,
  },
  program: () => {
    throw new Error('linux-kernel-q35 boots a real kernel: it has no scan program');
  },
  expected(lastBus, _guest, access = 'ecam', cpu) {
    const scan = scanExpected(q35Topology, lastBus, 'linux', {}, access).holes;
    // arch/x86/kernel/cpu/amd.c early_init_amd, AMD families 0xf-0x16: read_pci_config(0, 24, 0,
    // 0x68) for the extended APIC ID, by conf1 whatever pci= says (under ECAM it meets the hidden
    // ports, not config space). It runs twice on the boot CPU; on conf1 the first present-function
    // access came between the two (measured), so one read lands in each of the first two phases.
    const amd = access === 'conf1' && cpu?.vendor === 'AuthenticAMD' && cpu.family >= 0xf && cpu.family <= 0x16 ? 1 : 0;
    // conf1 (legacy.c pci_legacy_init): pcibios_scan_root's last probes, 00:1f.4-1f.7, follow the
    // bus's last present access, and the fixup follows them with no present access between, so
    // they fall in the fixup's bracket; under ACPI the root bridge's set-up reads present functions first.
    const trailing = access === 'conf1' ? 4 : 0;
    // drivers/platform/x86/p2sb.c p2sb_cache_resources (fs_initcall): 00:1f.1 is absent, so its
    // class and P2SBC read all-ones ("hidden by BIOS"): unhide (write), scan (vendor read), hide (write).
    const p2sb = 5;
    return {
      accesses: {},
      holes: {
        'before-pci': amd,
        'bus-scan': scan['bus-scan'] - trailing + amd,
        'peer-bridge': scan['peer-bridge'] + trailing,
        'pci-rest': p2sb,
        'after-pci': 0,
      },
    };
  },
};
