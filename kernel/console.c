/* The console: what the bytes of the serial line mean, above a byte port
 * that only moves them (drivers/uart16550.c; kernel/console.h is the
 * contract). [xv6-riscv console.c over uart.c; a terminal's ISIG and
 * FLUSHO as in termios(3)]
 *
 * Input. The port's ISR hands every received byte to console_rx_byte
 * before storing it. A Ctrl-C is not data (unless raw): it sets the flag
 * that console_interrupted() reports, wakes the readers, and, like a
 * terminal's ISIG, flushes the typeahead before it, so the shell does not
 * go on to run a stopped demo's pasted junk. The flush is done by the
 * consumer: the port marks the ring, the next read discards up to the mark
 * (the ISR, the producer, never writes the ring's tail).
 *
 * Flow control, and why it must not hide Ctrl-C. When the input ring is
 * full the port holds further bytes back in the hardware (under QEMU the
 * character device behind the UART then stops feeding it): that is why a
 * 1 MiB paste loses nothing. But a demo that never reads the console would
 * sit behind a full ring with the 0x03 held back, unstoppable. So when the
 * ring is held back and nobody has read it for RX_STALE_NS, input is let
 * in again in discard mode, at once from the ISR (console_ready) or, if the
 * ring filled while somebody still read, at the next console_interrupted():
 * bytes that do not fit are dropped and counted, and a Ctrl-C is still
 * seen. The Ctrl-C also interrupts the foreground thread (the shell's
 * running command), whatever it waits for. A Ctrl-C, or any read, ends discard mode. In raw mode
 * 0x03 is data, and flow control is never lifted.
 *
 * Output. Writers queue into the port's ring and sleep on tx_wait while it
 * is full; a caller that cannot sleep (IRQ handler, scheduler, idle, panic
 * with interrupts off) pushes the ring out by polling instead, so kprintf
 * and panic always get through, in order.
 *
 * Jobs. The shell runs commands in the background as jobs (user/jobs.c):
 * threads with a job number (thread_job). What a job thread writes goes
 * to the job writer the shell registered, which marks each line with the
 * job's number; a job thread that is not the foreground may not read the
 * console (-E_PERM), which belongs to the shell's prompt meanwhile, as a
 * Unix terminal stops a background reader (SIGTTIN). */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/console.h"
#include "kernel/sched.h"
#include "kernel/x86.h"

/* A full ring nobody read for this long is typeahead, not a paste being read. */
#define RX_STALE_NS (100 * NS_PER_MS)

static const struct console_port *port;
static struct waitq rx_wait = WAITQ_INIT(rx_wait, "serial read");
static struct waitq tx_wait = WAITQ_INIT(tx_wait, "serial write");
static volatile int interrupted;
static int raw;
static uint64_t last_read_ns;      /* the last console read, blocking or not */
static uint32_t ctrl_c_presses;
static void (*input_hook)(void);
static console_job_writer_fn job_writer;

/* ---- input, from the port's ISR (interrupts off) ---- */

/* The Ctrl-C policy, all of it. */
static enum console_rx_verdict console_ctrl_c(void)
{
    interrupted = 1;
    ctrl_c_presses++;
    thread_interrupt_foreground();  /* wake the shell's running command */
    port->rx_drop_when_full(0);     /* hold back what comes after it */
    return CONSOLE_RX_FLUSH;        /* and discard the typeahead before it */
}

static enum console_rx_verdict console_rx_byte(uint8_t c)
{
    if (c == CONSOLE_CTRL_C && !raw)
        return console_ctrl_c();
    return CONSOLE_RX_KEEP;
}

/* From the port's ISR: bytes arrived (readable 1) or output room freed (0).
 * Wakes the threads blocked in console_read/console_write and the loop's
 * watchers of the matching source. */
static void console_ready(int readable)
{
    /* Input held back behind a ring nobody has read for RX_STALE_NS (a
     * demo that sleeps until Ctrl-C): take it in again in discard mode
     * at once, so the Ctrl-C behind the typeahead is seen. */
    if (readable && !raw && port->rx_held() && clock_ns() - last_read_ns >= RX_STALE_NS)
        port->rx_drop_when_full(1);
    waitq_wake_all(readable ? &rx_wait : &tx_wait);
    loop_source_notify(readable ? &console_readable : &console_writable);
    if (readable && input_hook)
        input_hook();
}

void console_set_input_hook(void (*hook)(void)) { input_hook = hook; }

void console_attach(const struct console_port *p)
{
    uint32_t f = irq_save();
    port = p;
    p->set_handlers(console_rx_byte, console_ready);
    irq_restore(f);
}

const struct console_port *console_port(void) { return port; }

/* ---- reading and writing ---- */

