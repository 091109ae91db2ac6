/* switch_context(struct context **save, struct context *load)
 *
 * The one place where the CPU moves from one thread to another. Both the
 * cooperative path (thread_yield, blocking) and the preemptive path (the
 * PIT's IRQ tail) end up here. The layout it leaves on the stack is
 * struct context in context.h. The CFI lets GDB unwind at every instruction,
 * before and after the stack swap. */
#include "kernel/context.h"

    .cfi_sections .debug_frame
    .text
    .globl switch_context
    .type switch_context, @function
switch_context:
    .cfi_startproc
    movl 4(%esp), %eax          /* eax = save */
    movl 8(%esp), %edx          /* edx = load */
    pushl %ebp                  /* pushes match struct context, top down */
    .cfi_adjust_cfa_offset 4
    .cfi_rel_offset %ebp, 0
    pushl %ebx
    .cfi_adjust_cfa_offset 4
    .cfi_rel_offset %ebx, 0
    pushl %esi
    .cfi_adjust_cfa_offset 4
    .cfi_rel_offset %esi, 0
    pushl %edi
    .cfi_adjust_cfa_offset 4
    .cfi_rel_offset %edi, 0
    movl %esp, (%eax)           /* *save = our context: we are paused */
    movl %edx, %esp             /* the swap: this is now the other thread's stack */
    popl %edi
    .cfi_adjust_cfa_offset -4
    .cfi_restore %edi
    popl %esi
    .cfi_adjust_cfa_offset -4
    .cfi_restore %esi
    popl %ebx
    .cfi_adjust_cfa_offset -4
    .cfi_restore %ebx
    popl %ebp
    .cfi_adjust_cfa_offset -4
    .cfi_restore %ebp
    ret                         /* to where the other thread paused */
    .cfi_endproc
    .size switch_context, . - switch_context

/* The pushes above must add up to the C layout. */
.if CONTEXT_SIZE - 20
.error "struct context does not match switch.S"
.endif
