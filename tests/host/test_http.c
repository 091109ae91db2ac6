/* user/http.c: request framing (bodies skipped, never parsed as requests;
 * ambiguous lengths refused), HEAD, pipelining, head sizes, and random
 * bytes, fed whole and in random pieces the way httpd holds them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/host/check.h"
#include "user/http.h"

#define MAX_ANSWERS 64

/* What a server does with a byte stream: the statuses it answers, in
 * order, until it closes or the bytes end. Fed in pieces of at most
 * piece bytes (0: all at once), holding what http_next did not use in a
 * buffer of HTTP_HEAD_MAX as httpd does. */
struct run {
    int status[MAX_ANSWERS];
    int head_only[MAX_ANSWERS];
    int n;
    int closed;          /* a request said not to keep the connection */
    size_t held;         /* bytes held at the end */
};

static void feed(const char *in, size_t len, size_t piece, unsigned seed, struct run *out)
{
    static char held[HTTP_HEAD_MAX];
    struct http_stream s = { 0 };
    size_t have = 0, at = 0;
    memset(out, 0, sizeof *out);
    srand(seed);
    while (at < len && !out->closed) {
        size_t k = len - at;
        if (piece && k > piece)
            k = 1 + (size_t)rand() % piece;
        if (k > HTTP_HEAD_MAX - have)
            k = HTTP_HEAD_MAX - have;
        CHECK(k > 0);            /* a full buffer is always answered */
        if (!k)
            return;
        memcpy(held + have, in + at, k);
        have += k;
        at += k;
        size_t off = 0;
        while (off < have && !out->closed) {
            size_t used;
            struct http_request r;
            enum http_step st = http_next(&s, held + off, have - off, &used, &r);
            CHECK(used <= have - off);
            if (st == HTTP_NEED_MORE) {
                CHECK(used == 0);
                break;
            }
            CHECK(used > 0);
            off += used;
            if (st == HTTP_SKIPPED)
                continue;
            if (out->n < MAX_ANSWERS) {
                out->status[out->n] = r.status;
                out->head_only[out->n] = r.head_only;
            }
            out->n++;
            if (http_refused(r.status))
                CHECK(!r.keep);
            if (!r.keep)
                out->closed = 1;
        }
        memmove(held, held + off, have - off);
        have -= off;
    }
    out->held = have;
}

/* One request alone: its status and fields. */
static struct http_request one(const char *req)
{
    struct http_stream s = { 0 };
    struct http_request r;
    size_t used;
    memset(&r, 0xAA, sizeof r);
    enum http_step st = http_next(&s, req, strlen(req), &used, &r);
    CHECK_EQ(st, HTTP_REQUEST);
    CHECK_EQ(used, strlen(req));
    return r;
}

static int status_of(const char *req) { return one(req).status; }

