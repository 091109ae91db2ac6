/* kprintf: format into a small buffer, write it to the console in pieces
 * of up to a line, so that lines from different threads rarely mix. */
#include <webscale/kprintf.h>
#include "kernel/console.h"
#include "kernel/lib/format.h"

#define KPRINTF_CHUNK 128

struct kbuf {
    char buf[KPRINTF_CHUNK];
    int len;
};

static void kbuf_flush(struct kbuf *b)
{
    if (b->len)
        console_write_kernel(b->buf, b->len);
    b->len = 0;
}

static void kbuf_emit(char c, void *ctx)
{
    struct kbuf *b = ctx;
    /* The terminal wants CR LF. */
    if (c == '\n') {
        if (b->len + 2 > KPRINTF_CHUNK)
            kbuf_flush(b);
        b->buf[b->len++] = '\r';
    } else if (b->len + 1 > KPRINTF_CHUNK) {
        kbuf_flush(b);
    }
    b->buf[b->len++] = c;
}

int kvprintf(const char *fmt, va_list ap)
{
    struct kbuf b;
    b.len = 0;
    int n = format_v(kbuf_emit, &b, fmt, ap);
    kbuf_flush(&b);
    return n;
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
