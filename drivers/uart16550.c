/* 16550A UART driver: registers, FIFOs, the interrupt and two byte rings;
 * a console port (kernel/console.h). [National Semiconductor PC16550D
 * datasheet, "Registers"; OSDev wiki "Serial Ports"]
 *
 * Receive: the ISR moves bytes from the UART's 16-byte FIFO into rx_ring,
 * each through the console's byte handler, which may keep it or flush it
 * with the typeahead before it (Ctrl-C): then the ISR marks the ring and
 * the next read, on the consumer's side, discards up to the mark. If
 * rx_ring is full the ISR stops taking bytes and turns the receive
 * interrupt off; the bytes then wait in the UART and, under QEMU, in the
 * character device behind it, which does not feed the UART while its FIFO
 * is full. When a reader makes room the interrupt comes back on. That is
 * flow control, and it is why a 1 MiB paste loses nothing. The console
 * can ask for the other behaviour, dropping (and counting) what does not
 * fit with the interrupt on, so that it still sees a Ctrl-C.
 *
 * Transmit: writers queue into tx_ring; the "transmitter empty" interrupt
 * refills the FIFO 16 bytes at a time, and is switched off when the ring
 * runs dry.
 *
 * The ISR reads IIR first and loops until it says "no interrupt pending":
 * under QEMU an interrupt that is not acknowledged this way can be lost. */
#include "drivers/pic.h"
#include "drivers/uart16550.h"
#include "kernel/irq.h"
#include "kernel/lib/ring.h"
#include "kernel/x86.h"

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

#define RX_RING_SIZE 4096
#define TX_RING_SIZE 8192

static uint8_t rx_buf[RX_RING_SIZE], tx_buf[TX_RING_SIZE];
static struct ring rx_ring, tx_ring;

static int irq_mode;
static uint8_t ier;
static int rx_drop;             /* ring full: drop and count (1) or hold back (0) */
/* A flush mark: the ISR (producer) sets it, the reader (consumer) moves
 * the ring's tail there. The producer never writes tail. */
static uint32_t rx_flush_to;
static int rx_flush_marked;
static console_rx_fn rx_handler;
static console_ready_fn ready_handler;
static struct console_port_stats st;

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
    ring_init(&rx_ring, rx_buf, sizeof rx_buf);
    ring_init(&tx_ring, tx_buf, sizeof tx_buf);
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
        if (ring_full(&rx_ring) && !rx_drop) {
            /* Leave the rest in the UART: flow control, not loss. */
            set_ier(ier & ~IER_ERBFI);
            st.rx_stalls++;
            break;
        }
        uint8_t c = reg_read(UART_RBR);
        st.rx_bytes++;
        if (rx_handler && rx_handler(c) == CONSOLE_RX_FLUSH) {
            rx_flush_to = rx_ring.head;
            rx_flush_marked = 1;
            continue;
        }
        if (ring_put(&rx_ring, c) < 0)  /* 0 stored, -1 full */
            st.rx_dropped++;            /* dropping: nobody reads */
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
    if (ready_handler) {
        if (got_rx)
            ready_handler(1);
        if (got_tx)
            ready_handler(0);
    }
}

void uart_init_irq(void)
{
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

/* ---- the console port (kernel/console.h); interrupts off in each ---- */

static void port_flush_polled(void)
{
    ASSERT_IRQS_OFF();
    if (irq_mode)
        tx_drain_polled();
    while (!(reg_read(UART_LSR) & LSR_TEMT))
        ;
}

static size_t port_write(const void *buf, size_t n)
{
    ASSERT_IRQS_OFF();
    const uint8_t *p = buf;
    if (!irq_mode) {
        for (size_t i = 0; i < n; i++)
            putc_polled(p[i]);
        return n;
    }
    size_t done = ring_write(&tx_ring, p, (uint32_t)n);
    tx_kick();
    return done;
}

static size_t port_rx_available(void)
{
    return rx_flush_marked ? rx_ring.head - rx_flush_to : ring_used(&rx_ring);
}

static size_t port_read(void *buf, size_t n)
{
    ASSERT_IRQS_OFF();
    if (rx_flush_marked) {
        rx_ring.tail = rx_flush_to;
        rx_flush_marked = 0;
    }
    size_t got = ring_read(&rx_ring, buf, (uint32_t)n);
    /* Room again: let the UART hand us the bytes it held back. */
    if (irq_mode && !(ier & IER_ERBFI) && !ring_full(&rx_ring))
        set_ier(ier | IER_ERBFI);
    return got;
}

static int port_rx_held(void) { return irq_mode && !(ier & IER_ERBFI); }

static void port_rx_drop_when_full(int drop)
{
    rx_drop = drop;
    if (drop && port_rx_held())
        set_ier(ier | IER_ERBFI);
}

static size_t port_tx_space(void) { return ring_free(&tx_ring); }
static void port_get_stats(struct console_port_stats *s) { *s = st; }

static void port_set_handlers(console_rx_fn rx, console_ready_fn ready)
{
    rx_handler = rx;
    ready_handler = ready;
}

const struct console_port uart_console_port = {
    .name = "com1",
    .set_handlers = port_set_handlers,
    .write = port_write,
    .flush_polled = port_flush_polled,
    .tx_space = port_tx_space,
    .read = port_read,
    .rx_available = port_rx_available,
    .rx_held = port_rx_held,
    .rx_drop_when_full = port_rx_drop_when_full,
    .get_stats = port_get_stats,
};

