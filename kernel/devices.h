/* The boot wiring: the one place that knows which drivers this PC has. */
#ifndef KERNEL_DEVICES_H
#define KERNEL_DEVICES_H

/* COM1, polled, as the console: kprintf works from here on. */
void devices_init_console(void);
/* The interrupt controller, everything masked: before any irq_register. */
void devices_init_irq_controller(void);
/* COM1 on its interrupt, rings both ways: after the scheduler is up. */
void devices_init_console_irq(void);
/* Probe for a network card and give it to the stack (or report none):
 * after the event loop has started. */
void devices_init_net(void);

#endif
