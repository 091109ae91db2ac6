/* HTTP request parsing and response framing [RFC 9112, RFC 9110]; see
 * user/http.h. The rules that matter for a server that shares one
 * connection among requests are framing rules: where a request's body ends
 * decides where the next request starts, so anything ambiguous about the
 * body's length (two Content-Lengths, Transfer-Encoding beside one, a
 * chunked body we cannot read) is refused and the connection closed
 * rather than guessed at [RFC 9112 6.3, 11.2 "request smuggling"]. */
#include <webscale/kprintf.h>
#include <webscale/string.h>
#include "user/http.h"
#include "user/outbuf.h"

/* Everything a head's fields say that this server uses. */
struct fields {
    int content_lengths;      /* Content-Length lines seen */
    uint32_t content_length;  /* saturated at HTTP_BODY_MAX + 1 */
    int bad_length;           /* not 1*DIGIT */
    int te;                   /* Transfer-Encoding seen */
    int te_chunked_only;      /* ... and it was exactly "chunked" */
    int te_chunked_last;      /* ... and chunked was its final coding */
    int hosts;
    int conn_close, conn_keep_alive;
};

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Case-insensitive equality of s[0..n) and the lower-case word w. */
static int word_is(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != w[i])
            return 0;
    return 1;
}

/* tchar [RFC 9110 5.6.2]: the characters of a method or field name. */
static int is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    /* A switch, not strchr over the list: the ':' and ' ' that end every
     * name and method would each scan all of it. */
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Trims optional whitespace from both ends of s[*a..*b). */
static void trim(const char *s, size_t *a, size_t *b)
{
    while (*a < *b && is_ows(s[*a]))
        (*a)++;
    while (*b > *a && is_ows(s[*b - 1]))
        (*b)--;
}

/* The comma-separated elements of a list value [RFC 9110 5.6.1], each
 * trimmed; calls fn on each non-empty one. */
static void each_element(const char *v, size_t n, struct fields *f,
                         void (*fn)(struct fields *, const char *, size_t, int last))
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] != ',')
            continue;
        size_t a = start, b = i;
        trim(v, &a, &b);
        if (b > a)
            fn(f, v + a, b - a, i == n);
        start = i + 1;
    }
}

static void connection_option(struct fields *f, const char *e, size_t n, int last)
{
    (void)last;
    if (word_is(e, n, "close"))
        f->conn_close = 1;
    else if (word_is(e, n, "keep-alive"))
        f->conn_keep_alive = 1;
}

static void transfer_coding(struct fields *f, const char *e, size_t n, int last)
{
    if (last)
        f->te_chunked_last = word_is(e, n, "chunked");
}

static void content_length(struct fields *f, const char *v, size_t n)
{
    f->content_lengths++;
    if (!n)
        f->bad_length = 1;
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            f->bad_length = 1;   /* "5, 5" and "+5" included: refused, not read */
            return;
        }
        x = x * 10 + (uint32_t)(v[i] - '0');
        if (x > HTTP_BODY_MAX)
            x = HTTP_BODY_MAX + 1;   /* saturate: too large is all we need to know */
    }
    f->content_length = x;
}

/* One field line, s[0..n) without its line end [RFC 9112 5]. 0 if bad. */
static int field_line(const char *s, size_t n, struct fields *f)
{
    size_t colon = 0;
    while (colon < n && is_tchar(s[colon]))
        colon++;
    /* An empty name, whitespace before the colon (5.1: MUST be 400), or a
     * line folded onto the last one (5.2: obs-fold, refused here). */
    if (!colon || colon == n || s[colon] != ':')
        return 0;
    for (size_t i = colon + 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;            /* CTLs, a bare CR among them [RFC 9112 2.2] */
    }
    size_t a = colon + 1, b = n;
    trim(s, &a, &b);
    const char *v = s + a;
    size_t vn = b - a;
    if (word_is(s, colon, "content-length")) {
        content_length(f, v, vn);
    } else if (word_is(s, colon, "transfer-encoding")) {
        f->te = 1;
        f->te_chunked_only = word_is(v, vn, "chunked");
        each_element(v, vn, f, transfer_coding);
    } else if (word_is(s, colon, "connection")) {
        each_element(v, vn, f, connection_option);
    } else if (word_is(s, colon, "host")) {
        f->hosts++;
    }
    return 1;
}

/* request-line = method SP request-target SP HTTP-version [RFC 9112 3].
 * 1 and *v11, *method_len, the target's place; 0 if it does not parse. */
