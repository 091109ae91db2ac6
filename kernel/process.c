/* Processes: spawn (an address space, the program loaded into it, a user
 * stack with argc/argv, a thread that irets into ring 3), exit (children,
 * pages, thread), wait, kill, and what ps shows.
 *
 * Lifetime. A process ends in its own thread: process_exit first ends its
 * children (killed and waited for), then gives its pages back (on the
 * kernel's directory, so it never frees the one it runs on), then ends its
 * thread, whose death (thread_die -> process_thread_died) makes it a zombie
 * and signals process_events. Whoever waits for it (its parent, or the
 * shell for the processes it started) frees the struct. A thread that dies
 * another way (a fault in the kernel, a trampled sentinel) leaves its
 * pages to that waiter. */
#include <webscale/console.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/time.h>
#include "kernel/console.h"
#include "kernel/elf.h"
#include "kernel/process.h"
#include "kernel/x86.h"

#define EFLAGS_USER 0x202u           /* interrupts on, bit 1 (always set) */
#define ARGV_MAX 32                  /* words in a program's argv, its name included */

struct event process_events = EVENT_INIT(process_events, "process event");
static struct list all_procs = LIST_INIT(all_procs);
static int next_pid = 1;
static int foreground_pid;                  /* the process Ctrl-C kills, 0: none */

static void console_input_arrived(void) { event_signal(&process_events); }

void process_init(void) { console_set_input_hook(console_input_arrived); }

/* ---- the first instructions of a process ---- */

/* Where a thread enters ring 3 the first time. */
struct uentry {
    uint32_t eip, esp;
};

/* A thread's start (interrupts on, CR3 already its process's: the switch
 * to it loaded it): iret into ring 3 at eip on esp, with interrupts on.
 * DS and ES already hold the ring-3 data segment. */
static void process_enter(void *arg)
{
    struct uentry *u = arg;
    uint32_t entry = u->eip, esp = u->esp;
    kfree(u);
    __asm__ volatile("pushl %0\n\t"       /* ss */
                     "pushl %1\n\t"       /* esp */
                     "pushl %2\n\t"       /* eflags */
                     "pushl %3\n\t"       /* cs */
                     "pushl %4\n\t"       /* eip */
                     "xorl %%eax, %%eax\n\t"
                     "xorl %%ebx, %%ebx\n\t"
                     "xorl %%ecx, %%ecx\n\t"
                     "xorl %%edx, %%edx\n\t"
                     "xorl %%esi, %%esi\n\t"
                     "xorl %%edi, %%edi\n\t"
                     "xorl %%ebp, %%ebp\n\t"
                     "iret"
                     : : "i"(SEG_UDATA), "m"(esp), "i"(EFLAGS_USER), "i"(SEG_UCODE), "m"(entry)
                     : "memory");
    __builtin_unreachable();
}

/* ---- spawn ---- */

/* argc, argv and the words themselves at the top of the user stack, in
 * the i386 System V layout _start expects: esp -> argc, argv[0..argc-1],
 * NULL. Written through the identity map (the page is not loaded yet).
 * Returns the initial esp. */
static uint32_t push_args(struct process *p, const char *name, const char *args)
{
    uint32_t top_page = USER_STACK_TOP - PAGE_SIZE;
    uint8_t *k = (uint8_t *)vm_translate(p->pgdir, top_page);
    uint32_t sp = USER_STACK_TOP, argv[ARGV_MAX];
    int argc = 0;
    char words[PROGRAM_NAME_MAX + SPAWN_ARGS_MAX + 1];
    ksnprintf(words, sizeof words, "%s %s", name, args ? args : "");
    for (char *w = words; *w && argc < ARGV_MAX; ) {
        while (*w == ' ')
            w++;
        if (!*w)
            break;
        char *end = w;
        while (*end && *end != ' ')
            end++;
        size_t len = end - w;
        sp -= len + 1;
        memcpy(k + (sp - top_page), w, len);
        k[sp - top_page + len] = 0;
        argv[argc++] = sp;
        w = *end ? end + 1 : end;
    }
    sp &= ~3u;
    sp -= 4 * (argc + 2);
    uint32_t *u = (uint32_t *)(k + (sp - top_page));
    u[0] = argc;
    for (int i = 0; i < argc; i++)
        u[1 + i] = argv[i];
    u[1 + argc] = 0;
    return sp;
}

