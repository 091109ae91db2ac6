/* IRQ 0's entry points while kernel/measure.c times a preemption from the
 * first instruction the kernel controls: each takes the time, then goes
 * on to the usual entry, vector32 (vectors.S). measure.c points the PIT's
 * gate here for the measurement only (idt_set_entry), so no other tick
 * pays for it. Interrupt gate: interrupts are off throughout. */

    .text

/* With a TSC: the clock is read by the third instruction. */
    .globl measure_pit_entry_tsc
    .type measure_pit_entry_tsc, @function
measure_pit_entry_tsc:
    pushl %eax
    pushl %edx
    rdtsc
    movl %eax, measure_irq_entry_stamp
    movl %edx, measure_irq_entry_stamp + 4
    popl %edx
    popl %eax
    jmp vector32
    .size measure_pit_entry_tsc, . - measure_pit_entry_tsc

/* On the PIT clock: reading it takes C and three port accesses. */
    .globl measure_pit_entry_pit
    .type measure_pit_entry_pit, @function
measure_pit_entry_pit:
    pushal
    cld
    call measure_stamp_irq_entry
    popal
    jmp vector32
    .size measure_pit_entry_pit, . - measure_pit_entry_pit
