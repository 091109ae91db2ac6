/* NE2000 ISA Ethernet driver. [National Semiconductor DP8390D "NIC Network
 * Interface Controller" datasheet: "Register Descriptions" (pages 0 and 1),
 * "Buffer Management" (the receive ring, BNRY/CURR), "Remote DMA",
 * "Initialization Procedure", "Buffer Ring Overflow"; National AN-874
 * "Writing Drivers for the DP8390 NIC Family"; the NE2000's own layout:
 * 16 KiB of buffer memory at 0x4000-0x7FFF, the station address PROM at
 * remote address 0, the data port at +0x10, the reset port at +0x1F.]
 *
 * The card keeps received frames in a ring of 256-byte pages in its own
 * memory (PSTART..PSTOP). It writes at CURR; we read from next_pkt and tell
 * it how far we have read through BNRY, always one page behind next_pkt,
 * because the DP8390 stops storing when CURR reaches BNRY. Every frame in
 * the ring starts with a 4-byte header: receive status, the page of the
 * next frame, the byte count (header included).
 *
 * Receive: the ISR moves frames from the card's ring into rx_slots, a
 * kernel ring of fixed-size slots (no allocation in the IRQ path), stamps
 * each with the time and notifies the stack's loop source; the loop reads
 * each frame in its slot (rx_next lends it, no copy).
 *
 * Backpressure: with rx_slots full the driver leaves the frame and those
 * after it on the card (next_pkt and BNRY stay) and masks PRX; each
 * rx_release takes the next one into the slot it freed, and PRX comes back
 * once the card is empty. So the stack being behind never makes the driver
 * drop a frame: the card's ring waits too (16 KiB: 52 minimal frames, 9
 * maximal; QEMU's 32 KiB: 116 and 20).
 * When that is full a DP8390 refuses what comes, keeps its ring and counts
 * the frame in its missed-packet tally (rx-card-missed). QEMU's ISA model
 * (ne2k_isa, no can_receive hook, unlike its PCI one) discards a frame
 * that finds less than a maximal frame's room and counts nothing: hence a
 * slot at a time, so the card never waits longer than it must.
 *
 * Drops are counted by reason (NETDEV_DROP_*, kernel/net/netdev.h), never
 * silent: under 60 or over 1518 bytes, an impossible ring header (then the
 * ring cannot be trusted and is emptied), and, on a real card only, what
 * an overflow's recovery cannot keep.
 *
 * Transmit: one frame at a time in the card (a 6-page buffer at TX_PAGE),
 * the next ones in a queue of NE2K_TX_SLOTS that the "packet transmitted"
 * interrupt feeds from. Under QEMU a transmit completes at once.
 *
 * Once the IRQ is registered (the probe runs before), every access to the
 * card happens with interrupts off (the ISR runs so; tx_start checks it),
 * so remote DMA, which the RX and TX paths share, never interleaves, and
 * the register page is always 0 between accesses. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/time.h>
#include "drivers/dp8390.h"
#include "drivers/ne2k.h"
#include "drivers/pic.h"
#include "kernel/irq.h"
#include "kernel/lib/ring.h"   /* ring_barrier */
#include "kernel/net/netdev.h"
#include "kernel/x86.h"

#define NE2K_FRAME_MIN 60         /* Ethernet minimum without the CRC */
#define NE2K_FRAME_MAX 1518       /* with the CRC real cards store; QEMU stores none */
#define NE2K_RX_SLOTS 256         /* kernel RX ring (power of two): the card's 116 small
                                   * frames several times over; QEMU drops past those */
#define NE2K_TX_SLOTS 8           /* frames waiting for the transmitter */

/* The NE2000's 16 KiB buffer: pages 0x40-0x7F. Six pages transmit one
 * maximal frame; the rest is the receive ring. QEMU's model has 32 KiB,
 * pages 0x40-0xBF: mem_probe finds out, and the ring then ends at 0xC0. */
