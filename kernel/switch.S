/* switch_context: save = %eax (struct context **), load = %edx
 * (struct context *); called only through switch_to() in context.h.
 *
 * The one place where the CPU moves from one thread to another. Both the
 * cooperative path (thread_yield, blocking) and the preemptive path (the
 * PIT's IRQ tail) end up here. It saves only ebp and, by the call, eip:
 * switch_to() tells the compiler that ebx, esi and edi do not survive the
 * call, so the C function around it keeps them in its own frame (its
 * prologue saved them anyway), and they are not saved twice. The layout it
 * leaves on the stack is struct context in context.h. The CFI lets GDB
 * unwind at every instruction, before and after the stack swap. */
#include "kernel/context.h"

    .cfi_sections .debug_frame
    .text
    .globl switch_context
    .type switch_context, @function
switch_context:
    .cfi_startproc
    pushl %ebp                  /* the push matches struct context */
    .cfi_adjust_cfa_offset 4
    .cfi_rel_offset %ebp, 0
    movl %esp, (%eax)           /* *save = our context: we are paused */
    movl %edx, %esp             /* the swap: this is now the other thread's stack */
    popl %ebp
    .cfi_adjust_cfa_offset -4
    .cfi_restore %ebp
    ret                         /* to where the other thread paused */
    .cfi_endproc
    .size switch_context, . - switch_context

/* thread_yield, sem_up, sem_down, mutex_lock and mutex_unlock: each is
 * the C function of the same name with _irqs_off (sched.c, sync.c) called
 * with interrupts off, and the caller's EFLAGS back afterwards. Here, not
 * in C, so that the saved EFLAGS stay where pushfl put them until popfl
 * takes them back: in C they would take a slot of a frame (a pop, a store
 * and a push more, and the frame's prologue and epilogue around the same
 * work). The yield and the semaphore round trip are benchmarked. The
 * object of sem_* and mutex_* comes in eax (regparm(1)) and goes on to
 * the body in it.
 *
 * They build no frame: the body's frame links to their caller's, and
 * their caller's return address is above the EFLAGS they pushed. The
 * kernel's backtrace (trap.c) and ws bt (tools/gdb/ws.py) know them by
 * their address, in irqs_off_calls_range, and read it there; GDB's own
 * bt reads the CFI. (The range is data, so that no text symbol shares
 * an address with one of the functions and names it in a backtrace.) */
    .macro IRQS_OFF_CALL name
    .globl \name
    .type \name, @function
\name:
    .cfi_startproc
    pushfl
    .cfi_adjust_cfa_offset 4
    .cfi_rel_offset 9, 0        /* for GDB: the caller's EFLAGS (DWARF register 9) are here */
    cli
    call \name\()_irqs_off
    popfl                       /* interrupts on again if they were */
    .cfi_adjust_cfa_offset -4
    .cfi_restore 9
    ret
    .cfi_endproc
    .size \name, . - \name
    .endm

.Lirqs_off_calls:
    IRQS_OFF_CALL thread_yield
    IRQS_OFF_CALL sem_up
    IRQS_OFF_CALL sem_down
    IRQS_OFF_CALL mutex_lock
    IRQS_OFF_CALL mutex_unlock
.Lirqs_off_calls_end:

    .section .rodata
    .balign 4
    .globl irqs_off_calls_range
irqs_off_calls_range:           /* [start, end) */
    .long .Lirqs_off_calls, .Lirqs_off_calls_end
    .text

/* switch_from_dead: eax = the thread that ended (struct thread *), edx =
 * the context to load; called only from the scheduler's SWITCH_EXIT.
 *
 * The dead thread's stack is still the one we are on, so it cannot be
 * freed here, nor by the dead thread: move to the next thread's stack
 * first. Below its saved context that stack is free, so thread_reap runs
 * there, and then the context is loaded as switch_context loads it. The
 * dead thread's context is not saved: it never runs again. */
    .globl switch_from_dead
    .type switch_from_dead, @function
switch_from_dead:
    .cfi_startproc
    .cfi_undefined %eip
    movl %edx, %esp             /* next's stack: the dead one is left for good */
    pushl %eax
    call thread_reap            /* cdecl: ebp, ebx, esi, edi survive it */
    addl $4, %esp
    popl %ebp                   /* from here on, switch_context's second half */
    ret
    .cfi_endproc
    .size switch_from_dead, . - switch_from_dead

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

/* The push above must add up to the C layout. */
.if CONTEXT_SIZE - 8
.error "struct context does not match switch.S"
.endif
