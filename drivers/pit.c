/* 8254 PIT driver: the timer side of kernel/clock.h. [Intel 8254
 * datasheet; OSDev wiki "Programmable Interval Timer"]
 *
 * Mode 2 (rate generator) counts down by one per input clock and reloads,
 * so a latched read tells how far into the current tick we are, to one
 * input clock (838 ns). Mode 3 (square wave) counts by two and would halve
 * that resolution. */
#include "drivers/pic.h"
#include "drivers/pit.h"
#include "kernel/x86.h"

#define PIT_SEL_CH0      0x00
#define PIT_ACCESS_LOHI  0x30   /* low byte then high byte */
#define PIT_MODE_RATE    0x04   /* mode 2 */

static uint32_t reload, half_reload;

uint32_t clock_hw_start(uint32_t hz, irq_handler_fn tick)
{
    reload = (PIT_INPUT_HZ + hz / 2) / hz;
    half_reload = reload / 2;
    outb(PIT_CMD_PORT, PIT_SEL_CH0 | PIT_ACCESS_LOHI | PIT_MODE_RATE);
    outb(PIT_CH0_PORT, reload & 0xFF);
    outb(PIT_CH0_PORT, (reload >> 8) & 0xFF);
    irq_register(IRQ_PIT, tick, NULL, "pit");
    return reload;
}

uint32_t clock_hw_since_tick(void)
{
    uint32_t count = pit_count();
    uint32_t since = count < reload ? reload - count : 0;   /* mode 2: reload .. 1 */
    /* A count in the tick's first half with IRQ 0 requested: the counter
     * wrapped after the last counted tick. Only then is the PIC asked;
     * pic.c leaves the master's OCW3 on the IRR, so that is one read. */
    if (__builtin_expect(count > half_reload, 0) && (pic_master_irr() & (1u << IRQ_PIT)))
        since += reload;
    return since;
}

int clock_hw_vector(void) { return IRQ_VECTOR_BASE + IRQ_PIT; }
