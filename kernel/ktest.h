/* In-kernel test suites, printed as KTAP (like Linux's KUnit) and selected
 * by the kernel command line: test=all, test=SUITE or test=SUITE.CASE, or
 * a comma-separated list of these. Each case prints "# case SUITE.CASE"
 * before it runs and "ok N SUITE.CASE # T ns" after.
 *
 * Each case runs in a thread of its own; a failed assertion prints where
 * and why and ends that thread, a CPU exception kills it: either way the
 * case is "not ok" and the run goes on. */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdint.h>
#include <webscale/kprintf.h>

struct ktest_case {
    const char *name;
    void (*fn)(void);
};

struct ktest_suite {
    const char *name;
    const struct ktest_case *cases;
    int ncases;
    int scenario;    /* driven by a tests/scenarios script: run only when named */
};

#define KTEST_SUITE_(name_, cases_, scenario_)                                   \
    static const struct ktest_suite ktest_suite_##name_                        \
        __attribute__((used, section(".ktest_suites"), aligned(4))) = {         \
            #name_, cases_, sizeof(cases_) / sizeof((cases_)[0]), scenario_}
#define KTEST_SUITE(name_, cases_) KTEST_SUITE_(name_, cases_, 0)
/* A suite that needs the host's side (serial input) or brings the kernel
 * down on purpose (panics): a tests/scenarios script boots it by name and
 * checks what it prints. test=all leaves it out. */
#define KTEST_SCENARIO_SUITE(name_, cases_) KTEST_SUITE_(name_, cases_, 1)

void ktest_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define KT_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            ktest_fail(__FILE__, __LINE__, "%s", #cond);                       \
    } while (0)

#define KT_ASSERT_EQ(a, b)                                                     \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_)                                                          \
            ktest_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b,   \
                       a_, b_);                                                \
    } while (0)

/* lo <= v <= hi */
#define KT_ASSERT_RANGE(v, lo, hi)                                             \
    do {                                                                       \
        long long v_ = (long long)(v), lo_ = (long long)(lo), hi_ = (long long)(hi); \
        if (v_ < lo_ || v_ > hi_)                                              \
            ktest_fail(__FILE__, __LINE__, "%s = %lld, not in [%lld, %lld]",   \
                       #v, v_, lo_, hi_);                                      \
    } while (0)

/* Run the cases spec selects ("all", "sched", "sched,sync.mutex_counter")
 * and power off with status 0 if every case passed; a word of spec that
 * selects nothing is an error (status 1, nothing run). */
void ktest_run(const char *spec) __attribute__((noreturn));

#endif
