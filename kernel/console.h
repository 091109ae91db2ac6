/* The console's device side (a driver-facing kernel header), and what the
 * rest of the kernel needs beyond <webscale/console.h>.
 *
 * A console port is a byte device with an input and an output ring, like
 * the 16550 UART (drivers/uart16550.c, the first port). It owns its
 * registers, FIFOs, interrupt and rings; kernel/console.c owns everything
 * else: what a byte means (Ctrl-C, raw mode), when input is dropped rather
 * than held back, who sleeps and who is woken. The boot wiring
 * (kernel/devices.c) attaches the port; the console then registers its two
 * handlers with it. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/* What the console's byte handler tells the port to do with a received byte. */
enum console_rx_verdict {
    CONSOLE_RX_KEEP,     /* store it in the input ring */
    CONSOLE_RX_FLUSH,    /* drop it and every unread byte before it: the port
                            marks its ring, the next read discards up to the
                            mark (the consumer's side of the ring) */
};

/* Called from the port's ISR, interrupts off, for every byte received. */
typedef enum console_rx_verdict (*console_rx_fn)(uint8_t c);
/* Called from the port's ISR once per interrupt: bytes arrived (1), or
 * room in the output ring freed (0). */
typedef void (*console_ready_fn)(int readable);

/* The port's own counters. */
struct console_port_stats {
    uint64_t rx_bytes, tx_bytes;
    uint32_t rx_irqs, tx_irqs;
    uint32_t rx_stalls;      /* times the input ring filled and input was held back */
    uint32_t overruns;       /* bytes the hardware itself reported lost */
    uint32_t rx_dropped;     /* bytes that did not fit while dropping */
};

/* Every call but set_handlers and rx_held runs with interrupts off. */
struct console_port {
    const char *name;
    void (*set_handlers)(console_rx_fn rx, console_ready_fn ready);
    /* Queue up to n bytes and start the transmitter; returns how many fit.
     * Before the port's interrupt is on, it sends all n by polling. */
    size_t (*write)(const void *buf, size_t n);
    /* Send everything queued by polling, then wait until the line is idle.
     * Works with interrupts off, before and after the interrupt is on. */
    void (*flush_polled)(void);
    size_t (*tx_space)(void);
    /* Take up to n bytes (after discarding what a FLUSH verdict marked);
     * lets held-back input in again once there is room. */
    size_t (*read)(void *buf, size_t n);
    size_t (*rx_available)(void);    /* unread bytes, marked ones excluded */
    /* Input is held back: the ring was full, the receive interrupt is off. */
    int (*rx_held)(void);
    /* When the input ring is full: drop and count new bytes (1), with the
     * receive interrupt on so every byte still reaches the handler; or hold
     * them back in the hardware (0, the default): flow control. */
    void (*rx_drop_when_full)(int drop);
    void (*get_stats)(struct console_port_stats *s);
};

/* Boot wiring: this port is the console from now on. */
void console_attach(const struct console_port *port);
/* The attached port (tests/kernel/test_console.c puts it back after a fake). */
const struct console_port *console_port(void);

/* The sinks for kprintf and panic. Any context: a caller that cannot sleep
 * (IRQ handler, scheduler, idle, panic) gets polled output, in order after
 * what is already queued. */
void console_write_kernel(const void *buf, size_t n);
/* Push everything queued out by polling; interrupts may be off (panic,
 * power-off, the `latency` serial measurement). */
void console_flush_polled(void);
size_t console_tx_space(void);   /* free bytes in the output ring */
/* For processes that wait for console input among other events
 * (kernel/process.c): hook is called from the port's ISR whenever bytes
 * arrived, interrupts off; console_input_ready (<webscale/console.h>)
 * says a read would get one. */
void console_set_input_hook(void (*hook)(void));

#endif
