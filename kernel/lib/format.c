#include <stdint.h>
#include "kernel/lib/format.h"

enum {
    F_LEFT = 1,     /* '-' */
    F_ZERO = 2,     /* '0' */
    F_PLUS = 4,     /* '+' */
    F_SPACE = 8,    /* ' ' */
    F_ALT = 16,     /* '#' */
};

struct out {
    format_emit_fn emit;
    void *ctx;
    int count;
};

static void put(struct out *o, char c)
{
    o->emit(c, o->ctx);
    o->count++;
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

    /* Precision 0 with value 0 prints no digits, as C says. */
    if (!(v == 0 && prec == 0)) {
        do {
            tmp[n++] = digits[v % base];
            v /= base;
        } while (v);
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
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
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
    for (int i = 0; i < len; i++)
        put(o, s[i]);
    if (flags & F_LEFT)
        pad(o, ' ', width - len);
}

int format_v(format_emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { emit, ctx, 0 };

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
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
            put_uint(&o, mag, v < 0, 10, 0, flags, width, prec);
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
            put_uint(&o, v, 0, base, conv == 'X', flags & ~(F_PLUS | F_SPACE),
                     width, prec);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            put_uint(&o, v, 0, 16, 0, F_ALT | F_ZERO, 2 + 2 * (int)sizeof(void *), -1);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            if (!(flags & F_LEFT))
                pad(&o, ' ', width - 1);
            put(&o, c);
            if (flags & F_LEFT)
                pad(&o, ' ', width - 1);
            break;
        }
        case 's':
            put_str(&o, va_arg(ap, const char *), flags, width, prec);
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            /* Unknown conversion: show it as written rather than guess. */
            put(&o, '%');
            put(&o, conv);
            break;
        }
    }
    return o.count;
}

struct sbuf {
    char *buf;
    size_t size;
    size_t pos;
};

static void sbuf_emit(char c, void *ctx)
{
    struct sbuf *s = ctx;
    if (s->pos + 1 < s->size)
        s->buf[s->pos] = c;
    s->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sbuf s = { buf, size, 0 };
    int n = format_v(sbuf_emit, &s, fmt, ap);
    if (size)
        buf[s.pos < size ? s.pos : size - 1] = '\0';
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
