/* The event loop (see <webscale/loop.h>): the talk's
 *
 *     while True:
 *         tasks = os.wake_me_if_something_happens()   # blocking call
 *         for task in tasks: task.do_callback()
 *
 * made literal. "wake me" is a wait queue: the loop thread sleeps on it
 * when no timer is due, no event is queued and no watched source is ready,
 * and whoever makes something ready wakes it: the PIT tick (loop_tick) for
 * timers, the UART's ISR for serial readiness, loop_post for events, the
 * worker threads for finished work. With the loop asleep and no other
 * thread runnable, the idle thread halts the CPU.
 *
 * One iteration runs, in this order: the timers due when it began (each
 * at most once), the posts queued when it began, the calls from threads
 * and workers, the ready watchers. Work queued by a callback waits for the
 * next iteration, so no source can starve the others.
 *
 * Consistency on one core: every structure an interrupt handler or another
 * thread can touch is changed with interrupts off, for a few instructions. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/time.h>
#include "drivers/uart16550.h"
#include "kernel/clock.h"
#include "kernel/lib/ring.h"
#include "kernel/loop.h"
#include "kernel/sched.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

#if LOOP_POST_RING & (LOOP_POST_RING - 1)
#error "LOOP_POST_RING must be a power of two"
#endif

#define NAME_SLOTS 32           /* callbacks with statistics of their own */
#define HEAP_MIN 64             /* timer slots allocated at first */

struct post_event {
    loop_fn fn;
    void *arg;
    const char *name;
};

/* Something a thread hands to the loop: finished work, or a call. */
struct loop_call {
    struct list_node link;
    loop_fn fn;
    void *arg;
    const char *name;
    loop_fn work;               /* for the worker pool: runs first, on a worker */
    volatile int done;          /* call_and_wait: the loop has run fn */
    struct waitq *waiter;       /* call_and_wait: who sleeps until done */
};

struct name_slot {
    const char *name;
    uint32_t calls;
    uint64_t total_ns, max_ns;
};

static struct {
    /* Who runs the loop, and how it sleeps. */
    struct thread *owner;
    thread_t *thread;               /* the "loop" thread, if started */
    volatile int sleeping;
    uint64_t wake_tick;             /* while sleeping: the tick of the first deadline */
    volatile int stop_req;
    struct waitq wake_q;
    loop_fn idle_hook;
    void *idle_arg;

    /* Posts: many producers (interrupts off), one consumer (the loop). */
    struct post_event ring[LOOP_POST_RING];
    volatile uint32_t post_head, post_tail;

    struct list calls;              /* struct loop_call, FIFO */
    uint32_t ncalls;

    struct loop_timer **heap;       /* min-heap by (due_ns, seq) */
    uint32_t heap_n, heap_cap;
    uint32_t timer_seq;

    struct list watchers;
    uint32_t nwatch[LOOP_SOURCES];

    /* The worker pool. */
    struct list work;
    uint32_t nwork;
    struct semaphore work_sem;
    int workers_started;

    /* The callback running now, for the stall detector in loop_tick. */
    const char *volatile running;
    volatile uint32_t cb_seq;
    uint64_t cb_start;
    uint64_t now;                   /* end of the last callback */
    uint32_t tick_seq, tick_count, stall_ticks;
    uint32_t stall_ms;
    uint64_t stall_ns;
    volatile uint32_t stall_seq;    /* cb_seq of the callback reported last */
    struct semaphore report_sem;

    struct loop_stats st;
    uint64_t win_start, win_busy;
    uint32_t win_events;
    struct name_slot names[NAME_SLOTS];
} L = {
    .wake_q = WAITQ_INIT(L.wake_q, "loop: nothing to do"),
    .calls = LIST_INIT(L.calls),
    .watchers = LIST_INIT(L.watchers),
    .work = LIST_INIT(L.work),
    .stall_ms = LOOP_STALL_MS_DEFAULT,
};

/* Interrupts off. The tick at which loop_tick must wake the sleeping loop
 * for its first timer: computed here, once, so that the PIT handler only
 * compares two numbers. A timer stopped since only wakes the loop early,
 * and it goes back to sleep. */
