/* Memory and string routines. GCC may emit calls to memcpy/memset/
 * memmove/memcmp even in freestanding code, so these four must exist with
 * exactly these names.
 *
 * memset, memcpy and memmove's forward copy move four bytes at a time
 * with rep stosl/movsl (a 386 has them), then the 0-3 bytes left with
 * rep stosb/movsb. Under QEMU's icount each iteration of a rep counts as
 * one instruction, so a 4 KiB stack fill is about 1,030 instructions
 * where a byte loop took about 16,400 (tools/httpcost.py measured both).
 * They count up: the direction flag is clear, as the ABI says, in all of
 * the kernel (nothing here sets it, and every entry from ring 3 clears it
 * in kernel/vectors.S). */
#include <stdint.h>
#include <webscale/string.h>

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    size_t words = n / 4, rest = n % 4;
    uint32_t v = (uint8_t)c * 0x01010101u;   /* the byte in all four lanes */
    __asm__ volatile("rep stosl; mov %3, %1; rep stosb"
                     : "+D"(d), "+c"(words) : "a"(v), "r"(rest) : "memory");
    return dst;
}

/* Forward copy of n bytes, the whole words first; dst and src may
 * overlap only with dst below src (memmove's forward case). */
static void copy_forward(void *dst, const void *src, size_t n)
{
    size_t words = n / 4, rest = n % 4;
    __asm__ volatile("rep movsl; mov %3, %1; rep movsb"
                     : "+D"(dst), "+c"(words), "+S"(src) : "r"(rest) : "memory");
}

void *memcpy(void *dst, const void *src, size_t n)
{
    copy_forward(dst, src, n);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s || d >= s + n) {
        /* rep movsl reads each word before writing it, lowest first: a
         * destination below the source never overwrites unread bytes. */
        copy_forward(d, s, n);
    } else if (d > s) {
        d += n;
        s += n;
        while (n--)
            *--d = *--s;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

/* repne scasb: one instruction per byte under icount, a byte loop
 * three; ecx counts down from -1, so the length is ~ecx - 1. */
size_t strlen(const char *s)
{
    size_t left = (size_t)-1;
    __asm__("repne scasb" : "+D"(s), "+c"(left) : "a"(0) : "memory", "cc");
    return ~left - 1;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

/* Copy with truncation; always NUL-terminates when size > 0.
 * Returns strlen(src) so the caller can detect truncation. */
size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
