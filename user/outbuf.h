/* A bounded text buffer for the pages httpd builds (user/stats.c): each
 * append goes in whole or not at all, so a page that does not fit is
 * known (outbuf_full) and answered with an error instead of being cut, and
 * no append ever writes past the buffer. Pure: tests/host/test_outbuf.c
 * runs it under ASan/UBSan. */
#ifndef USER_OUTBUF_H
#define USER_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

struct outbuf {
    char *p;
    size_t cap;     /* bytes of p, the NUL included */
    size_t len;     /* bytes written; p[len] is NUL */
    int full;       /* an append did not fit: the text is incomplete */
};

void outbuf_init(struct outbuf *b, char *p, size_t cap);
/* Append formatted text (kvsnprintf's formats). */
void outbuf_printf(struct outbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string, quotes included [RFC 8259 7]. */
void outbuf_json_str(struct outbuf *b, const char *s);
/* Append s with HTML's special characters escaped (& < > "). */
void outbuf_html(struct outbuf *b, const char *s);
/* Append v in decimal, or a plain string: the hot paths of a long list,
 * without the format engine (a trace of 512 switches is 2,048 numbers). */
void outbuf_u32(struct outbuf *b, uint32_t v);
/* v's digits at out (room for 10), not NUL-terminated; their count. For
 * a caller that builds a short piece on its stack and appends it once. */
size_t outbuf_u32_text(char *out, uint32_t v);
/* Append the n bytes at s, whole or not at all. */
void outbuf_mem(struct outbuf *b, const char *s, size_t n);
/* The same for 64 bits: one 64-bit division, not one per digit. */
void outbuf_u64(struct outbuf *b, uint64_t v);
void outbuf_str(struct outbuf *b, const char *s);
/* A string literal, its length known when compiled: no strlen (the
 * empty literal beside s makes anything but a literal an error). */
#define outbuf_lit(b, s) outbuf_mem((b), "" s, sizeof(s) - 1)
/* Drop a trailing ',' (after a JSON list's last element). */
void outbuf_uncomma(struct outbuf *b);

#endif
