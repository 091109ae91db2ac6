/* Processes, the kernel's side: a struct process is an address space (a
 * page directory), a thread that runs the program, and what its parent
 * waits for. One thread per process. */
#ifndef KERNEL_PROCESS_H
#define KERNEL_PROCESS_H

#include <stdint.h>
#include <webscale/list.h>
#include <webscale/process.h>
#include <webscale/sync.h>
#include "boot/gdt.h"
#include "kernel/sched.h"
#include "kernel/vm.h"

/* Pages a process may hold at once: its directory, page table, program,
 * stack and heap. SYS_BRK beyond it gets -E_NOMEM. */
#define PROCESS_PAGE_LIMIT 64
#define PROCESS_KSTACK 8192             /* bytes of kernel stack for each of its threads */
#define PROCESS_THREADS_MAX SYS_THREADS_MAX  /* threads of one process (SYS_THREAD) */

enum process_state { PROC_RUNNING, PROC_ZOMBIE };

struct process {
    int pid;
    char name[PROGRAM_NAME_MAX];
    uint32_t *pgdir;                    /* NULL once its pages went back */
    uint32_t entry, user_esp;           /* where its thread irets to, the first time */
    uint32_t heap_lo, brk;              /* the heap [heap_lo, brk), below USER_GUARD_LO */
    uint32_t pages;                     /* held now, at most page_limit */
    uint32_t base_pages;                /* of them: directory, table, program, stack */
    uint32_t page_limit;
    struct thread *thread;              /* its first thread; NULL once that ended */
    struct thread *threads[PROCESS_THREADS_MAX];  /* the live ones, [0] the first */
    int nthreads;
    uint8_t exiting;                    /* one thread ends them all (process_exit) */
    uint32_t stack_floor;               /* the lowest user stack's guard: the heap ends below */
    struct process *parent;             /* NULL: the kernel (the shell) */
    uint8_t state;                      /* enum process_state */
    volatile uint8_t killed;            /* ends at its next kernel entry or exit */
    int exit_code;
    uint64_t timer_deadline_ns;         /* SYS_TIMER: 0 while disarmed */
    uint64_t timer_period_ns;
    uint32_t syscalls;
    struct list_node all;               /* every process, for ps */
};

/* Every process event a system call may wait for: a child's exit, console
 * input, a kill. Waiters test their own condition (an event count). */
extern struct event process_events;

/* The scheduler's one call on a switch (kernel/sched.c), interrupts off:
 * a thread of a process gets its kernel stack's top in the TSS (where the
 * CPU enters from ring 3) and its page directory in CR3, loaded only if
 * another process's is there. Kernel threads keep whatever CR3 is loaded:
 * the kernel's half is the same in all. */
static inline void process_switch_in(struct thread *next)
{
    struct process *p = next->proc;
    if (p && p->pgdir) {
        kernel_tss.esp0 = (uint32_t)next->stack + next->stack_size;
        vm_load(p->pgdir);
    }
}

void process_init(void);
/* Spawn program name for parent (NULL: the kernel); *out the process. */
int process_spawn(const char *name, const char *args, struct process *parent,
                  struct process **out);
/* The same from an image of size bytes (the loader's tests hand it bad ones). */
int process_spawn_image(const char *name, const uint8_t *image, uint32_t size,
                        const char *args, struct process *parent, struct process **out);
/* Wait until p ended (interruptible: -E_INTR), then free it; its exit code. */
int process_wait(struct process *p, int interruptible);
void process_kill_p(struct process *p);
/* From thread_interrupt_foreground (the console's Ctrl-C; IRQ-safe). */
void process_interrupt_foreground(void);
struct process *process_find(int pid);
/* End the calling process: its children, its pages, then its thread. */
void process_exit(int code) __attribute__((noreturn));
/* From thread_die (interrupts off): t's process has no thread any more. */
void process_thread_died(struct thread *t, int code);
/* The events of mask that are ready for p now (consuming a timer's). */
int process_ready_events(struct process *p, int mask);
/* A second (third, fourth) thread for the calling process (SYS_THREAD):
 * it enters ring 3 at eip on a user stack of its own (below the others',
 * each with a guard page) holding arg1, arg2 as a C call's arguments.
 * Returns its thread id, or -E_NOMEM (no slot, no pages, over the limit). */
int process_thread(struct process *p, uint32_t eip, uint32_t arg1, uint32_t arg2);
/* SYS_THREAD_EXIT: end the calling thread; the last one ends the process. */
void process_thread_exit(void) __attribute__((noreturn));
/* Grow p's heap by incr bytes (SYS_BRK): the old end, or -E_NOMEM when
 * the heap's pages and the others would be more than the limit. The pages
 * are mapped when first touched (process_fault_in). */
int32_t process_brk(struct process *p, int32_t incr);
/* A page fault at va from ring 3 or a system call's pointer check: if va
 * is in p's heap and not mapped yet, map a zeroed page there and return 1
 * (the program goes on); 0 if it is no heap page, -E_NOMEM if the pool is
 * empty. */
int process_fault_in(struct process *p, uint32_t va);

#endif
