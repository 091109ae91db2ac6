/* The scheduler's knobs and counters: round robin, with a time slice
 * enforced by the PIT (preemptive) or not at all (cooperative). */
#ifndef WEBSCALE_SCHED_H
#define WEBSCALE_SCHED_H

#include <stdint.h>

#define SCHED_SLICE_MS_DEFAULT 10
#define SCHED_SLICE_MS_MAX 10000

/* Returns 0, or -E_INVAL when ms is 0 or above SCHED_SLICE_MS_MAX. */
int sched_set_slice_ms(uint32_t ms);
uint32_t sched_slice_ms(void);

/* Preemptive (1, the default) or cooperative (0): in cooperative mode a
 * thread runs until it yields, blocks or ends. */
void sched_set_preemptive(int on);
int sched_preemptive(void);

/* The scheduler's bookkeeping on every switch (1, the default): CPU time,
 * switch counts, the trace record. Off (0), a switch skips all of it, so
 * its cost without bookkeeping is a figure of its own (`latency`, `make
 * bench`); CPU times and switch counts are then not measured, and what
 * they miss is said: sched_stats_off_ns(). */
void sched_set_stats(int on);
int sched_stats(void);
/* How long the bookkeeping has been off since boot, in ns (now included
 * if it is off now): the CPU times in ps add up to uptime less this. */
uint64_t sched_stats_off_ns(void);

enum switch_reason {
    SWITCH_YIELD,      /* thread_yield */
    SWITCH_PREEMPT,    /* the time slice ran out */
    SWITCH_BLOCK,      /* waits for something: lock, sleep, I/O, join */
    SWITCH_EXIT,       /* ended or killed */
    SWITCH_REASONS
};

struct sched_stats {
    uint64_t switches;                    /* all context switches (with stats on) */
    uint64_t by_reason[SWITCH_REASONS];
    uint64_t idle_ns;                     /* time the CPU sat in hlt */
    uint32_t runnable;                    /* threads on the run queue now */
};

void sched_get_stats(struct sched_stats *s);
const char *sched_reason_name(enum switch_reason r);

/* The id of the thread that held the CPU at each of the last
 * SCHED_HISTORY PIT ticks, oldest first; returns the newest tick number. */
#define SCHED_HISTORY 256
uint64_t sched_tick_history(int16_t out[SCHED_HISTORY]);

#endif
