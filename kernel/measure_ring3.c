/* The costs of crossing into the kernel, for `latency` and `make bench`:
 * a ring-3 program (user/ring3/bench.c) times them on the clock `latency`
 * uses (the TSC if there is one, else the kernel's ns) and returns the
 * figure as its exit code, in thousandths of that unit per event. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/measure.h>
#include <webscale/process.h>
#include <webscale/string.h>
#include <webscale/time.h>
#include "kernel/process.h"

static const char *why_not;

const char *measure_ring3_why_not(void) { return why_not; }

static const char *clock_word(void) { return cpu_has_tsc() ? "tsc" : "ns"; }

/* Run bench with args and wait: its figure, or 0 (why_not says why). */
static uint64_t run_bench(const char *what, uint32_t reps)
{
    char args[48];
    struct process *p;
    ksnprintf(args, sizeof args, "%s %s %u", clock_word(), what, reps);
    int r = process_spawn("bench", args, NULL, &p);
    if (r < 0) {
        why_not = r == -E_NOMEM ? "no memory for a process" : "no bench program";
        return 0;
    }
    int code = process_wait(p, 0);
    if (code <= 0) {
        why_not = "the ring-3 bench program measured nothing";
        return 0;
    }
    why_not = NULL;
    return (uint64_t)code;
}

uint64_t measure_syscall_round_trip(uint32_t reps) { return run_bench("null", reps); }

uint64_t measure_page_fault(uint32_t reps) { return run_bench("fault", reps); }

uint64_t measure_thread_switch(uint32_t reps) { return run_bench("tswitch", reps); }

uint64_t measure_process_switch(uint32_t reps)
{
    struct process *partner;
    char args[16];
    ksnprintf(args, sizeof args, "%s partner", clock_word());
    if (process_spawn("bench", args, NULL, &partner) < 0) {
        why_not = "no memory for a process";
        return 0;
    }
    uint64_t r = run_bench("switch", reps);
    process_kill_p(partner);
    process_wait(partner, 0);
    return r;
}