#define NE_PAGE_SIZE 256
#define TX_PAGE  0x40
#define RX_START 0x46
#define RX_STOP_16K 0x80          /* the end of a real NE2000's memory */
#define RX_STOP_32K 0xC0          /* the end of QEMU's (hw/net/ne2000.h: 16 KiB..48 KiB) */
#define PROBE_BYTES 16            /* a test pattern written at both ends of the second 16 KiB */
#define RX_HDR_BYTES 4    /* status, next page, byte count [DP8390D "Buffer Management"] */
#define ETH_HDR_BYTES 14  /* destination, source, type: the shortest frame we send */
#define ETH_CRC_BYTES 4   /* the frame check sequence at the end of a frame on the wire */
#define PROM_BYTES 32     /* 16 words, each PROM byte in the low half */
#define PROM_SIG 0x57     /* 'W' in PROM bytes 14 and 15 marks an NE2000 */

#define RESET_WAIT_NS (10 * NS_PER_MS)    /* a reset takes < 2 ms [ne.c's comment; AN-874] */
#define STOP_WAIT_NS  (2 * NS_PER_MS)     /* datasheet: wait >= 1.6 ms after STOP */
#define DMA_SPINS 100000                  /* bounded wait for RDC */
#define ISR_ROUNDS 8                      /* bounded work per interrupt */

#if NE2K_RX_SLOTS & (NE2K_RX_SLOTS - 1)
#error "NE2K_RX_SLOTS must be a power of two"
#endif

static uint16_t base;
static int present;
static uint8_t rx_stop = RX_STOP_16K;   /* the ring's end page: mem_probe decides */
#define RX_PAGES (rx_stop - RX_START)
static void (*notify)(void);

/* One received frame: written by the ISR, read by the stack in the loop. */
struct rx_slot {
    uint16_t len;                 /* bytes in data, no ring header */
    uint64_t rx_ns;               /* clock_ns() when the ISR took it off the card */
    uint8_t data[NE2K_FRAME_MAX + 2] __attribute__((aligned(4)));  /* +2: whole words */
};

/* Kernel RX ring: the ISR fills at rx_head, the stack empties at rx_tail. */
static struct rx_slot rx_slots[NE2K_RX_SLOTS];
static volatile uint32_t rx_head, rx_tail;
static uint8_t next_pkt;            /* the card's ring page we read next */
static volatile int rx_held;        /* frames wait on the card, PRX masked (irqs off) */
static uint8_t imr = IMR_WANTED;    /* what the IMR holds now */

/* TX: the frame in the card, then a queue. */
struct tx_slot {
    uint16_t len;
    uint8_t data[NE2K_FRAME_MAX + 2] __attribute__((aligned(4)));
};
static struct tx_slot tx_q[NE2K_TX_SLOTS];
static uint32_t tx_qhead, tx_qtail;
static int tx_busy;

static struct netdev_stats st;

static void wr(int reg, uint8_t v) { outb(base + reg, v); }
static uint8_t rd(int reg) { return inb(base + reg); }

