/* Helpers for the async demos (see demo.h). */
#include <webscale/kprintf.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/demo.h"
#include "user/jobs.h"

DEMO_HOT void demo_spin_ns(uint64_t ns)
{
    uint64_t end = clock_ns() + ns;
    while (clock_ns() < end)
        ;
}

/* Where demo_work's results go, so that no call of it is optimised away. */
volatile uint32_t demo_sink;

DEMO_HOT uint32_t demo_work(uint32_t iterations)
{
    uint32_t h = 2166136261u;           /* FNV-1a offset basis */
    for (uint32_t i = 0; i < iterations; i++)
        h = (h ^ (i & 0xFF)) * 16777619u;
    demo_sink = h;
    return h;
}

/* Time at least CALIBRATE_MIN_NS of work. A short probe can measure 0:
 * the PIT clock ticks in 838 ns steps, and clock_ns stands still for up to
 * a PIT period when the counter wraps before its interrupt is raised (it is
 * kept monotonic). 100000 iterations once measured 0 ns that way, and
 * cpu-vs-io 300 then asked for 3,948,404,736 iterations: minutes, not 300 ms. */
#define CALIBRATE_MIN_NS (5 * NS_PER_MS)

uint32_t demo_calibrate(uint32_t ms)
{
    uint32_t probe = 10000;
    uint64_t took;
    for (;;) {
        uint64_t t0 = clock_ns();
        demo_work(probe);
        took = clock_ns() - t0;
        if (took >= CALIBRATE_MIN_NS || probe >= (1u << 30))
            break;
        probe *= 2;
    }
    if (took == 0)
        took = 1;
    uint64_t n = (uint64_t)ms * NS_PER_MS * probe / took;
    return n > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)n;
}

uint32_t demo_percentile(const uint32_t *sorted, int n, int permille)
{
    if (n <= 0)
        return 0;
    int i = (int)(((int64_t)n * permille + 999) / 1000) - 1;
    if (i < 0)
        i = 0;
    if (i >= n)
        i = n - 1;
    return sorted[i];
}

static const char *thousandths(char *buf, int size, uint64_t v, const char *unit)
{
    ksnprintf(buf, size, "%llu.%03llu %s", (unsigned long long)(v / 1000),
              (unsigned long long)(v % 1000), unit);
    return buf;
}

const char *demo_ms(char *buf, int size, uint64_t ns)
{
    return thousandths(buf, size, ns / NS_PER_US, "ms");
}

const char *demo_us(char *buf, int size, uint64_t ns)
{
    return thousandths(buf, size, ns, "us");
}

const char *demo_percent(char *buf, int size, uint64_t part, uint64_t whole)
{
    uint64_t h = whole ? part * 10000 / whole : 0;
    ksnprintf(buf, size, "%llu.%02llu %%", (unsigned long long)(h / 100),
              (unsigned long long)(h % 100));
    return buf;
}

const char *demo_ratio(char *buf, int size, uint64_t num, uint64_t den)
{
    uint64_t h = den ? num * 100 / den : 0;
    ksnprintf(buf, size, "%llu.%02llu", (unsigned long long)(h / 100),
              (unsigned long long)(h % 100));
    return buf;
}

size_t demo_heap_used(void)
{
    struct mem_stats m;
    mem_get_stats(&m);
    return m.used;
}

/* ---- the machine-readable line ---- */

void demo_line_begin(const char *name) { kprintf(DEMO_LINE_TAG " %s", name); }

void demo_line_u64(const char *key, uint64_t v)
{
    kprintf(" %s=%llu", key, (unsigned long long)v);
}

void demo_line_milli(const char *key, uint64_t milli)
{
    kprintf(" %s=%llu.%03llu", key, (unsigned long long)(milli / 1000),
            (unsigned long long)(milli % 1000));
}

void demo_line_str(const char *key, const char *word) { kprintf(" %s=%s", key, word); }

void demo_line_end(void) { kprintf("\n"); }

/* The space in "50.023 us", "0.50 %" or "1000 clients" keeps a figure
 * and its unit on one line. */
static int figure_and_unit(const char *start, const char *space)
{
    char next = space[1];
    return space > start && space[-1] >= '0' && space[-1] <= '9' && next && next != ' ' &&
           !(next >= '0' && next <= '9');
}

/* A background job's lines carry a mark "[N] " in front (user/jobs.c). */
static int demo_columns(void)
{
    return DEMO_COLUMNS - (thread_job(thread_current()) ? JOB_MARK_COLUMNS : 0);
}

/* Print text from column col on; each further line starts at column at. */
static void wrap_from(int col, int at, const char *text)
{
    const char *p = text;
    int columns = demo_columns();
    while (*p) {
        int room = columns - 1 - col;       /* the last column stays free */
        if (room < 20)
            room = 20;
        const char *end = p, *space = NULL;
        while (*end && *end != '\n' && end - p < room) {
            if (*end == ' ' && !figure_and_unit(p, end))
                space = end;
            end++;
        }
        int at_break = *end == '\n' || (*end == ' ' && !figure_and_unit(p, end));
        if (*end && !at_break) {
            if (space)
                end = space;               /* break before the word that does not fit */
            else
                while (*end && !(*end == ' ' && !figure_and_unit(p, end)) && *end != '\n')
                    end++;                 /* one word longer than a line: whole */
        }
        kprintf("%.*s\n", (int)(end - p), p);
        p = end;
        while (*p == ' ')
            p++;
        if (*p == '\n')
            p++;
        if (*p)
            kprintf("%*s", at, "");
        col = at;
    }
}

void demo_wrap(int at, int used, const char *text)
{
    if (used > 0 && used >= at) {
        kprintf("\n");                     /* no room left before column at */
        used = 0;
    }
    kprintf("%*s", at - used, "");
    wrap_from(at, at, text);
}

void demo_hang_text(int col, int indent, const char *text) { wrap_from(col, indent, text); }

void demo_hang(int indent, const char *fmt, ...)
{
    char buf[640];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    wrap_from(0, indent, buf);
}

void demo_say(const char *fmt, ...)
{
    char buf[640];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    wrap_from(0, 0, buf);
}
