/* The one sort (<webscale/sort.h>): empty, one value, duplicates, already
 * sorted, reversed, and more values than the largest gap. */
#include <stdint.h>
#include <webscale/sort.h>
#include "tests/host/check.h"

static int sorted(const uint32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (v[i - 1] > v[i])
            return 0;
    return 1;
}

int main(void)
{
    uint32_t one[1] = { 7 };
    sort_u32(one, 0);
    sort_u32(one, 1);
    CHECK(one[0] == 7);

    uint32_t dup[6] = { 3, 1, 3, 0, 1, 0xFFFFFFFFu };
    sort_u32(dup, 6);
    CHECK(sorted(dup, 6) && dup[0] == 0 && dup[5] == 0xFFFFFFFFu && dup[3] == 3);

    static uint32_t big[5000];
    uint64_t sum = 0, sum2 = 0;
    uint32_t x = 12345;
    for (size_t i = 0; i < 5000; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = x >> 8;
        sum += big[i];
    }
    sort_u32(big, 5000);
    for (size_t i = 0; i < 5000; i++)
        sum2 += big[i];
    CHECK(sorted(big, 5000) && sum == sum2);      /* the same values, in order */

    for (size_t i = 0; i < 5000; i++)
        big[i] = (uint32_t)(5000 - i);            /* reversed */
    sort_u32(big, 5000);
    CHECK(sorted(big, 5000) && big[0] == 1 && big[4999] == 5000);
    sort_u32(big, 5000);                          /* already sorted */
    CHECK(sorted(big, 5000) && big[2500] == 2501);
    return check_done("sort");
}
