/* Thread life: create, start, exit, die (thread_die, the one death path),
 * join, interrupt (Ctrl-C reaches the foreground thread here), and what ps
 * shows of them.
 *
 * A new thread's stack is built to look exactly like the stack of a thread
 * that paused inside switch_context, so the first switch to it needs no
 * special case: switch_context pops a zero ebp and "returns" into
 * thread_entry (switch.S), which calls thread_start(fn, arg): it runs fn
 * and then exits. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/time.h>
#include "kernel/mem.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/trace.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

/* multiboot.S: the boot stack, with an unmapped guard page below it. */
extern uint8_t boot_stack[], boot_stack_top[], boot_stack_guard[];

static struct list all_threads = LIST_INIT(all_threads);
/* Threads in thread_join: one queue for all, woken by every death (each
 * joiner tests its own thread again). Joins are rare, and a queue in every
 * struct thread would cost 12 bytes a thread. */
static struct waitq joiners = WAITQ_INIT(joiners, "join");
/* The thread a Ctrl-C interrupts (see thread_set_foreground). */
static struct thread *foreground;
static uint64_t foreground_intr_ns;
static int next_id = 1;
struct thread idle_thread_struct;   /* idle_thread (sched.h) */

#define STACK_MIN 1024      /* bytes asked for at least; every stack is whole pages */
/* thread_init_idle runs on the boot stack it marks: it leaves this many
 * bytes below its frame pointer alone, for its locals and the memset. */
#define IDLE_STACK_MARGIN 256

void thread_start(thread_fn fn, void *arg);   /* called only by thread_entry */
void thread_entry(void);

void thread_start(thread_fn fn, void *arg)
{
    sched_finish_switch();
    sti();
    fn(arg);
    thread_exit(0);
}

/* The stack of a new thread, top down:
 *
 *     arg            <- thread_start's second argument
 *     fn             <- its first argument
 *     eip = thread_entry+1 \  struct context, as switch_context pushed
 *     ebp = 0             /   it <- t->ctx (thread_entry calls thread_start)
 */
struct context *thread_initial_context(uint8_t *stack_top, thread_fn fn, void *arg)
{
    uint32_t *sp = (uint32_t *)stack_top;
    *--sp = (uint32_t)arg;
    *--sp = (uint32_t)fn;
    struct context *c = (struct context *)sp - 1;
    memset(c, 0, sizeof *c);
    c->eip = (uint32_t)thread_entry + THREAD_ENTRY_FIRST;
    return c;
}

void thread_init_idle(void)
{
    struct thread *t = idle_thread;
    t->magic = THREAD_MAGIC;
    t->id = 0;
    strlcpy(t->name, "idle", sizeof t->name);
    trace_thread_created(t->id, t->name);
    t->stack = boot_stack;
    t->stack_size = boot_stack_top - boot_stack;
    t->state = THREAD_RUNNING;
    list_node_init(&t->link);
    list_node_init(&t->timer_link);
    /* Mark the part of the boot stack not yet used, for the high-water mark. */
    uint8_t *esp = (uint8_t *)read_ebp() - IDLE_STACK_MARGIN;
    memset(boot_stack, STACK_FILL, esp - boot_stack);
    *(uint32_t *)boot_stack = STACK_SENTINEL;
    list_push_back(&all_threads, &t->all);
    current = t;
    vm_kernel_unmap((uint32_t)boot_stack_guard);
}

static void stack_free(uint8_t *stack, uint32_t size)
{
    for (uint32_t off = 0; off < size; off += PAGE_SIZE) {
        void *page = vm_kstack_page(stack + off);
        if (page)
            kpage_free(page);
    }
    vm_kstack_release(stack, size);
}

/* A stack of whole pages of heap memory (kpage_alloc), mapped in a stack
 * slot with an unmapped guard page below it: an overflow faults at its
 * first byte below the stack instead of trampling the heap. NULL: no
 * memory, or no slot. */
static uint8_t *stack_alloc(uint32_t size)
{
    uint8_t *stack = vm_kstack_slot(size);
    if (!stack)
        return NULL;
    for (uint32_t off = 0; off < size; off += PAGE_SIZE) {
        void *page = kpage_alloc();
        if (!page) {
            stack_free(stack, size);
            return NULL;
        }
        vm_kstack_set(stack + off, page);
    }
    return stack;
}

