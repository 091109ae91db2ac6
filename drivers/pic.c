/* 8259A PIC driver. [Intel 8259A datasheet, "Programming the 8259A";
 * OSDev wiki "8259 PIC"]
 *
 * The BIOS leaves IRQ 0-7 on vectors 8-15, on top of the CPU's exceptions,
 * so the first job is to move them: master to 32-39, slave to 40-47.
 * This file implements the controller's side of kernel/irq.h. */
#include "drivers/pic.h"
#include "kernel/x86.h"

#define PIC1_DATA 0x21   /* master: ICW2-4, OCW1 (mask) */
#define PIC2_DATA 0xA1

#define ICW1_INIT 0x10   /* start initialisation */
#define ICW1_ICW4 0x01   /* ICW4 will follow */
#define ICW4_8086 0x01   /* 8086/88 mode, not MCS-80 */
#define OCW2_EOI  0x20   /* non-specific end of interrupt */
#define OCW3_READ_ISR 0x0B
/* In-service register bit of each chip's last line: IRQ 7 on the master,
 * 15 on the slave. A spurious interrupt arrives there with the bit clear. */
#define ISR_LINE7 0x80

static uint16_t masked = 0xFFFF & ~(1u << IRQ_CASCADE);

/* Some old boards need a moment between PIC writes; port 0x80 is the
 * POST diagnostic port, writing it is harmless and takes about 1 us. */
static void io_wait(void) { outb(0x80, 0); }

static void write_masks(void)
{
    outb(PIC1_DATA, masked & 0xFF);
    outb(PIC2_DATA, masked >> 8);
}

uint16_t irq_eoi_port = PIC1_CMD, irq_eoi_port_second = PIC2_CMD;
uint8_t irq_eoi_cmd = OCW2_EOI;
_Static_assert(IRQ_EOI_BOTH_FROM == 8, "the slave's lines are 8-15 (kernel/irq.h)");

void irq_controller_init(void)
{
    outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4); io_wait();
    outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4); io_wait();
    outb(PIC1_DATA, PIC_IRQ_BASE); io_wait();         /* ICW2: vector base */
    outb(PIC2_DATA, PIC_IRQ_BASE + 8); io_wait();
    outb(PIC1_DATA, 1 << IRQ_CASCADE); io_wait();     /* ICW3: slave on IRQ2 */
    outb(PIC2_DATA, IRQ_CASCADE); io_wait();          /* ICW3: slave's id */
    outb(PIC1_DATA, ICW4_8086); io_wait();
    outb(PIC2_DATA, ICW4_8086); io_wait();
    write_masks();
}

void irq_unmask(int irq)
{
    masked &= ~(1u << irq);
    write_masks();
}

void irq_mask(int irq)
{
    masked |= 1u << irq;
    write_masks();
}

void irq_eoi(int irq)
{
    if (irq >= IRQ_EOI_BOTH_FROM)
        outb(PIC2_CMD, OCW2_EOI);
    outb(PIC1_CMD, OCW2_EOI);
}

static uint8_t read_isr(uint16_t cmd_port)
{
    outb(cmd_port, OCW3_READ_ISR);
    uint8_t isr = inb(cmd_port);
    outb(cmd_port, OCW3_READ_IRR);   /* what pic_master_irr() expects */
    return isr;
}

int irq_is_spurious(int irq)
{
    if (irq == IRQ_SPURIOUS_MASTER && !(read_isr(PIC1_CMD) & ISR_LINE7))
        return 1;
    if (irq == IRQ_SPURIOUS_SLAVE && !(read_isr(PIC2_CMD) & ISR_LINE7)) {
        /* The master did see a real request on the cascade line. */
        outb(PIC1_CMD, OCW2_EOI);
        return 1;
    }
    return 0;
}

int irq_pending(int irq) { return pic_pending(irq); }
