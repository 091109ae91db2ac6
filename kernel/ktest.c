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

static int selected(const char *spec, const struct ktest_suite *s)
{
    if (strcmp(spec, "all") == 0)
        return !s->scenario;
    const char *name = s->name;
    size_t n = strlen(name);
    for (const char *p = spec; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (end ? 1 : 0);
    }
    return 0;
}

void ktest_run(const char *spec)
{
    int total = 0, failed = 0, num = 0;
    const struct ktest_suite *s;
    for (s = __ktest_suites_start; s < __ktest_suites_end; s++)
        if (selected(spec, s))
            total += s->ncases;

    kprintf("KTAP version 1\n1..%d\n", total);
    if (total == 0)
        kprintf("# no test suite matches '%s'\n", spec);
    for (s = __ktest_suites_start; s < __ktest_suites_end; s++) {
        if (!selected(spec, s))
            continue;
        kprintf("# suite %s\n", s->name);
        for (int i = 0; i < s->ncases; i++) {
            const struct ktest_case *c = &s->cases[i];
            uint64_t t0 = clock_ns();
            thread_t *t = thread_create_ex(c->name, run_case, (void *)c, KTEST_STACK, 0);
            int code = t ? thread_join(t) : -1;
            uint64_t ms = (clock_ns() - t0) / NS_PER_MS;
            int ok = code == 0 && mem_check() == 0;
            num++;
            if (!ok)
                failed++;
            kprintf("%sok %d %s.%s # %llu ms%s%s\n", ok ? "" : "not ", num, s->name, c->name,
                    (unsigned long long)ms,
                    code == THREAD_KILLED ? " (killed by the kernel)" : "",
                    mem_check() ? " (heap inconsistent)" : "");
        }
    }
    kprintf("# %d passed, %d failed\n", total - failed, failed);
    system_poweroff(failed || total == 0 ? 1 : 0);
}
