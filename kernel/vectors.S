/* The entry points of all 48 interrupt vectors and the common paths.
 *
 * Each entry point makes the stack look the same (a fake error code where the CPU
 * pushes none, then the vector number). Exceptions, and the two IRQ lines
 * that can be spurious (7 and 15), jump to alltraps, which saves the
 * general registers and calls trap(struct trapframe *) in trap.c: the full
 * path, with the exception report. Every other IRQ takes the fast path,
 * irq_first_chip or irq_second_chip: the same frame, then straight to the
 * handler table, the EOI and the resched test inline, in trap.c's order
 * (handler, EOI, switch). IRQ 0, the PIT, has a fast path of its own,
 * irq_tick: the same frame and count, then one C function for the rest
 * (sched_tick_irq, kernel/sched.c), in the same order.
 * [Intel SDM vol. 3A, 6.13 "Error code"; 6.15 table 6-1 for which vectors
 * push one] */

#include "boot/gdt.h"

#define VECTOR_IRQ0 32      /* IRQ_VECTOR_BASE (kernel/irq.h) */
#define VECTOR_SYSCALL 128  /* int 0x80: T_SYSCALL (kernel/trap.h) */
#define TF_CS 44            /* offsetof(struct trapframe, cs), checked in trap.c */
#define TF_EAX 28           /* offsetof(struct trapframe, eax), checked in syscall.c */
#define SYS_YIELD_NR 4      /* SYS_YIELD (<webscale/syscall.h>), checked in syscall.c */
#define THREAD_PROC 0x68    /* offsetof(struct thread, proc), checked in syscall.c */
#define PROC_SYSCALLS 0x70  /* offsetof(struct process, syscalls), checked there */
#define PROC_KILLED 0x59    /* offsetof(struct process, killed), checked there */

    .cfi_sections .debug_frame

.macro STUB n
    .globl vector\n
vector\n:
    pushl $0
    pushl $\n
    jmp alltraps
.endm

.macro STUB_ERR n
    .globl vector\n
vector\n:
    pushl $\n
    jmp alltraps
.endm

    .text
    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    STUB \n
    .endr
    /* the CPU pushes an error code for these */
    .irp n, 8,10,11,12,13,14,17,21,29,30
    STUB_ERR \n
    .endr
    /* IRQ 0-15, remapped by the controller to vectors 32-47. Lines 7 and
     * 15 can be spurious: trap.c's irq_dispatch asks the controller about
     * them. The others jump to the fast path of their chip (kernel/irq.h,
     * IRQ_EOI_BOTH_FROM: the lines of the cascaded second chip need the
     * EOI on both). */
.macro IRQ_STUB n, path
    .globl vector\n
vector\n:
    pushl $0
    pushl $\n
    jmp \path
.endm
    IRQ_STUB 32, irq_tick               /* IRQ 0, the PIT: a path of its own */
    .irp n, 33,34,35,36,37,38           /* below IRQ_EOI_BOTH_FROM */
    IRQ_STUB \n, irq_first_chip
    .endr
    .irp n, 40,41,42,43,44,45,46
    IRQ_STUB \n, irq_second_chip
    .endr
    .irp n, 39,47
    STUB \n
    .endr

/* Stack on entry: vector, error code, eip, cs, eflags (and esp, ss from
 * ring 3: the CPU switched to the kernel stack in the TSS). The CFI
 * describes it as a signal frame so GDB's backtrace continues into the
 * interrupted code. Every common path starts this way: save the general
 * registers, completing the struct trapframe (kernel/trap.h), then load
 * DS and ES with the flat data segment the kernel runs on: from ring 3
 * they hold whatever the program put there (a null selector, say). */
.macro REGS_CFI
    .cfi_offset %eip, -12
    .cfi_offset %eax, -24
    .cfi_offset %ecx, -28
    .cfi_offset %edx, -32
    .cfi_offset %ebx, -36
    .cfi_offset %ebp, -44
    .cfi_offset %esi, -48
    .cfi_offset %edi, -52
.endm
.macro SAVE_REGS
    pushal
    .cfi_adjust_cfa_offset 32
    REGS_CFI
.endm
/* Entered from ring 3 (or from anywhere, on the full path): the kernel's
 * segments in DS and ES, and the direction flag clear, which compiled C
 * assumes at every call (the System V i386 ABI) and a program may have
 * set (std). The kernel itself never sets it, so from ring 0 it is clear
 * already and the IRQ fast path's ring-0 copy needs none of this. */
