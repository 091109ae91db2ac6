/* The talk's "scaled" column as text: a duration (thousandths of a
 * second) the way people say it, two units at most, like the talk's
 * "4 min", "1.5-4 days", "11 years". Pure: host tested in
 * tests/host/test_scaled.c. */
#include <webscale/kprintf.h>
#include <webscale/measure.h>

#define MS_PER_S     1000ull
#define MS_PER_MIN   (60 * MS_PER_S)
#define MS_PER_HOUR  (60 * MS_PER_MIN)
#define MS_PER_DAY   (24 * MS_PER_HOUR)
#define MS_PER_MONTH (30 * MS_PER_DAY + MS_PER_DAY * 44 / 100)  /* 365.25 / 12 days */
#define MS_PER_YEAR  (365 * MS_PER_DAY + MS_PER_DAY / 4)

/* "N big" or "N big M small" (M dropped when 0); both rounded down, so a
 * reader never sees more than was measured. */
static int two_units(char *buf, size_t size, uint64_t ms, uint64_t big, const char *bname,
                     const char *bplural, uint64_t small, const char *sname)
{
    uint64_t b = ms / big, s = (ms % big) / small;
    const char *bn = b == 1 ? bname : bplural;
    if (s == 0)
        return ksnprintf(buf, size, "%llu %s", (unsigned long long)b, bn);
    return ksnprintf(buf, size, "%llu %s %llu %s", (unsigned long long)b, bn,
                     (unsigned long long)s, sname);
}

int measure_fmt_scaled(char *buf, size_t size, uint64_t ms)
{
    if (ms < 10 * MS_PER_S) {
        /* one decimal, rounded to nearest: the talk's 0.4 ns = 1 s, 0.9 ns = 2 s */
        uint64_t tenths = (ms + 50) / 100;
        if (tenths == 0 && ms > 0)
            return ksnprintf(buf, size, "< 0.1 s");
        return ksnprintf(buf, size, "%llu.%llu s", (unsigned long long)tenths / 10,
                         (unsigned long long)tenths % 10);
    }
    if (ms < MS_PER_MIN)
        return ksnprintf(buf, size, "%llu s", (unsigned long long)(ms / MS_PER_S));
    if (ms < MS_PER_HOUR)
        return two_units(buf, size, ms, MS_PER_MIN, "min", "min", MS_PER_S, "s");
    if (ms < MS_PER_DAY)
        return two_units(buf, size, ms, MS_PER_HOUR, "h", "h", MS_PER_MIN, "min");
    if (ms < 10 * MS_PER_DAY)
        return two_units(buf, size, ms, MS_PER_DAY, "day", "days", MS_PER_HOUR, "h");
    if (ms < 2 * MS_PER_MONTH)
        return ksnprintf(buf, size, "%llu days", (unsigned long long)(ms / MS_PER_DAY));
    if (ms < 2 * MS_PER_YEAR)
        return ksnprintf(buf, size, "%llu months", (unsigned long long)(ms / MS_PER_MONTH));
    return ksnprintf(buf, size, "%llu years", (unsigned long long)(ms / MS_PER_YEAR));
}
