/* user/demo_cost.h: drift, and a window's CPU time split. */
#include "user/demo_cost.h"

int demo_drifted(uint64_t first_ns, uint64_t again_ns)
{
    uint64_t diff = again_ns > first_ns ? again_ns - first_ns : first_ns - again_ns;
    return diff * 100 > first_ns * DEMO_DRIFT_PERCENT;
}

int demo_drifted_any(uint64_t first_ns, const uint64_t *others, int n)
{
    for (int i = 0; i < n; i++)
        if (demo_drifted(first_ns, others[i]))
            return 1;
    return 0;
}

void demo_cpu_split(uint64_t window_ns, uint64_t idle_ns, uint64_t requests,
                    uint64_t work_each_ns, uint64_t switching_ns, struct cpu_split *s)
{
    s->busy_ns = idle_ns < window_ns ? window_ns - idle_ns : 0;
    s->work_ns = requests * work_each_ns;
    /* The switches ran on this CPU too, and are not the work: work and
     * switching together cannot exceed the busy time. */
    s->possible = s->work_ns + switching_ns <= s->busy_ns;
    s->overhead_ns = s->possible ? s->busy_ns - s->work_ns : 0;
}