static void note_first_deadline(void)
{
    ASSERT_IRQS_OFF();
    L.wake_tick = L.heap_n ? clock_tick_at_or_after(L.heap[0]->due_ns) : UINT64_MAX;
}

static void wake_loop(void)
{
    if (L.sleeping)
        waitq_wake_one(&L.wake_q);
}

/* ---- measuring ---- */

static void update_stall_ticks(void)
{
    L.stall_ns = (uint64_t)L.stall_ms * NS_PER_MS;
    uint32_t t = (uint32_t)((uint64_t)L.stall_ms * clock_hz() / 1000);
    L.stall_ticks = t > 1 ? t - 1 : 1;
}

void loop_set_stall_ms(uint32_t ms)
{
    uint32_t f = irq_save();
    L.stall_ms = ms ? ms : 1;
    update_stall_ticks();
    irq_restore(f);
}

uint32_t loop_stall_ms(void) { return L.stall_ms; }

static struct name_slot *name_slot(const char *name)
{
    struct name_slot *s = L.names;
    for (int i = 0; i < NAME_SLOTS && s[i].name; i++)
        if (s[i].name == name)
            return &s[i];
    int i;
    for (i = 0; i < NAME_SLOTS - 1 && s[i].name; i++)
        if (strcmp(s[i].name, name) == 0)
            return &s[i];
    if (!s[i].name)
        s[i].name = i == NAME_SLOTS - 1 ? "(others)" : name;
    return &s[i];
}

static void account(const char *name, uint64_t start, uint64_t end)
{
    uint64_t ran = end - start;
    struct name_slot *s = name_slot(name);
    s->calls++;
    s->total_ns += ran;
    if (ran > s->max_ns)
        s->max_ns = ran;
    L.st.callbacks++;
    L.st.busy_ns += ran;
    L.win_events++;
    L.win_busy += ran;
    if (end - L.win_start >= NS_PER_S) {
        uint64_t len = end - L.win_start;
        L.st.events_per_s = (uint32_t)((uint64_t)L.win_events * NS_PER_S / len);
        L.st.busy_permille = (uint32_t)(L.win_busy * 1000 / len);
        L.win_start = end;
        L.win_events = 0;
        L.win_busy = 0;
    }
}

/* Run one callback, timed, with its name where loop_tick can see it. */
static void run_cb(const char *name, loop_fn fn, void *arg)
{
    L.cb_start = L.now;
    ring_barrier();
    L.cb_seq++;
    L.running = name;
    fn(arg);
    L.running = NULL;
    uint64_t end = clock_ns();
    if (L.stall_seq == L.cb_seq) {
        L.st.stall_total_ns = end - L.cb_start;
        kprintf("loop: callback '%s' returned after %llu ms; the loop was stalled all "
                "that time\n", name, (unsigned long long)(L.st.stall_total_ns / NS_PER_MS));
    }
    account(name, L.cb_start, end);
    L.now = end;
}

void loop_tick(uint64_t tick)
{
    if (L.running) {
        if (L.cb_seq != L.tick_seq) {
            L.tick_seq = L.cb_seq;
            L.tick_count = 0;
            return;
        }
        if (L.stall_seq == L.cb_seq || ++L.tick_count < L.stall_ticks)
            return;
        uint64_t ran = clock_ns() - L.cb_start;
        if (ran < L.stall_ns)
            return;
        L.stall_seq = L.cb_seq;
        L.st.stalls++;
        L.st.stall_name = L.running;
        L.st.stall_ns = ran;
        L.st.stall_total_ns = 0;
        sem_up(&L.report_sem);   /* loopwatch prints, outside the IRQ */
        return;
    }
    if (L.sleeping && tick >= L.wake_tick)
        waitq_wake_one(&L.wake_q);
}

/* Prints the stall reports, so the PIT handler never formats text. It is
 * a preempted thread: it gets the CPU while the guilty callback spins. */
static void loopwatch(void *arg)
{
    for (;;) {
        sem_down(&L.report_sem);
        kprintf("loop: callback '%s' has blocked the loop for %llu ms (limit %u ms): "
                "every other event waits\n",
                L.st.stall_name, (unsigned long long)(L.st.stall_ns / NS_PER_MS), L.stall_ms);
    }
}

