/* RTL8139 PCI Ethernet card: found on PCI bus 0, receive by bus-master DMA
 * into a 64 KiB ring whose frames the stack reads in place, transmit
 * through the card's four descriptors. The stack uses it only as a netdev
 * (kernel/net/netdev.h). */
#ifndef DRIVERS_RTL8139_H
#define DRIVERS_RTL8139_H

#include "kernel/net/netdev.h"

#define RTL8139_VENDOR 0x10EC     /* Realtek */
#define RTL8139_DEVICE 0x8139     /* QEMU: -device rtl8139,netdev=... */

/* Find the card on PCI bus 0; with one: enable its I/O ports and bus
 * mastering, reset it, read its MAC, set up the rings and its IRQ line
 * (the BIOS's choice, in configuration space), and return its netdev.
 * NULL when there is none. */
struct netdev *rtl8139_init(void);

#endif
