/* 16550A UART on COM1: interrupt-driven, with ring buffers both ways.
 * The console (kernel/console.c) uses it only as a console port
 * (kernel/console.h); the boot wiring (kernel/devices.c) attaches it. */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stddef.h>
#include "kernel/console.h"

#define COM1_BASE 0x3F8

/* Polled output only, for the first boot messages. */
void uart_init_early(void);
/* Rings, FIFOs and IRQ 4: from here on nothing waits on the hardware. */
void uart_init_irq(void);

extern const struct console_port uart_console_port;

#endif
