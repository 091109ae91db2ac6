/* The kernel's printf engine against the host libc's, format by format. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "kernel/lib/format.h"
#include "tests/host/check.h"

#define SAME(...)                                                              \
    do {                                                                       \
        char want[256], got[256];                                              \
        int wn = snprintf(want, sizeof want, __VA_ARGS__);                     \
        int gn = ksnprintf(got, sizeof got, __VA_ARGS__);                      \
        if (wn != gn || strcmp(want, got) != 0) {                              \
            fprintf(stderr, "%s:%d: %s: libc \"%s\" (%d), kernel \"%s\" (%d)\n", \
                    __FILE__, __LINE__, #__VA_ARGS__, want, wn, got, gn);      \
            check_failures++;                                                  \
        }                                                                      \
    } while (0)

/* format_v's callback sees what ksnprintf writes into a buffer. */
struct collect {
    char s[256];
    size_t n;
};

static void collect(char c, void *ctx)
{
    struct collect *k = ctx;
    if (k->n + 1 < sizeof k->s)
        k->s[k->n++] = c;
    k->s[k->n] = 0;
}

static int via_callback(struct collect *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    k->n = 0;
    k->s[0] = 0;
    int n = format_v(collect, k, fmt, ap);
    va_end(ap);
    return n;
}

#define LONG_FMT "up %llu ms; [%-6s] %u%% of %#x, %05d, then text: %s."
#define LONG_ARGS 18446744073709551615ULL, "ab", 99u, 255u, -42, "the end"

int main(void)
{
    SAME("plain text");
    SAME("%d %i %u", 42, -17, 3000000000u);
    SAME("%d", -2147483647 - 1);
    SAME("%x %X %o", 0xdeadbeefu, 0xabcu, 0755u);
    SAME("%#x %#X %#o %#x", 255u, 255u, 8u, 0u);
    SAME("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
    SAME("[%5d] [%-5d] [%05d]", -42, -42, -42);
    SAME("[%.3d] [%8.3d] [%-8.3d]", 7, 7, 7);
    SAME("[%.0d] [%.0x]", 0, 0u);
    SAME("%lld %llu %llx", -1234567890123LL, 18446744073709551615ULL, 0x123456789abcULL);
    SAME("%ld %lu", -5L, 5UL);
    SAME("%zu %zd", (size_t)12345, (ssize_t)-3);
    SAME("%hhd %hd %hhu %hu", 300, 70000, 300, 70000);
    SAME("[%s] [%10s] [%-10s] [%.2s] [%*s] [%-*s]", "abc", "abc", "abc", "abc", 6, "x", 6, "y");
    SAME("[%c] [%3c] [%-3c]", 'a', 'b', 'c');
    SAME("100%% sure");
    SAME("%*d|%-*d|%.*d", 4, 1, 4, 2, 3, 3);
    SAME("%010lld", -42LL);

    /* Values on both sides of 32 bits, in every base (digits in 32-bit
     * arithmetic once the value fits). */
    SAME("%llu %llu %llu", 4294967295ULL, 4294967296ULL, 10000000000ULL);
    SAME("%llx %llo %llX", 4294967296ULL, 4294967296ULL, 0xfffffffffULL);
    SAME("%lld %lld", -4294967296LL, -9223372036854775807LL - 1);

    /* Every buffer size, literal runs cut anywhere: libc's bytes and
     * return value; and the callback gets the same characters. */
    for (size_t size = 0; size < 80; size++) {
        char want[80], got[80];
        memset(got, 'Z', sizeof got);
        int wn = snprintf(want, size, LONG_FMT, LONG_ARGS);
        int gn = ksnprintf(got, size, LONG_FMT, LONG_ARGS);
        CHECK_EQ(gn, wn);
        CHECK(!size || !strcmp(got, want));
        CHECK(size == sizeof got || got[size] == 'Z');    /* nothing past the buffer */
    }
    struct collect k;
    char full[256];
    CHECK_EQ(via_callback(&k, LONG_FMT, LONG_ARGS), ksnprintf(full, sizeof full, LONG_FMT, LONG_ARGS));
    CHECK(!strcmp(k.s, full));

    /* Truncation: the return value is the full length, the buffer ends in NUL. */
    char small[5];
    int n = ksnprintf(small, sizeof small, "%s", "hello world");
    CHECK(n == 11);
    CHECK(strcmp(small, "hell") == 0);
    CHECK(ksnprintf(NULL, 0, "%d", 12345) == 5);

    /* %p prints 0x and the address. */
    char got[64], want[64];
    ksnprintf(got, sizeof got, "%p", (void *)0x1234);
    snprintf(want, sizeof want, "0x%0*lx", (int)(2 * sizeof(void *)), (unsigned long)0x1234);
    CHECK(strcmp(got, want) == 0);

    return check_done("format");
}
