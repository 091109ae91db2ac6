/* A connection's input in either httpd style (user/httpd.h): the bytes
 * it holds between reads, the requests in them answered in order and each
 * whole, bodies skipped, and the page of figures GET / answers. */
#include <webscale/assert.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/tcp.h>
#include "user/httpd.h"

struct httpd_figures httpd;

uint64_t httpd_switches(void)
{
    struct sched_stats s;
    sched_get_stats(&s);
    return s.switches;
}

uint32_t httpd_bytes_per_conn(void)
{
    return httpd.open_max ? (uint32_t)(httpd.heap_at_max / httpd.open_max) : 0;
}

/* Counters and heads held: the threads style updates them from many
 * threads, the loop style from loop callbacks only (which must not sleep). */
static void counts_lock(void)
{
    if (httpd.style == STYLE_THREADS)
        mutex_lock(&httpd.lock);
}

static void counts_unlock(void)
{
    if (httpd.style == STYLE_THREADS)
        mutex_unlock(&httpd.lock);
}

/* Keep buf[0..n) (which may be in->held itself) for the next call. 0 if
 * there is no memory for it. */
static int hold(struct hin *in, const char *buf, size_t n)
{
    if (!n) {
        if (in->held) {
            kfree(in->held);
            counts_lock();
            httpd.heads_held--;
            counts_unlock();
        }
        in->held = NULL;
        in->len = 0;
        return 1;
    }
    if (!in->held) {
        if (!(in->held = kmalloc(HTTP_HEAD_MAX)))
            return 0;
        counts_lock();
        if (++httpd.heads_held > httpd.heads_held_max)
            httpd.heads_held_max = httpd.heads_held;
        counts_unlock();
    }
    memmove(in->held, buf, n);
    in->len = (uint16_t)n;
    return 1;
}

/* The response to r: the page of figures for GET / (and HEAD /), a line
 * saying why otherwise. */
static size_t page(char *out, size_t size, const struct http_request *r)
{
    char body[700];
    int n;
    if (r->status == 200) {
        uint64_t sw = httpd_switches() - httpd.switches_base;
        n = ksnprintf(body, sizeof body,
                      "webscale httpd, %s style: is it web scale?\n"
                      "requests served: %u\n"
                      "connections: %u accepted, %u open now, %u at most at once\n"
                      "memory per connection at the peak: %u bytes of heap "
                      "(struct tcp_conn %u bytes%s)\n"
                      "context switches since the server started: %llu\n",
                      httpd.style == STYLE_LOOP ? "event-loop" : "thread-per-connection",
                      httpd.requests, httpd.conns, httpd.open, httpd.open_max,
                      httpd_bytes_per_conn(),
                      (unsigned)tcp_conn_bytes(),
                      httpd.style == STYLE_LOOP ? "" : ", plus a 4096-byte thread stack",
                      (unsigned long long)sw);
    } else {
        n = ksnprintf(body, sizeof body, "%s\n", http_reason(r->status));
    }
    if (n < 0 || (size_t)n >= sizeof body)
        n = (int)sizeof body - 1;
    int k = http_response(out, size, r, body, (size_t)n);
    ASSERT(k > 0);               /* HTTP_RESP_MAX holds the longest */
    return (size_t)k;
}

enum serve_end httpd_serve(struct hin *in, char *buf, size_t len, const struct hio *io,
                           char *resp)
{
    size_t off = 0;
    enum serve_end end = SERVE_READ;
    while (off < len) {
        if (!in->s.body_left && io->room && !io->room(io->ctx)) {
            end = SERVE_ROOM;
            break;
        }
        size_t used;
        struct http_request r;
        enum http_step st = http_next(&in->s, buf + off, len - off, &used, &r);
        if (st == HTTP_NEED_MORE)
            break;
        off += used;
        if (st == HTTP_SKIPPED)
            continue;
        counts_lock();
        if (http_refused(r.status))
            httpd.bad_requests++;
        else
            httpd.requests++;
        counts_unlock();
        size_t n = page(resp, HTTP_RESP_MAX, &r);
        if (io->send(io->ctx, resp, n) != (int)n || !r.keep) {
            end = SERVE_CLOSE;   /* the client does not read, or we close */
            break;
        }
    }
    if (end == SERVE_CLOSE)
        off = len;
    if (!hold(in, buf + off, len - off))
        return SERVE_CLOSE;
    return end;
}

enum serve_end httpd_serve_more(struct hin *in, const struct hio *io, char *scratch,
                                size_t scratch_size, char *resp)
{
    char *buf = in->held ? in->held : scratch;
    size_t have = in->len, cap = in->held ? HTTP_HEAD_MAX : scratch_size;
    ASSERT(have < cap);          /* a full buffer was answered 431, or waits for room */
    int n = io->recv(io->ctx, buf + have, cap - have);
    if (n == -E_WOULDBLOCK)
        return SERVE_IDLE;
    if (n <= 0) {                /* end of stream or reset */
        hold(in, buf, 0);
        return SERVE_CLOSE;
    }
    return httpd_serve(in, buf, have + (size_t)n, io, resp);
}

void httpd_input_free(struct hin *in) { hold(in, NULL, 0); }