static void process_free(struct process *p)
{
    uint32_t f = irq_save();
    list_remove(&p->all);
    uint32_t *pgdir = p->pgdir;
    p->pgdir = NULL;
    if (pgdir && vm_cr3 == (uint32_t)pgdir)
        vm_load(kernel_pgdir);          /* a kernel thread kept it loaded */
    irq_restore(f);
    if (pgdir)
        vm_destroy(pgdir);
    kfree(p);
}

int process_spawn_image(const char *name, const uint8_t *image, uint32_t size,
                        const char *args, struct process *parent, struct process **out)
{
    if (args && strlen(args) >= SPAWN_ARGS_MAX)
        return -E_INVAL;
    struct process *p = kzalloc(sizeof *p);
    if (!p)
        return -E_NOMEM;
    strlcpy(p->name, name, sizeof p->name);
    p->page_limit = PROCESS_PAGE_LIMIT;
    p->parent = parent;
    list_node_init(&p->all);
    p->pgdir = vm_create();
    if (!p->pgdir) {
        kfree(p);
        return -E_NOMEM;
    }
    p->pages = 1;
    char why[64];
    uint32_t entry = 0, end = 0;
    int r = elf_load(p, image, size, &entry, &end, why, sizeof why);
    if (r == -E_NOEXEC)
        kprintf("spawn: '%s' refused: %s\n", name, why);
    for (uint32_t va = USER_STACK_LO; r == 0 && va < USER_STACK_TOP; va += PAGE_SIZE)
        r = vm_map_user(p->pgdir, va, PTE_W, &p->pages);
    if (r == 0 && p->pages > p->page_limit)
        r = -E_NOMEM;
    if (r < 0) {
        process_free(p);
        return r;
    }
    p->heap_lo = p->brk = end;
    p->base_pages = p->pages;
    p->stack_floor = USER_GUARD_LO;
    struct uentry *u = kmalloc(sizeof *u);
    if (!u) {
        process_free(p);
        return -E_NOMEM;
    }
    u->eip = entry;
    u->esp = push_args(p, name, args);

    uint32_t f = irq_save();                 /* the thread must not run before it has p */
    struct thread *t = thread_create_ex(name, process_enter, u, PROCESS_KSTACK, THREAD_DETACHED);
    if (t) {
        t->proc = p;
        p->thread = p->threads[0] = t;
        p->nthreads = 1;
        p->pid = next_pid++;
        list_push_back(&all_procs, &p->all);
    }
    irq_restore(f);
    if (!t) {
        kfree(u);
        process_free(p);
        return -E_NOMEM;
    }
    *out = p;
    return p->pid;
}

/* ---- threads of a process ---- */

/* Thread slot k's user stack: the first's at the top, each next one below
 * the one before and its guard page. */
static uint32_t slot_stack_top(int k)
{
    return USER_STACK_TOP - (uint32_t)k * (USER_STACK_PAGES + 1) * PAGE_SIZE;
}

int process_thread(struct process *p, uint32_t eip, uint32_t arg1, uint32_t arg2)
{
    int k = 1;
    while (k < PROCESS_THREADS_MAX && p->threads[k])
        k++;
    uint32_t top = slot_stack_top(k), lo = top - USER_STACK_PAGES * PAGE_SIZE;
    if (k == PROCESS_THREADS_MAX || p->exiting)
        return -E_NOMEM;
    uint32_t f = irq_save();                /* brk and faults of the other threads wait */
    int r = 0;
    if (lo - PAGE_SIZE < p->stack_floor) {  /* a slot never used: its pages */
        uint32_t heap = (PAGE_ROUND_UP(p->brk) - p->heap_lo) / PAGE_SIZE;
        if (PAGE_ROUND_UP(p->brk) > lo - PAGE_SIZE ||
            p->base_pages + USER_STACK_PAGES + heap > p->page_limit)
            r = -E_NOMEM;
        for (uint32_t va = lo; r == 0 && va < top; va += PAGE_SIZE)
            r = vm_map_user(p->pgdir, va, PTE_W, &p->pages);
        if (r == 0) {
            p->base_pages += USER_STACK_PAGES;
            p->stack_floor = lo - PAGE_SIZE;
        }
    }
    irq_restore(f);
    struct uentry *u = r == 0 ? kmalloc(sizeof *u) : NULL;
    if (!u)
        return r < 0 ? r : -E_NOMEM;
    /* The stack as a call to eip(arg1, arg2) left it: a return address of
     * 0 (the runtime's trampoline never returns), then the arguments. */
    uint32_t *stack = (uint32_t *)(vm_translate(p->pgdir, top - PAGE_SIZE) + PAGE_SIZE);
    stack[-1] = arg2;
    stack[-2] = arg1;
    stack[-3] = 0;
    u->eip = eip;
    u->esp = top - 3 * sizeof(uint32_t);
    f = irq_save();
    struct thread *t = thread_create_ex(p->name, process_enter, u, PROCESS_KSTACK, THREAD_DETACHED);
    if (t) {
        t->proc = p;
        p->threads[k] = t;
        p->nthreads++;
    }
    irq_restore(f);
    if (!t) {
        kfree(u);
        return -E_NOMEM;
    }
    return t->id;
}

