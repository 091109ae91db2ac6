/* The min-heap: order, ties in insertion order, removal from the middle,
 * re-keying, a full array, keys that wrap, and 200,000 random operations
 * checked against a plain array searched from end to end. */
#include <stdint.h>
#include "kernel/lib/minheap.h"
#include "tests/host/check.h"

#define N 64

/* Every node sits where it says, and no child leaves before its parent. */
static int heap_ok(const struct minheap *h)
{
    for (uint32_t i = 0; i < h->n; i++) {
        if (h->slot[i]->pos != i + 1)
            return 0;
        if (i > 0 && minheap_before(h->slot[i], h->slot[(i - 1) / 2]))
            return 0;
    }
    return 1;
}

static void test_order_and_ties(void)
{
    static const uint64_t keys[] = { 50, 10, 30, 20, 40, 10, 5, 25, 10 };
    static const int expect[] = { 6, 1, 5, 8, 3, 7, 2, 4, 0 };   /* the 10s in insertion order */
    struct minheap_node *slots[16], nodes[9] = { { 0 } };
    struct minheap h;
    minheap_init(&h, slots, 16);
    CHECK(minheap_min(&h) == NULL && minheap_pop(&h) == NULL);
    for (int i = 0; i < 9; i++) {
        CHECK(!minheap_linked(&nodes[i]));
        CHECK(minheap_insert(&h, &nodes[i], keys[i]) == 0);
        CHECK(minheap_linked(&nodes[i]));
    }
    CHECK(heap_ok(&h) && h.n == 9);
    for (int i = 0; i < 9; i++) {
        struct minheap_node *x = minheap_pop(&h);
        CHECK(x == &nodes[expect[i]]);
        CHECK(x && !minheap_linked(x));
        CHECK(heap_ok(&h));
    }
    CHECK(h.n == 0 && minheap_pop(&h) == NULL);
}

static void test_remove_and_update(void)
{
    struct minheap_node *slots[N], nodes[N] = { { 0 } }, stranger = { 0 };
    struct minheap h, other;
    struct minheap_node *other_slots[1];
    minheap_init(&h, slots, N);
    minheap_init(&other, other_slots, 1);
    for (int i = 0; i < N; i++)
        CHECK(minheap_insert(&h, &nodes[i], (uint64_t)(i * 37 % N)) == 0);
    CHECK(minheap_insert(&h, &stranger, 1) == -1);          /* full */
    CHECK(h.n == N && !minheap_linked(&stranger));

    /* Out of the middle, and a node that is in no heap or in another. */
    CHECK(minheap_remove(&h, &nodes[10]) == 0 && !minheap_linked(&nodes[10]));
    CHECK(minheap_remove(&h, &nodes[10]) == -1);
    CHECK(minheap_remove(&h, &stranger) == -1);
    CHECK(minheap_insert(&other, &stranger, 0) == 0);
    CHECK(minheap_remove(&h, &stranger) == -1 && h.n == N - 1);
    CHECK(heap_ok(&h));

    /* The last node removed is the easy case. */
    struct minheap_node *last = h.slot[h.n - 1];
    CHECK(minheap_remove(&h, last) == 0 && heap_ok(&h));

    /* Re-key to the front, to the back, and to an equal key: behind it. */
    struct minheap_node *x = h.slot[h.n - 1];
    minheap_update(&h, x, 0);
    CHECK(heap_ok(&h));
    CHECK(minheap_min(&h) != x);            /* key 0 was there first */
    minheap_update(&h, minheap_min(&h), 1000);
    CHECK(heap_ok(&h) && minheap_min(&h) == x);
    minheap_update(&h, x, 1000);
    CHECK(heap_ok(&h) && minheap_min(&h) != x);

    /* Growing moves every node, and they still know their slots. */
    struct minheap_node *bigger[2 * N];
    CHECK(minheap_move(&h, bigger, 2 * N) == slots);
    CHECK(heap_ok(&h) && h.cap == 2 * N);
    CHECK(minheap_insert(&h, &nodes[10], 5) == 0 && heap_ok(&h));
}

