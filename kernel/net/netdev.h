/* A network card as the stack sees it (a driver-facing kernel header).
 *
 * A driver fills one struct netdev (drivers/ne2k.c, drivers/rtl8139.c); the boot
 * wiring (kernel/devices.c) probes the card and hands the netdev to
 * net_init. kernel/net calls the card only through it, and maps the
 * driver's counters to the stack's drop reasons, so a driver knows nothing
 * of <webscale/net.h>. Receive is zero-copy: rx_next lends the driver's
 * own buffer until rx_release. One consumer (the stack, in the event loop). */
#ifndef KERNEL_NET_NETDEV_H
#define KERNEL_NET_NETDEV_H

#include <stddef.h>
#include <stdint.h>

/* Why a driver dropped a frame: the ways a card loses one. */
enum netdev_drop {
    NETDEV_DROP_RX_RING_FULL,      /* the RX ring was full and the frame could not wait on the card */
    NETDEV_DROP_RX_SHORT,          /* shorter than the Ethernet minimum */
    NETDEV_DROP_RX_LONG,           /* longer than the Ethernet maximum */
    NETDEV_DROP_RX_BAD_HEADER,     /* the card's own bookkeeping was impossible */
    NETDEV_DROP_RX_OVERFLOW,       /* the card's ring overflowed and was recovered */
    NETDEV_DROP_RX_CARD_ERRORS,    /* the card's error tallies: CRC, frame alignment */
    NETDEV_DROP_RX_CARD_MISSED,    /* the card's missed-frame tally: its own ring was full */
    NETDEV_DROP_TX_QUEUE_FULL,     /* the driver's transmit queue was full */
    NETDEV_DROP_TX_ERROR,          /* the card reported a transmit error */
    NETDEV_DROPS
};

/* The driver's own counters. */
struct netdev_stats {
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint32_t irqs;
    uint32_t rx_ring_max;          /* most frames ever waiting in the RX ring */
    uint32_t rx_holds;             /* times the RX ring was full and frames waited on the card */
    uint32_t rx_ring_bytes;        /* a ring of bytes the card writes (RTL8139): its size; 0 for
                                    * a ring of frame slots (NE2000), whose peak is rx_ring_max */
    uint32_t rx_ring_peak_bytes;   /* the most bytes ever waiting in that ring */
    uint64_t drops[NETDEV_DROPS];
};

/* One received frame, lent by the driver. */
struct netdev_frame {
    const uint8_t *data;           /* from the destination MAC on, no CRC */
    size_t len;
    uint64_t rx_ns;                /* clock_ns() when the ISR took it off the card */
};

struct netdev {
    const char *name;              /* "NE2000", "RTL8139" */
    uint16_t iobase;               /* for `net` and the boot line */
    uint8_t irq;
    uint8_t mac[6];
    /* Queue one frame (14..1514 bytes; the driver pads short ones). Any
     * context. 0, -E_INVAL, or -E_BUSY when its queue is full (dropped,
     * counted as NETDEV_DROP_TX_QUEUE_FULL). */
    int (*send)(struct netdev *dev, const void *frame, size_t len);
    /* The oldest received frame into *f: 1, or 0 when there is none. It
     * stays valid until rx_release. A driver whose ring is full leaves
     * frames on the card (backpressure) and takes them in rx_release. */
    int (*rx_next)(struct netdev *dev, struct netdev_frame *f);
    void (*rx_release)(struct netdev *dev);
    /* fn is called from the ISR when frames arrived. */
    void (*set_notify)(struct netdev *dev, void (*fn)(void));
    void (*get_stats)(struct netdev *dev, struct netdev_stats *s);
};

#endif
