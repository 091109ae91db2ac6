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

/* A new thread's first switch "returns" here, after the nop (thread.c
 * builds its stack): the nop stands for the call to switch_context that a
 * new thread never made, so eip - 1, which GDB looks up for a caller, is
 * inside this function. fn and arg are on the stack; the call gives
 * thread_start(fn, arg), which never returns, a return address here, and
 * the CFI marks eip undefined: GDB's backtrace ends here cleanly, also in
 * the middle of the switch. */
    .globl thread_entry
    .type thread_entry, @function
thread_entry:
    .cfi_startproc
    .cfi_undefined %eip
    nop
.Lthread_entry_first:
    call thread_start
    .cfi_endproc
    .size thread_entry, . - thread_entry
.if .Lthread_entry_first - thread_entry - THREAD_ENTRY_FIRST
.error "THREAD_ENTRY_FIRST in context.h is wrong"
.endif

/* The pushes above must add up to the C layout. */
.if CONTEXT_SIZE - 20
.error "struct context does not match switch.S"
.endif