/* One request alone and the status it gets. */
static const struct {
    const char *req;
    int status;
} statuses[] = {
    { "GET /nothing HTTP/1.1\r\n\r\n", 404 },
    { "DELETE / HTTP/1.1\r\n\r\n", 405 },
    { "get / HTTP/1.1\r\n\r\n", 405 }, /* methods are case-sensitive */
    { "GET / HTTP/2.0\r\n\r\n", 400 },
    { "GET / HTTP/1.1 \r\n\r\n", 400 },
    { "GET  / HTTP/1.1\r\n\r\n", 400 },
    { "GET /\r\n\r\n", 400 },
    { "\x01\x02 garbage \xff\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 }, /* space before colon */
    { "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400 }, /* obs-fold */
    { "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400 }, /* bare CR */
    { "GET / HTTP/1.1\r\nno colon\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nX-Empty:\r\n\r\n", 200 },
    /* Framing that cannot be trusted: refused (and closed, below). */
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", 501 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400 },
    { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n", 405 },
    { "POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413 },
    { "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413 },
};

static void each_status(void)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        int got = status_of(statuses[i].req);
        if (got != statuses[i].status)
            fprintf(stderr, "%d wanted, got %d: %s\n", statuses[i].status, got, statuses[i].req);
        CHECK_EQ(got, statuses[i].status);
    }
}

static void request_lines_and_fields(void)
{
    struct http_request r = one("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(r.status == 200 && r.keep && !r.head_only && r.body_len == 0);
    CHECK(one("GET / HTTP/1.0\r\n\r\n").keep == 0);
    CHECK(one("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep == 1);
    CHECK(one("GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n").keep == 0);
    CHECK(one("GET / HTTP/1.1\nHost: a\n\n").status == 200);          /* bare LF ends lines */
}

static void heads_and_bodies(void)
{
    struct http_request r = one("HEAD / HTTP/1.1\r\n\r\n");
    CHECK(r.status == 200 && r.head_only && r.keep);
    CHECK(one("HEAD /x HTTP/1.1\r\n\r\n").status == 404);
    r = one("POST / HTTP/1.1\r\nContent-Length: 24\r\n\r\n");
    CHECK(r.status == 405 && r.keep && r.body_len == 24);
    CHECK(one("POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n").keep == 0);
    CHECK(one("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").keep == 0);
}

/* The smuggling hole: a body that looks like a request is skipped. */
static void smuggling(void)
{
    const char *in = "POST / HTTP/1.1\r\nContent-Length: 24\r\n\r\n"
                     "GET /smuggled HTTP/1.1\r\n"
                     "GET / HTTP/1.1\r\n\r\n";
    for (size_t piece = 0; piece <= 7; piece++)
        for (unsigned seed = 1; seed <= 20; seed++) {
            struct run r;
            feed(in, strlen(in), piece, seed, &r);
            CHECK_EQ(r.n, 2);
            CHECK(r.status[0] == 405 && r.status[1] == 200 && !r.closed && r.held == 0);
        }
    /* A body that is not all there yet keeps the stream skipping. */
    struct http_stream s = { 0 };
    struct http_request q;
    size_t used;
    const char *head = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
    CHECK_EQ(http_next(&s, head, strlen(head), &used, &q), HTTP_REQUEST);
    CHECK_EQ(s.body_left, 10);
    CHECK_EQ(http_next(&s, "GET / HTT", 9, &used, &q), HTTP_SKIPPED);
    CHECK(used == 9 && s.body_left == 1);
    CHECK_EQ(http_next(&s, "P/1.1\r\n\r\n", 9, &used, &q), HTTP_SKIPPED);
    CHECK(used == 1 && s.body_left == 0);
    /* A body after a refused request is not skipped: the connection closes. */
    struct run r;
    in = "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nxGET / HTTP/1.1\r\n\r\n";
    feed(in, strlen(in), 0, 1, &r);
    CHECK(r.n == 1 && r.status[0] == 400 && r.closed);
}

static void pipelining(void)
{
    char in[2000] = "";
    for (int i = 0; i < 20; i++)
        strcat(in, i % 5 == 4 ? "HEAD / HTTP/1.1\r\n\r\n" : "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    for (size_t piece = 0; piece <= 64; piece += 16) {
        struct run r;
        feed(in, strlen(in), piece, 7, &r);
        CHECK_EQ(r.n, 20);
        for (int i = 0; i < 20; i++)
            CHECK(r.status[i] == 200 && r.head_only[i] == (i % 5 == 4));
        CHECK(!r.closed && r.held == 0);
    }
    /* Empty lines between requests are ignored [RFC 9112 2.2]. */
    struct run r;
    const char *two = "\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    feed(two, strlen(two), 0, 1, &r);
    CHECK(r.n == 2 && r.status[1] == 200);
}

/* A head of exactly n bytes: request line, a Cookie field padded, CRLF CRLF. */
static char *head_of(size_t n)
{
    const char *line = "GET / HTTP/1.1\r\nCookie: ";
    char *h = malloc(n + 1);
    size_t a = strlen(line);
    memcpy(h, line, a);
    memset(h + a, 'c', n - a - 4);
    memcpy(h + n - 4, "\r\n\r\n", 5);
    return h;
}

static void head_sizes(void)
{
    size_t sizes[] = { 6 * 1024, HTTP_HEAD_MAX, HTTP_HEAD_MAX + 1, 9 * 1024 };
    int want[] = { 200, 200, 431, 431 };
    for (int i = 0; i < 4; i++) {
        char *h = head_of(sizes[i]);
        for (size_t piece = 0; piece <= 2048; piece += 1024) {
            struct run r;
            feed(h, sizes[i], piece, 3, &r);
            CHECK(r.n >= 1 && r.status[0] == want[i]);
            CHECK_EQ(r.closed, want[i] == 431);
        }
        free(h);
    }
    /* Not complete and short of the limit: wait for more. */
    struct http_stream s = { 0 };
    struct http_request q;
    size_t used;
    CHECK_EQ(http_next(&s, "GET / HTTP/1.1\r\n", 16, &used, &q), HTTP_NEED_MORE);
    CHECK_EQ(used, 0);
}

static void responses(void)
{
    char get[256], head[256], small[40];
    struct http_request r = one("GET / HTTP/1.1\r\n\r\n");
    int g = http_response(get, sizeof get, &r, "text/plain", "hello\n", 6);
    r.head_only = 1;
    int h = http_response(head, sizeof head, &r, "text/plain", "hello\n", 6);
    CHECK(g > 0 && h == g - 6 && !memcmp(get, head, (size_t)h));   /* the same fields */
    CHECK(strstr(get, "\r\nContent-Length: 6\r\n") && !strcmp(get + h, "hello\n"));
    CHECK(!strncmp(get, "HTTP/1.1 200 OK\r\n", 17) && strstr(get, "Connection: keep-alive"));
    r = one("POST / HTTP/1.0\r\n\r\n");
    CHECK(http_response(get, sizeof get, &r, "text/plain", "x\n", 2) > 0);
    CHECK(strstr(get, "405 Method Not Allowed") && strstr(get, "Allow: GET, HEAD\r\n") &&
          strstr(get, "Connection: close"));
    CHECK_EQ(http_response(small, sizeof small, &r, "text/plain", "x\n", 2), -1);
    CHECK(strstr(get, "\r\nContent-Type: text/plain\r\n") && strstr(get, "Cache-Control: no-store"));
    r = one("GET / HTTP/1.1\r\n\r\n");
    int n = http_head(get, sizeof get, &r, "application/json", 12345);
    CHECK(n > 0 && (size_t)n == strlen(get) && !strcmp(get + n - 4, "\r\n\r\n"));
    CHECK(strstr(get, "Content-Type: application/json\r\nContent-Length: 12345\r\n"));
    CHECK_EQ(http_head(small, sizeof small, &r, "application/json", 1), -1);
    CHECK(!strcmp(http_reason(431), "Request Header Fields Too Large"));
    CHECK(!strcmp(http_reason(503), "Service Unavailable"));
    CHECK(!strcmp(http_reason(413), "Content Too Large"));
}

/* Every byte in a method and in a field name: a token's characters
 * [RFC 9110 5.6.2] make a method we do not implement (405) and a field we
 * ignore (200); any other byte, 400. */
static void token_bytes(void)
{
    for (int c = 1; c < 256; c++) {
        if (c == '\r' || c == '\n')
            continue;            /* line ends: framing, tested above */
        int tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c < 128 && strchr("!#$%&'*+-.^_`|~", c));
        char req[64];
        snprintf(req, sizeof req, "G%cT / HTTP/1.1\r\nHost: a\r\n\r\n", c);
        CHECK_EQ(status_of(req), (c == 'E' ? 200 : tchar ? 405 : 400));   /* GET itself */
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\nX%c: 1\r\n\r\n", c);
        CHECK_EQ(status_of(req), (tchar || c == ':' ? 200 : 400));   /* "X" and ": 1" */
    }
}

/* http_head builds the head piece by piece: byte for byte what one
 * snprintf of the whole head gave, for every status, both Connection
 * values, lengths of 1 to 10 digits; and -1 for every size without room
 * for it and its NUL. */
static void head_as_one_format(void)
{
    static const int statuses[] = { 200, 400, 404, 405, 411, 413, 431, 500, 501, 503, 299 };
    static const size_t lengths[] = { 0, 7, 99, 1234, 65535, 4000000000u };
    char got[400], want[400];
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
        for (size_t j = 0; j < sizeof lengths / sizeof *lengths; j++) {
            for (int keep = 0; keep <= 1; keep++) {
                struct http_request r = { 0 };
                r.status = (uint16_t)statuses[i];
                r.keep = (uint8_t)keep;
                const char *type = j & 1 ? "application/json" : "text/plain; charset=utf-8";
                int w = snprintf(want, sizeof want,
                                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %u\r\n"
                                 "Cache-Control: no-store\r\nConnection: %s\r\n%s\r\n",
                                 r.status, http_reason(r.status), type, (unsigned)lengths[j],
                                 keep ? "keep-alive" : "close",
                                 r.status == 405 ? "Allow: GET, HEAD\r\n" : "");
                int n = http_head(got, sizeof got, &r, type, lengths[j]);
                CHECK_EQ(n, w);
                CHECK(n > 0 && !strcmp(got, want));
                for (size_t size = 0; size <= (size_t)w; size++)
                    CHECK_EQ(http_head(got, size, &r, type, lengths[j]), -1);
                CHECK_EQ(http_head(got, (size_t)w + 1, &r, type, lengths[j]), w);
            }
        }
    }
}

/* A request alone through the routes of httpd's site, and the status and
 * route it should get; a refused one must also close. */
struct routed_case {
    const char *req;
    int status, route;
};

static void check_routed(const struct routed_case *cases, size_t n)
{
    static const char *const paths[] = { "/", "/stats.json", "/text", NULL };
    for (size_t i = 0; i < n; i++) {
        struct http_stream s = { 0 };
        struct http_request r;
        size_t used;
        const char *q = cases[i].req;
        CHECK_EQ(http_next_routed(paths, &s, q, strlen(q), &used, &r), HTTP_REQUEST);
        if (r.status != cases[i].status)
            fprintf(stderr, "%d wanted, got %d: %s\n", cases[i].status, r.status, q);
        CHECK_EQ(r.status, cases[i].status);
        CHECK_EQ(r.route, cases[i].route);
        if (http_refused(cases[i].status))
            CHECK(!r.keep);
    }
}

/* A server's routes: each path its index, a query string ignored, any
 * other path 404 (methods other than GET and HEAD 405 first); without
 * routes "/" alone. */
static void routes(void)
{
    static const struct routed_case cases[] = {
        { "GET / HTTP/1.1\r\n\r\n", 200, 0 },
        { "GET /stats.json HTTP/1.1\r\n\r\n", 200, 1 },
        { "HEAD /text HTTP/1.1\r\n\r\n", 200, 2 },
        { "GET /stats.json?t=5 HTTP/1.1\r\n\r\n", 200, 1 },
        { "GET /stats.jso HTTP/1.1\r\n\r\n", 404, 0 },
        { "GET /stats.json/ HTTP/1.1\r\n\r\n", 404, 0 },
        { "GET /?x HTTP/1.1\r\n\r\n", 200, 0 },
        { "GET ?x HTTP/1.1\r\n\r\n", 404, 0 },
        { "POST /stats.json HTTP/1.1\r\n\r\n", 405, 0 },
        { "DELETE /nothing HTTP/1.1\r\n\r\n", 405, 0 },
    };
    check_routed(cases, sizeof cases / sizeof cases[0]);
    CHECK_EQ(status_of("GET /stats.json HTTP/1.1\r\n\r\n"), 404);
}

/* The absolute-form target [RFC 9112 3.2.2], which a server MUST accept:
 * routed by the path after its authority, whatever the Host field says;
 * an empty host or userinfo is invalid (400, closed); a scheme other
 * than http names nothing here (404). */
static void absolute_form(void)
{
    static const struct routed_case cases[] = {
        { "GET http://10.0.2.15/text HTTP/1.1\r\nHost: 10.0.2.15\r\n\r\n", 200, 2 },
        { "GET http://10.0.2.15/text HTTP/1.1\r\n\r\n", 200, 2 },
        { "GET http://10.0.2.15:80/stats.json?t=1 HTTP/1.1\r\nHost: other\r\n\r\n", 200, 1 },
        { "HEAD HTTP://Example.ORG/text HTTP/1.0\r\n\r\n", 200, 2 },
        { "GET http://10.0.2.15 HTTP/1.1\r\n\r\n", 200, 0 },
        { "GET http://10.0.2.15?x HTTP/1.1\r\n\r\n", 200, 0 },
        { "GET http://[::1]:80/ HTTP/1.1\r\n\r\n", 200, 0 },
        { "GET http://10.0.2.15/nothing HTTP/1.1\r\n\r\n", 404, 0 },
        { "GET http://10.0.2.15/text/ HTTP/1.1\r\n\r\n", 404, 0 },
        { "GET https://10.0.2.15/text HTTP/1.1\r\n\r\n", 404, 0 },
        { "GET ftp://10.0.2.15/text HTTP/1.1\r\n\r\n", 404, 0 },
        { "GET http:/text HTTP/1.1\r\n\r\n", 404, 0 },
        { "GET http:///text HTTP/1.1\r\n\r\n", 400, 0 },
        { "GET http://user@10.0.2.15/text HTTP/1.1\r\n\r\n", 400, 0 },
        { "GET http:// HTTP/1.1\r\n\r\n", 400, 0 },
        { "POST http://10.0.2.15/text HTTP/1.1\r\n\r\n", 405, 0 },
        /* Two Hosts are refused in any form [RFC 9112 3.2]. */
        { "GET http://a/text HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0 },
    };
    check_routed(cases, sizeof cases / sizeof cases[0]);
    CHECK_EQ(status_of("GET http://10.0.2.15/ HTTP/1.1\r\n\r\n"), 200);
}

/* Random bytes, and valid requests with random bytes changed: whole and in
 * pieces the same answers; every step within its bytes; ASan watches. */
static void fuzz(void)
{
    static const char *seeds[] = {
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcdGET / HTTP/1.1\r\n\r\n",
        "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    };
    static char buf[3 * HTTP_HEAD_MAX];
    srand(12345);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len;
        if (iter % 2) {
            len = (size_t)rand() % (iter % 100 == 1 ? sizeof buf : 300);
            for (size_t i = 0; i < len; i++)
                buf[i] = (char)(rand() % 4 ? "GET /HTP1.\r\n: CL0123456789"[rand() % 27] : rand());
        } else {
            len = 0;
            for (int k = rand() % 6; k >= 0; k--) {
                const char *sd = seeds[rand() % 4];
                memcpy(buf + len, sd, strlen(sd));
                len += strlen(sd);
            }
            for (int k = rand() % 4; k > 0; k--)
                buf[rand() % len] = (char)rand();
        }
        struct run whole, pieces;
        unsigned seed = (unsigned)rand();
        feed(buf, len, 0, seed, &whole);
        feed(buf, len, 1 + (size_t)rand() % 40, seed, &pieces);
        CHECK_EQ(whole.n, pieces.n);
        for (int i = 0; i < whole.n && i < MAX_ANSWERS; i++) {
            int st = whole.status[i];
            CHECK(st == 200 || st == 404 || st == 405 || http_refused(st));
            CHECK_EQ(st, pieces.status[i]);
        }
        if (check_failures) {
            fprintf(stderr, "fuzz case %d, %zu bytes\n", iter, len);
            return;
        }
    }
}

int main(void)
{
    each_status();
    request_lines_and_fields();
    heads_and_bodies();
    smuggling();
    pipelining();
    head_sizes();
    responses();
    head_as_one_format();
    token_bytes();
    routes();
    absolute_form();
    fuzz();
    return check_done("http");
}
