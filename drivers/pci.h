/* PCI configuration space through configuration mechanism #1 (ports 0xCF8
 * and 0xCFC), bus 0 only: what QEMU's PC has. For a PCI card's driver
 * (drivers/rtl8139.c) to find its card, its I/O ports and its IRQ line,
 * all of which the BIOS (SeaBIOS under QEMU) has assigned before boot. */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <stdint.h>

/* Configuration registers [PCI Local Bus Specification 3.0, 6.1, the
 * type 0 header]. */
#define PCI_VENDOR_ID      0x00   /* 16 bits; 0xFFFF: no device */
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_HEADER_TYPE    0x0E   /* bit 7: the device has functions 1..7 */
#define PCI_BAR0           0x10
#define PCI_INTERRUPT_LINE 0x3C   /* the 8259 line the BIOS routed INTx# to */

#define PCI_COMMAND_IO     0x0001 /* answer I/O space accesses */
#define PCI_COMMAND_MASTER 0x0004 /* may master the bus: DMA */
#define PCI_BAR_IO         0x1    /* bit 0 of a BAR: an I/O port range */
#define PCI_BAR_IO_MASK    0xFFFFFFFCu

/* Where a function sits: the address it answers configuration cycles at. */
struct pci_function {
    uint8_t bus, slot, func;
    uint16_t vendor, device;
};

/* The first function on bus 0 with this vendor and device ID into *out:
 * 1, or 0 when there is none (or no PCI at all). */
int pci_find(uint16_t vendor, uint16_t device, struct pci_function *out);

uint32_t pci_read32(const struct pci_function *f, uint8_t reg);
uint16_t pci_read16(const struct pci_function *f, uint8_t reg);
uint8_t pci_read8(const struct pci_function *f, uint8_t reg);
void pci_write16(const struct pci_function *f, uint8_t reg, uint16_t v);

/* The I/O base of BAR n (0..5), or 0 when that BAR maps memory or nothing. */
uint16_t pci_bar_io(const struct pci_function *f, int n);

#endif