static inline void insw_n(uint16_t port, void *buf, uint32_t words)
{
    __asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static inline void outsw_n(uint16_t port, const void *buf, uint32_t words)
{
    __asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

/* Wait for remote DMA complete and acknowledge it. QEMU completes at once;
 * a real card within microseconds. Bounded, so a dead card cannot hang us. */
static void dma_done(void)
{
    for (int i = 0; i < DMA_SPINS && !(rd(NE_ISR) & ISR_RDC); i++)
        ;
    wr(NE_ISR, ISR_RDC);
}

static void dma_setup(uint16_t addr, uint16_t bytes)
{
    wr(NE_RBCR0, bytes & 0xFF);
    wr(NE_RBCR1, bytes >> 8);
    wr(NE_RSAR0, addr & 0xFF);
    wr(NE_RSAR1, addr >> 8);
}

/* Remote read of n bytes from card address addr into buf, which has room
 * for n rounded up to a word. The DMA wraps from PSTOP to PSTART by itself
 * [DP8390D "Remote DMA"], so a frame across the ring's end is one read. */
static void dma_read(uint16_t addr, void *buf, uint16_t n)
{
    uint16_t bytes = (uint16_t)((n + 1) & ~1u);
    dma_setup(addr, bytes);
    wr(NE_CR, CR_RD0 | CR_STA);
    insw_n(base + NE_DATA, buf, bytes / 2);
    dma_done();
}

static void dma_write(uint16_t addr, const void *buf, uint16_t n)
{
    uint16_t bytes = (uint16_t)((n + 1) & ~1u);
    dma_setup(addr, bytes);
    wr(NE_CR, CR_RD1 | CR_STA);
    outsw_n(base + NE_DATA, buf, bytes / 2);
    dma_done();
}

static uint8_t read_curr(void)
{
    wr(NE_CR, CR_PAGE1 | CR_RD2 | CR_STA);
    uint8_t c = rd(NE_CURR);
    wr(NE_CR, CR_PAGE0 | CR_RD2 | CR_STA);
    return c;
}

/* Tell the card we have read everything before next_pkt. */
static void set_bnry(void)
{
    wr(NE_BNRY, next_pkt == RX_START ? rx_stop - 1 : next_pkt - 1);
}

static int ring_page_ok(uint8_t p) { return p >= RX_START && p < rx_stop; }

/* Pages a frame of count bytes (header included) occupies from page p on:
 * the next frame's page, wrapped. */
static uint8_t page_after(uint8_t p, uint32_t count)
{
    uint32_t q = p + (count + NE_PAGE_SIZE - 1) / NE_PAGE_SIZE;
    if (q >= rx_stop)
        q -= RX_PAGES;
    return (uint8_t)q;
}

/* The ring holds something we cannot trust: drop all of it, count once. */
static void rx_ring_reset(uint8_t curr)
{
    st.drops[NETDEV_DROP_RX_BAD_HEADER]++;
    next_pkt = curr;
    set_bnry();
}

static void set_imr(uint8_t v) { wr(NE_IMR, imr = v); }

/* What rx_drain does with a frame that finds rx_slots full. */
enum rx_full { RX_FULL_HOLD, RX_FULL_DROP };

/* The frame at next_pkt (len bytes after its ring header) into a slot. */
static void rx_take(uint32_t len)
{
    struct rx_slot *f = &rx_slots[rx_head & (NE2K_RX_SLOTS - 1)];
    dma_read((uint16_t)(next_pkt * NE_PAGE_SIZE + RX_HDR_BYTES), f->data, (uint16_t)len);
    f->len = (uint16_t)len;
    f->rx_ns = clock_ns();
    ring_barrier();
    rx_head++;
    st.rx_frames++;
    st.rx_bytes += len;
    if (rx_head - rx_tail > st.rx_ring_max)
        st.rx_ring_max = rx_head - rx_tail;
}

/* Frames from the card into rx_slots until either is empty or full; then
 * hold (see "Backpressure") or drop. Interrupts off. 1 if one was taken. */
static int rx_drain(enum rx_full full)
{
    int got = 0;
    /* At most one pass over the ring's pages: a corrupt ring cannot loop us. */
    for (int n = 0; n < RX_PAGES; n++) {
        uint8_t curr = read_curr();
        if (next_pkt == curr)
            break;
        if (!ring_page_ok(curr)) {
            rx_ring_reset(RX_START);
            break;
        }
        uint8_t hdr[4];
        dma_read((uint16_t)(next_pkt * NE_PAGE_SIZE), hdr, sizeof hdr);
        uint8_t status = hdr[0], nxt = hdr[1];
        uint32_t count = hdr[2] | (uint32_t)hdr[3] << 8;
        /* A real DP8390 needs ceil(count / 256) pages; QEMU reserves room
         * for a CRC it does not store, sometimes one page more. */
        if (!(status & RSR_PRX) || !ring_page_ok(nxt) || count < RX_HDR_BYTES ||
            (nxt != page_after(next_pkt, count) &&
             nxt != page_after(next_pkt, count + ETH_CRC_BYTES))) {
            rx_ring_reset(curr);
            break;
        }
        uint32_t len = count - RX_HDR_BYTES;
        if (len < NE2K_FRAME_MIN) {
            st.drops[NETDEV_DROP_RX_SHORT]++;
        } else if (len > NE2K_FRAME_MAX) {
            st.drops[NETDEV_DROP_RX_LONG]++;
        } else if (rx_head - rx_tail < NE2K_RX_SLOTS) {
            rx_take(len);
            got = 1;
        } else if (full == RX_FULL_HOLD) {
            rx_held = 1;
            st.rx_holds++;
            set_imr(IMR_WANTED & ~ISR_PRX);
            break;                     /* next_pkt and BNRY stay: the frame waits */
        } else {
            st.drops[NETDEV_DROP_RX_RING_FULL]++;
        }
        next_pkt = nxt;
        set_bnry();
    }
    return got;
}

/* [DP8390D "Buffer Ring Overflow"; AN-874]: stop, wait, clear the remote
 * byte count, remember an interrupted transmit, loopback, start, empty the
 * ring (what finds rx_slots full is dropped: the procedure must take
 * packets off), clear OVW, back to normal, resend the interrupted frame.
 * The 2 ms busy wait in the ISR is the datasheet's. QEMU never sets OVW
 * (it discards instead), so this path runs on real cards only. */
static int rx_overflow(void)
{
    st.drops[NETDEV_DROP_RX_OVERFLOW]++;
    uint8_t txp = rd(NE_CR) & CR_TXP;
    wr(NE_CR, CR_PAGE0 | CR_RD2 | CR_STP);
    uint64_t t0 = clock_ns();
    while (!(rd(NE_ISR) & ISR_RST) && clock_ns() - t0 < STOP_WAIT_NS)
        ;
    wr(NE_RBCR0, 0);
    wr(NE_RBCR1, 0);
    int resend = txp && !(rd(NE_ISR) & (ISR_PTX | ISR_TXE));
    wr(NE_TCR, TCR_LB0);
    wr(NE_CR, CR_PAGE0 | CR_RD2 | CR_STA);
    int got = rx_drain(RX_FULL_DROP);
    wr(NE_ISR, ISR_OVW);
    wr(NE_TCR, TCR_NORMAL);
    if (resend)
        wr(NE_CR, CR_PAGE0 | CR_RD2 | CR_STA | CR_TXP);
    return got;
}

/* Copy a frame into the card's transmit buffer and send it. Interrupts off. */
static void tx_start(const void *frame, uint16_t len)
{
    ASSERT_IRQS_OFF();
    dma_write(TX_PAGE * NE_PAGE_SIZE, frame, len);
    wr(NE_TPSR, TX_PAGE);
    wr(NE_TBCR0, len & 0xFF);
    wr(NE_TBCR1, len >> 8);
    wr(NE_CR, CR_PAGE0 | CR_RD2 | CR_STA | CR_TXP);
    tx_busy = 1;
    st.tx_frames++;
    st.tx_bytes += len;
}

static void tx_next(void)
{
    if (tx_qhead == tx_qtail)
        return;
    struct tx_slot *s = &tx_q[tx_qtail % NE2K_TX_SLOTS];
    tx_start(s->data, s->len);
    tx_qtail++;
}

/* Reading the tallies clears them [DP8390D "Tally Counters"]; CNT comes
 * at 128, get_stats reads them for a current figure. Interrupts off. */
static void read_tallies(void)
{
    st.drops[NETDEV_DROP_RX_CARD_ERRORS] += rd(NE_CNTR0) + rd(NE_CNTR1);
    st.drops[NETDEV_DROP_RX_CARD_MISSED] += rd(NE_CNTR2);
}

static void ne2k_irq(void *arg)
{
    (void)arg;
    int got = 0;
    st.irqs++;
    /* Bounded: each round acknowledges what it handles. */
    for (int round = 0; round < ISR_ROUNDS; round++) {
        uint8_t isr = rd(NE_ISR) & imr;   /* a masked PRX waits for rx_release */
        if (!isr)
            break;
        if (isr & ISR_OVW) {
            got |= rx_overflow();
            wr(NE_ISR, ISR_PRX | ISR_RXE);
        } else if (isr & (ISR_PRX | ISR_RXE)) {
            /* Acknowledge first: a frame that lands meanwhile raises it again. */
            wr(NE_ISR, isr & (ISR_PRX | ISR_RXE));
            got |= rx_drain(RX_FULL_HOLD);
        }
        if (isr & (ISR_PTX | ISR_TXE)) {
            wr(NE_ISR, isr & (ISR_PTX | ISR_TXE));
            if (isr & ISR_TXE)
                st.drops[NETDEV_DROP_TX_ERROR]++;
            tx_busy = 0;
            tx_next();
        }
        if (isr & ISR_CNT) {
            read_tallies();
            wr(NE_ISR, ISR_CNT);
        }
    }
    if (got && notify)
        notify();
}

static int ne2k_send(struct netdev *dev, const void *frame, size_t len)
{
    if (!present)
        return -E_NOENT;
    if (len < ETH_HDR_BYTES || len > NE2K_FRAME_MAX - ETH_CRC_BYTES)
        return -E_INVAL;
    int r = 0;
    uint32_t f = irq_save();
    if (tx_qhead - tx_qtail == NE2K_TX_SLOTS) {
        st.drops[NETDEV_DROP_TX_QUEUE_FULL]++;
        r = -E_BUSY;
    } else {
        /* Always through a slot: it pads short frames with zeros. */
        struct tx_slot *s = &tx_q[tx_qhead % NE2K_TX_SLOTS];
        memcpy(s->data, frame, len);
        if (len < NE2K_FRAME_MIN) {
            memset(s->data + len, 0, NE2K_FRAME_MIN - len);
            len = NE2K_FRAME_MIN;
        }
        s->len = (uint16_t)len;
        tx_qhead++;
        if (!tx_busy)
            tx_next();
    }
    irq_restore(f);
    return r;
}

static int ne2k_rx_next(struct netdev *dev, struct netdev_frame *out)
{
    if (rx_head == rx_tail)
        return 0;
    ring_barrier();
    const struct rx_slot *f = &rx_slots[rx_tail & (NE2K_RX_SLOTS - 1)];
    out->data = f->data;
    out->len = f->len;
    out->rx_ns = f->rx_ns;
    return 1;
}

/* A slot is free and frames wait on the card. Acknowledge first, as the
 * ISR does: a frame landing meanwhile interrupts once PRX is unmasked. */
static void rx_resume(void)
{
    uint32_t f = irq_save();
    if (rx_held) {
        rx_held = 0;
        wr(NE_ISR, ISR_PRX | ISR_RXE);
        if (rx_drain(RX_FULL_HOLD) && notify)
            notify();
        if (!rx_held)
            set_imr(IMR_WANTED);
    }
    irq_restore(f);
}

static void ne2k_rx_release(struct netdev *dev)
{
    ring_barrier();
    if (rx_head != rx_tail)
        rx_tail++;
    if (rx_held)
        rx_resume();
}

static void ne2k_set_notify(struct netdev *dev, void (*fn)(void)) { notify = fn; }

static void ne2k_get_stats(struct netdev *dev, struct netdev_stats *s)
{
    uint32_t f = irq_save();
    if (present)
        read_tallies();
    *s = st;
    irq_restore(f);
}

static struct netdev ne2k_dev = {
    .name = "NE2000",
    .iobase = NE2K_IOBASE,
    .irq = IRQ_NE2K,
    .send = ne2k_send,
    .rx_next = ne2k_rx_next,
    .rx_release = ne2k_rx_release,
    .set_notify = ne2k_set_notify,
    .get_stats = ne2k_get_stats,
};

/* Is there memory beyond a real NE2000's 16 KiB? Write one pattern at the
 * first page of 16 KiB and others at the first and last pages above it,
 * read all back: a card without the memory reads them as 0xFF (QEMU) or
 * aliases them onto the first 16 KiB (which the check of the first
 * pattern catches). The card is stopped; the patterns land where the
 * transmit buffer and the ring will be, before either is used. */
#define PROBE_SEED 0xA5

/* The test pattern of place i: different at each place, so an alias shows. */
static void probe_pattern(unsigned i, uint8_t out[PROBE_BYTES])
{
    for (int j = 0; j < PROBE_BYTES; j++)
        out[j] = (uint8_t)(PROBE_SEED ^ (i * PROBE_BYTES + j));
}

static uint8_t mem_probe(void)
{
    static const uint16_t at[] = { TX_PAGE * NE_PAGE_SIZE, RX_STOP_16K * NE_PAGE_SIZE,
                                   (RX_STOP_32K - 1) * NE_PAGE_SIZE };
    const unsigned places = sizeof at / sizeof at[0];
    uint8_t want[PROBE_BYTES], got[PROBE_BYTES];
    for (unsigned i = 0; i < places; i++) {
        probe_pattern(i, want);
        dma_write(at[i], want, PROBE_BYTES);
    }
    for (unsigned i = 0; i < places; i++) {
        probe_pattern(i, want);
        dma_read(at[i], got, PROBE_BYTES);
        if (memcmp(want, got, PROBE_BYTES) != 0)
            return RX_STOP_16K;
    }
    return RX_STOP_32K;
}

/* Reset the board and wait for the chip to say so (ISR RST). */
static int board_reset(void)
{
    wr(NE_RESET, rd(NE_RESET));
    uint64_t t0 = clock_ns();
    while (!(rd(NE_ISR) & ISR_RST))
        if (clock_ns() - t0 > RESET_WAIT_NS)
            return -1;
    wr(NE_ISR, ISR_ALL);
    return 0;
}

struct netdev *ne2k_init(void)
{
    base = NE2K_IOBASE;
    /* Nothing decodes an empty ISA port: it reads all ones. */
    if (rd(NE_CR) == 0xFF || board_reset() < 0)
        return NULL;
    wr(NE_CR, CR_PAGE0 | CR_RD2 | CR_STP);
    if (rd(NE_CR) != (CR_PAGE0 | CR_RD2 | CR_STP))
        return NULL;

    /* [DP8390D "Initialization Procedure"], with the PROM read in between. */
    wr(NE_DCR, DCR_NE2000);
    wr(NE_RBCR0, 0);
    wr(NE_RBCR1, 0);
    wr(NE_RCR, RCR_MON);
    wr(NE_TCR, TCR_LB0);
    wr(NE_IMR, 0);
    wr(NE_ISR, ISR_ALL);

    uint16_t prom[PROM_BYTES / 2];
    dma_read(0, prom, PROM_BYTES);
    if ((prom[14] & 0xFF) != PROM_SIG || (prom[15] & 0xFF) != PROM_SIG)
        return NULL;    /* something answers, but not an NE2000 */
    for (int i = 0; i < 6; i++)
        ne2k_dev.mac[i] = prom[i] & 0xFF;

    rx_stop = mem_probe();
    wr(NE_PSTART, RX_START);
    wr(NE_PSTOP, rx_stop);
    next_pkt = RX_START + 1;
    set_bnry();
    wr(NE_ISR, ISR_ALL);
    set_imr(IMR_WANTED);
    wr(NE_CR, CR_PAGE1 | CR_RD2 | CR_STP);
    for (int i = 0; i < 6; i++)
        wr(NE_PAR0 + i, ne2k_dev.mac[i]);
    for (int i = 0; i < 8; i++)
        wr(NE_MAR0 + i, 0);          /* no multicast */
    wr(NE_CURR, next_pkt);
    wr(NE_CR, CR_PAGE0 | CR_RD2 | CR_STA);
    wr(NE_TCR, TCR_NORMAL);
    wr(NE_RCR, RCR_AB);              /* our address and broadcast */

    present = 1;
    irq_register(IRQ_NE2K, ne2k_irq, NULL, "ne2000");
    return &ne2k_dev;
}
