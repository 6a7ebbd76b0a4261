// PCI configuration-space registers, by Linux's names (include/uapi/linux/pci_regs.h): the
// device model lays functions out with them and the guest scan programs (workloads/) read and
// write them.

export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
/** Class code (bits 31:8) and revision (bits 7:0). */
export const PCI_CLASS_REVISION = 0x08;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BASE_ADDRESS_0 = 0x10;
/** Type-1 (bridge) header: primary, secondary and subordinate bus numbers, then the latency timer. */
export const PCI_PRIMARY_BUS = 0x18;
export const PCI_SECONDARY_BUS = 0x19;
export const PCI_SUBORDINATE_BUS = 0x1a;
/** Expansion ROM BAR of a type-0 header. */
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
/** Expansion ROM BAR of a type-1 (bridge) header. */
export const PCI_ROM_ADDRESS1 = 0x38;
export const PCI_INTERRUPT_LINE = 0x3c;

/** BAR slots: 6 in a type-0 header, 2 in a bridge's. */
export const PCI_BARS_TYPE0 = 6;
export const PCI_BARS_BRIDGE = 2;

/** Header type: the layout (0 device, 1 bridge) in bits 6:0, multi-function in bit 7. */
export const PCI_HEADER_TYPE_MASK = 0x7f;
export const PCI_HEADER_TYPE_BRIDGE = 1;
export const PCI_HEADER_TYPE_MFD = 0x80;
/** Status: the function has a capability list. */
export const PCI_STATUS_CAP_LIST = 0x10;
/** Capabilities live above the standard header. */
export const PCI_STD_HEADER_SIZEOF = 0x40;
/** The conventional config space; extended capabilities start here (ECAM only). */
export const PCI_CFG_SPACE_SIZE = 0x100;