thread_t *thread_create_ex(const char *name, thread_fn fn, void *arg,
                           uint32_t stack_size, unsigned flags)
{
    if (!fn || stack_size < STACK_MIN)
        return NULL;
    stack_size = PAGE_ROUND_UP(stack_size);

    struct thread *t = kzalloc(sizeof *t);
    if (!t)
        return NULL;
    uint8_t *stack = stack_alloc(stack_size);
    if (!stack) {
        kfree(t);
        return NULL;
    }
    memset(stack, STACK_FILL, stack_size);
    *(uint32_t *)stack = STACK_SENTINEL;

    t->magic = THREAD_MAGIC;
    strlcpy(t->name, name ? name : "?", sizeof t->name);
    t->stack = stack;
    t->stack_size = stack_size;
    t->flags = (uint8_t)flags;
    t->state = THREAD_NEW;
    list_node_init(&t->link);
    list_node_init(&t->timer_link);
    t->ctx = thread_initial_context(stack + stack_size, fn, arg);

    uint32_t f = irq_save();
    t->job = current ? current->job : 0;    /* a job's helpers belong to it */
    t->id = next_id++;
    trace_thread_created(t->id, t->name);
    list_push_back(&all_threads, &t->all);
    sched_start(t);
    irq_restore(f);
    return t;
}

thread_t *thread_create(const char *name, thread_fn fn, void *arg)
{
    return thread_create_ex(name, fn, arg, THREAD_STACK_DEFAULT, 0);
}

/* ---- death ---- */

void thread_die(struct thread *t, int code)
{
    ASSERT_IRQS_OFF();
    ASSERT(t->magic == THREAD_MAGIC);
    if (t == idle_thread)
        panic("the idle thread tried to exit");
    /* Found overflowed while it exits: it is dead already, but killed. */
    t->exit_code = code;
    if (t->state == THREAD_DEAD)
        return;
    sched_dequeue(t);
    t->state = THREAD_DEAD;
    t->wait_on = NULL;
    if (foreground == t)         /* nothing to interrupt, and it would dangle */
        foreground = NULL;
    if (t->proc)
        process_thread_died(t, code);
    waitq_wake_all(&joiners);
}

/* ---- interrupts: Ctrl-C ---- */

void thread_interrupt(thread_t *t)
{
    uint32_t f = irq_save();
    ASSERT(t->magic == THREAD_MAGIC);
    t->flags |= THREAD_INTR_PENDING;
    if ((t->state == THREAD_BLOCKED || t->state == THREAD_SLEEPING) &&
        (t->wait_flags & WAIT_INTR))
        sched_wake_result(t, -E_INTR);
    irq_restore(f);
}

int thread_interrupt_pending(void) { return (current->flags & THREAD_INTR_PENDING) != 0; }

void thread_clear_interrupt(void)
{
    uint32_t f = irq_save();
    current->flags &= (uint8_t)~THREAD_INTR_PENDING;
    irq_restore(f);
}

void thread_set_foreground(thread_t *t)
{
    uint32_t f = irq_save();
    /* A dead thread is no foreground: thread_die already let it go, and it
     * may be joined and freed any moment now. */
    foreground = t && t->state != THREAD_DEAD ? t : NULL;
    if (foreground)
        t->flags &= (uint8_t)~THREAD_INTR_PENDING;
    irq_restore(f);
}

void thread_interrupt_foreground(void)
{
    foreground_intr_ns = clock_ns();
    if (foreground)
        thread_interrupt(foreground);
    process_interrupt_foreground();
}

uint64_t thread_foreground_interrupted_ns(void) { return foreground_intr_ns; }

thread_t *thread_foreground(void) { return foreground; }

/* ---- jobs ---- */

void thread_set_job(thread_t *t, int job) { t->job = job; }
int thread_job(const thread_t *t) { return t->job; }
int thread_ended(const thread_t *t) { return t->state == THREAD_DEAD; }

