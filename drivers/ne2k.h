/* NE2000 (National DP8390 core) ISA Ethernet card: probe, interrupt-driven
 * receive into a kernel ring of fixed slots, transmit through a small queue.
 * The stack uses it only as a netdev (kernel/net/netdev.h). */
#ifndef DRIVERS_NE2K_H
#define DRIVERS_NE2K_H

#include "kernel/net/netdev.h"

#define NE2K_IOBASE 0x300         /* QEMU: -device ne2k_isa,iobase=0x300,irq=9 */

/* Probe at NE2K_IOBASE; with a card: reset it, read the MAC from the PROM,
 * set up the rings and IRQ 9, and return its netdev. NULL when no NE2000
 * answers. */
struct netdev *ne2k_init(void);

#endif
