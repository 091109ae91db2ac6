/* Interrupts and exceptions: the IDT, the common entry, the IRQ tail. */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>
#include "kernel/irq.h"

#define T_SYSCALL 0x80     /* int 0x80: the system call gate */

/* What alltraps (vectors.S) leaves on the stack: pushal's registers, the
 * vector and error code its entry point pushed, then what the CPU pushed:
 * eip, cs, eflags, and from ring 3 (cs & RING_MASK) also the program's
 * esp and ss. From ring 0 those two words are not part of the frame. */
struct trapframe {
    uint32_t edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
    uint32_t vector;
    uint32_t err;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;          /* from ring 3 only */
};

/* Was the frame pushed by an interrupt of ring 3? */
static inline int trap_from_user(const struct trapframe *tf) { return (tf->cs & 3) == 3; }

/* The last thing before an iret into ring 3 from an IRQ (vectors.S): a
 * process that was killed meanwhile ends here instead. */
void trap_return_to_user(struct trapframe *tf);
/* With ASSERTs, vectors.S's IRQ fast path from ring 0 checks that DS and
 * ES hold the kernel's segment, and panics here if not. */
void __attribute__((noreturn)) trap_bad_segments(uint32_t selector);

void idt_init(void);
/* Point a vector's gate at another entry point and return the one it
 * had: measure.c stamps the PIT's entry this way while it times a
 * preemption, and costs nothing otherwise. Interrupts off. */
uint32_t idt_set_entry(int vector, uint32_t entry);

void trap(struct trapframe *tf);
/* The double fault's task state; after vm_init (it runs on the kernel's
 * directory). */
void trap_init_double_fault(void);

/* Print the exception report: vector, error code, registers, thread,
 * backtrace. Used by both the thread-killing path and panic. */
void trap_report(const struct trapframe *tf);
/* eip_is_return: eip is a return address (panic's caller), not the
 * faulting instruction itself (an exception's trap frame). */
void backtrace_print(uint32_t eip, uint32_t ebp, int eip_is_return);

#endif
