/* The event loop: one kernel thread that runs callbacks to completion, one
 * at a time, in the spirit of libuv. Timers, watchers on event sources
 * (anything that can say "ready": the console, a NIC), events posted from
 * anywhere (interrupt handlers included), a worker pool for CPU-bound
 * work, and self-measurement (callback running times, timer lag, a
 * detector that names a callback blocking the loop).
 *
 * There is one loop. It runs in the thread "loop", started at boot, among
 * the preempted threads: the PIT can take the CPU from that thread, but
 * never runs another loop callback in the middle of one.
 *
 * Callbacks get a name (the macros below use the function's own name) so
 * that the statistics and the stall report can say who was slow.
 *
 * Contexts: loop_post and loop_source_notify work anywhere, IRQ handlers
 * included. Everything else is for threads and loop callbacks, not for
 * IRQ handlers. */
#ifndef WEBSCALE_LOOP_H
#define WEBSCALE_LOOP_H

#include <stdint.h>
#include <webscale/list.h>
#include "kernel/lib/minheap.h"   /* the timers' heap node: a pure type, no kernel calls */

typedef void (*loop_fn)(void *arg);

#define LOOP_POST_RING 1024          /* queued posts at most; more are counted as lost */
#define LOOP_STALL_MS_DEFAULT 50     /* a callback running longer is reported */
#define LOOP_WORKERS 2               /* threads in the work pool */

/* ---- timers: a binary min-heap, O(log n) start, stop and expiry ---- */

struct loop_timer {
    loop_fn cb;
    void *arg;
    const char *name;
    struct minheap_node node; /* node.key: the next expiry, clock_ns() time;
                                 node.pos: 0 when stopped */
    uint64_t period_ns;       /* 0: one-shot */
    uint64_t last_due_ns;     /* the expiry the current/last call is for */
    uint32_t fired;           /* times the callback ran */
    uint32_t missed;          /* periods skipped because the loop was late */
};

/* Set up a stopped timer; never on an armed one (stop it first): the heap
 * still points at it. */
void loop_timer_init_named(struct loop_timer *t, const char *name, loop_fn cb, void *arg);
#define loop_timer_init(t, cb, arg) loop_timer_init_named((t), #cb, (cb), (arg))
/* Arm (or re-arm) t: first expiry after delay_ns, then every period_ns if
 * nonzero. A periodic timer stays on its grid (start + k * period): if the
 * loop is late by whole periods, they are skipped and counted in missed.
 * Returns 0, or -E_NOMEM if the heap could not grow. */
int loop_timer_start(struct loop_timer *t, uint64_t delay_ns, uint64_t period_ns);
int loop_timer_start_ms(struct loop_timer *t, uint32_t delay_ms, uint32_t period_ms);
/* Disarm; returns 1 if it was armed. Safe from the timer's own callback. */
int loop_timer_stop(struct loop_timer *t);
/* Re-arm a periodic timer one period from now. -E_INVAL if it has none. */
int loop_timer_again(struct loop_timer *t);
int loop_timer_active(const struct loop_timer *t);
/* The next expiry of an armed timer, clock_ns() time. */
static inline uint64_t loop_timer_due_ns(const struct loop_timer *t) { return t->node.key; }

/* ---- event sources and their watchers (level-triggered, like poll) ---- */

/* Something the loop can wait for: input that has arrived, room in an
 * output ring, frames a NIC has received. Whoever owns it defines the
 * source: a name, a readiness test, and a call to loop_source_notify
 * wherever readiness may appear (its ISR, usually). The loop knows
 * nothing else about it. The console's: console_readable and
 * console_writable (<webscale/console.h>, defined in kernel/console.c). */
struct loop_source {
    const char *name;
    /* Nonzero if a watcher's callback would find something to do now.
     * Called by the loop with interrupts off: quick, never sleeps. */
    int (*ready)(void *arg);
    void *arg;
    uint32_t watchers;        /* active watchers on it (the loop counts them) */
    uint32_t notifies;        /* loop_source_notify calls, watched or not */
};

#define LOOP_SOURCE_INIT(name_, ready_, arg_) { .name = (name_), .ready = (ready_), .arg = (arg_) }

/* Any context, IRQ handlers included: src may be ready now. Wakes the
 * loop if a watcher waits for src; with none, one compare. */
