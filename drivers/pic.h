/* The two cascaded 8259A programmable interrupt controllers. */
#ifndef DRIVERS_PIC_H
#define DRIVERS_PIC_H

#include <stdint.h>

#define PIC_IRQ_BASE 32        /* IRQ 0-15 arrive as vectors 32-47 */
#define PIC_NUM_IRQS 16
#define IRQ_PIT      0
#define IRQ_CASCADE  2
#define IRQ_COM1     4
#define IRQ_NE2K     9
#define IRQ_SPURIOUS_MASTER 7
#define IRQ_SPURIOUS_SLAVE  15

void pic_init(void);
void pic_unmask(int irq);
void pic_mask(int irq);
void pic_eoi(int irq);
/* True if irq 7 or 15 was raised without a real request behind it
 * (the 8259's "spurious interrupt"); then no EOI (or, for 15, only the
 * master's) may be sent. Handles that EOI itself. */
int pic_is_spurious(int irq);
/* Is IRQ 0-7 requested but not yet serviced? (The master's interrupt
 * request register only.) */
int pic_master_pending(int irq);

#endif
