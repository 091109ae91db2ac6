/* events [sleep MS]: checks the wait-for-events call on each source it
 * can reach without a keyboard, from ring 3: the timeout, a one-shot and
 * a periodic timer, a child's exit. Exits with a bit per failed check
 * (0: all passed). The console source: tests/scenarios/test_ring3.py with
 * evecho. `events sleep MS` only sleeps (the kill tests). */
#include "user/ring3/lib/ulib.h"

#define MS 1000000ull                  /* ns */

static uint64_t since(uint64_t t0) { return clock_ns() - t0; }

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
        int ms = 1000000;
        if (argc > 2 && parse_int("events", "MS", argv[2], 0, 1000000000, &ms) < 0)
            return 1;
        int r = sleep_ms((uint32_t)ms);
        printf("events: sleep returned %d\n", r);
        return r == 0 ? 0 : 3;
    }
    int fails = 0, r, code = -1;
    uint64_t t0 = clock_ns();
    r = wait_events(EV_CHILD | EV_TIMER, 20);          /* nothing armed, no child */
    if (r != 0 || since(t0) < 20 * MS)
        fails |= 1;
    printf("events: timeout 20 ms: %d after %u us\n", r, (unsigned)(since(t0) / 1000));

    timer_set(10, 0);
    t0 = clock_ns();
    r = wait_events(EV_TIMER, 1000);
    if (r != EV_TIMER || since(t0) < 10 * MS || since(t0) > 500 * MS)
        fails |= 2;
    printf("events: one-shot timer 10 ms: %d after %u us\n", r, (unsigned)(since(t0) / 1000));
    if ((r = wait_events(EV_TIMER, 15)) != 0)          /* consumed, not armed again */
        fails |= 4;

    int pid = spawn("exit", "5");
    t0 = clock_ns();
    r = wait_events(EV_CHILD, 1000);
    if (pid < 0 || r != EV_CHILD)
        fails |= 8;
    printf("events: child %d exited: %d after %u us\n", pid, r, (unsigned)(since(t0) / 1000));
    if (wait(pid, &code) != 0 || code != 5)
        fails |= 16;
    if (wait_events(EV_CHILD, 5) != 0 || wait(pid, &code) != -E_CHILD)
        fails |= 32;                                   /* waited for: gone */

    timer_set(5, 5);
    t0 = clock_ns();
    int ticks = 0;
    while (ticks < 4 && wait_events(EV_TIMER, 1000) == EV_TIMER)
        ticks++;
    timer_set(0, 0);
    if (ticks != 4 || since(t0) < 20 * MS)
        fails |= 64;
    printf("events: periodic 5 ms: %d ticks in %u us\n", ticks, (unsigned)(since(t0) / 1000));
    printf("events: %s (failed checks %#x)\n", fails ? "FAILED" : "all passed", fails);
    return fails;
}
