/* spin [MS]: a CPU spinner in ring 3. It never makes a system call while
 * it counts, so only the PIT's preemption takes the CPU from it; with MS
 * it stops after that long (reading the clock every 2^20 counts), without
 * it runs until killed (Ctrl-C, kill PID). */
#include "user/ring3/lib/ulib.h"

#define CHECK_MASK 0xFFFFF
#define MS_MAX 3600000                 /* an hour */

int main(int argc, char **argv)
{
    int ms = 0;
    if (argc > 1 && parse_int("spin", "MS", argv[1], 0, MS_MAX, &ms) < 0)
        return 1;
    uint64_t start = clock_ns(), end = start + (uint64_t)ms * 1000000;
    volatile uint32_t count = 0;
    printf("spin: pid %d counts in ring 3%s\n", getpid(), ms ? "" : " until killed");
    for (;;) {
        count++;
        if (ms && (count & CHECK_MASK) == 0 && clock_ns() >= end)
            break;
    }
    printf("spin: counted to %u in %u ms\n", count, (unsigned)((clock_ns() - start) / 1000000));
    return 0;
}