void process_thread_exit(void)
{
    struct process *p = current->proc;
    uint32_t f = irq_save();
    int last = p->nthreads == 1 && !p->exiting;
    irq_restore(f);
    if (last)
        process_exit(0);
    thread_exit(0);
}

int process_spawn(const char *name, const char *args, struct process *parent,
                  struct process **out)
{
    const struct program *prog = program_find(name);
    if (!prog)
        return -E_NOENT;
    return process_spawn_image(prog->name, prog->image, prog->size, args, parent, out);
}

/* ---- exit, death, wait, kill ---- */

static struct process *first_child(struct process *p)
{
    struct list_node *pos;
    list_for_each(pos, &all_procs) {
        struct process *c = container_of(pos, struct process, all);
        if (c->parent == p)
            return c;
    }
    return NULL;
}

void process_exit(int code)
{
    struct process *p = current->proc;
    uint32_t f = irq_save();
    if (p->exiting) {                       /* another thread ends the process */
        irq_restore(f);
        thread_exit(code);
    }
    p->exiting = 1;
    p->exit_code = code;
    irq_restore(f);
    /* The other threads first: killed, each ends at its next kernel entry
     * or return to ring 3 (process_thread_died counts them down). */
    process_kill_p(p);
    for (;;) {
        uint32_t seen = event_count(&process_events);
        if (p->nthreads == 1)
            break;
        event_wait(&process_events, seen);
    }
    struct process *c;
    while ((c = first_child(p)) != NULL) {  /* orphans would have nobody to free them */
        process_kill_p(c);
        process_wait(c, 0);
    }
    f = irq_save();
    uint32_t *pgdir = p->pgdir;
    p->pgdir = NULL;                        /* the switch to us loads it no more */
    vm_load(kernel_pgdir);
    irq_restore(f);
    if (pgdir)
        vm_destroy(pgdir);
    p->pages = 0;
    thread_exit(code);
}

void process_thread_died(struct thread *t, int code)
{
    ASSERT_IRQS_OFF();
    struct process *p = t->proc;
    for (int k = 0; k < PROCESS_THREADS_MAX; k++)
        if (p->threads[k] == t)
            p->threads[k] = NULL;
    if (p->thread == t)
        p->thread = NULL;
    if (--p->nthreads == 0) {
        if (!p->exiting)                    /* died without process_exit: its own code */
            p->exit_code = code;
        p->state = PROC_ZOMBIE;
    }
    event_signal(&process_events);
}

int process_wait(struct process *p, int interruptible)
{
    for (;;) {
        uint32_t seen = event_count(&process_events);
        if (p->state == PROC_ZOMBIE)
            break;
        if (!interruptible)
            event_wait(&process_events, seen);
        else if (event_wait_until(&process_events, seen, TIME_NEVER) == -E_INTR)
            return -E_INTR;
    }
    int code = p->exit_code;
    process_free(p);
    return code;
}

void process_kill_p(struct process *p)
{
    uint32_t f = irq_save();
    if (p->state != PROC_ZOMBIE) {
        p->killed = 1;
        for (int k = 0; k < PROCESS_THREADS_MAX; k++)
            if (p->threads[k] && p->threads[k] != current)
                thread_interrupt(p->threads[k]);   /* ends its interruptible wait at once */
    }
    irq_restore(f);
}