void loop_get_stats(struct loop_stats *s)
{
    uint32_t f = irq_save();
    *s = L.st;
    s->timers_pending = L.heap_n;
    s->watchers = L.nwatch[LOOP_SERIAL_READABLE] + L.nwatch[LOOP_SERIAL_WRITABLE];
    s->posts_queued = L.post_head - L.post_tail;
    s->calls_queued = L.ncalls;
    s->work_pending = L.nwork;
    s->running = L.running;
    uint64_t now = clock_ns();
    /* An idle loop updates no window: show the one that is still open. */
    if (now - L.win_start >= 2 * NS_PER_S) {
        s->events_per_s = (uint32_t)((uint64_t)L.win_events * NS_PER_S / (now - L.win_start));
        s->busy_permille = (uint32_t)(L.win_busy * 1000 / (now - L.win_start));
    }
    irq_restore(f);
}

void loop_reset_stats(void)
{
    uint32_t f = irq_save();
    memset(&L.st, 0, sizeof L.st);
    memset(L.names, 0, sizeof L.names);
    L.st.since_ns = L.win_start = clock_ns();
    L.win_events = 0;
    L.win_busy = 0;
    irq_restore(f);
}

int loop_slowest(struct loop_cb_stats *out, int max)
{
    static struct name_slot copy[NAME_SLOTS];
    uint32_t f = irq_save();
    memcpy(copy, L.names, sizeof copy);
    irq_restore(f);
    int n = 0;
    while (n < max) {
        int best = -1;
        for (int i = 0; i < NAME_SLOTS; i++)
            if (copy[i].name && (best < 0 || copy[i].max_ns > copy[best].max_ns))
                best = i;
        if (best < 0)
            break;
        out[n].name = copy[best].name;
        out[n].calls = copy[best].calls;
        out[n].total_ns = copy[best].total_ns;
        out[n].max_ns = copy[best].max_ns;
        copy[best].name = NULL;
        n++;
    }
    return n;
}

/* ---- timers ---- */

/* Wrap-safe: compares the distance, not the raw values. */
static int timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
    int64_t d = (int64_t)(a->due_ns - b->due_ns);
    return d < 0 || (d == 0 && (int32_t)(a->seq - b->seq) < 0);
}

static void heap_set(uint32_t i, struct loop_timer *t)
{
    L.heap[i] = t;
    t->heap_pos = i + 1;
}

static void sift_up(uint32_t i)
{
    struct loop_timer *t = L.heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!timer_before(t, L.heap[parent]))
            break;
        heap_set(i, L.heap[parent]);
        i = parent;
    }
    heap_set(i, t);
}

static void sift_down(uint32_t i)
{
    struct loop_timer *t = L.heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= L.heap_n)
            break;
        if (c + 1 < L.heap_n && timer_before(L.heap[c + 1], L.heap[c]))
            c++;
        if (!timer_before(L.heap[c], t))
            break;
        heap_set(i, L.heap[c]);
        i = c;
    }
    heap_set(i, t);
}

/* Interrupts off. */
static void heap_remove(struct loop_timer *t)
{
    ASSERT_IRQS_OFF();
    uint32_t i = t->heap_pos - 1;
    struct loop_timer *last = L.heap[--L.heap_n];
    t->heap_pos = 0;
    if (last == t)
        return;
    heap_set(i, last);
    sift_up(i);
    sift_down(last->heap_pos - 1);
}

/* Make room for one more timer. Returns with interrupts off (flag in *f)
 * and room guaranteed, or -E_NOMEM with interrupts as they were. */
static int heap_reserve(uint32_t *f)
{
    for (;;) {
        *f = irq_save();
        if (L.heap_n < L.heap_cap)
            return 0;
        uint32_t cap = L.heap_cap;
        irq_restore(*f);
        uint32_t want = cap ? cap * 2 : HEAP_MIN;
        struct loop_timer **p = kmalloc(want * sizeof *p);
        if (!p)
            return -E_NOMEM;
        struct loop_timer **old = p;
        *f = irq_save();
        if (L.heap_cap == cap) {   /* nobody grew it meanwhile */
            if (L.heap_n)
                memcpy(p, L.heap, L.heap_n * sizeof *p);
            old = L.heap;
            L.heap = p;
            L.heap_cap = want;
        }
        irq_restore(*f);
        kfree(old);
    }
}