/* Keys compared by distance: just past the wrap is after just before it. */
static void test_wrap(void)
{
    struct minheap_node *slots[4], a = { 0 }, b = { 0 }, c = { 0 };
    struct minheap h;
    minheap_init(&h, slots, 4);
    CHECK(minheap_insert(&h, &a, 5) == 0);                  /* after the wrap */
    CHECK(minheap_insert(&h, &b, UINT64_MAX - 5) == 0);
    CHECK(minheap_insert(&h, &c, UINT64_MAX) == 0);
    CHECK(minheap_pop(&h) == &b && minheap_pop(&h) == &c && minheap_pop(&h) == &a);

    /* Sequence numbers wrap too: ties still leave in insertion order. */
    h.next_seq = UINT32_MAX - 1;
    for (int i = 0; i < 3; i++)
        CHECK(minheap_insert(&h, i == 0 ? &a : i == 1 ? &b : &c, 7) == 0);
    CHECK(minheap_pop(&h) == &a && minheap_pop(&h) == &b && minheap_pop(&h) == &c);
}

/* ---- random operations against a reference ---- */

static uint32_t seed = 1;
static uint32_t rnd(uint32_t n)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
}

/* The reference: which nodes are in, each with its key and the order of
 * its last insert or re-key; the first is found by looking at all. */
static struct {
    int in;
    uint64_t key;
    uint64_t order;
} ref[N];
static uint64_t ref_clock;

static int ref_first(void)
{
    int best = -1;
    for (int i = 0; i < N; i++)
        if (ref[i].in && (best < 0 || ref[i].key < ref[best].key ||
                          (ref[i].key == ref[best].key && ref[i].order < ref[best].order)))
            best = i;
    return best;
}

static void test_random_against_reference(void)
{
    struct minheap_node *slots[N], nodes[N] = { { 0 } };
    struct minheap h;
    uint32_t mismatches = 0, full_refusals = 0;
    minheap_init(&h, slots, N);
    for (int step = 0; step < 200000; step++) {
        int i = (int)rnd(N);
        uint64_t key = rnd(16);               /* few keys: many ties */
        uint32_t op = rnd(4);
        if ((step / 5000) % 2 == 0 && op != 3 && rnd(4))
            op = 0;                           /* a filling phase: the heap gets full */
        switch (op) {
        case 0:                               /* insert the first node that is out */
            for (int k = 0; k < N && ref[i].in; k++)
                i = (i + 1) % N;
            if (!ref[i].in) {
                CHECK(minheap_insert(&h, &nodes[i], key) == 0);
                ref[i].in = 1;
                ref[i].key = key;
                ref[i].order = ref_clock++;
            }
            break;
        case 1: {                             /* pop */
            int want = ref_first();
            struct minheap_node *got = minheap_pop(&h);
            mismatches += got != (want < 0 ? NULL : &nodes[want]);
            if (got)
                ref[got - nodes].in = 0;      /* in step with the heap, even when wrong */
            break;
        }
        case 2:                               /* remove any */
            CHECK(minheap_remove(&h, &nodes[i]) == (ref[i].in ? 0 : -1));
            ref[i].in = 0;
            break;
        case 3:                               /* re-key */
            if (ref[i].in) {
                minheap_update(&h, &nodes[i], key);
                ref[i].key = key;
                ref[i].order = ref_clock++;
            }
            break;
        }
        if (h.n == N) {
            struct minheap_node spare = { 0 };
            full_refusals += minheap_insert(&h, &spare, 0) == -1;
        }
        if (step % 97 == 0)
            CHECK(heap_ok(&h));
        int first = ref_first();
        mismatches += minheap_min(&h) != (first < 0 ? NULL : &nodes[first]);
    }
    CHECK(mismatches == 0);
    CHECK(full_refusals > 0);
    printf("minheap: 200000 random operations on %d nodes, %u disagreements with the "
           "reference; %u inserts into a full heap refused\n", N, mismatches, full_refusals);
}

int main(void)
{
    test_order_and_ties();
    test_remove_and_update();
    test_wrap();
    test_random_against_reference();
    return check_done("minheap");
}