static int console_read_mode(void *buf, size_t n, int nonblock)
{
    int r;
    ASSERT(port);                   /* the boot wiring attaches one first */
    if (current->job && thread_foreground() != current)
        return -E_PERM;             /* a background job: the prompt reads */
    uint32_t f = irq_save();
    last_read_ns = clock_ns();
    port->rx_drop_when_full(0);     /* somebody reads: flow control again */
    for (;;) {
        if (interrupted && !raw) {
            r = -E_INTR;
            break;
        }
        size_t got = port->read(buf, n);
        if (got) {
            r = (int)got;
            break;
        }
        if (nonblock) {
            r = -E_WOULDBLOCK;
            break;
        }
        /* Interruptible: a process that is killed (process_kill) while it
         * reads must not wait for a key first. */
        if (waitq_wait(&rx_wait, TIME_NEVER, 1) == -E_INTR) {
            r = -E_INTR;
            break;
        }
    }
    irq_restore(f);
    return r;
}

static int console_write_mode(const void *buf, size_t n, int nonblock)
{
    const uint8_t *p = buf;
    size_t done = 0;
    if (!port)
        return (int)n;              /* before the boot wiring: nowhere to go */
    uint32_t f = irq_save();
    while (done < n) {
        done += port->write(p + done, n - done);
        if (done == n || nonblock)
            break;
        if (sched_can_sleep())
            waitq_sleep(&tx_wait);
        else
            port->flush_polled();
    }
    irq_restore(f);
    if (nonblock && done == 0 && n > 0)
        return -E_WOULDBLOCK;
    return (int)done;
}

/* A job thread's blocking writes go to the job writer, to be marked; a
 * kernel message (kprintf) of another thread too, as job 0: the writer
 * keeps it out of the prompt (the loop's stall detector while `stall &`
 * runs) and a job's lines out of it (a row of ps). Returns 1 if the
 * writer took it. */
static int job_write(const void *buf, size_t n, int kernel)
{
    /* A kernel message with interrupts off goes out as it is: the
     * writer takes a sleeping lock, and a panic (interrupts off, maybe
     * under that very lock) must print, not sleep or panic again. */
    if (!job_writer || !sched_can_sleep() || (!current->job && (!kernel || !irqs_enabled())))
        return 0;
    return job_writer(current->job, buf, n);
}

int console_read(void *buf, size_t n) { return console_read_mode(buf, n, 0); }
int console_read_nonblock(void *buf, size_t n) { return console_read_mode(buf, n, 1); }
int console_write(const void *buf, size_t n)
{
    return job_write(buf, n, 0) ? (int)n : console_write_mode(buf, n, 0);
}
int console_write_nonblock(const void *buf, size_t n) { return console_write_mode(buf, n, 1); }
int console_write_unmarked(const void *buf, size_t n) { return console_write_mode(buf, n, 0); }
void console_write_kernel(const void *buf, size_t n)
{
    if (!job_write(buf, n, 1))
        console_write_mode(buf, n, 0);
}
void console_set_job_writer(console_job_writer_fn fn) { job_writer = fn; }
void console_puts(const char *s) { kprintf("%s", s); }

void console_flush_polled(void)
{
    uint32_t f = irq_save();
    if (port)
        port->flush_polled();
    irq_restore(f);
}

/* ---- Ctrl-C, raw mode, readiness ---- */

/* Demos poll this while they do not read the console: if input is held
 * back behind a ring nobody has read for RX_STALE_NS, take it in again in
 * discard mode, so that a Ctrl-C behind the typeahead is seen (see the top). */
int console_interrupted(void)
{
    if (!interrupted && !raw && port && port->rx_held()) {
        uint32_t f = irq_save();
        if (port->rx_held() && clock_ns() - last_read_ns >= RX_STALE_NS)
            port->rx_drop_when_full(1);
        irq_restore(f);
    }
    return interrupted;
}

void console_clear_interrupt(void) { interrupted = 0; }
void console_set_raw(int on) { raw = on; }

static size_t port_call(size_t (*fn)(void))
{
    uint32_t f = irq_save();
    size_t n = fn();
    irq_restore(f);
    return n;
}

/* The loop calls these with interrupts off. */
static int input_waiting(void *arg) { return port && port->rx_available() > 0; }
static int output_room(void *arg) { return port && port->tx_space() > 0; }
int console_input_ready(void) { return port_call(port->rx_available) > 0; }

struct loop_source console_readable = LOOP_SOURCE_INIT("console readable", input_waiting, NULL);
struct loop_source console_writable = LOOP_SOURCE_INIT("console writable", output_room, NULL);
size_t console_tx_space(void) { return port ? port_call(port->tx_space) : 0; }

void console_get_stats(struct console_stats *s)
{
    struct console_port_stats p = { 0 };
    uint32_t f = irq_save();
    if (port)
        port->get_stats(&p);
    s->interrupts = ctrl_c_presses;
    irq_restore(f);
    s->rx_bytes = p.rx_bytes;
    s->tx_bytes = p.tx_bytes;
    s->rx_irqs = p.rx_irqs;
    s->tx_irqs = p.tx_irqs;
    s->rx_stalls = p.rx_stalls;
    s->overruns = p.overruns;
    s->rx_dropped = p.rx_dropped;
}