static int request_line(const char *s, size_t n, int *v11, size_t *method_len, size_t *t0,
                        size_t *t1)
{
    size_t i = 0;
    while (i < n && is_tchar(s[i]))
        i++;
    if (!i || i == n || s[i] != ' ')
        return 0;
    *method_len = i;
    *t0 = ++i;
    while (i < n && (unsigned char)s[i] > 0x20 && s[i] != 0x7f)
        i++;
    if (i == *t0 || i == n || s[i] != ' ')
        return 0;
    *t1 = i++;
    if (n - i != 8 || memcmp(s + i, "HTTP/1.", 7) || (s[i + 7] != '0' && s[i + 7] != '1'))
        return 0;
    *v11 = s[i + 7] == '1';
    return 1;
}

/* The length of the line at s[0..n) without CR LF (or a bare LF, which
 * RFC 9112 2.2 lets a recipient take as a line end), and in *next where
 * the following line starts; 0 in *next if no LF is there. */
static size_t line_at(const char *s, size_t n, size_t *next)
{
    size_t k = 0;
    while (k < n && s[k] != '\n')
        k++;
    if (k == n) {
        *next = 0;
        return n;
    }
    *next = k + 1;
    return k && s[k - 1] == '\r' ? k - 1 : k;
}

/* Where the head in buf[0..len) ends (just after its empty line), or 0. */
static size_t head_end(const char *buf, size_t len)
{
    size_t at = 0;
    while (at < len) {
        size_t next, n = line_at(buf + at, len - at, &next);
        if (!next)
            return 0;
        if (n == 0 && at > 0)
            return at + next;
        at += next;
    }
    return 0;
}

/* The index of the target t[0..n)'s path (before any '?') in routes
 * (NULL: "/" alone), or -1. */
static int route_of(const char *const *routes, const char *t, size_t n)
{
    static const char *const root_only[] = { "/", NULL };
    if (!routes)
        routes = root_only;
    for (size_t i = 0; i < n; i++)
        if (t[i] == '?')
            n = i;
    for (int i = 0; routes[i]; i++)
        if (strlen(routes[i]) == n && !memcmp(routes[i], t, n))
            return i;
    return -1;
}

/* The origin-form path of the target t[0..*n) [RFC 9112 3.2]: in place
 * for "/path?query"; for the absolute-form "http://host/path?query",
 * which a server MUST accept though mostly proxies get it [3.2.2], the
 * part after the authority, an empty one "/" [RFC 9110 4.2.3]. The host
 * named there is the one that counts and any Host field is ignored [3.2.2];
 * this server answers the same on every name, so it only checks it: an
 * empty host or userinfo ("user@") makes the target invalid [RFC 9110
 * 4.2.1, 4.2.4], NULL. Other schemes are left as they are (no route
 * matches them: 404): https is not served on this port. */
static const char *origin_path(const char *t, size_t *n)
{
    static const char scheme[] = "http://";
    size_t s = sizeof scheme - 1;
    if (*n < s || !word_is(t, s, scheme))
        return t;            /* word_is: the scheme is case-insensitive [RFC 3986 3.1] */
    size_t a = s;
    while (a < *n && t[a] != '/' && t[a] != '?') {
        if (t[a] == '@')
            return NULL;
        a++;
    }
    if (a == s)
        return NULL;
    if (a == *n || t[a] == '?') {
        *n = 1;
        return "/";          /* "http://host" and "http://host?q" ask for "/" */
    }
    *n -= a;
    return t + a;
}

