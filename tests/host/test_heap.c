/* The first-fit heap: alignment, splitting, merging, exhaustion, bad frees,
 * and a long random run checked block by block after every step. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/heap.h"
#include "tests/host/check.h"

#define ARENA (256 * 1024)

int main(void)
{
    static uint8_t arena[ARENA] __attribute__((aligned(16)));
    struct heap h;

    CHECK(heap_init(&h, arena, 8) == -1);
    CHECK(heap_init(&h, arena, ARENA) == 0);
    CHECK(heap_check(&h) == 0);
    size_t total = h.total;

    void *a = heap_alloc(&h, 1);
    CHECK(h.used == heap_footprint(1));
    void *b = heap_alloc(&h, 100);
    CHECK(h.used == heap_footprint(1) + heap_footprint(100));
    CHECK(heap_footprint(100) == 104 + HEAP_HEADER);   /* 100 rounded to 8, plus the header */
    void *c = heap_alloc_aligned(&h, 4096, 4096);
    CHECK(a && b && c);
    CHECK(((uintptr_t)a & 7) == 0 && ((uintptr_t)b & 7) == 0);
    CHECK(((uintptr_t)c & 4095) == 0);
    CHECK(heap_block_size(b) >= 100);
    memset(a, 0xAA, 1);
    memset(b, 0xBB, 100);
    memset(c, 0xCC, 4096);
    CHECK(heap_check(&h) == 0);

    /* Freeing everything merges back into one block. */
    CHECK(heap_free(&h, b) == 0);
    CHECK(heap_free(&h, a) == 0);
    CHECK(heap_free(&h, c) == 0);
    CHECK(heap_check(&h) == 0);
    CHECK(h.used == 0);
    CHECK(heap_largest_free(&h) == total - HEAP_HEADER);

    /* Bad frees are refused and counted, and change nothing. */
    void *d = heap_alloc(&h, 64);
    CHECK(heap_free(&h, d) == 0);
    CHECK(heap_free(&h, d) == -1);                    /* double free */
    CHECK(heap_free(&h, arena + 3) == -1);            /* not a block */
    CHECK(heap_free(&h, (char *)arena + ARENA + 64) == -1);
    void *e = heap_alloc(&h, 256);
    memset(e, 0, 256);
    CHECK(heap_free(&h, (char *)e + 64) == -1);      /* inside a payload */
    CHECK(heap_free(&h, e) == 0);
    CHECK(h.bad_frees == 4);
    CHECK(heap_check(&h) == 0);

    /* Exhaustion returns NULL; the heap stays whole. */
    CHECK(heap_alloc(&h, ARENA * 2) == NULL);
    CHECK(heap_alloc(&h, 0) == NULL);
    void *blocks[1000];
    int n = 0;
    while (n < 1000 && (blocks[n] = heap_alloc(&h, 1000)) != NULL)
        n++;
    CHECK(n > 200 && n < 1000);
    CHECK(h.failures >= 3);
    CHECK(heap_check(&h) == 0);
    for (int i = 0; i < n; i += 2)
        CHECK(heap_free(&h, blocks[i]) == 0);
    CHECK(heap_alloc(&h, 4000) == NULL);              /* fragmented: no room */
    for (int i = 1; i < n; i += 2)
        CHECK(heap_free(&h, blocks[i]) == 0);
    CHECK(heap_check(&h) == 0 && h.used == 0);

    /* Random alloc/free, aligned or not, checked after every step. */
    void *live[64] = { 0 };
    srand(1);
    for (int step = 0; step < 20000; step++) {
        int i = rand() % 64;
        if (live[i]) {
            CHECK(heap_free(&h, live[i]) == 0);
            live[i] = NULL;
        } else {
            size_t sz = 1 + rand() % 3000;
            live[i] = rand() % 4 ? heap_alloc(&h, sz) : heap_alloc_aligned(&h, sz, 1u << (3 + rand() % 10));
            if (live[i])
                memset(live[i], i, sz);
        }
        if (heap_check(&h) != 0) {
            CHECK(!"heap inconsistent");
            break;
        }
    }
    for (int i = 0; i < 64; i++)
        heap_free(&h, live[i]);
    CHECK(heap_check(&h) == 0 && h.used == 0);
    return check_done("heap");
}