void loop_source_notify(struct loop_source *src);

struct loop_watcher {
    struct list_node link;
    struct loop_source *source;
    loop_fn cb;
    void *arg;
    const char *name;
    int active;
    uint32_t calls;
};

/* cb runs in every loop iteration in which src is ready, until
 * loop_watch_stop: read (or write) in it until -E_WOULDBLOCK, and stop a
 * writable watcher when there is nothing left to write. w starts zeroed
 * (or stopped). */
void loop_watch_start_named(struct loop_watcher *w, const char *name, struct loop_source *src,
                            loop_fn cb, void *arg);
#define loop_watch_start(w, src, cb, arg) loop_watch_start_named((w), #cb, (src), (cb), (arg))
void loop_watch_stop(struct loop_watcher *w);

/* ---- posting events: any context, no allocation ---- */

/* Queue cb(arg) to run in the loop. 0, or -E_BUSY when the ring of
 * LOOP_POST_RING events is full: the event is dropped and counted. */
int loop_post_named(const char *name, loop_fn cb, void *arg);
#define loop_post(cb, arg) loop_post_named(#cb, (cb), (arg))

/* ---- bridges to threads ---- */

/* Run fn(arg) on a worker thread, then done(arg) in the loop (libuv's
 * uv_queue_work). name is done's, as the loop's statistics show it.
 * 0, or -E_NOMEM. */
int loop_submit_work_named(const char *name, loop_fn fn, void *arg, loop_fn done);
#define loop_submit_work(fn, arg, done) loop_submit_work_named(#done, (fn), (arg), (done))
/* From a thread: run fn(arg) in the loop and sleep until it has run.
 * From a loop callback it just calls fn. -E_INVAL from an IRQ handler. */
int loop_call_and_wait_named(const char *name, loop_fn fn, void *arg);
#define loop_call_and_wait(fn, arg) loop_call_and_wait_named(#fn, (fn), (arg))

/* ---- running ---- */

/* Called each time the loop has nothing to do, just before it blocks. */
void loop_set_idle_hook(loop_fn fn, void *arg);
/* Run until loop_stop. -E_BUSY if another thread is running the loop.
 * Never from a loop callback (an ASSERT says so): callbacks do not nest. */
int loop_run(void);
/* Wait until something is ready, run what is ready, return how many
 * callbacks ran (or -E_BUSY). */
int loop_run_once(void);
/* Make loop_run return after the current callback. */
void loop_stop(void);
/* Start the "loop" thread if nothing runs the loop; 0 or -E_NOMEM. */
int loop_start(void);
/* Stop the "loop" thread and wait until it has ended. */
void loop_shutdown(void);
/* Nonzero inside a loop callback. */
int loop_in_callback(void);

/* ---- measuring ---- */

void loop_set_stall_ms(uint32_t ms);
uint32_t loop_stall_ms(void);

struct loop_stats {
    uint64_t callbacks;              /* run since boot */
    uint64_t busy_ns;                /* time inside callbacks */
    uint64_t since_ns;               /* clock_ns() when counting began */
    uint64_t waits;                  /* times the loop blocked */
    uint32_t timers_pending, watchers, posts_queued, calls_queued, work_pending;
    uint32_t posts, posts_lost;      /* accepted, and dropped because the ring was full */
    uint64_t timer_fires, lag_total_ns;
    uint32_t lag_max_ns, lag_last_ns; /* how late timers fired */
    uint32_t missed_periods;
    uint32_t events_per_s;           /* callbacks in the last whole second */
    uint32_t busy_permille;          /* utilisation in the last whole second */
    uint32_t stalls;                 /* callbacks reported for blocking the loop */
    const char *stall_name;          /* the last one */
    uint64_t stall_ns;               /* how long it had run when detected */
    uint64_t stall_total_ns;         /* how long it ran in the end (0: still running) */
    const char *running;             /* callback running now, or NULL */
};
void loop_get_stats(struct loop_stats *s);
/* Zero the counters (not the queues). */
void loop_reset_stats(void);

struct loop_cb_stats {
    const char *name;
    uint32_t calls;
    uint64_t total_ns, max_ns;
};
/* The callbacks with the longest single run, longest first; returns how
 * many were written. */
int loop_slowest(struct loop_cb_stats *out, int max);

#endif
