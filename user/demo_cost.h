/* What a demo may conclude from CPU times measured apart, when QEMU runs
 * without -icount and the host's load changes its speed between one
 * measurement and the next ("drift"). Pure arithmetic, no kernel calls:
 * host-tested (tests/host/test_demo_cost.c). */
#ifndef USER_DEMO_COST_H
#define USER_DEMO_COST_H

#include <stdint.h>

/* Two timings of the same work that differ by more than this share of the
 * first did not run at one speed. */
#define DEMO_DRIFT_PERCENT 10

/* 1 if again_ns differs from first_ns by more than DEMO_DRIFT_PERCENT. */
int demo_drifted(uint64_t first_ns, uint64_t again_ns);

/* 1 if any of the n timings others[] of the same work drifted from
 * first_ns. On one core a split of the work over threads is the same
 * work: cpu-vs-io's "4 threads: speed-up 1.11x" beside its "more threads
 * do not help" was QEMU's speed changing, not the threads. */
int demo_drifted_any(uint64_t first_ns, const uint64_t *others, int n);

/* A window's CPU time, split: busy = window minus idle; work = requests x
 * one request's work (timed alone, before); overhead = busy minus work,
 * which holds the switching and everything else. */
struct cpu_split {
    uint64_t busy_ns, work_ns, overhead_ns;
    int possible;   /* 0: the work would leave less than the switching for
                       the overhead, so the work's timing was not this
                       window's speed: overhead_ns is 0, not a figure */
};

void demo_cpu_split(uint64_t window_ns, uint64_t idle_ns, uint64_t requests,
                    uint64_t work_each_ns, uint64_t switching_ns, struct cpu_split *s);

#endif
