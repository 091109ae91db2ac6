#include "kernel/lib/ring.h"

int ring_init(struct ring *r, uint8_t *buf, uint32_t size)
{
    if (size == 0 || (size & (size - 1)) != 0)
        return -1;
    r->buf = buf;
    r->size = size;
    r->head = r->tail = 0;
    return 0;
}

uint32_t ring_write(struct ring *r, const void *src, uint32_t n)
{
    const uint8_t *s = src;
    uint32_t done = 0;
    while (done < n && ring_put(r, s[done]) == 0)
        done++;
    return done;
}

uint32_t ring_read(struct ring *r, void *dst, uint32_t n)
{
    uint8_t *d = dst;
    uint32_t done = 0;
    int c;
    while (done < n && (c = ring_get(r)) >= 0)
        d[done++] = (uint8_t)c;
    return done;
}
