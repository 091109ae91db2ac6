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

void thread_yield(void);
void thread_sleep_ms(uint32_t ms);
void thread_sleep_ns(uint64_t ns);

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

#endif
