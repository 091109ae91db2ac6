/* RTL8139 PCI Ethernet driver. [Realtek RTL8139C(L) datasheet: "Register
 * Descriptions" (IDR, TSD0-3, TSAD0-3, RBSTART, CR, CAPR, CBR, IMR, ISR,
 * TCR, RCR, MPC, CONFIG1), "Packet Header" of a received frame, "Transmit
 * Status of Descriptor"; Realtek "RTL8139 Programming Guide"; the OSDev
 * wiki "RTL8139"; what QEMU's model does: QEMU 7.2 hw/net/rtl8139.c.]
 *
 * The card is on PCI (drivers/pci.c): its registers are I/O ports at BAR0,
 * its interrupt the 8259 line the BIOS wrote in configuration space, and
 * it reads and writes our memory itself (bus mastering). The kernel runs
 * without paging, so an address is the physical one the card needs.
 *
 * Receive: the card writes frames into rx_ring (RBSTART), 64 KiB, one
 * after another: a 4-byte header (status, then the byte count, CRC
 * included), the frame, its CRC, the next one on a 4-byte boundary. It
 * writes at CBR; we read at rx_off and tell it how far through CAPR
 * (rx_off minus 16, the chip's convention). The stack reads each frame
 * where the card put it: rx_next lends it, rx_release moves CAPR past it.
 * A frame that runs past 64 KiB goes on at the ring's start (at 64 KiB
 * the chip ignores RCR's WRAP bit, and QEMU's model does the same), so
 * rx_next copies that tail to just past the ring's end, into RX_SLACK
 * bytes kept for it: every frame is lent in one piece.
 *
 * Backpressure: the ring is the card's own buffer; no second ring can
 * overflow. When it is full the card stops taking frames, and QEMU's model
 * refuses them (rtl8139_can_receive) so that they wait in QEMU's queue
 * and the TAP device's until a CAPR write makes room (which flushes them
 * in), but only while IMR masks RxOverflow: with that interrupt unmasked
 * the model takes every frame and discards what does not fit. So IMR
 * leaves it out. The frames the card misses anyway are in MPC, counted as
 * rx-card-missed (QEMU: a frame of more than 1506 bytes that finds 1514 to
 * 1522 bytes free, which can_receive lets in but the ring cannot hold).
 *
 * Interrupts: PCI lines are level-triggered and may be shared: the ISR
 * reads ISR, returns at once when nothing is ours, acknowledges what it
 * read (the card drops the line before the kernel sends the EOI) and
 * notifies the stack. It touches no frame: there is nothing to copy.
 *
 * Transmit: the four descriptors in turn (the card sends them in that
 * order): send copies the frame into the next one's buffer and writes its
 * length to TSD, which hands it to the card; the card sets OWN when it has
 * read the buffer, and then the descriptor is ours again. QEMU sends at
 * once; a real card frees one within about 125 us of a maximal frame at
 * 100 Mbit/s. With all four busy send drops (tx-queue-full). No transmit
 * interrupt: a descriptor's status is read when it is reused, and one
 * without TOK counts as tx-error.
 *
 * Drops are counted by reason (NETDEV_DROP_*, kernel/net/netdev.h), never
 * silent: a header the card marks bad (rx-card-errors), shorter than 60 or
 * longer than 1518 bytes, a header that claims more than the card wrote
 * (then the ring cannot be trusted: everything up to CBR is dropped, once,
 * rx-bad-ring-header), and the card's missed-frame count. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/time.h>
#include "drivers/pci.h"
#include "drivers/rtl8139.h"
#include "kernel/irq.h"
#include "kernel/net/netdev.h"
#include "kernel/x86.h"

/* Registers, offsets from BAR0. */
#define RTL_IDR0    0x00      /* MAC address, 6 bytes */
#define RTL_TSD0    0x10      /* transmit status of descriptor 0..3, 4 bytes each */
#define RTL_TSAD0   0x20      /* transmit start address of descriptor 0..3 */
#define RTL_RBSTART 0x30      /* receive ring's address */
#define RTL_CR      0x37      /* command */
#define RTL_CAPR    0x38      /* current address of packet read, minus 16 */
#define RTL_CBR     0x3A      /* current buffer address: where the card writes next */
#define RTL_IMR     0x3C      /* interrupt mask, 16 bits */
#define RTL_ISR     0x3E      /* interrupt status, 16 bits; writing 1 clears */
#define RTL_TCR     0x40      /* transmit configuration */
#define RTL_RCR     0x44      /* receive configuration */
#define RTL_MPC     0x4C      /* missed packet counter, 24 bits; a write clears */
#define MPC_MASK    0xFFFFFF
#define RTL_CONFIG1 0x52

