/* A connection's input in either httpd style (user/httpd.h): the bytes
 * it holds between reads, the requests in them answered in order and each
 * whole, bodies skipped; the pages: GET / the dashboard (user/web/, its
 * figures from user/stats.c), /stats.json, /text the figures of this
 * server in a few lines, /dash.css and /dash.js; a body larger than the
 * room in the send buffer is held and sent as room comes. */
#include <webscale/assert.h>
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/sched.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/tcp.h>
#include <webscale/thread.h>
#include "user/httpd.h"
#include "user/stats.h"
#include "user/web_assets.h"

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

/* The connection's struct hbusy, made if it has none; NULL without heap. */
static struct hbusy *busy(struct hin *in)
{
    if (!in->busy)
        in->busy = kzalloc(sizeof *in->busy);
    return in->busy;
}

/* Forget in->busy once nothing waits in it. */
static void unbusy(struct hin *in)
{
    struct hbusy *b = in->busy;
    if (b && !b->held && !b->out_len && b->later_state == LATER_NONE && !b->close_after &&
        !b->wait) {
        kfree(b);
        in->busy = NULL;
    }
}

/* Keep buf[0..n) (which may be the held buffer itself) for the next call,
 * in in->busy. 0 if there is no memory for it. */
static int hold(struct hin *in, const char *buf, size_t n)
{
    struct hbusy *b = in->busy;
    if (!n) {
        if (b && b->held) {
            kfree(b->held);
            b->held = NULL;
            counts_lock();
            httpd.heads_held--;
            counts_unlock();
        }
        if (b)
            b->len = 0;
        return 1;
    }
    if (!(b = busy(in)))
        return 0;
    if (!b->held) {
        if (!(b->held = kmalloc(HTTP_HEAD_MAX)))
            return 0;
        counts_lock();
        if (++httpd.heads_held > httpd.heads_held_max)
            httpd.heads_held_max = httpd.heads_held;
        counts_unlock();
    }
    memmove(b->held, buf, n);
    b->len = (uint16_t)n;
    return 1;
}

/* The paths GET and HEAD answer, in the order of enum route
 * (http_next_routed gives each request its index). */
enum route { ROUTE_DASHBOARD, ROUTE_TEXT, ROUTE_STATS, ROUTE_CSS, ROUTE_JS, ROUTE_SLOW,
             ROUTE_PLOT, ROUTES };
static const char *const routes[ROUTES + 1] = {
    [ROUTE_DASHBOARD] = "/", [ROUTE_TEXT] = "/text", [ROUTE_STATS] = "/stats.json",
    [ROUTE_CSS] = "/dash.css", [ROUTE_JS] = "/dash.js", [ROUTE_SLOW] = "/slow",
    [ROUTE_PLOT] = "/webscale.svg", [ROUTES] = NULL,
};

void httpd_input_init(struct hin *in) { memset(in, 0, sizeof *in); }

#define TYPE_TEXT "text/plain; charset=utf-8"
#define TYPE_HTML "text/html; charset=utf-8"
#define TYPE_JSON "application/json"

/* One answer: its head (and a short body) in resp[0..n), and maybe a
 * long body after it, owned (freed once sent) or static. */
struct answer {
    size_t n;
    const char *body;
    size_t body_len;
    char *owned;
};

/* A short answer in resp: r's status and body[0..n). */
static void short_answer(struct answer *a, char *resp, const struct http_request *r,
                         const char *body, size_t n)
{
    int k = http_response(resp, HTTP_RESP_MAX, r, TYPE_TEXT, body, n);
    ASSERT(k > 0);               /* HTTP_RESP_MAX holds the longest */
    a->n = (size_t)k;
}

/* The status line's reason as the body: 404, 405, the refused ones, and
 * the 500 and 503 of a page that could not be built (why, in the body). */
static void status_answer(struct answer *a, char *resp, struct http_request *r, int status,
                          const char *why)
{
    char body[160];
    r->status = (uint16_t)status;
    int n = ksnprintf(body, sizeof body, "%s%s%s\n", http_reason(status), why ? ": " : "",
                      why ? why : "");
    if (n < 0 || (size_t)n >= sizeof body)
        n = (int)sizeof body - 1;
    short_answer(a, resp, r, body, (size_t)n);
}

/* GET /text: the figures of this server, a few lines of text. Appended
 * piece by piece rather than formatted: the format engine's call per
 * character and 64-bit division per digit were most of this page's
 * instructions (tools/httpcost.py). Its longest is about 400 bytes. */
