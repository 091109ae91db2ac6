/* The dashboard's figures (user/stats.c) in every buffer size and with no
 * heap: a page that does not fit is flagged, never written past its
 * buffer; no heap is -E_NOMEM; neither leaks. */
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include "kernel/ktest.h"
#include "kernel/mem.h"
#include "user/stats.h"

#define GUARD 64                     /* bytes after the buffer that must stay as they were */
#define GUARD_BYTE 0xA5
#define BLOCK (64 * 1024)
#define MAX_BLOCKS 1024

static char page[STATS_JSON_MAX + GUARD];

/* One build into cap bytes of page: the guard intact, the text ended
 * within cap, full exactly when it did not fit. Returns b.len, or 0 if full. */
static size_t build(int (*fill)(struct outbuf *), size_t cap)
{
    memset(page, GUARD_BYTE, sizeof page);
    struct outbuf b;
    outbuf_init(&b, page, cap);
    KT_ASSERT_EQ(fill(&b), 0);
    for (size_t i = cap; i < cap + GUARD; i++)
        KT_ASSERT_EQ((unsigned char)page[i], GUARD_BYTE);
    KT_ASSERT(b.len < cap && page[b.len] == 0);
    return b.full ? 0 : b.len;
}

static void every_size(int (*fill)(struct outbuf *), const char *starts)
{
    struct mem_stats before, after;
    mem_get_stats(&before);
    size_t whole = build(fill, STATS_JSON_MAX);
    KT_ASSERT(whole > 100 && !strncmp(page, starts, strlen(starts)));
    for (size_t cap = 1; cap < whole + 200; cap += cap < 64 ? 1 : 61) {
        size_t got = build(fill, cap);
        KT_ASSERT(cap > whole + 100 ? got > 0 : cap <= whole / 2 ? got == 0 : 1);
    }
    mem_get_stats(&after);
    KT_ASSERT_EQ(after.used, before.used);
}

static void test_json_in_every_size(void) { every_size(stats_json, "{\"version\":1,"); }
static void test_text_in_every_size(void) { every_size(stats_text, "up "); }

/* With the heap used up, both say -E_NOMEM and leave it as it was. */
static void test_no_heap(void)
{
    static void *blocks[MAX_BLOCKS];
    int n = 0;
    while (n < MAX_BLOCKS && (blocks[n] = kmalloc(BLOCK)) != NULL)
        n++;
    void *rest[256];
    int m = 0;
    while (m < 256 && (rest[m] = kmalloc(1024)) != NULL)
        m++;
    struct mem_stats before, after;
    mem_get_stats(&before);
    struct outbuf b;
    outbuf_init(&b, page, STATS_JSON_MAX);
    KT_ASSERT_EQ(stats_json(&b), -E_NOMEM);
    outbuf_init(&b, page, STATS_JSON_MAX);
    KT_ASSERT_EQ(stats_text(&b), -E_NOMEM);
    mem_get_stats(&after);
    KT_ASSERT_EQ(after.used, before.used);
    for (int i = 0; i < m; i++)
        kfree(rest[i]);
    for (int i = 0; i < n; i++)
        kfree(blocks[i]);
    KT_ASSERT_EQ(mem_check(), 0);
}

static const struct ktest_case stats_cases[] = {
    { "json_in_every_size", test_json_in_every_size },
    { "text_in_every_size", test_text_in_every_size },
    { "no_heap", test_no_heap },
};
KTEST_SUITE(stats, stats_cases);
