/* The `latency` table's "scaled" column (kernel/lib/scaled.c): the talk's
 * own rows and every unit boundary. */
#include <stdio.h>
#include <string.h>
#include <webscale/measure.h>
#include "tests/host/check.h"

#define SCALED(ms, want)                                                       \
    do {                                                                       \
        char got[64];                                                          \
        int n = measure_fmt_scaled(got, sizeof got, (ms));                     \
        if (strcmp(got, want) != 0 || n != (int)strlen(want)) {                \
            fprintf(stderr, "%s:%d: %llu ms: want \"%s\", got \"%s\" (%d)\n",  \
                    __FILE__, __LINE__, (unsigned long long)(ms), want, got, n); \
            check_failures++;                                                  \
        }                                                                      \
    } while (0)

#define S 1000ull
#define MIN (60 * S)
#define H (60 * MIN)
#define DAY (24 * H)

int main(void)
{
    /* the talk: 1 cycle = 0.4 ns = 1 s */
    SCALED(1000, "1.0 s");
    SCALED(2250, "2.3 s");              /* L1: 0.9 ns, halves round up */
    SCALED(250 * S, "4 min 10 s");      /* memory: ~100 ns */
    SCALED(75000 * S, "20 h 50 min");   /* context switch ~30 us, "~1 day" */
    SCALED(162500 * S, "1 day 21 h");   /* SSD 65 us */
    SCALED(5ull * 365 * DAY, "4 years");  /* 365-day years are a bit short of 5 * 365.25 */
    SCALED(352500000ull * S, "11 years"); /* SFO to HK: 141 ms */
    /* sub-second and rounding */
    SCALED(0, "0.0 s");
    SCALED(40, "< 0.1 s");
    SCALED(50, "0.1 s");
    SCALED(400, "0.4 s");
    SCALED(9949, "9.9 s");
    SCALED(9999, "10.0 s");
    /* boundaries */
    SCALED(10 * S, "10 s");
    SCALED(59 * S + 999, "59 s");
    SCALED(MIN, "1 min");
    SCALED(3 * MIN + 20 * S, "3 min 20 s");
    SCALED(H - 1, "59 min 59 s");
    SCALED(H, "1 h");
    SCALED(5 * H + 33 * MIN + 59 * S, "5 h 33 min");
    SCALED(DAY, "1 day");
    SCALED(DAY + 4 * H, "1 day 4 h");
    SCALED(2 * DAY, "2 days");
    SCALED(10 * DAY, "10 days");
    SCALED(60 * DAY, "60 days");
    SCALED(61 * DAY, "2 months");
    SCALED(730 * DAY, "23 months");
    SCALED(731 * DAY, "2 years");
    SCALED(~0ull, "584542046 years");
    /* a short buffer is cut, never overrun, and the length is still reported */
    char small[4];
    int n = measure_fmt_scaled(small, sizeof small, 3 * MIN + 20 * S);
    CHECK(n == 10 && strcmp(small, "3 m") == 0);
    return check_done("scaled");
}
