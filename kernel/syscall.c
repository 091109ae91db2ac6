/* System calls: int 0x80 from ring 3 (vectors.S's vector128) lands in
 * syscall(), which calls the table's entry with the trap frame; the
 * arguments are the frame's ebx, ecx, edx (in that order), the result goes
 * back in its eax. Every pointer a program passes is checked against its
 * own page tables first (vm_user_ok: in the user range, mapped, user,
 * writable where the kernel will write): a bad one gets -E_FAULT, and the
 * kernel never touches it. The call runs in the process's thread, on its
 * kernel stack, with its CR3, interrupts on: it may block and be preempted
 * like any kernel thread. ABI: <webscale/syscall.h>. */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/syscall.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/process.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

typedef int32_t (*syscall_fn)(struct process *p, struct trapframe *tf);

/* Both called from vector128 only. syscall takes its frame in eax
 * (regparm), which the entry had free: no push and pop around the call.
 * syscall_killed ends a process killed during its yield. */
void __attribute__((regparm(1))) syscall(struct trapframe *tf);
void syscall_killed(void) __attribute__((noreturn));
/* vector128 does SYS_YIELD itself (the count, the yield, the kill test):
 * what it reads of the structs. */
_Static_assert(__builtin_offsetof(struct trapframe, eax) == 28, "vectors.S's TF_EAX");
_Static_assert(SYS_YIELD == 4, "vectors.S's SYS_YIELD_NR");
_Static_assert(__builtin_offsetof(struct thread, proc) == 0x68, "vectors.S's THREAD_PROC");
_Static_assert(__builtin_offsetof(struct process, syscalls) == 0x70, "vectors.S's PROC_SYSCALLS");
_Static_assert(__builtin_offsetof(struct process, killed) == 0x59, "vectors.S's PROC_KILLED");
_Static_assert(sizeof(((struct process *)0)->killed) == 1, "vectors.S's cmpb of killed");

/* The heap's pages are mapped at their first touch: a buffer there that
 * the program has not touched yet is its memory all the same. */
static int user_ok(struct process *p, uint32_t va, uint32_t len, int write)
{
    if (va >= p->heap_lo && va < p->brk && len <= p->brk - va)
        for (uint32_t pg = PAGE_ROUND_DOWN(va); pg < va + len; pg += PAGE_SIZE)
            if (process_fault_in(p, pg) < 0)
                return 0;
    return vm_user_ok(p->pgdir, va, len, write);
}

/* Copy a NUL-terminated string of at most max bytes (with the NUL) from
 * the program, checking each page as it goes: its length, -E_FAULT, or
 * -E_INVAL if it is longer. */
static int copy_string(struct process *p, char *dst, uint32_t src, uint32_t max)
{
    for (uint32_t i = 0; i < max; i++) {
        if ((i == 0 || ((src + i) & (PAGE_SIZE - 1)) == 0) && !user_ok(p, src + i, 1, 0))
            return -E_FAULT;
        dst[i] = ((const char *)src)[i];
        if (!dst[i])
            return (int)i;
    }
    return -E_INVAL;
}

static int32_t sys_exit(struct process *p, struct trapframe *tf)
{
    process_exit((int)tf->ebx);
}

static int32_t sys_write(struct process *p, struct trapframe *tf)
{
    if (!user_ok(p, tf->ebx, tf->ecx, 0))
        return -E_FAULT;
    if (tf->edx & IO_NONBLOCK)
        return console_write_nonblock((const void *)tf->ebx, tf->ecx);
    return console_write((const void *)tf->ebx, tf->ecx);
}

static int32_t sys_read(struct process *p, struct trapframe *tf)
{
    if (!user_ok(p, tf->ebx, tf->ecx, 1))
        return -E_FAULT;
    if (tf->ecx == 0)
        return 0;
    if (tf->edx & IO_NONBLOCK)
        return console_read_nonblock((void *)tf->ebx, tf->ecx);
    return console_read((void *)tf->ebx, tf->ecx);
}

static int32_t sys_sleep(struct process *p, struct trapframe *tf)
{
    return thread_sleep_until(clock_ns() + (uint64_t)tf->ebx * NS_PER_MS);
}

/* vector128 does every yield itself; this entry keeps the table whole
 * for anyone who reads it. */
static int32_t sys_yield(struct process *p, struct trapframe *tf)
{
    thread_yield();
    return 0;
}

static int32_t sys_getpid(struct process *p, struct trapframe *tf) { return p->pid; }

static int32_t sys_clock(struct process *p, struct trapframe *tf)
{
    uint64_t ns = clock_ns();
    tf->edx = (uint32_t)(ns >> 32);
    return (int32_t)(uint32_t)ns;
}

