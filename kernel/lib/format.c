#include <stdint.h>
#include <webscale/string.h>
#include "kernel/lib/format.h"

enum {
    F_LEFT = 1,     /* '-' */
    F_ZERO = 2,     /* '0' */
    F_PLUS = 4,     /* '+' */
    F_SPACE = 8,    /* ' ' */
    F_ALT = 16,     /* '#' */
};

/* Where the output goes: a callback per character (format_v), or
 * straight into a buffer (kvsnprintf), which saves an indirect call per
 * character and lets a run of literal text go in with one memcpy; on a
 * 386 the call per character was most of a formatted page's cost
 * (tools/httpcost.py). In a buffer, pos counts every character, kept or
 * not: what does not fit before the NUL is counted and dropped. */
struct out {
    format_emit_fn emit;    /* NULL: into buf */
    void *ctx;
    char *buf;
    size_t size, pos;
    int count;
};

static void put(struct out *o, char c)
{
    if (o->emit) {
        o->emit(c, o->ctx);
    } else {
        if (o->pos + 1 < o->size)
            o->buf[o->pos] = c;
        o->pos++;
    }
    o->count++;
}

/* s[0..n): put for each, or one copy of what fits. */
static void put_run(struct out *o, const char *s, size_t n)
{
    if (o->emit) {
        for (size_t i = 0; i < n; i++)
            put(o, s[i]);
        return;
    }
    if (o->pos + 1 < o->size) {
        size_t room = o->size - 1 - o->pos;
        memcpy(o->buf + o->pos, s, n < room ? n : room);
    }
    o->pos += n;
    o->count += (int)n;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

/* One integer conversion: sign/prefix, zero padding, precision, width. */
static void put_uint(struct out *o, uint64_t v, int negative, unsigned base,
                     int upper, int flags, int width, int prec)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;

    /* Precision 0 with value 0 prints no digits, as C says. Digits in
     * 32-bit arithmetic once the value fits: a 386 divides 64 bits only
     * through a library call (__udivmoddi4) per digit. */
    if (!(v == 0 && prec == 0)) {
        for (; v > 0xffffffffu; v /= base)
            tmp[n++] = digits[v % base];
        uint32_t w = (uint32_t)v;
        do {
            tmp[n++] = digits[w % base];
            w /= base;
        } while (w);
    }

    const char *prefix = "";
    if (negative)
        prefix = "-";
    else if (flags & F_PLUS)
        prefix = "+";
    else if (flags & F_SPACE)
        prefix = " ";
    if ((flags & F_ALT) && base == 16 && n > 0 && !(n == 1 && tmp[0] == '0'))
        prefix = upper ? "0X" : "0x";
    if ((flags & F_ALT) && base == 8 && (n == 0 || tmp[n - 1] != '0'))
        tmp[n++] = '0';

    int plen = 0;
    while (prefix[plen])
        plen++;
    int zeros = prec > n ? prec - n : 0;
    int body = plen + zeros + n;

    /* '0' pads with zeros between the prefix and the digits, unless a
     * precision is given or '-' is set. */
    if (!(flags & F_LEFT) && (flags & F_ZERO) && prec < 0) {
        zeros += width > body ? width - body : 0;
        body = plen + zeros + n;
    }
    if (!(flags & F_LEFT))
        pad(o, ' ', width - body);
    put_run(o, prefix, (size_t)plen);
    pad(o, '0', zeros);
    while (n)
        put(o, tmp[--n]);
    if (flags & F_LEFT)
        pad(o, ' ', width - body);
}

static void put_str(struct out *o, const char *s, int flags, int width, int prec)
{
    if (!s)
        s = "(null)";
    int len = 0;
    while (s[len] && (prec < 0 || len < prec))
        len++;
    if (!(flags & F_LEFT))
        pad(o, ' ', width - len);
    put_run(o, s, (size_t)len);
    if (flags & F_LEFT)
        pad(o, ' ', width - len);
}

static int format(struct out *o, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            /* The literal text up to the next conversion, in one piece. */
            const char *run = fmt;
            while (fmt[1] && fmt[1] != '%')
                fmt++;
            put_run(o, run, (size_t)(fmt - run + 1));
            continue;
        }
        fmt++;

        int flags = 0;
        for (;; fmt++) {
            if (*fmt == '-') flags |= F_LEFT;
            else if (*fmt == '0') flags |= F_ZERO;
            else if (*fmt == '+') flags |= F_PLUS;
            else if (*fmt == ' ') flags |= F_SPACE;
            else if (*fmt == '#') flags |= F_ALT;
            else break;
        }

        int width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }

        int prec = -1;
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                if (prec < 0)
                    prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }

        /* Length: 0 int, 1 long, 2 long long, -1 short, -2 char. */
        int len = 0;
        if (*fmt == 'h') {
            len = -1;
            if (*++fmt == 'h') { len = -2; fmt++; }
        } else if (*fmt == 'l') {
            len = 1;
            if (*++fmt == 'l') { len = 2; fmt++; }
        } else if (*fmt == 'z' || *fmt == 't') {
            len = sizeof(size_t) == 8 ? 2 : 1;
            fmt++;
        } else if (*fmt == 'j') {
            len = 2;
            fmt++;
        }

        char conv = *fmt;
        if (!conv)
            break;

        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v;
            if (len == 2) v = va_arg(ap, long long);
            else if (len == 1) v = va_arg(ap, long);
            else v = va_arg(ap, int);
            if (len == -1) v = (short)v;
            if (len == -2) v = (signed char)v;
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_uint(o, mag, v < 0, 10, 0, flags, width, prec);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v;
            if (len == 2) v = va_arg(ap, unsigned long long);
            else if (len == 1) v = va_arg(ap, unsigned long);
            else v = va_arg(ap, unsigned int);
            if (len == -1) v = (unsigned short)v;
            if (len == -2) v = (unsigned char)v;
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            put_uint(o, v, 0, base, conv == 'X', flags & ~(F_PLUS | F_SPACE),
                     width, prec);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            put_uint(o, v, 0, 16, 0, F_ALT | F_ZERO, 2 + 2 * (int)sizeof(void *), -1);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            if (!(flags & F_LEFT))
                pad(o, ' ', width - 1);
            put(o, c);
            if (flags & F_LEFT)
                pad(o, ' ', width - 1);
            break;
        }
        case 's':
            put_str(o, va_arg(ap, const char *), flags, width, prec);
            break;
        case '%':
            put(o, '%');
            break;
        default:
            /* Unknown conversion: show it as written rather than guess. */
            put(o, '%');
            put(o, conv);
            break;
        }
    }
    return o->count;
}

int format_v(format_emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { emit, ctx, NULL, 0, 0, 0 };
    return format(&o, fmt, ap);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { NULL, NULL, buf, size, 0, 0 };
    int n = format(&o, fmt, ap);
    if (size)
        buf[o.pos < size ? o.pos : size - 1] = '\0';
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