struct process *process_find(int pid)
{
    struct list_node *pos;
    list_for_each(pos, &all_procs) {
        struct process *p = container_of(pos, struct process, all);
        if (p->pid == pid)
            return p;
    }
    return NULL;
}

/* ---- events and memory ---- */

int process_ready_events(struct process *p, int mask)
{
    int ready = 0;
    uint32_t f = irq_save();
    if ((mask & EV_CONSOLE) && console_input_ready())
        ready |= EV_CONSOLE;
    if ((mask & EV_TIMER) && p->timer_deadline_ns && clock_ns() >= p->timer_deadline_ns) {
        ready |= EV_TIMER;
        p->timer_deadline_ns = p->timer_period_ns ? p->timer_deadline_ns + p->timer_period_ns : 0;
    }
    if (mask & EV_CHILD) {
        struct list_node *pos;
        list_for_each(pos, &all_procs) {
            struct process *c = container_of(pos, struct process, all);
            if (c->parent == p && c->state == PROC_ZOMBIE)
                ready |= EV_CHILD;
        }
    }
    irq_restore(f);
    return ready;
}

/* Both with interrupts off: a process's threads share its heap. */
int32_t process_brk(struct process *p, int32_t incr)
{
    if (incr < 0)
        return -E_INVAL;
    uint32_t f = irq_save();
    uint32_t old = p->brk, end = old + incr;
    int32_t r = (int32_t)old;
    if ((uint32_t)incr > p->stack_floor - old ||
        p->base_pages + (PAGE_ROUND_UP(end) - p->heap_lo) / PAGE_SIZE > p->page_limit)
        r = -E_NOMEM;
    else
        p->brk = end;
    irq_restore(f);
    return r;
}

int process_fault_in(struct process *p, uint32_t va)
{
    uint32_t f = irq_save();
    int r = 0;
    if (p->pgdir && va >= p->heap_lo && va < PAGE_ROUND_UP(p->brk) &&
        !vm_translate(p->pgdir, va)) {     /* mapped: the fault was about something else */
        r = vm_map_user(p->pgdir, PAGE_ROUND_DOWN(va), PTE_W, &p->pages);
        r = r < 0 ? r : 1;
    }
    irq_restore(f);
    return r;
}

/* ---- the public side (<webscale/process.h>) ---- */

int process_start(const char *name, const char *args)
{
    struct process *p;
    return process_spawn(name, args, NULL, &p);
}

int process_wait_pid(int pid, int *code, int interruptible)
{
    struct process *p = process_find(pid);
    if (!p || p->parent)
        return -E_CHILD;
    int r = process_wait(p, interruptible);
    if (r == -E_INTR)
        return r;
    *code = r;
    return 0;
}

void process_set_foreground(int pid) { foreground_pid = pid; }

void process_interrupt_foreground(void)
{
    uint32_t f = irq_save();
    struct process *p = foreground_pid ? process_find(foreground_pid) : NULL;
    if (p)
        process_kill_p(p);
    irq_restore(f);
}

int process_kill(int pid)
{
    struct process *p = process_find(pid);
    if (!p)
        return -E_NOENT;
    process_kill_p(p);
    return 0;
}

int process_snapshot(struct process_info *out, int max)
{
    int n = 0;
    uint32_t f = irq_save();
    struct list_node *pos;
    list_for_each(pos, &all_procs) {
        struct process *p = container_of(pos, struct process, all);
        if (n < max) {
            struct process_info *i = &out[n];
            i->pid = p->pid;
            strlcpy(i->name, p->name, sizeof i->name);
            i->parent = p->parent ? p->parent->pid : 0;
            i->thread_id = p->thread ? p->thread->id : -1;
            i->threads = p->nthreads;
            i->state = p->state == PROC_ZOMBIE ? "exited" : "running";
            i->pages = p->pages;
            i->page_limit = p->page_limit;
            i->syscalls = p->syscalls;
            i->cpu_ns = 0;
            for (int k = 0; k < PROCESS_THREADS_MAX; k++)
                if (p->threads[k])
                    i->cpu_ns += sched_cpu_ns(p->threads[k]);
        }
        n++;
    }
    irq_restore(f);
    return n;
}