static int32_t sys_spawn(struct process *p, struct trapframe *tf)
{
    char name[PROGRAM_NAME_MAX], args[SPAWN_ARGS_MAX] = "";
    int r = copy_string(p, name, tf->ebx, sizeof name);
    if (r >= 0 && tf->ecx)
        r = copy_string(p, args, tf->ecx, sizeof args);
    if (r < 0)
        return r;
    struct process *child;
    return process_spawn(name, args, p, &child);
}

static int32_t sys_wait(struct process *p, struct trapframe *tf)
{
    struct process *c = process_find((int)tf->ebx);
    if (!c || c->parent != p)
        return -E_CHILD;
    if (tf->ecx && !user_ok(p, tf->ecx, sizeof(int), 1))
        return -E_FAULT;
    int code = process_wait(c, 1);
    if (code == -E_INTR)
        return code;
    if (tf->ecx)
        *(int *)tf->ecx = code;    /* still mapped: a process's pages go only when it ends */
    return 0;
}

/* The talk's os.wake_me_if_something_happens(): block until a source of
 * the mask is ready or the timeout passes (0 then). */
static int32_t sys_wait_events(struct process *p, struct trapframe *tf)
{
    int mask = (int)(tf->ebx & EV_ALL);
    uint64_t deadline = tf->ecx == TIMEOUT_NEVER ? TIME_NEVER
                                                 : clock_ns() + (uint64_t)tf->ecx * NS_PER_MS;
    for (;;) {
        uint32_t seen = event_count(&process_events);
        int ready = process_ready_events(p, mask);
        if (ready)
            return ready;
        if (deadline != TIME_NEVER && clock_ns() >= deadline)
            return 0;
        uint64_t until = deadline;
        if ((mask & EV_TIMER) && p->timer_deadline_ns && p->timer_deadline_ns < until)
            until = p->timer_deadline_ns;
        if (event_wait_until(&process_events, seen, until) == -E_INTR)
            return -E_INTR;
    }
}

static int32_t sys_timer(struct process *p, struct trapframe *tf)
{
    p->timer_period_ns = (uint64_t)tf->ecx * NS_PER_MS;
    p->timer_deadline_ns = tf->ebx ? clock_ns() + (uint64_t)tf->ebx * NS_PER_MS : 0;
    return 0;
}

static int32_t sys_brk(struct process *p, struct trapframe *tf)
{
    return process_brk(p, (int32_t)tf->ebx);
}

static int32_t sys_thread(struct process *p, struct trapframe *tf)
{
    if (tf->ebx < USER_BASE || tf->ebx >= USER_TOP)
        return -E_FAULT;               /* it would fault at once, but in the new thread */
    return process_thread(p, tf->ebx, tf->ecx, tf->edx);
}

static int32_t sys_thread_exit(struct process *p, struct trapframe *tf)
{
    process_thread_exit();
}

static const syscall_fn syscalls[SYS_COUNT] = {
    [SYS_EXIT] = sys_exit,
    [SYS_WRITE] = sys_write,
    [SYS_READ] = sys_read,
    [SYS_SLEEP] = sys_sleep,
    [SYS_YIELD] = sys_yield,
    [SYS_GETPID] = sys_getpid,
    [SYS_CLOCK] = sys_clock,
    [SYS_SPAWN] = sys_spawn,
    [SYS_WAIT] = sys_wait,
    [SYS_WAIT_EVENTS] = sys_wait_events,
    [SYS_TIMER] = sys_timer,
    [SYS_BRK] = sys_brk,
    [SYS_THREAD] = sys_thread,
    [SYS_THREAD_EXIT] = sys_thread_exit,
};

void __attribute__((regparm(1))) syscall(struct trapframe *tf)
{
    struct process *p = current->proc;
    /* Only ring 3 runs in a process's thread but outside the kernel, so
     * only a kernel thread can reach this from ring 0. */
    if (!p) {
        tf->eax = (uint32_t)-E_NOSYS;
        return;
    }
    ASSERT(!(read_eflags() & EFLAGS_DF));   /* vector128 cleared it */
    p->syscalls++;
    uint32_t n = tf->eax;
    tf->eax = (uint32_t)(__builtin_expect(n < SYS_COUNT, 1) ? syscalls[n](p, tf) : -E_NOSYS);
    if (p->killed)
        process_exit(EXIT_KILLED);
}

/* The end of a yield (vector128) in a process that was killed meanwhile:
 * as syscall() does, but interrupts are still off there. */
void syscall_killed(void)
{
    sti();
    process_exit(EXIT_KILLED);
}
