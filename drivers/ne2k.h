/* NE2000 (National DP8390 core) ISA Ethernet card: probe, interrupt-driven
 * receive into a kernel ring of fixed slots, transmit through a small queue.
 * Counters and drops by reason go into the network's statistics
 * (<webscale/net.h>). */
#ifndef DRIVERS_NE2K_H
#define DRIVERS_NE2K_H

#include <stddef.h>
#include <stdint.h>
#include <webscale/net.h>

#define NE2K_IOBASE 0x300         /* QEMU: -device ne2k_isa,iobase=0x300,irq=9 */
#define NE2K_FRAME_MIN 60         /* Ethernet minimum without the CRC */
#define NE2K_FRAME_MAX 1518       /* with the CRC real cards store; QEMU stores none */
#define NE2K_RX_SLOTS 32          /* kernel RX ring: power of two */
#define NE2K_TX_SLOTS 8           /* frames waiting for the transmitter */

/* One received frame: written by the ISR, read by the stack in the loop. */
struct ne2k_frame {
    uint16_t len;                 /* bytes in data, no ring header */
    uint64_t rx_ns;               /* clock_ns() when the ISR took it off the card */
    uint8_t data[NE2K_FRAME_MAX + 2] __attribute__((aligned(4)));  /* +2: whole words */
};

/* Probe at NE2K_IOBASE; with a card: reset it, read the MAC from the PROM,
 * set up the rings and IRQ 9. 0, or -E_NOENT when no NE2000 answers. */
int ne2k_init(void);
void ne2k_get_mac(uint8_t mac[6]);

/* Queue one frame (14..1514 bytes; shorter ones are padded to 60).
 * Any context. 0, -E_INVAL, -E_NOENT, or -E_BUSY when the queue is full
 * (dropped and counted). */
int ne2k_send(const void *frame, size_t len);

/* The consumer side of the RX ring (one consumer: the stack, in the
 * event loop). The oldest frame or NULL; it stays valid until released. */
struct ne2k_frame *ne2k_rx_peek(void);
void ne2k_rx_release(void);

/* Called from the ISR when frames arrived: the stack posts its work. */
void ne2k_set_notify(void (*fn)(void));

/* Adds the driver's counters into s (frames, bytes, IRQs, its drops). */
void ne2k_add_stats(struct net_stats *s);

#endif