#define CR_TE    0x04
#define CR_RE    0x08
#define CR_RST   0x10

#define INT_ROK     0x0001    /* a frame was received */
#define INT_RER     0x0002    /* a frame with an error */
#define INT_RXOVW   0x0010    /* the ring had no room: must stay masked (see "Backpressure") */
#define INT_FOVW    0x0040    /* the card's receive FIFO overflowed */
#define INT_SERR    0x8000    /* a PCI bus error */
#define IMR_WANTED  (INT_ROK | INT_RER | INT_FOVW | INT_SERR)
#define ISR_ALL     0xFFFF

/* RCR: accept our address and broadcast; a 64 KiB ring (RBLEN 3); the
 * whole frame in the FIFO before DMA (RXFTH 7); DMA bursts unlimited. */
#define RCR_APM        0x00000002
#define RCR_AB         0x00000008
#define RCR_MXDMA_ANY  (7u << 8)
#define RCR_RBLEN_64K  (3u << 11)
#define RCR_RXFTH_NONE (7u << 13)
#define RCR_WANTED (RCR_RXFTH_NONE | RCR_RBLEN_64K | RCR_MXDMA_ANY | RCR_AB | RCR_APM)
/* TCR: DMA bursts of 2 KiB, the standard interframe gap. */
#define TCR_MXDMA_2K  (7u << 8)
#define TCR_IFG_STD   (3u << 24)
#define TCR_WANTED (TCR_IFG_STD | TCR_MXDMA_2K)

#define TSD_SIZE_MASK 0x1FFF
#define TSD_OWN       0x2000  /* the card has read the buffer: the descriptor is ours */
#define TSD_TOK       0x8000  /* ... and sent it */

/* The receive header's status half. */
#define RXS_ROK  0x0001
#define RXS_BAD  0x003E       /* FAE, CRC, LONG, RUNT, ISE */

#define ETH_CRC_BYTES 4
#define ETH_HDR_BYTES 14
#define ETH_SEND_MAX 1514     /* what send takes: no CRC, no tag */
#define RTL_FRAME_MIN 60      /* Ethernet minimum without the CRC */
#define RTL_FRAME_MAX 1518    /* with an 802.1Q tag, without the CRC */

#define RX_RING_BYTES 65536   /* RBLEN 3 */
#define RX_SLACK (16 + 1536)  /* past the end: the chip's 16, and a wrapped frame's tail */
#define RX_HDR_BYTES 4
/* A record in the ring: header, frame, CRC, up to a 4-byte boundary. */
#define RX_RECORD_MAX (RX_HDR_BYTES + ETH_SEND_MAX + ETH_CRC_BYTES + 3)
#define RX_RECORD_MIN (RX_HDR_BYTES + RTL_FRAME_MIN + ETH_CRC_BYTES)
/* Records rx_next may skip in one call: a whole ring of the smallest, so
 * it is bounded and still never leaves a good frame behind. */
#define RX_SKIPS_MAX (RX_RING_BYTES / RX_RECORD_MIN + 1)
#define CAPR_OFFSET 16        /* CAPR lags the read offset by 16 [datasheet; QEMU] */
#define TX_DESCS 4
#define TX_BUF_BYTES 1536     /* one maximal frame, a multiple of 4 */

#define RESET_WAIT_NS (10 * NS_PER_MS)  /* a reset takes microseconds */
#define PCI_IRQ_NONE 0xFF               /* what INTERRUPT_LINE says without a route */
#define PIC_LINES 16

static uint16_t base;
static void (*notify)(void);
static struct netdev_stats st;

static uint8_t rx_ring[RX_RING_BYTES + RX_SLACK] __attribute__((aligned(16)));
static uint32_t rx_off;            /* the next frame's header, < RX_RING_BYTES */
static uint32_t rx_capr_off;       /* the read offset the card was last told (CAPR + 16) */
static int rx_lent;                /* rx_next lent the frame at rx_off */
static uint32_t rx_lent_next;      /* where the one after it starts */
static uint32_t rx_lent_len;
static uint32_t rx_stamped_off = RX_RING_BYTES;  /* the frame rx_stamp_ns belongs to */
static uint64_t rx_stamp_ns;

static uint8_t tx_buf[TX_DESCS][TX_BUF_BYTES] __attribute__((aligned(4)));
static uint32_t tx_next;           /* the descriptor the card sends next */
static uint8_t tx_pending[TX_DESCS];  /* handed to the card, status not read back */

