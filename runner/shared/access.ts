/** How the guest reaches PCI configuration space: ECAM (MMIO) or type-1 port I/O (0xcf8/0xcfc).
 *  The guest builder takes it from here; runner/results/schema.ts re-exports it as a field of a row. */
export type Access = 'ecam' | 'conf1';
