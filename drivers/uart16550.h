/* 16550A UART on COM1: interrupt-driven, with ring buffers both ways. */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stddef.h>
#include <stdint.h>
#include <webscale/console.h>

#define COM1_BASE 0x3F8

/* Polled output only, for the first boot messages. */
void uart_init_early(void);
/* Rings, FIFOs and IRQ 4: from here on nothing waits on the hardware. */
void uart_init_irq(void);

/* nonblock: return -E_WOULDBLOCK instead of sleeping. A caller that cannot
 * sleep (IRQ handler, scheduler, idle, panic) gets polled output instead,
 * in order after what is already queued. */
int uart_write(const void *buf, size_t n, int nonblock);
int uart_read(void *buf, size_t n, int nonblock);

/* Push everything queued out of the UART by polling, interrupts off. */
void uart_flush_polled(void);

/* Called from the ISR when bytes arrived (1) or output space freed (0).
 * The event loop uses it for its readiness watchers. */
typedef void (*uart_notify_fn)(int readable);
void uart_set_notify(uart_notify_fn fn);
size_t uart_rx_available(void);
size_t uart_tx_space(void);

#endif