static uint32_t ring_distance(uint32_t from, uint32_t to)
{
    return (to - from) & (RX_RING_BYTES - 1);
}

static void set_capr(void)
{
    rx_capr_off = rx_off;
    outw(base + RTL_CAPR, (uint16_t)(rx_off - CAPR_OFFSET));
}

/* The bytes from the frame at rx_off up to the card's write offset. */
static uint32_t ring_unread(void) { return ring_distance(rx_off, inw(base + RTL_CBR)); }

/* A header we cannot trust: drop everything the card has written. */
static void rx_ring_reset(void)
{
    st.drops[NETDEV_DROP_RX_BAD_HEADER]++;
    rx_off = inw(base + RTL_CBR) & (RX_RING_BYTES - 1);
    set_capr();
}

/* The figures of a look at the ring: how full, and whether the card has
 * less room than a maximal frame (so it was holding frames back). */
static void note_fill(uint32_t unread)
{
    if (unread > st.rx_ring_peak_bytes)
        st.rx_ring_peak_bytes = unread;
    if (RX_RING_BYTES - unread < RX_RECORD_MAX)
        st.rx_holds++;
}

/* CAPR moves in steps of at least a maximal frame's record, or all the
 * way to CBR when the ring is empty. QEMU's model checks for room only
 * before it queues a frame: the CAPR write hands it the queued one at
 * once, and one that finds less room than it needs is dropped (counted in
 * MPC). A step this large leaves room for any frame after every write. */
static void rx_consumed(uint32_t next)
{
    rx_off = next;
    if (ring_distance(rx_capr_off, rx_off) >= RX_RECORD_MAX || ring_unread() == 0)
        set_capr();
}

static int rtl_rx_next(struct netdev *dev, struct netdev_frame *out)
{
    for (int n = 0; n < RX_SKIPS_MAX; n++) {
        /* Not CR's BUFE: that compares CBR with CAPR, which lags. */
        uint32_t unread = ring_unread();
        if (!unread)
            return 0;
        const uint8_t *h = rx_ring + rx_off;
        uint32_t status = h[0] | (uint32_t)h[1] << 8;
        uint32_t count = h[2] | (uint32_t)h[3] << 8;      /* frame and CRC */
        uint32_t next = (rx_off + RX_HDR_BYTES + count + 3) & ~3u;
        /* The card writes a whole record before it moves CBR past it. */
        if (count < ETH_CRC_BYTES || RX_HDR_BYTES + count > unread) {
            rx_ring_reset();
            continue;
        }
        next &= RX_RING_BYTES - 1;
        uint32_t len = count - ETH_CRC_BYTES;
        if (!(status & RXS_ROK) || (status & RXS_BAD)) {
            st.drops[NETDEV_DROP_RX_CARD_ERRORS]++;
        } else if (len < RTL_FRAME_MIN) {
            st.drops[NETDEV_DROP_RX_SHORT]++;
        } else if (len > RTL_FRAME_MAX) {
            st.drops[NETDEV_DROP_RX_LONG]++;
        } else {
            uint32_t start = rx_off + RX_HDR_BYTES, end = start + len;
            if (end > RX_RING_BYTES)      /* the tail is at the ring's start: put it after the end */
                memcpy(rx_ring + RX_RING_BYTES, rx_ring, end - RX_RING_BYTES);
            if (rx_stamped_off != rx_off) {   /* the first look at this frame */
                rx_stamped_off = rx_off;
                rx_stamp_ns = clock_ns();
                note_fill(unread);
            }
            out->data = rx_ring + start;
            out->len = len;
            out->rx_ns = rx_stamp_ns;
            rx_lent = 1;
            rx_lent_next = next;
            rx_lent_len = len;
            return 1;
        }
        rx_consumed(next);
    }
    return 0;
}

static void rtl_rx_release(struct netdev *dev)
{
    if (!rx_lent)
        return;
    rx_lent = 0;
    st.rx_frames++;
    st.rx_bytes += rx_lent_len;
    rx_stamped_off = RX_RING_BYTES;   /* a later frame may start at this offset */
    rx_consumed(rx_lent_next);      /* QEMU may deliver what waited, right in this write */
}

/* MPC counts the frames the card had no room for; a write clears it. */
static void read_missed(void)
{
    uint32_t missed = inl(base + RTL_MPC) & MPC_MASK;
    if (missed) {
        outl(base + RTL_MPC, 0);
        st.drops[NETDEV_DROP_RX_CARD_MISSED] += missed;
    }
}

