/* The double fault's task (trap.c: the IDT's task gate for vector 8).
 *
 * The CPU enters at df_task_entry the first time, on df_tss's own stack,
 * having saved the faulting code's registers in kernel_tss. double_fault()
 * reports and rewrites that saved state; iret then switches back to that
 * task (the CPU set NT and the back link). The next double fault resumes
 * this task after its iret, so the code is a loop. */
    .text
    .globl df_task_entry
    .type df_task_entry, @function
df_task_entry:
    xorl %ebp, %ebp             /* backtraces of this task stop here */
    call double_fault
    iret
    jmp df_task_entry
    .size df_task_entry, . - df_task_entry