static void text_answer(struct answer *a, char *resp, const struct http_request *r)
{
    char body[700];
    struct outbuf b;
    outbuf_init(&b, body, sizeof body);
    int loop = httpd.style == STYLE_LOOP;
    if (loop)
        outbuf_lit(&b, "webscale httpd, event-loop style: is it web scale?\n");
    else
        outbuf_lit(&b, "webscale httpd, thread-per-connection style: is it web scale?\n");
    outbuf_lit(&b, "requests served: ");
    outbuf_u32(&b, httpd.requests);
    outbuf_lit(&b, "\nconnections: ");
    outbuf_u32(&b, httpd.conns);
    outbuf_lit(&b, " accepted, ");
    outbuf_u32(&b, httpd.open);
    outbuf_lit(&b, " open now, ");
    outbuf_u32(&b, httpd.open_max);
    outbuf_lit(&b, " at most at once\nmemory per connection at the peak: ");
    outbuf_u32(&b, httpd_bytes_per_conn());
    outbuf_lit(&b, " bytes of heap (struct tcp_conn ");
    outbuf_u32(&b, (uint32_t)tcp_conn_bytes());
    if (loop)
        outbuf_lit(&b, " bytes)\n");
    else
        outbuf_lit(&b, " bytes, plus a 4096-byte thread stack)\n");
    outbuf_lit(&b, "context switches since the server started: ");
    outbuf_u64(&b, httpd_switches() - httpd.switches_base);
    outbuf_lit(&b, "\n");
    ASSERT(!b.full);             /* 700 bytes hold the longest */
    short_answer(a, resp, r, body, b.len);
}

/* The dashboard's page: the template with, where it says <!--figures-->,
 * the figures as text for a browser without JavaScript (its script then
 * draws them live from /stats.json), the text page's first; and where it
 * says <!--plot-->, make webscale's plot when the kernel was built after
 * one was made (tools/embed.py embeds it; without, nothing, so the page
 * asks for nothing that is not there). */
#define MARK_FIGURES "<!--figures-->"
#define MARK_PLOT "<!--plot-->"

static void figures(struct outbuf *b, int *e)
{
    outbuf_printf(b, "requests served: %u\nconnections: %u accepted, %u open now, %u at most "
                  "at once\nmemory per connection at the peak: %u bytes of heap\n",
                  httpd.requests, httpd.conns, httpd.open, httpd.open_max,
                  httpd_bytes_per_conn());
    if (stats_text(b) < 0)
        *e = -E_NOMEM;
}

static void plot(struct outbuf *b)
{
    if (web_asset("webscale.svg"))
        outbuf_str(b, "<section class=\"wide\" id=\"plot\"><h2>The talk's answer "
                   "<small>make webscale, as measured when this kernel was built</small></h2>"
                   "<img src=\"/webscale.svg\" alt=\"requests/s and heap per connection "
                   "against connections, both styles\"></section>");
}

static int marker_at(const struct web_asset *t, size_t i, const char *m)
{
    size_t n = strlen(m);
    return i + n <= t->len && !memcmp(t->data + i, m, n);
}

/* Where the template's markers are, in order: found on the first request
 * (the template is built in, it never changes), since looking at each of
 * its bytes again was most of the page's instructions. Two threads may
 * both find them; they write the same figures, and count goes last. */
#define MARKS_MAX 8
struct mark {
    size_t at;
    int fig;                     /* MARK_FIGURES, else MARK_PLOT */
};
static struct mark marks[MARKS_MAX];
static volatile int nmarks = -1;

static void find_marks(const struct web_asset *t)
{
    int n = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->data[i] != '<')
            continue;
        int fig = marker_at(t, i, MARK_FIGURES);
        if (!fig && !marker_at(t, i, MARK_PLOT))
            continue;
        if (n == MARKS_MAX)      /* user/web/dashboard.html has two */
            panic("dashboard.html: more than %d markers", MARKS_MAX);
        marks[n].at = i;
        marks[n++].fig = fig;
        i += strlen(fig ? MARK_FIGURES : MARK_PLOT) - 1;
    }
    __asm__ volatile("" ::: "memory");   /* the marks before their count */
    nmarks = n;
}

static int dashboard_page(struct outbuf *b)
{
    const struct web_asset *t = web_asset("dashboard.html");
    ASSERT(t);                   /* tools/embed.py checked its markers */
    if (nmarks < 0)
        find_marks(t);
    int e = 0;
    size_t from = 0;
    for (int k = 0; k < nmarks; k++) {
        outbuf_mem(b, t->data + from, marks[k].at - from);
        if (marks[k].fig)
            figures(b, &e);
        else
            plot(b);
        from = marks[k].at + strlen(marks[k].fig ? MARK_FIGURES : MARK_PLOT);
    }
    outbuf_mem(b, t->data + from, t->len - from);
    return e;
}

