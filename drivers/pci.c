/* PCI configuration mechanism #1 [PCI Local Bus Specification 3.0, 3.2.2.3.2;
 * OSDev wiki "PCI"]: write the address of a configuration register (enable
 * bit, bus, device, function, register, dword-aligned) to CONFIG_ADDRESS,
 * then read or write the dword at CONFIG_DATA; a byte or word of it lies
 * at CONFIG_DATA + (reg & 3). The two accesses must not be split by
 * another pair, so each runs with interrupts off. */
#include "drivers/pci.h"
#include "kernel/x86.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC
#define PCI_ENABLE         0x80000000u
#define PCI_SLOTS          32
#define PCI_FUNCS          8
#define PCI_MULTIFUNCTION  0x80      /* in PCI_HEADER_TYPE */
#define PCI_NO_DEVICE      0xFFFF    /* what an empty slot's vendor ID reads */
#define PCI_BARS           6
#define PCI_REG_DWORD      0xFC      /* CONFIG_ADDRESS selects a dword */

static void config_select(const struct pci_function *f, uint8_t reg)
{
    outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | (uint32_t)f->bus << 16 | (uint32_t)f->slot << 11 |
                             (uint32_t)f->func << 8 | (reg & PCI_REG_DWORD));
}

uint32_t pci_read32(const struct pci_function *f, uint8_t reg)
{
    uint32_t was = irq_save();
    config_select(f, reg);
    uint32_t v = inl(PCI_CONFIG_DATA);
    irq_restore(was);
    return v;
}

uint16_t pci_read16(const struct pci_function *f, uint8_t reg)
{
    return (uint16_t)(pci_read32(f, reg) >> ((reg & 2) * 8));
}

uint8_t pci_read8(const struct pci_function *f, uint8_t reg)
{
    return (uint8_t)(pci_read32(f, reg) >> ((reg & 3) * 8));
}

void pci_write16(const struct pci_function *f, uint8_t reg, uint16_t v)
{
    uint32_t was = irq_save();
    config_select(f, reg);
    outw(PCI_CONFIG_DATA + (reg & 2), v);
    irq_restore(was);
}

/* Is mechanism #1 there? CONFIG_ADDRESS is a register that reads back
 * what was written; on a machine without it the port floats. */
static int mechanism1_present(void)
{
    uint32_t was = irq_save();
    uint32_t old = inl(PCI_CONFIG_ADDRESS);
    outl(PCI_CONFIG_ADDRESS, PCI_ENABLE);
    int ok = inl(PCI_CONFIG_ADDRESS) == PCI_ENABLE;
    outl(PCI_CONFIG_ADDRESS, old);
    irq_restore(was);
    return ok;
}

int pci_find(uint16_t vendor, uint16_t device, struct pci_function *out)
{
    if (!mechanism1_present())
        return 0;
    for (uint8_t slot = 0; slot < PCI_SLOTS; slot++) {
        struct pci_function f = { 0, slot, 0, 0, 0 };
        if (pci_read16(&f, PCI_VENDOR_ID) == PCI_NO_DEVICE)
            continue;
        /* Functions 1..7 exist only on a multi-function device. */
        int funcs = pci_read8(&f, PCI_HEADER_TYPE) & PCI_MULTIFUNCTION ? PCI_FUNCS : 1;
        for (f.func = 0; f.func < funcs; f.func++) {
            f.vendor = pci_read16(&f, PCI_VENDOR_ID);
            f.device = pci_read16(&f, PCI_DEVICE_ID);
            if (f.vendor == vendor && f.device == device) {
                *out = f;
                return 1;
            }
        }
    }
    return 0;
}

uint16_t pci_bar_io(const struct pci_function *f, int n)
{
    if (n < 0 || n >= PCI_BARS)
        return 0;
    uint32_t bar = pci_read32(f, (uint8_t)(PCI_BAR0 + 4 * n));
    if (!(bar & PCI_BAR_IO))
        return 0;
    return (uint16_t)(bar & PCI_BAR_IO_MASK);
}
