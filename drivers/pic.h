/* The two cascaded 8259A programmable interrupt controllers, and which
 * line each ISA device of the PC is wired to. The kernel uses the
 * controller only through kernel/irq.h, which pic.c implements. */
#ifndef DRIVERS_PIC_H
#define DRIVERS_PIC_H

#include <stdint.h>
#include "kernel/irq.h"
#include "kernel/x86.h"

#define PIC_IRQ_BASE IRQ_VECTOR_BASE   /* IRQ 0-15 arrive as vectors 32-47 */
#define PIC_NUM_IRQS 16
#define IRQ_PIT      0
#define IRQ_CASCADE  2
#define IRQ_COM1     4
#define IRQ_NE2K     9

_Static_assert(PIC_NUM_IRQS == IRQ_LINES, "<webscale/system.h> sizes irq_get_stats by the PIC");
_Static_assert(IRQ_SPURIOUS_MASTER == 7 && IRQ_SPURIOUS_SLAVE == 15,
               "kernel/irq.h names each 8259's last line");

#define PIC1_CMD  0x20   /* master: ICW1, OCW2, OCW3 */
#define PIC2_CMD  0xA0
#define OCW3_READ_IRR 0x0A

/* The master's interrupt request register, by one read: pic.c leaves the
 * master's OCW3 selecting the IRR (its state after initialization
 * [8259A datasheet, "Reading the 8259A status"]) and puts it back after
 * each ISR read, so the clock's read on the switch path needs no OCW3
 * write first. */
static inline uint8_t pic_master_irr(void) { return inb(PIC1_CMD); }

/* Is the line requested but not yet serviced? (Its chip's interrupt
 * request register.) Inline, for the PIT driver: the clock asks on every
 * read that lands just after a tick, a preempting switch among them. */
static inline int pic_pending(int irq)
{
    uint16_t cmd = irq >= 8 ? PIC2_CMD : PIC1_CMD;
    outb(cmd, OCW3_READ_IRR);
    return (inb(cmd) >> (irq & 7)) & 1;
}

/* The name the in-kernel tests knew it by (tests/kernel/test_loop.c). */
static inline void pic_mask(int irq) { irq_mask(irq); }

#endif
