/* Processes: ring-3 programs in address spaces of their own, as the shell
 * sees them. The programs are ELF images built from user/ring3/ and
 * embedded in the kernel; the kernel's side is kernel/process.c. */
#ifndef WEBSCALE_PROCESS_H
#define WEBSCALE_PROCESS_H

#include <stdint.h>
#include <webscale/syscall.h>

/* Start program name with args (one string of words, may be NULL or "")
 * as a process whose parent is the kernel. Returns its pid, or -E_NOENT
 * (no such program), -E_NOEXEC (a bad image: a message says why),
 * -E_NOMEM, -E_INVAL (args too long). */
int process_start(const char *name, const char *args);
/* Wait for the process pid that process_start made, then free it.
 * Returns 0 with its exit code in *code (EXIT_KILLED if the kernel ended
 * it), -E_CHILD if there is no such process to wait for; if interruptible,
 * -E_INTR once the caller is interrupted (Ctrl-C: the process goes on).
 * An interrupt stays pending until cleared, so the wait after a kill must
 * not be interruptible. */
int process_wait_pid(int pid, int *code, int interruptible);
/* Ask process pid to end (EXIT_KILLED) at its next kernel entry or
 * return to ring 3, interrupting what it waits for. 0 or -E_NOENT. */
int process_kill(int pid);

/* The process a Ctrl-C kills (0: none), as the shell's `spawn` sets it
 * while it waits. The console's Ctrl-C kills it from the interrupt
 * itself, so a ring-3 spinner dies at the next tick even when nothing
 * else can run (`sched coop`): the shell, woken too, only reports it. */
void process_set_foreground(int pid);

/* A snapshot of one process, for ps. */
struct process_info {
    int pid;
    char name[PROGRAM_NAME_MAX];
    int parent;              /* pid, 0: the kernel */
    int thread_id;           /* its first thread, -1 once that has ended */
    int threads;             /* live threads */
    const char *state;       /* "running", "exited" */
    uint32_t pages;          /* pages held: directory, page table, program, heap, stack */
    uint32_t page_limit;
    uint32_t syscalls;       /* system calls made */
    uint64_t cpu_ns;         /* its live threads' */
};
/* Fill at most max entries; returns how many processes there are. */
int process_snapshot(struct process_info *out, int max);

/* The programs embedded in the kernel: the name of the i-th, NULL past the last. */
const char *program_name(int i);

#endif
