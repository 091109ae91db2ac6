/* The 8259A command ports and the EOI command, as plain numbers, so that
 * assembly can use them too: kernel/vectors.S sends the EOI inline on the
 * IRQ fast path. [8259A datasheet, "Operation Command Words"] */
#ifndef DRIVERS_PIC_REGS_H
#define DRIVERS_PIC_REGS_H

#define PIC1_CMD  0x20   /* master: ICW1, OCW2, OCW3 */
#define PIC2_CMD  0xA0
#define OCW2_EOI  0x20   /* non-specific end of interrupt */

#endif