static int stats_page(struct outbuf *b) { return stats_json(b); }

/* A page built on the heap in at most cap bytes by fill: 503 when there
 * is no heap for it, 500 when it does not fit (never cut). */
static void built_answer(struct answer *a, char *resp, struct http_request *r, size_t cap,
                         const char *type, int (*fill)(struct outbuf *))
{
    char *p = kmalloc(cap);
    if (!p) {
        status_answer(a, resp, r, 503, "no heap for the page");
        return;
    }
    struct outbuf b;
    outbuf_init(&b, p, cap);
    int e = fill(&b);
    if (e < 0 || b.full) {
        kfree(p);
        char why[64];
        ksnprintf(why, sizeof why, e < 0 ? "no heap for the figures"
                                         : "the page needs more than %u bytes", (unsigned)cap);
        status_answer(a, resp, r, e < 0 ? 503 : 500, why);
        return;
    }
    int k = http_head(resp, HTTP_RESP_MAX, r, type, b.len);
    ASSERT(k > 0);
    a->n = (size_t)k;
    a->body = p;
    a->body_len = b.len;
    a->owned = p;
}

static void asset_answer(struct answer *a, char *resp, struct http_request *r,
                         const char *name)
{
    const struct web_asset *w = web_asset(name);
    if (!w) {                    /* the plot, before make webscale made one */
        status_answer(a, resp, r, 404, NULL);
        return;
    }
    int k = http_head(resp, HTTP_RESP_MAX, r, w->type, w->len);
    ASSERT(k > 0);
    a->n = (size_t)k;
    a->body = w->data;
    a->body_len = w->len;
}

/* The answer to r. */
static void answer(struct answer *a, char *resp, const struct http_request *req)
{
    struct http_request r = *req;
    memset(a, 0, sizeof *a);
    if (r.status != 200) {
        status_answer(a, resp, &r, r.status, NULL);
        return;
    }
    switch ((enum route)r.route) {
    case ROUTE_DASHBOARD:
        built_answer(a, resp, &r, HTTP_DASHBOARD_MAX, TYPE_HTML, dashboard_page);
        break;
    case ROUTE_STATS: built_answer(a, resp, &r, STATS_JSON_MAX, TYPE_JSON, stats_page); break;
    case ROUTE_TEXT: text_answer(a, resp, &r); break;
    case ROUTE_CSS: asset_answer(a, resp, &r, "dash.css"); break;
    case ROUTE_JS: asset_answer(a, resp, &r, "dash.js"); break;
    case ROUTE_PLOT: asset_answer(a, resp, &r, "webscale.svg"); break;
    case ROUTE_SLOW: text_answer(a, resp, &r); break;   /* after its wait */
    default: status_answer(a, resp, &r, 404, NULL);
    }
    if (r.head_only && a->owned) {   /* HEAD: the length was all we needed */
        kfree(a->owned);
        a->owned = NULL;
    }
    if (r.head_only)
        a->body_len = 0;
}

/* Send what is left of the body in flight: 1 when all of it has gone (or
 * there was none), 0 when the send buffer is full (loop style: writable
 * comes), -1 when the connection failed. */
static int flush(struct hin *in, const struct hio *io)
{
    struct hbusy *b = in->busy;
    if (!b)
        return 1;
    while (b->out_len) {
        int k = io->send(io->ctx, b->out, b->out_len);
        if (k == -E_WOULDBLOCK || k == 0)
            return 0;
        if (k < 0)
            return -1;
        b->out += k;
        b->out_len -= (size_t)k;
    }
    if (b->out_owned)
        kfree(b->out_owned);
    b->out_owned = NULL;
    return 1;
}

/* Send a's head whole (io->room said there is room for it), then as much
 * of its body as goes, the rest held in in->busy: 1, 0 or -1 as flush. */