.macro LOAD_KERNEL_SEGMENTS
    movl $SEG_UDATA, %eax
    movw %ax, %ds
    movw %ax, %es
    cld
.endm
.macro SAVE_FRAME
    .cfi_startproc simple
    .cfi_signal_frame
    .cfi_def_cfa %esp, 20
    .cfi_offset %eip, -12
    SAVE_REGS
    LOAD_KERNEL_SEGMENTS
.endm

    .globl alltraps
    .type alltraps, @function
alltraps:
    SAVE_FRAME
    pushl %esp                  /* struct trapframe * */
    .cfi_adjust_cfa_offset 4
    call trap
    addl $4, %esp
    .cfi_adjust_cfa_offset -4
    jmp trapret
    .cfi_endproc
    .size alltraps, . - alltraps

/* The IRQ fast path. Its body is written once (IRQ_BODY) and assembled
 * four times, for the two facts known at entry that would otherwise be
 * tested on every interrupt: which chip raised it (how many EOIs), and
 * whether the CPU was in ring 3. From ring 0 (nearly every interrupt)
 * DS and ES already hold the kernel's segment and no kill can wait, so
 * that copy loads no segment and tests nothing on the way out; from ring
 * 3 the copy loads DS and ES (the program may have left anything there)
 * and ends in trap_return_to_user. Each copy is the same code in the same
 * order as trap.c's irq_dispatch: count, handler, EOI, then (and only
 * then) a possible switch.
 *
 * ebx (callee-saved, so it survives the calls) holds the vector; the
 * tables are trap.c's, indexed by IRQ line. The handler runs with
 * interrupts off, as on the full path. sched_preempt (sched_tick_irq on
 * IRQ 0's path) is called with the trapframe right above its return
 * address (no argument pushed: C does not need it), and that is where
 * tools/gdb/ws.py finds it to unwind a preempted thread: every copy lies
 * between irq_first_chip and irq_return_to_user, where ws.py looks (the
 * full path's trap() takes a pointer to it instead). */
.macro IRQ_BODY second_chip, tick
.if \tick
    /* IRQ 0, the PIT's tick: counted, then one C function does the rest
     * in the same order (kernel/sched.c, sched_tick_irq: the handler's
     * work, the EOI, the switch), one prologue where the handler and
     * sched_preempt took two. The line and its chip are constants. */
    addl $1, irq_counts
    adcl $0, irq_counts + 4
    call sched_tick_irq                 /* on top of the trapframe, for ws bt */
.else
    movl 32(%esp), %ebx                 /* struct trapframe's vector */
    incl irq_nesting
    addl $1, irq_counts - 8 * VECTOR_IRQ0(, %ebx, 8)
    adcl $0, irq_counts - 8 * VECTOR_IRQ0 + 4(, %ebx, 8)
    pushl irq_args - 4 * VECTOR_IRQ0(, %ebx, 4)
    .cfi_adjust_cfa_offset 4
    call *irq_handlers - 4 * VECTOR_IRQ0(, %ebx, 4)
    addl $4, %esp
    .cfi_adjust_cfa_offset -4
    decl irq_nesting
    /* The EOI as the controller's driver described it (kernel/irq.h). */
    movb irq_eoi_cmd, %al
.if \second_chip
    movw irq_eoi_port_second, %dx       /* a second chip's line: both chips */
    outb %al, %dx
.endif
    movw irq_eoi_port, %dx
    outb %al, %dx
    cmpl $0, need_resched
    je 9f
    call sched_preempt                  /* on top of the trapframe, for ws bt */
9:
.endif
.endm

/* One chip's entry: the frame, the ring test, then the two copies. */
.macro IRQ_PATH name, second_chip, tick=0
    .globl \name
    .type \name, @function
\name:
    .cfi_startproc simple
    .cfi_signal_frame
    .cfi_def_cfa %esp, 20
    .cfi_offset %eip, -12
    SAVE_REGS
    testb $RING_MASK, TF_CS(%esp)
    jnz 1f
#ifndef WS_NO_ASSERT
    /* What this copy relies on: from ring 0, DS and ES are the kernel's
     * (vector128 turns interrupts on only once it has loaded them). */
    movw %ds, %ax
    cmpw $SEG_UDATA, %ax
    jne irq_bad_segments
    movw %es, %ax
    cmpw $SEG_UDATA, %ax
    jne irq_bad_segments