static void rtl_irq(void *arg)
{
    uint16_t isr = inw(base + RTL_ISR);
    if (!isr)
        return;                     /* the line is shared, and this one is not ours */
    st.irqs++;
    outw(base + RTL_ISR, isr);      /* the card drops the line now, before the EOI */
    if (isr & (INT_RXOVW | INT_FOVW))
        read_missed();
    if ((isr & (INT_ROK | INT_RER)) && notify)
        notify();
}

static int rtl_send(struct netdev *dev, const void *frame, size_t len)
{
    if (len < ETH_HDR_BYTES || len > ETH_SEND_MAX)
        return -E_INVAL;
    int r = 0;
    uint32_t f = irq_save();
    uint32_t d = tx_next;
    uint32_t tsd = inl(base + RTL_TSD0 + 4 * d);
    if (tx_pending[d] && !(tsd & TSD_OWN)) {
        st.drops[NETDEV_DROP_TX_QUEUE_FULL]++;   /* the card is still reading it */
        r = -E_BUSY;
    } else {
        if (tx_pending[d] && !(tsd & TSD_TOK))
            st.drops[NETDEV_DROP_TX_ERROR]++;    /* the last frame it held was not sent */
        memcpy(tx_buf[d], frame, len);
        if (len < RTL_FRAME_MIN) {               /* the card does not pad */
            memset(tx_buf[d] + len, 0, RTL_FRAME_MIN - len);
            len = RTL_FRAME_MIN;
        }
        tx_pending[d] = 1;
        tx_next = (d + 1) % TX_DESCS;
        st.tx_frames++;
        st.tx_bytes += len;
        outl(base + RTL_TSD0 + 4 * d, (uint32_t)len & TSD_SIZE_MASK);  /* OWN 0: the card's */
    }
    irq_restore(f);
    return r;
}

static void rtl_set_notify(struct netdev *dev, void (*fn)(void)) { notify = fn; }

static void rtl_get_stats(struct netdev *dev, struct netdev_stats *s)
{
    uint32_t f = irq_save();
    read_missed();
    *s = st;
    irq_restore(f);
}

static struct netdev rtl_dev = {
    .name = "RTL8139",
    .send = rtl_send,
    .rx_next = rtl_rx_next,
    .rx_release = rtl_rx_release,
    .set_notify = rtl_set_notify,
    .get_stats = rtl_get_stats,
};

static int chip_reset(void)
{
    outb(base + RTL_CONFIG1, 0);             /* out of low-power mode */
    outb(base + RTL_CR, CR_RST);
    uint64_t t0 = clock_ns();
    while (inb(base + RTL_CR) & CR_RST)
        if (clock_ns() - t0 > RESET_WAIT_NS)
            return -1;
    return 0;
}

struct netdev *rtl8139_init(void)
{
    struct pci_function pf;
    if (!pci_find(RTL8139_VENDOR, RTL8139_DEVICE, &pf))
        return NULL;
    base = pci_bar_io(&pf, 0);
    uint8_t irq = pci_read8(&pf, PCI_INTERRUPT_LINE);
    if (!base || irq == PCI_IRQ_NONE || irq >= PIC_LINES)
        return NULL;
    pci_write16(&pf, PCI_COMMAND,
                pci_read16(&pf, PCI_COMMAND) | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    if (chip_reset() < 0)
        return NULL;
    for (int i = 0; i < 6; i++)
        rtl_dev.mac[i] = inb(base + RTL_IDR0 + i);
    rtl_dev.iobase = base;
    rtl_dev.irq = irq;
    st.rx_ring_bytes = RX_RING_BYTES;

    outw(base + RTL_IMR, 0);
    outw(base + RTL_ISR, ISR_ALL);
    outl(base + RTL_RBSTART, (uint32_t)(uintptr_t)rx_ring);
    for (int d = 0; d < TX_DESCS; d++)
        outl(base + RTL_TSAD0 + 4 * d, (uint32_t)(uintptr_t)tx_buf[d]);
    /* The transmitter first: the card takes TCR only while it is on. An
     * RCR write starts the ring at offset 0. */
    outb(base + RTL_CR, CR_RE | CR_TE);
    outl(base + RTL_RCR, RCR_WANTED);
    outl(base + RTL_TCR, TCR_WANTED);
    rx_off = 0;
    set_capr();
    outl(base + RTL_MPC, 0);

    irq_register(irq, rtl_irq, NULL, "rtl8139");
    outw(base + RTL_IMR, IMR_WANTED);
    return &rtl_dev;
}
