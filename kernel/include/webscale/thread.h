/* Kernel threads: each has its own stack and runs until it returns,
 * calls thread_exit, or is killed by a CPU exception. */
#ifndef WEBSCALE_THREAD_H
#define WEBSCALE_THREAD_H

#include <stdint.h>

#define THREAD_NAME_MAX 16          /* bytes, with the NUL */
#define THREAD_STACK_DEFAULT 4096   /* bytes */
#define THREAD_KILLED (-128)        /* exit code of a thread killed by the kernel */

typedef struct thread thread_t;
typedef void (*thread_fn)(void *arg);

enum thread_flags {
    THREAD_DETACHED = 1,   /* nobody joins: freed as soon as it ends */
};

/* Create a runnable thread. NULL if there is no memory for it. */
thread_t *thread_create(const char *name, thread_fn fn, void *arg);
thread_t *thread_create_ex(const char *name, thread_fn fn, void *arg,
                           uint32_t stack_size, unsigned flags);

void thread_exit(int code) __attribute__((noreturn));

/* Wait for t to end and free it; returns its exit code (THREAD_KILLED if
 * a CPU exception or a stack overflow ended it). Each thread is joined
 * at most once. */
int thread_join(thread_t *t);

/* Let the other ready threads run first; returns at once if none is.
 * From a thread (the idle thread, in the kernel, yields its own way). */
void thread_yield(void);
void thread_sleep_ms(uint32_t ms);
void thread_sleep_ns(uint64_t ns);

/* Interruptible sleep until deadline_ns (clock_ns time; TIME_NEVER: until
 * interrupted). Returns 0 at the deadline (at once if it has passed), or
 * -E_INTR as soon as the thread is interrupted, at once if an interrupt is
 * pending. Never early. */
int thread_sleep_until(uint64_t deadline_ns);

/* Interrupt t: its interruptible waits (thread_sleep_until,
 * event_wait_until) end with -E_INTR, and keep doing so until it calls
 * thread_clear_interrupt. Uninterruptible waits (locks, joins, the loop)
 * are not disturbed. IRQ-safe. */
void thread_interrupt(thread_t *t);
int thread_interrupt_pending(void);      /* of the calling thread */
void thread_clear_interrupt(void);

/* The foreground thread is the one a Ctrl-C on the console interrupts: the
 * shell sets itself while it runs a command and NULL after. Setting a
 * thread clears its pending interrupt. */
void thread_set_foreground(thread_t *t);
/* The console calls this when Ctrl-C arrives (IRQ-safe). It also stamps
 * the time, so the shell can say how long a command took to stop. */
void thread_interrupt_foreground(void);
/* clock_ns() at the last thread_interrupt_foreground. */
uint64_t thread_foreground_interrupted_ns(void);
thread_t *thread_foreground(void);       /* NULL when none */

/* Jobs (the shell's `CMD &`, user/jobs.c). A thread may carry a job number
 * (0: none); the threads it creates inherit it, so everything a job starts
 * is known as the job's. The console marks a job's output with it and
 * refuses console reads to a job thread that is not the foreground. */
void thread_set_job(thread_t *t, int job);
int thread_job(const thread_t *t);
/* Nonzero once t has ended (returned, exited or was killed) and until it
 * is joined: thread_join(t) then does not wait. */
int thread_ended(const thread_t *t);

thread_t *thread_current(void);
int thread_id(const thread_t *t);
const char *thread_name(const thread_t *t);

/* A snapshot of one thread, for ps and top. */
struct thread_info {
    int id;
    char name[THREAD_NAME_MAX];
    const char *state;      /* "running", "ready", "blocked", "sleeping", "dead" */
    const char *wait_on;    /* what a blocked thread waits for, or "" */
    uint64_t cpu_ns;
    uint32_t voluntary;     /* switches away because it yielded or blocked */
    uint32_t involuntary;   /* switches away because the timer preempted it */
    uint32_t stack_size;    /* bytes */
    uint32_t stack_used;    /* high-water mark, bytes */
    int is_current;
    int is_idle;
};

/* Fill at most max entries; returns how many threads there are. */
int thread_snapshot(struct thread_info *out, int max);
/* The same without stack_used (0): finding a stack's high-water mark
 * reads all of it with interrupts off (about 230,000 instructions for the
 * boot threads), too much for a dashboard's poll every second. */
int thread_snapshot_counts(struct thread_info *out, int max);

#endif