void loop_timer_init_named(struct loop_timer *t, const char *name, loop_fn cb, void *arg)
{
    memset(t, 0, sizeof *t);
    t->cb = cb;
    t->arg = arg;
    t->name = name ? name : "timer";
}

int loop_timer_start(struct loop_timer *t, uint64_t delay_ns, uint64_t period_ns)
{
    uint32_t f;
    if (heap_reserve(&f) < 0)
        return -E_NOMEM;
    if (t->heap_pos)
        heap_remove(t);
    t->due_ns = clock_ns() + delay_ns;
    t->period_ns = period_ns;
    t->seq = L.timer_seq++;
    heap_set(L.heap_n++, t);
    sift_up(L.heap_n - 1);
    if (L.heap[0] == t)
        note_first_deadline();
    irq_restore(f);
    /* No wake-up needed: the next PIT tick compares the first deadline. */
    return 0;
}

int loop_timer_start_ms(struct loop_timer *t, uint32_t delay_ms, uint32_t period_ms)
{
    return loop_timer_start(t, (uint64_t)delay_ms * NS_PER_MS, (uint64_t)period_ms * NS_PER_MS);
}

int loop_timer_stop(struct loop_timer *t)
{
    uint32_t f = irq_save();
    int was = t->heap_pos != 0;
    if (was)
        heap_remove(t);
    irq_restore(f);
    return was;
}

int loop_timer_again(struct loop_timer *t)
{
    if (!t->period_ns)
        return -E_INVAL;
    return loop_timer_start(t, t->period_ns, t->period_ns);
}

int loop_timer_active(const struct loop_timer *t) { return t->heap_pos != 0; }

/* Interrupts off. The first timer if it is due at now, else NULL; a due
 * periodic timer moves to its next slot on the grid after now. */
static struct loop_timer *timer_take_due(uint64_t now)
{
    if (!L.heap_n)
        return NULL;
    struct loop_timer *t = L.heap[0];
    if ((int64_t)(now - t->due_ns) < 0)
        return NULL;
    t->last_due_ns = t->due_ns;
    if (t->period_ns) {
        uint64_t next = t->due_ns + t->period_ns;
        if ((int64_t)(now - next) >= 0) {
            uint64_t skip = (now - next) / t->period_ns + 1;
            next += skip * t->period_ns;
            t->missed += (uint32_t)skip;
            L.st.missed_periods += (uint32_t)skip;
        }
        t->due_ns = next;
        t->seq = L.timer_seq++;
        sift_down(0);
    } else {
        heap_remove(t);
    }
    return t;
}

static int run_timers(uint64_t now)
{
    int n = 0;
    for (;;) {
        uint32_t f = irq_save();
        struct loop_timer *t = timer_take_due(now);
        irq_restore(f);
        if (!t)
            return n;
        uint32_t lag = (uint32_t)(L.now - t->last_due_ns);
        L.st.timer_fires++;
        L.st.lag_total_ns += lag;
        L.st.lag_last_ns = lag;
        if (lag > L.st.lag_max_ns)
            L.st.lag_max_ns = lag;
        t->fired++;
        run_cb(t->name, t->cb, t->arg);
        n++;
    }
}

/* ---- posts ---- */

int loop_post_named(const char *name, loop_fn cb, void *arg)
{
    uint32_t f = irq_save();
    if (L.post_head - L.post_tail == LOOP_POST_RING) {
        L.st.posts_lost++;
        irq_restore(f);
        return -E_BUSY;
    }
    struct post_event *e = &L.ring[L.post_head & (LOOP_POST_RING - 1)];
    e->fn = cb;
    e->arg = arg;
    e->name = name;
    L.post_head++;
    L.st.posts++;
    wake_loop();
    irq_restore(f);
    return 0;
}

static int run_posts(void)
{
    uint32_t n = L.post_head - L.post_tail;
    for (uint32_t i = 0; i < n; i++) {
        /* Copy out before giving the slot back to the producers. */
        struct post_event e = L.ring[L.post_tail & (LOOP_POST_RING - 1)];
        ring_barrier();
        L.post_tail++;
        run_cb(e.name, e.fn, e.arg);
    }
    return (int)n;
}

/* ---- calls from threads: finished work, call_and_wait ---- */

