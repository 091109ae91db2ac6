/* The byte ring: wrap-around with free-running indices, full and empty. */
#include <stdint.h>
#include <string.h>
#include "kernel/lib/ring.h"
#include "tests/host/check.h"

int main(void)
{
    uint8_t buf[8];
    struct ring r;
    CHECK(ring_init(&r, buf, 6) == -1);      /* not a power of two */
    CHECK(ring_init(&r, buf, 8) == 0);
    CHECK(ring_empty(&r) && ring_get(&r) == -1);

    for (int i = 0; i < 8; i++)
        CHECK(ring_put(&r, (uint8_t)i) == 0);
    CHECK(ring_full(&r) && ring_put(&r, 99) == -1);
    CHECK(ring_used(&r) == 8 && ring_free(&r) == 0);
    for (int i = 0; i < 8; i++)
        CHECK(ring_get(&r) == i);
    CHECK(ring_empty(&r));

    /* Indices near the 32-bit wrap keep working. */
    r.head = r.tail = 0xFFFFFFFCu;
    uint8_t in[7] = { 1, 2, 3, 4, 5, 6, 7 }, out[7];
    CHECK(ring_write(&r, in, 7) == 7);
    CHECK(ring_used(&r) == 7);
    CHECK(ring_write(&r, in, 7) == 1);        /* only one slot left */
    CHECK(ring_read(&r, out, 7) == 7);
    CHECK(memcmp(in, out, 7) == 0);
    CHECK(ring_get(&r) == 1);
    CHECK(ring_empty(&r));

    /* A long random-ish stream through a small ring arrives intact. */
    uint32_t sent = 0, got = 0, sum_in = 0, sum_out = 0;
    while (got < 100000) {
        while (sent < 100000 && ring_put(&r, (uint8_t)(sent * 7 + 3)) == 0)
            sum_in += (uint8_t)(sent++ * 7 + 3);
        int c;
        for (int k = 0; k < 3 && (c = ring_get(&r)) >= 0; k++, got++)
            sum_out += (uint32_t)c;
    }
    CHECK(sum_in == sum_out);
    return check_done("ring");
}
