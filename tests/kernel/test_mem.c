/* Running out of memory is an error for the caller, never corruption. */
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include "kernel/ktest.h"
#include "kernel/mem.h"

#define BIG (64 * 1024)
#define MAX_BLOCKS 1024

static void test_kmalloc_exhaustion(void)
{
    static void *blocks[MAX_BLOCKS];
    struct mem_stats before, after;
    mem_get_stats(&before);
    KT_ASSERT(kmalloc(64u * 1024 * 1024) == NULL);       /* more than RAM */
    KT_ASSERT(kmalloc(0) == NULL);
    int n = 0;
    while (n < MAX_BLOCKS && (blocks[n] = kmalloc(BIG)) != NULL)
        memset(blocks[n++], 0x5A, BIG);
    /* 32 MiB of RAM holds a few hundred 64 KiB blocks, and then no more. */
    KT_ASSERT(n > 300 && n < MAX_BLOCKS);
    mem_get_stats(&after);
    KT_ASSERT(after.failures >= before.failures + 3);
    KT_ASSERT_EQ(mem_check(), 0);
    /* While memory is short, creating a thread fails cleanly. */
    void *small[64];
    int m = 0;
    while (m < 64 && (small[m] = kmalloc(1024)) != NULL)
        m++;
    /* Stacks are pages from chunks of their own (kpage_alloc): take the
     * ones left in the chunks too. */
    static void *pages[64];
    int k = 0;
    while (k < 64 && (pages[k] = kpage_alloc()) != NULL)
        k++;
    KT_ASSERT(k < 64);
    KT_ASSERT(thread_create("nomem", (thread_fn)kfree, NULL) == NULL);
    for (int i = 0; i < k; i++)
        kpage_free(pages[i]);
    for (int i = 0; i < m; i++)
        kfree(small[i]);
    for (int i = 0; i < n; i++)
        kfree(blocks[i]);
    KT_ASSERT_EQ(mem_check(), 0);
    mem_get_stats(&after);
    KT_ASSERT_EQ(after.used, before.used);
}

static volatile int release;
static void wait_for_release(void *arg)
{
    while (!release)
        thread_sleep_ms(1);
}

/* Make threads until the heap says no; join them all; nothing leaks. */
static void test_thread_exhaustion(void)
{
    static thread_t *t[8192];
    struct mem_stats before, after;
    mem_get_stats(&before);
    release = 0;
    int n = 0;
    while (n < 8192 && (t[n] = thread_create("many", wait_for_release, NULL)) != NULL)
        n++;
    /* Each thread costs a 4 KiB stack plus its struct and two heap headers. */
    KT_ASSERT(n > 5000 && n < 8192);
    kprintf("# %d threads fit in %u bytes of heap: %u bytes each\n", n,
            (unsigned)before.total, (unsigned)((before.total - before.used) / n));
    release = 1;
    for (int i = 0; i < n; i++)
        KT_ASSERT_EQ(thread_join(t[i]), 0);
    mem_get_stats(&after);
    KT_ASSERT_EQ(after.used, before.used);
    KT_ASSERT_EQ(mem_check(), 0);
}

/* memset, memcpy and memmove (kernel/lib/string.c: words with rep, then
 * the bytes left) against a byte loop, for every length to 3 words past
 * a few words and every alignment of both ends, and memmove in both
 * directions over itself; never a byte outside [dst, dst + n). */
#define STR_SPAN 64
static unsigned char str_a[STR_SPAN + 16], str_b[STR_SPAN + 16], str_want[STR_SPAN + 16];

static void str_fill(unsigned char *p, unsigned seed)
{
    for (unsigned i = 0; i < sizeof str_a; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static void test_string_copies(void)
{
    for (unsigned n = 0; n <= STR_SPAN - 8; n++) {
        for (unsigned da = 0; da < 4; da++) {
            for (unsigned sa = 0; sa < 4; sa++) {
                str_fill(str_a, 1);
                str_fill(str_b, 100);
                memcpy(str_want, str_a, sizeof str_want);
                for (unsigned i = 0; i < n; i++)
                    str_want[4 + da + i] = str_b[4 + sa + i];
                KT_ASSERT(memcpy(str_a + 4 + da, str_b + 4 + sa, n) == str_a + 4 + da);
                KT_ASSERT_EQ(memcmp(str_a, str_want, sizeof str_a), 0);

                str_fill(str_a, 1);
                memcpy(str_want, str_a, sizeof str_want);
                for (unsigned i = 0; i < n; i++)
                    str_want[4 + da + i] = 0xC3;
                KT_ASSERT(memset(str_a + 4 + da, 0x1C3, n) == str_a + 4 + da);  /* the byte only */
                KT_ASSERT_EQ(memcmp(str_a, str_want, sizeof str_a), 0);

                /* Overlapping, the destination sa + da bytes either side. */
                for (int dir = -1; dir <= 1; dir += 2) {
                    unsigned char *src = str_a + 8, *dst = src + dir * (int)(sa + da);
                    str_fill(str_a, 3);
                    memcpy(str_want, str_a, sizeof str_want);
                    for (unsigned i = 0; i < n; i++)    /* from an untouched copy */
                        str_want[dst - str_a + i] = str_a[8 + i];
                    KT_ASSERT(memmove(dst, src, n) == dst);
                    KT_ASSERT_EQ(memcmp(str_a, str_want, sizeof str_a), 0);
                }
            }
        }
    }
}

/* strlen (repne scasb) for every length and start: the bytes before the
 * NUL, none after it read as its. */
static void test_string_length(void)
{
    for (unsigned at = 0; at < 4; at++) {
        for (unsigned n = 0; n < 40; n++) {
            str_fill(str_a, 9);
            for (unsigned i = 0; i < n; i++)
                str_a[at + i] |= 1;       /* no NUL before the end */
            str_a[at + n] = 0;
            KT_ASSERT_EQ(strlen((const char *)str_a + at), n);
        }
    }
}

static const struct ktest_case mem_cases[] = {
    { "string_copies", test_string_copies },
    { "string_length", test_string_length },
    { "kmalloc_exhaustion", test_kmalloc_exhaustion },
    { "thread_exhaustion", test_thread_exhaustion },
};
KTEST_SUITE(mem, mem_cases);
