/* 16550A UART driver. [National Semiconductor PC16550D datasheet, "Registers";
 * OSDev wiki "Serial Ports"]
 *
 * Receive: the ISR moves bytes from the UART's 16-byte FIFO into rx_ring
 * and wakes readers. If rx_ring is full it stops taking bytes and turns the
 * receive interrupt off; the bytes then wait in the UART and, under QEMU,
 * in the character device behind it, which does not feed the UART while
 * its FIFO is full. When a reader makes room the interrupt comes back on.
 * That is flow control, and it is why a 1 MiB paste loses nothing.
 *
 * Flow control must not hide Ctrl-C: a demo that never reads the console
 * would otherwise sit behind a full ring with the 0x03 held in the UART,
 * unstoppable. So when the ring is full and nobody has read it for
 * RX_STALE_NS, the ISR goes on in "discard" mode at once, or, if the ring
 * filled while somebody still read, the next console_interrupted() turns
 * the receive interrupt back on in that mode: bytes that do not fit
 * are dropped and counted (rx_dropped), and a Ctrl-C is still seen. Like a
 * terminal's ISIG, a Ctrl-C also flushes the typeahead before it, so the
 * shell does not go on to run a stopped demo's pasted junk. Any read ends
 * discard mode. In raw mode 0x03 is data, and flow control is never lifted.
 *
 * Transmit: writers queue into tx_ring; the "transmitter empty" interrupt
 * refills the FIFO 16 bytes at a time, and is switched off when the ring
 * runs dry.
 *
 * The ISR reads IIR first and loops until it says "no interrupt pending":
 * under QEMU an interrupt that is not acknowledged this way can be lost. */
#include <webscale/errno.h>
#include "drivers/pic.h"
#include "drivers/uart16550.h"
#include "kernel/lib/ring.h"
#include "kernel/sched.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include <webscale/time.h>

/* Register offsets from the base port [PC16550D table 2]. */
#define UART_RBR 0   /* receiver buffer (read, DLAB=0) */
#define UART_THR 0   /* transmitter holding (write, DLAB=0) */
#define UART_DLL 0   /* divisor latch low (DLAB=1) */
#define UART_IER 1   /* interrupt enable (DLAB=0) */
#define UART_DLM 1   /* divisor latch high (DLAB=1) */
#define UART_IIR 2   /* interrupt identification (read) */
#define UART_FCR 2   /* FIFO control (write) */
#define UART_LCR 3   /* line control */
#define UART_MCR 4   /* modem control */
#define UART_LSR 5   /* line status */
#define UART_MSR 6   /* modem status */

#define IER_ERBFI 0x01   /* received data available */
#define IER_ETBEI 0x02   /* transmitter holding register empty */
#define IER_ELSI  0x04   /* receiver line status */

#define IIR_NO_INT   0x01
#define IIR_ID_MASK  0x0E
#define IIR_MSR      0x00
#define IIR_THRE     0x02
#define IIR_RDA      0x04
#define IIR_LSR      0x06
#define IIR_TIMEOUT  0x0C   /* bytes sit in the FIFO below the trigger level */

#define FCR_ENABLE    0x01
#define FCR_CLEAR_RX  0x02
#define FCR_CLEAR_TX  0x04
#define FCR_TRIGGER14 0xC0

#define LCR_8N1  0x03
#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT2 0x08    /* gates the IRQ line on PC serial cards */

#define LSR_DR   0x01    /* data ready */
#define LSR_OE   0x02    /* overrun error */
#define LSR_THRE 0x20    /* transmit FIFO empty */
#define LSR_TEMT 0x40    /* transmitter completely idle */

#define UART_FIFO_SIZE 16
#define UART_BAUD_DIVISOR 1   /* 115200 baud; QEMU does not pace to it anyway */

/* A full ring nobody read for this long is typeahead, not a paste being read. */
#define RX_STALE_NS (100 * NS_PER_MS)

#define RX_RING_SIZE 4096
#define TX_RING_SIZE 8192

static uint8_t rx_buf[RX_RING_SIZE], tx_buf[TX_RING_SIZE];
static struct ring rx_ring, tx_ring;
static struct waitq rx_wait = WAITQ_INIT(rx_wait, "serial read");
static struct waitq tx_wait = WAITQ_INIT(tx_wait, "serial write");

