/* syscalls [N]: the crossing, measured from ring 3: N getpid() calls
 * (int 0x80 round trips), then N yield() calls, timed on the kernel's
 * clock; prints ns per call and an @demo line for programs. */
#include "user/ring3/lib/ulib.h"

#define SYSCALLS_N_MAX 10000000        /* some seconds under -icount */

int main(int argc, char **argv)
{
    int n = 100000;
    if (argc > 1 && parse_int("syscalls", "N", argv[1], 1, SYSCALLS_N_MAX, &n) < 0)
        return 1;
    uint64_t t0 = clock_ns();
    for (int i = 0; i < n; i++)
        getpid();
    uint64_t t1 = clock_ns();
    for (int i = 0; i < n; i++)
        yield();
    uint64_t t2 = clock_ns();
    unsigned getpid_ns = (unsigned)((t1 - t0) / n), yield_ns = (unsigned)((t2 - t1) / n);
    printf("syscalls: %d getpid() in %u us: %u ns each; %d yield() %u ns each\n", n,
           (unsigned)((t1 - t0) / 1000), getpid_ns, n, yield_ns);
    printf("@demo syscalls calls=%d getpid_ns=%u yield_ns=%u\n", n, getpid_ns, yield_ns);
    return 0;
}