static void push_call(struct loop_call *c)
{
    uint32_t f = irq_save();
    list_push_back(&L.calls, &c->link);
    L.ncalls++;
    wake_loop();
    irq_restore(f);
}

static int run_calls(void)
{
    uint32_t f = irq_save();
    uint32_t n = L.ncalls;
    irq_restore(f);
    for (uint32_t i = 0; i < n; i++) {
        f = irq_save();
        struct list_node *node = list_pop_front(&L.calls);
        L.ncalls--;
        irq_restore(f);
        struct loop_call *c = container_of(node, struct loop_call, link);
        run_cb(c->name, c->fn, c->arg);
        if (c->waiter) {
            f = irq_save();
            c->done = 1;
            waitq_wake_all(c->waiter);
            irq_restore(f);
        } else {
            kfree(c);      /* a worker's item: its done callback has run */
        }
    }
    return (int)n;
}

static void worker_main(void *arg)
{
    for (;;) {
        sem_down(&L.work_sem);
        uint32_t f = irq_save();
        struct list_node *node = list_pop_front(&L.work);
        L.nwork--;
        irq_restore(f);
        struct loop_call *c = container_of(node, struct loop_call, link);
        c->work(c->arg);
        push_call(c);
    }
}

static int start_workers(void)
{
    uint32_t f = irq_save();
    int started = L.workers_started;
    L.workers_started = 1;
    irq_restore(f);
    if (started)
        return 0;
    sem_init(&L.work_sem, 0, "loop: no work");
    for (int i = 0; i < LOOP_WORKERS; i++) {
        char name[THREAD_NAME_MAX];
        ksnprintf(name, sizeof name, "worker%d", i + 1);
        if (!thread_create_ex(name, worker_main, NULL, THREAD_STACK_DEFAULT, THREAD_DETACHED)) {
            L.workers_started = i > 0;
            return -E_NOMEM;
        }
    }
    return 0;
}

int loop_submit_work_named(const char *name, loop_fn fn, void *arg, loop_fn done)
{
    if (!fn || !done)
        return -E_INVAL;
    if (start_workers() < 0)
        return -E_NOMEM;
    struct loop_call *c = kzalloc(sizeof *c);
    if (!c)
        return -E_NOMEM;
    c->work = fn;
    c->fn = done;
    c->arg = arg;
    c->name = name;
    uint32_t f = irq_save();
    list_push_back(&L.work, &c->link);
    L.nwork++;
    irq_restore(f);
    sem_up(&L.work_sem);
    return 0;
}

int loop_call_and_wait_named(const char *name, loop_fn fn, void *arg)
{
    if (!sched_can_sleep())
        return -E_INVAL;
    if (L.owner == current) {
        fn(arg);
        return 0;
    }
    if (!L.owner)
        return -E_NOENT;
    struct waitq q;
    waitq_init(&q, "loop: call");
    struct loop_call c = { .fn = fn, .arg = arg, .name = name, .waiter = &q };
    push_call(&c);
    uint32_t f = irq_save();
    while (!c.done)
        waitq_sleep(&q);
    irq_restore(f);
    return 0;
}

/* ---- watchers ---- */

static int source_ready(enum loop_source s)
{
    if (s == LOOP_SERIAL_READABLE)
        return uart_rx_available() > 0;
    return uart_tx_space() > 0;
}

/* From the UART's ISR: bytes arrived (1) or output room freed (0). */
static void serial_ready(int readable)
{
    if (L.nwatch[readable ? LOOP_SERIAL_READABLE : LOOP_SERIAL_WRITABLE])
        wake_loop();
}

void loop_watch_start_named(struct loop_watcher *w, const char *name, enum loop_source src,
                            loop_fn cb, void *arg)
{
    loop_watch_stop(w);
    w->source = src;
    w->cb = cb;
    w->arg = arg;
    w->name = name;
    w->calls = 0;
    uint32_t f = irq_save();
    w->active = 1;
    list_push_back(&L.watchers, &w->link);
    L.nwatch[src]++;
    wake_loop();
    irq_restore(f);
}

void loop_watch_stop(struct loop_watcher *w)
{
    uint32_t f = irq_save();
    if (w->active) {
        w->active = 0;
        list_remove(&w->link);
        L.nwatch[w->source]--;
    }
    irq_restore(f);
}

