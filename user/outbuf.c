/* A bounded text buffer whose appends are whole or absent (user/outbuf.h). */
#include <stdarg.h>
#include <webscale/kprintf.h>
#include <webscale/string.h>
#include "user/outbuf.h"

void outbuf_init(struct outbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = cap == 0;
    if (cap)
        p[0] = 0;
}

/* Append n bytes of s, or nothing and mark the buffer full. */
static void put(struct outbuf *b, const char *s, size_t n)
{
    if (b->full || n >= b->cap - b->len) {
        b->full = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void outbuf_printf(struct outbuf *b, const char *fmt, ...)
{
    if (b->full)
        return;
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(b->p + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        b->p[b->len] = 0;        /* take back the part that was cut */
        b->full = 1;
        return;
    }
    b->len += (size_t)n;
}

size_t outbuf_u32_text(char *out, uint32_t v)
{
    char d[10];                  /* 4294967295: 10 digits */
    size_t n = 0;
    do {
        d[sizeof d - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, d + sizeof d - n, n);
    return n;
}

void outbuf_u32(struct outbuf *b, uint32_t v)
{
    char d[10];
    put(b, d, outbuf_u32_text(d, v));
}

void outbuf_mem(struct outbuf *b, const char *s, size_t n) { put(b, s, n); }

#define E9 1000000000u            /* 10^9: nine decimal digits fit in 32 bits */

void outbuf_u64(struct outbuf *b, uint64_t v)
{
    if (v <= 0xffffffffu) {
        outbuf_u32(b, (uint32_t)v);
        return;
    }
    /* High part, then the low nine digits zero-padded, in one piece. */
    char d[20];
    size_t start = b->len;
    uint64_t hi = v / E9;
    uint32_t lo = (uint32_t)(v - hi * E9);
    for (int i = 8; i >= 0; i--) {
        d[i] = (char)('0' + lo % 10);
        lo /= 10;
    }
    outbuf_u64(b, hi);
    put(b, d, 9);
    if (b->full && b->cap) {     /* not whole: take back the high part */
        b->len = start;
        b->p[start] = 0;
    }
}

void outbuf_str(struct outbuf *b, const char *s) { put(b, s, strlen(s)); }

/* A string that did not fit whole: take back what of it went in. */
static void undo_to(struct outbuf *b, size_t len)
{
    if (b->full && b->cap) {
        b->len = len;
        b->p[len] = 0;
    }
}

void outbuf_json_str(struct outbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = b->len;
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            put(b, e, 2);
        } else if (c < 0x20) {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put(b, e, 6);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
    put(b, "\"", 1);
    undo_to(b, start);
}

void outbuf_html(struct outbuf *b, const char *s)
{
    size_t start = b->len;
    for (; *s; s++) {
        switch (*s) {
        case '&': put(b, "&amp;", 5); break;
        case '<': put(b, "&lt;", 4); break;
        case '>': put(b, "&gt;", 4); break;
        case '"': put(b, "&quot;", 6); break;
        default: put(b, s, 1);
        }
    }
    undo_to(b, start);
}

void outbuf_uncomma(struct outbuf *b)
{
    if (!b->full && b->len && b->p[b->len - 1] == ',')
        b->p[--b->len] = 0;
}
