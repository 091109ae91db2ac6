/* The in-kernel test runner: runs the cases that test= selects, each in a
 * thread of its own, and prints KTAP (ktest.h says how suites are made). */
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/ktest.h"
#include "kernel/mem.h"

extern const struct ktest_suite __ktest_suites_start[], __ktest_suites_end[];

#define KTEST_STACK 16384

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kprintf("    # FAIL %s:%d: ", file, line);
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
    thread_exit(1);
}

static void run_case(void *arg)
{
    const struct ktest_case *c = arg;
    c->fn();
}

/* test=SPEC is a comma-separated list of words: "all" (every suite but the
 * scenario ones), a suite ("sched") or one case ("sched.yield_order"). */

/* The length of the word at p: up to the next ',' or the end. */
static size_t word_len(const char *p)
{
    const char *end = strchr(p, ',');
    return end ? (size_t)(end - p) : strlen(p);
}

/* Does the word w (len bytes) select case c of suite s? */
static int word_selects(const char *w, size_t len, const struct ktest_suite *s,
                        const struct ktest_case *c)
{
    size_t n = strlen(s->name);
    if (len == 3 && strncmp(w, "all", 3) == 0)
        return !s->scenario;
    if (len < n || strncmp(w, s->name, n) != 0)
        return 0;
    if (len == n)
        return 1;
    return w[n] == '.' && len - n - 1 == strlen(c->name) &&
           strncmp(w + n + 1, c->name, len - n - 1) == 0;
}

static int selected(const char *spec, const struct ktest_suite *s, const struct ktest_case *c)
{
    for (const char *p = spec; *p; p += *p == ',') {
        size_t len = word_len(p);
        if (word_selects(p, len, s, c))
            return 1;
        p += len;
    }
    return 0;
}

/* How many cases of the suite spec selects. */
static int selected_cases(const char *spec, const struct ktest_suite *s)
{
    int n = 0;
    for (int i = 0; i < s->ncases; i++)
        n += selected(spec, s, &s->cases[i]);
    return n;
}

/* A word that selects nothing is a typo: name it, rather than run fewer
 * tests than asked and report success. Returns how many there are. */
static int unknown_words(const char *spec)
{
    int unknown = 0;
    for (const char *p = spec; *p; p += *p == ',') {
        size_t len = word_len(p);
        int hits = 0;
        for (const struct ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; s++)
            for (int i = 0; i < s->ncases; i++)
                hits += word_selects(p, len, s, &s->cases[i]);
        if (!hits) {
            kprintf("# no test matches '%.*s'\n", (int)len, p);
            unknown++;
        }
        p += len;
    }
    return unknown;
}

/* One case in a thread of its own; "# case" first, so that a case that
 * never ends is named by the last line before the silence. The time is
 * clock_ns(): under -icount shift=0, one nanosecond is one instruction. */
static int run_one(const struct ktest_suite *s, const struct ktest_case *c, int num)
{
    kprintf("# case %s.%s\n", s->name, c->name);
    uint64_t t0 = clock_ns();
    thread_t *t = thread_create_ex(c->name, run_case, (void *)c, KTEST_STACK, 0);
    int code = t ? thread_join(t) : -1;
    uint64_t ns = clock_ns() - t0;
    int heap_bad = mem_check() != 0;
    int ok = code == 0 && !heap_bad;
    kprintf("%sok %d %s.%s # %llu ns%s%s%s\n", ok ? "" : "not ", num, s->name, c->name,
            (unsigned long long)ns, t ? "" : " (no memory for its thread)",
            code == THREAD_KILLED ? " (killed by the kernel)" : "",
            heap_bad ? " (heap inconsistent)" : "");
    return ok;
}

void ktest_run(const char *spec)
{
    int total = 0, failed = 0, num = 0;
    const struct ktest_suite *s;
    for (s = __ktest_suites_start; s < __ktest_suites_end; s++)
        total += selected_cases(spec, s);

    kprintf("KTAP version 1\n");
    if (!*spec || unknown_words(spec)) {
        kprintf("1..0\n# nothing run: each word of test=%s must name a suite or a case\n",
                spec);
        system_poweroff(1);
    }
    kprintf("1..%d\n", total);
    for (s = __ktest_suites_start; s < __ktest_suites_end; s++) {
        if (!selected_cases(spec, s))
            continue;
        kprintf("# suite %s\n", s->name);
        for (int i = 0; i < s->ncases; i++)
            if (selected(spec, s, &s->cases[i]) && !run_one(s, &s->cases[i], ++num))
                failed++;
    }
    kprintf("# %d passed, %d failed\n", total - failed, failed);
    system_poweroff(failed ? 1 : 0);
}