#define WATCH_BATCH 16

static int run_watchers(void)
{
    struct loop_watcher *ready[WATCH_BATCH];
    int n = 0, ran = 0;
    uint32_t f = irq_save();
    struct list_node *pos;
    list_for_each(pos, &L.watchers) {
        struct loop_watcher *w = container_of(pos, struct loop_watcher, link);
        if (n < WATCH_BATCH && source_ready(w->source))
            ready[n++] = w;
    }
    irq_restore(f);
    /* A callback may stop any watcher, so check again just before each. */
    for (int i = 0; i < n; i++) {
        if (!ready[i]->active)
            continue;
        ready[i]->calls++;
        run_cb(ready[i]->name, ready[i]->cb, ready[i]->arg);
        ran++;
    }
    return ran;
}

/* ---- running ---- */

/* Interrupts off. */
static int anything_ready(void)
{
    if (L.stop_req || L.post_head != L.post_tail || L.ncalls)
        return 1;
    if (L.heap_n && (int64_t)(clock_ns() - L.heap[0]->due_ns) >= 0)
        return 1;
    if (L.nwatch[LOOP_SERIAL_READABLE] + L.nwatch[LOOP_SERIAL_WRITABLE]) {
        struct list_node *pos;
        list_for_each(pos, &L.watchers)
            if (source_ready(container_of(pos, struct loop_watcher, link)->source))
                return 1;
    }
    return 0;
}

static int iterate(void)
{
    int hooked = 0;
    for (;;) {
        uint32_t f = irq_save();
        if (anything_ready()) {
            irq_restore(f);
            break;
        }
        if (L.idle_hook && !hooked) {
            irq_restore(f);
            hooked = 1;
            L.now = clock_ns();
            run_cb("idle hook", L.idle_hook, L.idle_arg);
            continue;
        }
        note_first_deadline();
        L.sleeping = 1;
        L.st.waits++;
        waitq_sleep(&L.wake_q);
        L.sleeping = 0;
        irq_restore(f);
    }
    uint64_t now = L.now = clock_ns();
    int n = run_timers(now);
    n += run_posts();
    n += run_calls();
    n += run_watchers();
    return n;
}

static int claim(void)
{
    int r = 0;
    uint32_t f = irq_save();
    if (L.owner && L.owner != current)
        r = -E_BUSY;
    else
        L.owner = current;
    irq_restore(f);
    return r;
}

static void release(void)
{
    uint32_t f = irq_save();
    L.owner = NULL;
    L.stop_req = 0;
    irq_restore(f);
}

int loop_run(void)
{
    if (claim() < 0)
        return -E_BUSY;
    while (!L.stop_req)
        iterate();
    release();
    return 0;
}

int loop_run_once(void)
{
    if (claim() < 0)
        return -E_BUSY;
    int n = iterate();
    release();
    return n;
}

void loop_stop(void)
{
    uint32_t f = irq_save();
    if (L.owner || L.thread) {
        L.stop_req = 1;
        wake_loop();
    }
    irq_restore(f);
}

int loop_in_callback(void) { return L.running != NULL && L.owner == current; }

void loop_set_idle_hook(loop_fn fn, void *arg)
{
    uint32_t f = irq_save();
    L.idle_hook = fn;
    L.idle_arg = arg;
    irq_restore(f);
}

static void loop_thread(void *arg)
{
    loop_run();
}

int loop_start(void)
{
    static int once;
    if (!once) {
        once = 1;
        sem_init(&L.report_sem, 0, "loop: stall reports");
        update_stall_ticks();
        loop_reset_stats();
        uart_set_notify(serial_ready);
        if (!thread_create_ex("loopwatch", loopwatch, NULL, THREAD_STACK_DEFAULT,
                              THREAD_DETACHED))
            return -E_NOMEM;
    }
    if (L.thread || L.owner)
        return 0;
    L.thread = thread_create("loop", loop_thread, NULL);
    return L.thread ? 0 : -E_NOMEM;
}

void loop_shutdown(void)
{
    thread_t *t = L.thread;
    if (!t)
        return;
    loop_stop();
    thread_join(t);
    L.thread = NULL;
}