/* The status and framing of the complete head buf[0..end). */
static void parse_head(const char *const *routes, const char *buf, size_t end,
                       struct http_request *r)
{
    struct fields f;
    memset(&f, 0, sizeof f);
    memset(r, 0, sizeof *r);
    size_t next, n = line_at(buf, end, &next);
    int v11;
    size_t mlen, t0, t1;
    r->status = 400;
    if (!request_line(buf, n, &v11, &mlen, &t0, &t1))
        return;
    for (size_t at = next; at < end;) {
        n = line_at(buf + at, end - at, &next);
        if (n && !field_line(buf + at, n, &f))
            return;
        at += next;
    }
    if (f.hosts > 1 || f.content_lengths > 1 || f.bad_length)
        return;   /* two Hosts [RFC 9112 3.2]; a length that is not one number [6.3 item 5] */
    if (f.te) {
        /* Transfer-Encoding with Content-Length [6.3 item 3], in HTTP/1.0
         * [6.1], or not ending in chunked [6.3 item 4]: framing that cannot
         * be trusted. Chunked alone we could frame but do not read: a
         * Content-Length is required (411); chunked under other codings
         * we do not implement (501). */
        if (!f.content_lengths && v11 && f.te_chunked_last)
            r->status = f.te_chunked_only ? 411 : 501;
        return;
    }
    if (f.content_length > HTTP_BODY_MAX) {
        r->status = 413;
        return;
    }
    r->body_len = f.content_length;
    r->keep = v11 ? !f.conn_close : f.conn_keep_alive && !f.conn_close;
    int get = mlen == 3 && !memcmp(buf, "GET", 3);
    r->head_only = mlen == 4 && !memcmp(buf, "HEAD", 4);
    size_t tn = t1 - t0;
    const char *path = origin_path(buf + t0, &tn);
    if (!path) {
        r->status = 400;     /* refused: http_next closes the connection */
        return;
    }
    int route = route_of(routes, path, tn);
    if (!get && !r->head_only)
        r->status = 405;
    else if (route < 0)
        r->status = 404;
    else
        r->status = 200;
    r->route = r->status == 200 ? (uint8_t)route : 0;
}

enum http_step http_next(struct http_stream *s, const char *buf, size_t len, size_t *used,
                         struct http_request *r)
{
    return http_next_routed(NULL, s, buf, len, used, r);
}

enum http_step http_next_routed(const char *const *routes, struct http_stream *s,
                                const char *buf, size_t len, size_t *used,
                                struct http_request *r)
{
    *used = 0;
    if (!len)
        return HTTP_NEED_MORE;
    if (s->body_left) {
        *used = len < s->body_left ? len : s->body_left;
        s->body_left -= (uint32_t)*used;
        return HTTP_SKIPPED;
    }
    /* An empty line before a request is ignored [RFC 9112 2.2]: clients
     * send one after a POST's body. */
    if (buf[0] == '\n' || (len >= 2 && buf[0] == '\r' && buf[1] == '\n')) {
        *used = buf[0] == '\n' ? 1 : 2;
        return HTTP_SKIPPED;
    }
    size_t look = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
    size_t end = head_end(buf, look);
    if (!end) {
        if (len < HTTP_HEAD_MAX)
            return HTTP_NEED_MORE;
        memset(r, 0, sizeof *r);
        r->status = 431;
        *used = len;
        return HTTP_REQUEST;
    }
    parse_head(routes, buf, end, r);
    if (http_refused(r->status))
        r->keep = 0;
    if (r->keep)
        s->body_left = r->body_len;
    *used = end;
    return HTTP_REQUEST;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 501: return "Not Implemented";
    default: return "Unknown";
    }
}

/* The head is appended piece by piece (user/outbuf.h), not formatted
 * with ksnprintf: on a 386 the format engine's call per character and
 * 64-bit division per digit were most of a small page's instructions
 * (tools/httpcost.py). A piece that does not fit makes the head -1. */
#define CRLF "\r\n"

int http_head(char *out, size_t size, const struct http_request *r, const char *type,
              size_t body_len)
{
    struct outbuf b;
    outbuf_init(&b, out, size);
    outbuf_lit(&b, "HTTP/1.1 ");
    outbuf_u32(&b, r->status);
    outbuf_lit(&b, " ");
    outbuf_str(&b, http_reason(r->status));
    outbuf_lit(&b, CRLF "Content-Type: ");
    outbuf_str(&b, type);
    outbuf_lit(&b, CRLF "Content-Length: ");
    outbuf_u32(&b, (uint32_t)body_len);
    outbuf_lit(&b, CRLF "Cache-Control: no-store" CRLF);
    if (r->keep)
        outbuf_lit(&b, "Connection: keep-alive" CRLF);
    else
        outbuf_lit(&b, "Connection: close" CRLF);
    if (r->status == 405)
        outbuf_lit(&b, "Allow: GET, HEAD" CRLF);
    outbuf_lit(&b, CRLF);
    return b.full ? -1 : (int)b.len;
}

int http_response(char *out, size_t size, const struct http_request *r, const char *type,
                  const char *body, size_t body_len)
{
    size_t with = r->head_only ? 0 : body_len;
    int n = http_head(out, size, r, type, body_len);
    if (n < 0 || (size_t)n + with >= size)
        return -1;
    memcpy(out + n, body, with);
    out[n + with] = 0;
    return n + (int)with;
}