static int send_answer(struct hin *in, const struct hio *io, const char *resp,
                       const struct answer *a)
{
    int k = io->send(io->ctx, resp, a->n);
    size_t done = 0;
    while (k == (int)a->n && done < a->body_len) {
        int m = io->send(io->ctx, a->body + done, a->body_len - done);
        if (m == -E_WOULDBLOCK || m == 0)
            break;               /* the rest waits for room */
        if (m < 0)
            k = -1;
        else
            done += (size_t)m;
    }
    if (k != (int)a->n) {
        if (a->owned)
            kfree(a->owned);
        return -1;
    }
    if (done == a->body_len) {
        if (a->owned)
            kfree(a->owned);
        return 1;
    }
    struct hbusy *b = busy(in);
    if (!b) {                    /* no heap to hold the rest: the answer cannot be whole */
        if (a->owned)
            kfree(a->owned);
        return -1;
    }
    b->out = a->body + done;
    b->out_len = a->body_len - done;
    b->out_owned = a->owned;
    return 0;
}

/* Answer r and send it: the serve_end to go on with (SERVE_READ: on). */
static enum serve_end respond(struct hin *in, const struct hio *io, char *resp,
                              const struct http_request *r)
{
    struct answer a;
    answer(&a, resp, r);
    int sent = send_answer(in, io, resp, &a);
    if (sent < 0 || (sent && !r->keep))
        return SERVE_CLOSE;      /* the client does not read, or we close */
    if (!sent) {
        in->busy->close_after = !r->keep;
        return SERVE_ROOM;       /* the rest of the body goes when writable comes */
    }
    return SERVE_READ;
}

/* GET /slow: wait for the slow service, then answer. The loop style
 * parks r in in->busy until its timer ends (SERVE_WAIT); a thread sleeps. */
static enum serve_end slow(struct hin *in, const struct hio *io, char *resp,
                           struct http_request *r)
{
    if (!io->wait_ms) {
        thread_sleep_ms(HTTPD_SLOW_MS);
        return respond(in, io, resp, r);
    }
    struct hbusy *b = busy(in);
    if (!b || io->wait_ms(io->ctx, HTTPD_SLOW_MS) < 0) {
        unbusy(in);
        struct answer a;
        status_answer(&a, resp, r, 503, "no heap for the slow service's timer");
        return send_answer(in, io, resp, &a) > 0 && r->keep ? SERVE_READ : SERVE_CLOSE;
    }
    b->later = *r;
    b->later_state = LATER_WAITING;
    return SERVE_WAIT;
}

enum serve_end httpd_serve(struct hin *in, char *buf, size_t len, const struct hio *io,
                           char *resp)
{
    size_t off = 0;
    enum serve_end end = SERVE_READ;
    struct hbusy *b = in->busy;
    int sent = flush(in, io);
    if (sent < 0 || (sent && b && b->close_after))
        end = SERVE_CLOSE;
    else if (!sent)
        end = SERVE_ROOM;
    else if (b && b->later_state == LATER_WAITING)
        end = SERVE_WAIT;        /* what came behind it waits too */
    else if (b && b->later_state == LATER_READY) {
        b->later_state = LATER_NONE;
        struct http_request r = b->later;
        end = respond(in, io, resp, &r);
    }
    while (end == SERVE_READ && off < len) {
        if (!in->s.body_left && io->room && !io->room(io->ctx)) {
            end = SERVE_ROOM;
            break;
        }
        size_t used;
        struct http_request r;
        enum http_step st = http_next_routed(routes, &in->s, buf + off, len - off, &used, &r);
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
        if (r.status == 200 && r.route == ROUTE_SLOW)
            end = slow(in, io, resp, &r);
        else
            end = respond(in, io, resp, &r);
    }
    if (end == SERVE_CLOSE || (in->busy && in->busy->close_after))
        off = len;
    if (!hold(in, buf + off, len - off))
        return SERVE_CLOSE;
    unbusy(in);                  /* nothing held, sent or waited for: an idle connection */
    return end;
}

enum serve_end httpd_serve_more(struct hin *in, const struct hio *io, char *scratch,
                                size_t scratch_size, char *resp)
{
    char *held = in->busy ? in->busy->held : NULL;
    char *buf = held ? held : scratch;
    size_t have = held ? in->busy->len : 0, cap = held ? HTTP_HEAD_MAX : scratch_size;
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

enum serve_end httpd_serve_pending(struct hin *in, const struct hio *io, char *resp)
{
    struct hbusy *b = in->busy;
    return httpd_serve(in, b ? b->held : NULL, b ? b->len : 0, io, resp);
}

void httpd_input_free(struct hin *in)
{
    hold(in, NULL, 0);
    struct hbusy *b = in->busy;
    if (b) {
        ASSERT(!b->wait);        /* the style stopped its wait first */
        if (b->out_owned)
            kfree(b->out_owned);
        kfree(b);
        in->busy = NULL;
    }
}
