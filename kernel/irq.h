/* Interrupt lines, as drivers see them (a driver-facing kernel header).
 *
 * Two sides meet here. The kernel (trap.c) keeps the handlers and the one
 * IRQ tail; a driver registers its handler with irq_register. The interrupt
 * controller's driver (drivers/pic.c, the 8259A pair) implements the
 * irq_mask .. irq_pending calls the tail and the clock need; nothing in
 * kernel/ names the controller. */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include <stdint.h>
#include <webscale/system.h>   /* IRQ_LINES */

#define IRQ_VECTOR_BASE 32     /* IRQ 0 arrives as vector 32, right after the exceptions */

/* The lines on which the controller can raise an interrupt with no
 * request behind it (the 8259's last line on each chip). The tail asks
 * irq_is_spurious() only for these: two compares for every other IRQ. */
#define IRQ_SPURIOUS_MASTER 7
#define IRQ_SPURIOUS_SLAVE  15

typedef void (*irq_handler_fn)(void *arg);

/* ---- the kernel's side (kernel/trap.c) ---- */

/* Register the handler of one IRQ line and unmask it. Handlers run with
 * interrupts off, must be short, and never block. */
void irq_register(int irq, irq_handler_fn fn, void *arg, const char *name);

/* Depth of interrupt handling: > 0 inside an IRQ handler. */
extern volatile int irq_nesting;

/* ---- the controller's side (drivers/pic.c) ---- */

void irq_controller_init(void);   /* remap to IRQ_VECTOR_BASE, everything masked */
/* How to end an interrupt, described by the controller's driver for the
 * IRQ fast path (kernel/vectors.S), which sends it inline instead of
 * calling irq_eoi: write irq_eoi_cmd to irq_eoi_port, and first to
 * irq_eoi_port_second as well for the lines from IRQ_EOI_BOTH_FROM on
 * (those of a second, cascaded controller). vectors.S picks each line's
 * path when it is assembled, so that line number is a constant. */
#define IRQ_EOI_BOTH_FROM 8
extern uint16_t irq_eoi_port, irq_eoi_port_second;
extern uint8_t irq_eoi_cmd;
void irq_unmask(int irq);
void irq_mask(int irq);
void irq_eoi(int irq);
/* For IRQ_SPURIOUS_MASTER or _SLAVE: was there no real request behind this
 * interrupt? Then no EOI may be sent; the controller did what it needs. */
int irq_is_spurious(int irq);
/* Is the line requested but not yet serviced? */
int irq_pending(int irq);

#endif
