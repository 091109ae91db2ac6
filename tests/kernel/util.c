#include <webscale/string.h>
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