static int irq_mode;
static uint8_t ier;
static volatile int interrupted;
static int raw;
static int rx_discard;          /* ring full and unread: drop, but watch for Ctrl-C */
static uint64_t last_read_ns;   /* the last uart_read, blocking or not */
static uart_notify_fn notify;
static struct console_stats st;

static void reg_write(int reg, uint8_t v) { outb(COM1_BASE + reg, v); }
static uint8_t reg_read(int reg) { return inb(COM1_BASE + reg); }

static void set_ier(uint8_t v)
{
    if (v != ier) {
        ier = v;
        reg_write(UART_IER, v);
    }
}

static void putc_polled(uint8_t c)
{
    while (!(reg_read(UART_LSR) & LSR_THRE))
        ;
    reg_write(UART_THR, c);
}

void uart_init_early(void)
{
    reg_write(UART_IER, 0);
    reg_write(UART_LCR, LCR_DLAB);
    reg_write(UART_DLL, UART_BAUD_DIVISOR & 0xFF);
    reg_write(UART_DLM, UART_BAUD_DIVISOR >> 8);
    reg_write(UART_LCR, LCR_8N1);
    reg_write(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX | FCR_TRIGGER14);
    reg_write(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

/* Move bytes from the ring into the FIFO: at most 16 once THRE says empty. */
static void tx_fill(void)
{
    if (!(reg_read(UART_LSR) & LSR_THRE))
        return;
    for (int i = 0; i < UART_FIFO_SIZE; i++) {
        int c = ring_get(&tx_ring);
        if (c < 0)
            break;
        reg_write(UART_THR, (uint8_t)c);
        st.tx_bytes++;
    }
}

static void rx_drain(void)
{
    uint8_t lsr;
    while ((lsr = reg_read(UART_LSR)) & LSR_DR) {
        if (lsr & LSR_OE)
            st.overruns++;
        if (ring_full(&rx_ring) && !rx_discard &&
            clock_ns() - last_read_ns >= RX_STALE_NS) {
            rx_discard = 1;             /* nobody reads: typeahead, watch for Ctrl-C */
        } else if (ring_full(&rx_ring) && !rx_discard) {
            /* Leave the rest in the UART: flow control, not loss. */
            set_ier(ier & ~IER_ERBFI);
            st.rx_stalls++;
            break;
        }
        uint8_t c = reg_read(UART_RBR);
        st.rx_bytes++;
        if (c == CONSOLE_CTRL_C && !raw) {
            interrupted = 1;
            st.interrupts++;
            thread_interrupt_foreground();   /* wake the shell's running command */
            /* Flush the typeahead; the ring has room again. */
            rx_ring.tail = rx_ring.head;
            rx_discard = 0;
            continue;
        }
        if (ring_put(&rx_ring, c) < 0)  /* 0 stored, -1 full */
            st.rx_dropped++;            /* discard mode: nobody reads */
    }
}

static void uart_irq(void *arg)
{
    (void)arg;
    int got_rx = 0, got_tx = 0;
    uint8_t iir;
    while (!((iir = reg_read(UART_IIR)) & IIR_NO_INT)) {
        switch (iir & IIR_ID_MASK) {
        case IIR_LSR:
            if (reg_read(UART_LSR) & LSR_OE)
                st.overruns++;
            break;
        case IIR_RDA:
        case IIR_TIMEOUT:
            st.rx_irqs++;
            rx_drain();
            got_rx = 1;
            break;
        case IIR_THRE:
            st.tx_irqs++;
            tx_fill();
            if (ring_empty(&tx_ring))
                set_ier(ier & ~IER_ETBEI);
            got_tx = 1;
            break;
        case IIR_MSR:
            reg_read(UART_MSR);
            break;
        default:
            break;
        }
    }
    if (got_rx || interrupted)
        waitq_wake_all(&rx_wait);
    if (got_tx)
        waitq_wake_all(&tx_wait);
    if (notify) {
        if (got_rx)
            notify(1);
        if (got_tx)
            notify(0);
    }
}

void uart_init_irq(void)
{
    ring_init(&rx_ring, rx_buf, sizeof rx_buf);
    ring_init(&tx_ring, tx_buf, sizeof tx_buf);
    /* Anything typed before now would be stale input: drop it. */
    while (reg_read(UART_LSR) & LSR_DR)
        reg_read(UART_RBR);
    irq_register(IRQ_COM1, uart_irq, NULL, "com1");
    uint32_t f = irq_save();
    irq_mode = 1;
    set_ier(IER_ERBFI | IER_ELSI);
    irq_restore(f);
}

/* Interrupts off. Start the transmitter if it is idle. */
static void tx_kick(void)
{
    ASSERT_IRQS_OFF();
    tx_fill();
    if (!ring_empty(&tx_ring))
        set_ier(ier | IER_ETBEI);
}

/* Interrupts off: empty the ring by polling, so output keeps its order. */
static void tx_drain_polled(void)
{
    ASSERT_IRQS_OFF();
    int c;
    while ((c = ring_get(&tx_ring)) >= 0) {
        putc_polled((uint8_t)c);
        st.tx_bytes++;
    }
}

void uart_flush_polled(void)
{
    uint32_t f = irq_save();
    if (irq_mode)
        tx_drain_polled();
    while (!(reg_read(UART_LSR) & LSR_TEMT))
        ;
    irq_restore(f);
}

int uart_write(const void *buf, size_t n, int nonblock)
{
    const uint8_t *p = buf;
    size_t done = 0;
    uint32_t f = irq_save();
    if (!irq_mode) {
        for (; done < n; done++)
            putc_polled(p[done]);
        irq_restore(f);
        return (int)done;
    }
    while (done < n) {
        done += ring_write(&tx_ring, p + done, (uint32_t)(n - done));
        tx_kick();
        if (done == n)
            break;
        if (nonblock)
            break;
        if (sched_can_sleep()) {
            waitq_sleep(&tx_wait);
        } else {
            tx_drain_polled();
        }
    }
    irq_restore(f);
    if (nonblock && done == 0 && n > 0)
        return -E_WOULDBLOCK;
    return (int)done;
}

int uart_read(void *buf, size_t n, int nonblock)
{
    int r;
    uint32_t f = irq_save();
    last_read_ns = clock_ns();
    rx_discard = 0;             /* somebody reads: flow control again */
    for (;;) {
        if (interrupted && !raw) {
            r = -E_INTR;
            break;
        }
        if (!ring_empty(&rx_ring)) {
            r = (int)ring_read(&rx_ring, buf, (uint32_t)n);
            /* Room again: let the UART hand us the bytes it held back. */
            if (!(ier & IER_ERBFI))
                set_ier(ier | IER_ERBFI);
            break;
        }
        if (nonblock) {
            r = -E_WOULDBLOCK;
            break;
        }
        waitq_sleep(&rx_wait);
    }
    irq_restore(f);
    return r;
}

void uart_set_notify(uart_notify_fn fn) { notify = fn; }
size_t uart_rx_available(void) { return ring_used(&rx_ring); }
size_t uart_tx_space(void) { return ring_free(&tx_ring); }

/* ---- the console API (webscale/console.h) is this UART ---- */

int console_read(void *buf, size_t n) { return uart_read(buf, n, 0); }
int console_read_nonblock(void *buf, size_t n) { return uart_read(buf, n, 1); }
int console_write(const void *buf, size_t n) { return uart_write(buf, n, 0); }
int console_write_nonblock(const void *buf, size_t n) { return uart_write(buf, n, 1); }
/* Demos poll this while they do not read the console: if input is paused
 * behind a ring nobody has read for RX_STALE_NS, take it again in discard
 * mode, so that a Ctrl-C behind the typeahead is seen (see the top). */
int console_interrupted(void)
{
    if (!interrupted && irq_mode && !raw && !(ier & IER_ERBFI)) {
        uint32_t f = irq_save();
        if (!(ier & IER_ERBFI) && clock_ns() - last_read_ns >= RX_STALE_NS) {
            rx_discard = 1;
            set_ier(ier | IER_ERBFI);
        }
        irq_restore(f);
    }
    return interrupted;
}
void console_clear_interrupt(void) { interrupted = 0; }
void console_set_raw(int on) { raw = on; }

void console_get_stats(struct console_stats *s)
{
    uint32_t f = irq_save();
    *s = st;
    irq_restore(f);
}
