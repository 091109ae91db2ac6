/* bench CLOCK WHAT N: the crossing into the kernel, timed from ring 3 for
 * `latency` and `make bench` (kernel/measure_ring3.c spawns it). CLOCK is
 * tsc (rdtsc, cycles: instructions under -icount shift=0) or ns (the
 * kernel's clock). The figure comes back as the exit code, in thousandths
 * of a CLOCK unit per event (< 0: nothing measured):
 *   null N     N getpid() round trips (int 0x80, the kernel, iret), the
 *              cost of the loop and the call to the stub subtracted
 *   switch N   N yield() round trips against a partner: each is two
 *              switches between processes (CR3 reloaded each time)
 *   partner    yields until killed: the other side of switch
 *   tswitch N  the same between two threads of this process: no CR3 load
 *   fault N    N first touches of fresh heap pages: each a page fault
 *              the kernel answers with a zeroed page, minus the same loop
 *              over the pages once mapped (N at most the page limit's) */
#include "user/ring3/lib/ulib.h"

#define PAGE 4096
#define N_MAX 1000000
#define FAULT_N_MAX 65536              /* 256 MiB: n * PAGE still fits sbrk's int32 */

static int tsc;

static uint64_t now(void)
{
    if (!tsc)
        return clock_ns();
    uint64_t v;
    __asm__ volatile("rdtsc" : "=A"(v));
    return v;
}

static int __attribute__((noinline)) no_call(void)
{
    __asm__ volatile("" ::: "memory");
    return 0;
}

static void partner(void *arg)
{
    for (;;)
        yield();
}

int main(int argc, char **argv)
{
    /* Meant for the kernel (kernel/measure_ring3.c), which always passes
     * all three; by hand, a missing or unknown word says how, not just -1. */
    int partner_only = argc == 3 && strcmp(argv[2], "partner") == 0;
    if ((argc != 4 && !partner_only) || (strcmp(argv[1], "tsc") && strcmp(argv[1], "ns")) ||
        (strcmp(argv[2], "null") && strcmp(argv[2], "switch") && strcmp(argv[2], "partner") &&
         strcmp(argv[2], "tswitch") && strcmp(argv[2], "fault"))) {
        printf("usage: bench tsc|ns null|switch|tswitch|fault N, or bench tsc|ns partner\n"
               "  (the figure is the exit code, thousandths of a cycle or ns per event)\n");
        return -1;
    }
    tsc = strcmp(argv[1], "tsc") == 0;
    if (partner_only)
        for (;;)
            yield();
    int n;
    int fault = strcmp(argv[2], "fault") == 0;
    if (parse_int("bench", "N", argv[3], 1, fault ? FAULT_N_MAX : N_MAX, &n) < 0)
        return -1;
    if (strcmp(argv[2], "null") == 0) {
        uint64_t t0 = now();
        for (int i = 0; i < n; i++)
            getpid();
        uint64_t t1 = now();
        for (int i = 0; i < n; i++)
            no_call();
        uint64_t t2 = now();
        int64_t d = (int64_t)(t1 - t0) - (int64_t)(t2 - t1);
        return d > 0 ? (int)(d * 1000 / n) : -1;
    }
    if (strcmp(argv[2], "fault") == 0) {
        volatile char *heap = sbrk(n * PAGE);
        if (heap == (void *)-1)
            return -1;
        uint64_t t0 = now();
        for (int i = 0; i < n; i++)
            heap[i * PAGE] = 1;
        uint64_t t1 = now();
        for (int i = 0; i < n; i++)
            heap[i * PAGE] = 2;
        uint64_t t2 = now();
        int64_t d = (int64_t)(t1 - t0) - (int64_t)(t2 - t1);
        return d > 0 ? (int)(d * 1000 / n) : -1;
    }
    if (strcmp(argv[2], "tswitch") == 0) {
        if (thread_create(partner, 0) < 0)
            return -1;
        argv[2] = "switch";                   /* then the same loop; exit ends the partner */
    }
    if (strcmp(argv[2], "switch") == 0) {
        yield();                          /* the partner has run once: it is ready */
        uint64_t t0 = now();
        for (int i = 0; i < n; i++)
            yield();
        return (int)((now() - t0) * 1000 / (2ull * n));
    }
    return -1;
}
