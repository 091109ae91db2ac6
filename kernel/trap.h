/* Interrupts and exceptions: the IDT, the common entry, the IRQ tail. */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>
#include "kernel/irq.h"

/* What alltraps (vectors.S) leaves on the stack: pushal's registers, the
 * vector and error code its entry point pushed, then what the CPU pushed. No ring
 * change, so the CPU pushed no esp/ss. */
struct trapframe {
    uint32_t edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
    uint32_t vector;
    uint32_t err;
    uint32_t eip, cs, eflags;
};

void idt_init(void);
/* Point a vector's gate at another entry point and return the one it
 * had: measure.c stamps the PIT's entry this way while it times a
 * preemption, and costs nothing otherwise. Interrupts off. */
uint32_t idt_set_entry(int vector, uint32_t entry);

void trap(struct trapframe *tf);

/* Print the exception report: vector, error code, registers, thread,
 * backtrace. Used by both the thread-killing path and panic. */
void trap_report(const struct trapframe *tf);
/* eip_is_return: eip is a return address (panic's caller), not the
 * faulting instruction itself (an exception's trap frame). */
void backtrace_print(uint32_t eip, uint32_t ebp, int eip_is_return);

#endif