#endif
    IRQ_BODY \second_chip, \tick
    jmp trapret
1:  LOAD_KERNEL_SEGMENTS                /* from ring 3 */
    IRQ_BODY \second_chip, \tick
    jmp irq_return_to_user
    .cfi_endproc
    .size \name, . - \name
.endm

    IRQ_PATH irq_first_chip, 0
    IRQ_PATH irq_second_chip, 1
    IRQ_PATH irq_tick, 0, 1

#ifndef WS_NO_ASSERT
/* An IRQ from ring 0 found a segment register that is not the kernel's:
 * load ours and panic, naming what was there (ax holds it). */
    .type irq_bad_segments, @function
irq_bad_segments:
    .cfi_startproc simple
    .cfi_signal_frame
    .cfi_def_cfa %esp, 52
    REGS_CFI
    movzwl %ax, %eax
    movl $SEG_UDATA, %edx
    movw %dx, %ds
    movw %dx, %es
    pushl %eax
    .cfi_adjust_cfa_offset 4
    call trap_bad_segments
    .cfi_endproc
    .size irq_bad_segments, . - irq_bad_segments
#endif

/* The way out of every path. To ring 3 after an IRQ, a process killed
 * meanwhile ends in trap_return_to_user instead of returning. */
    .globl irq_return_to_user
    .type irq_return_to_user, @function
irq_return_to_user:
    .cfi_startproc simple
    .cfi_signal_frame
    .cfi_def_cfa %esp, 52
    REGS_CFI
    pushl %esp
    .cfi_adjust_cfa_offset 4
    call trap_return_to_user
    addl $4, %esp
    .cfi_adjust_cfa_offset -4
    .globl trapret
trapret:
    popal
    .cfi_adjust_cfa_offset -32
    addl $8, %esp               /* vector and error code */
    .cfi_adjust_cfa_offset -8
    iret
    .cfi_endproc
    .size irq_return_to_user, . - irq_return_to_user

/* int 0x80 from ring 3 (the gate's privilege is 3): a system call, number
 * in eax, arguments in ebx, ecx, edx, esi, edi; syscall() in syscall.c
 * puts the result in the frame's eax. The gate is an interrupt gate, so
 * the CPU enters with interrupts off, and they go back on (sti) only once
 * DS and ES hold the kernel's segment: the IRQ fast path from ring 0
 * trusts them and loads neither, and a program may have left a null
 * selector there. From then on a system call is preempted like any
 * thread. */
    .globl vector128
    .type vector128, @function
vector128:
    pushl $0
    pushl $VECTOR_SYSCALL
    SAVE_FRAME
    /* A yield, the most frequent call between processes, keeps interrupts
     * off: it turns them off for the switch anyway, and the iret into the
     * next thread gives back its own. Below (1:) it does what syscall()
     * does for every call, in the same order, with no table and no C
     * frame around the switch. */
    cmpl $SYS_YIELD_NR, TF_EAX(%esp)
    je 1f
2:  sti
    movl %esp, %eax             /* syscall(tf), its argument in eax (regparm) */
    call syscall
    jmp trapret
1:  movl current, %eax
    movl THREAD_PROC(%eax), %ebx    /* p = current->proc: ebx survives the call */
    testl %ebx, %ebx
    jz 2b                       /* a kernel thread's int 0x80: syscall() says -E_NOSYS */
    incl PROC_SYSCALLS(%ebx)    /* p->syscalls++ */
    call thread_yield_irqs_off
    movl $0, TF_EAX(%esp)       /* yield's result */
    cmpb $0, PROC_KILLED(%ebx)
    je trapret
    call syscall_killed         /* p->killed: it ends here, never returns */
    .cfi_endproc
    .size vector128, . - vector128

    .section .rodata
    .balign 4
    .globl trap_vectors
trap_vectors:
    .long vector0, vector1, vector2, vector3, vector4, vector5, vector6, vector7
    .long vector8, vector9, vector10, vector11, vector12, vector13, vector14, vector15
    .long vector16, vector17, vector18, vector19, vector20, vector21, vector22, vector23
    .long vector24, vector25, vector26, vector27, vector28, vector29, vector30, vector31
    .long vector32, vector33, vector34, vector35, vector36, vector37, vector38, vector39
    .long vector40, vector41, vector42, vector43, vector44, vector45, vector46, vector47