/* Interrupts off. The stack is freed after the switch. */
static void __attribute__((noreturn)) thread_end(int code)
{
    ASSERT_IRQS_OFF();
    ASSERT(current->state == THREAD_RUNNING);
    thread_die(current, code);
    schedule(SWITCH_EXIT);
    panic("a dead thread was scheduled");
}

void thread_exit(int code)
{
    cli();
    thread_end(code);
}

void thread_kill_current(void)
{
    if (current->proc)
        process_exit(THREAD_KILLED);   /* the address space goes with it */
    cli();
    thread_end(THREAD_KILLED);
}

void thread_stamp_off_cpu(uint64_t raw)
{
    ASSERT_IRQS_OFF();
    struct list_node *pos;
    list_for_each(pos, &all_threads)
        container_of(pos, struct thread, all)->off_cpu_raw = raw;
}

void thread_reap(struct thread *t)
{
    if (t->magic != THREAD_MAGIC)
        panic("thread_reap: %p is not a live thread (magic %#x)", (void *)t, t->magic);
    stack_free(t->stack, t->stack_size);
    t->stack = NULL;
    if (t->flags & THREAD_DETACHED) {
        list_remove(&t->all);
        t->magic = 0;
        kfree(t);
    }
}

int thread_join(thread_t *t)
{
    if (!t || t->magic != THREAD_MAGIC || t == current || t == idle_thread ||
        (t->flags & THREAD_DETACHED))
        return -E_INVAL;
    uint32_t f = irq_save();
    while (t->state != THREAD_DEAD)
        waitq_sleep(&joiners);
    int code = t->exit_code;
    list_remove(&t->all);
    t->magic = 0;
    irq_restore(f);
    kfree(t);
    return code;
}

thread_t *thread_current(void) { return current; }
int thread_id(const thread_t *t) { return t->id; }
const char *thread_name(const thread_t *t) { return t->name; }

struct thread *thread_by_guard(uint32_t addr)
{
    struct list_node *pos;
    list_for_each(pos, &all_threads) {
        struct thread *t = container_of(pos, struct thread, all);
        if (t->stack && addr >= (uint32_t)t->stack - PAGE_SIZE && addr < (uint32_t)t->stack)
            return t;
    }
    return NULL;
}

void thread_stack_bounds(const struct thread *t, uint32_t *lo, uint32_t *hi)
{
    *lo = (uint32_t)t->stack;
    *hi = (uint32_t)t->stack + t->stack_size;
}

uint32_t thread_stack_used(const struct thread *t)
{
    if (!t->stack)
        return 0;
    uint32_t i = sizeof(uint32_t);   /* skip the sentinel */
    while (i < t->stack_size && t->stack[i] == STACK_FILL)
        i++;
    return t->stack_size - i;
}

static const char *state_name(int s)
{
    switch (s) {
    case THREAD_RUNNING: return "running";
    case THREAD_READY: return "ready";
    case THREAD_BLOCKED: return "blocked";
    case THREAD_SLEEPING: return "sleeping";
    case THREAD_DEAD: return "dead";
    case THREAD_NEW: return "new";
    }
    return "?";
}

/* Both snapshots: the stacks' high-water marks only when asked, since
 * finding one reads the whole stack with interrupts off. */
static int snapshot(struct thread_info *out, int max, int stacks)
{
    int n = 0;
    uint32_t f = irq_save();
    struct list_node *pos;
    list_for_each(pos, &all_threads) {
        struct thread *t = container_of(pos, struct thread, all);
        if (n < max) {
            struct thread_info *i = &out[n];
            i->id = t->id;
            strlcpy(i->name, t->name, sizeof i->name);
            i->state = state_name(t->state);
            i->wait_on = t->wait_on ? t->wait_on : "";
            i->cpu_ns = sched_cpu_ns(t);
            i->voluntary = t->voluntary;
            i->involuntary = t->involuntary;
            i->stack_size = t->stack_size;
            i->stack_used = stacks ? thread_stack_used(t) : 0;
            i->is_current = t == current;
            i->is_idle = t == idle_thread;
        }
        n++;
    }
    irq_restore(f);
    return n;
}

int thread_snapshot(struct thread_info *out, int max) { return snapshot(out, max, 1); }

int thread_snapshot_counts(struct thread_info *out, int max) { return snapshot(out, max, 0); }
