/* The entry points of all 48 interrupt vectors and the two common paths.
 *
 * Each entry point makes the stack look the same (a fake error code where the CPU
 * pushes none, then the vector number). Exceptions, and the two IRQ lines
 * that can be spurious (7 and 15), jump to alltraps, which saves the
 * general registers and calls trap(struct trapframe *) in trap.c: the full
 * path, with the exception report. Every other IRQ takes irqentry, the
 * fast path: the same frame, then straight to the handler table, the EOI
 * and the resched test inline, in trap.c's order (handler, EOI, switch).
 * [Intel SDM vol. 3A, 6.13 "Error code"; 6.15 table 6-1 for which vectors
 * push one] */

#include "boot/gdt.h"

#define VECTOR_IRQ0 32      /* IRQ_VECTOR_BASE (kernel/irq.h) */
#define VECTOR_SYSCALL 128  /* int 0x80: T_SYSCALL (kernel/trap.h) */
#define TF_CS 44            /* offsetof(struct trapframe, cs), checked in trap.c */

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
    /* IRQ 0-15, remapped by the PIC to vectors 32-47; 7 and 15 can be
     * spurious, and trap.c's irq_dispatch asks the PIC about them. */
.macro IRQ_STUB n
    .globl vector\n
vector\n:
    pushl $0
    pushl $\n
    jmp irqentry
.endm
    .irp n, 32,33,34,35,36,37,38,40,41,42,43,44,45,46
    IRQ_STUB \n
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
.macro SAVE_FRAME
    .cfi_startproc simple
    .cfi_signal_frame
    .cfi_def_cfa %esp, 20
    .cfi_offset %eip, -12
    pushal
    .cfi_adjust_cfa_offset 32
    .cfi_offset %eax, -24
    .cfi_offset %ecx, -28
    .cfi_offset %edx, -32
    .cfi_offset %ebx, -36
    .cfi_offset %ebp, -44
    .cfi_offset %esi, -48
    .cfi_offset %edi, -52
    movl $SEG_UDATA, %eax
    movw %ax, %ds
    movw %ax, %es
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

/* The IRQ fast path. ebx (callee-saved, so it survives the calls) holds
 * the vector; the tables are trap.c's, indexed by IRQ line. The handler
 * runs with interrupts off, as on the full path. tools/gdb/ws.py unwinds
 * a preempted thread through the word above sched_preempt's return
 * address, the trapframe pointer pushed for it here as on the full path. */
    .globl irqentry
    .type irqentry, @function
irqentry:
    SAVE_FRAME
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
    cmpl irq_eoi_second_vector, %ebx
    jb 1f
    movw irq_eoi_port_second, %dx       /* a second chip's line: both chips */
    outb %al, %dx
1:  movw irq_eoi_port, %dx
    outb %al, %dx
    cmpl $0, need_resched
    je 2f
    pushl %esp                          /* the trapframe, for ws bt */
    .cfi_adjust_cfa_offset 4
    call sched_preempt
    addl $4, %esp
    .cfi_adjust_cfa_offset -4
2:  testb $RING_MASK, TF_CS(%esp)       /* back to ring 3: a kill waits there? */
    jz trapret
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
    .size irqentry, . - irqentry

/* int 0x80 from ring 3 (the gate's privilege is 3): a system call, number
 * in eax, arguments in ebx, ecx, edx, esi, edi; syscall() in syscall.c
 * puts the result in the frame's eax. A trap gate: interrupts stay on. */
    .globl vector128
    .type vector128, @function
vector128:
    pushl $0
    pushl $VECTOR_SYSCALL
    SAVE_FRAME
    pushl %esp
    .cfi_adjust_cfa_offset 4
    call syscall
    addl $4, %esp
    .cfi_adjust_cfa_offset -4
    jmp trapret
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
