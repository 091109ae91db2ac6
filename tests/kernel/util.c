#include <webscale/string.h>
#include <webscale/time.h>
#include "kernel/ktest.h"
#include "tests/kernel/util.h"

int kt_thread_info(int id, struct thread_info *out)
{
    static struct thread_info all[128];
    int n = thread_snapshot(all, 128);
    for (int i = 0; i < n && i < 128; i++) {
        if (all[i].id == id) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

void kt_spin_until(volatile int *flag)
{
    while (!*flag)
        ;
}

void kt_wait_count(volatile uint32_t *count, uint32_t want, uint32_t ms)
{
    uint64_t end = clock_ns() + (uint64_t)ms * NS_PER_MS;
    while (*count < want && clock_ns() < end)
        thread_sleep_ms(1);
    if (*count < want)
        ktest_fail(__FILE__, __LINE__, "count %u, wanted %u within %u ms", *count, want, ms);
}

void kt_heartbeat(void *arg)
{
    struct kt_heartbeat *hb = arg;
    while (!hb->stop) {
        hb->beats++;
        thread_sleep_ms(1);
    }
}
