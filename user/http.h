/* HTTP/1.0 and 1.1 requests and responses as bytes [RFC 9112 message
 * syntax, RFC 9110 status codes], for httpd's two styles. Pure: no kernel
 * call, no allocation, so tests/host/test_http.c runs it under ASan/UBSan.
 *
 * A connection's input is a stream of requests, each a head and maybe a
 * body. http_next looks at the bytes the caller holds and says what the
 * first of them are: body bytes to skip, a complete request head (parsed),
 * or not enough yet. The caller keeps what was not used and calls again
 * with more; the only state between calls is struct http_stream. */
#ifndef USER_HTTP_H
#define USER_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of request head (request line, fields, the empty line) accepted:
 * a browser's cookies fit, and a caller's buffer of this size always holds
 * a complete head or is answered 431 [RFC 6585 5]. */
#define HTTP_HEAD_MAX 8192
/* Bytes of request body skipped; a larger Content-Length is answered 413
 * [RFC 9110 15.5.14] and the connection closed: we serve no uploads, and
 * reading megabytes to throw them away is what a flood wants. */
#define HTTP_BODY_MAX 65536

/* One request head, as http_next parsed it. */
struct http_request {
    uint16_t status;     /* 200, 404, 405; or 400, 411, 413, 431, 501 (refused) */
    uint8_t keep;        /* the connection stays open after the answer */
    uint8_t head_only;   /* HEAD: GET's header fields, no body [RFC 9110 9.3.2] */
    uint8_t route;       /* status 200: the index of its path in the caller's routes */
    uint32_t body_len;   /* Content-Length (skipped by the stream when keep) */
};

/* Between calls: what is left of the body of the last request. */
struct http_stream {
    uint32_t body_left;
};

enum http_step {
    HTTP_NEED_MORE,      /* nothing used: a head not complete yet */
    HTTP_SKIPPED,        /* *used bytes of body (or empty lines before a request) */
    HTTP_REQUEST,        /* *used bytes of head, parsed into *r */
};

/* What buf[0..len) starts with, given the stream's state. After a request
 * with keep set and a body, the next calls skip body_len bytes. Heads are
 * looked for only within HTTP_HEAD_MAX bytes: len >= HTTP_HEAD_MAX without
 * an end gives a 431 request that used all len bytes. */
enum http_step http_next(struct http_stream *s, const char *buf, size_t len, size_t *used,
                         struct http_request *r);
/* The same for a server of several paths (GET and HEAD): routes is a
 * NULL-terminated array; a target whose path (the part before any '?') is
 * routes[i] gets status 200 and route i, any other 404. http_next serves
 * "/" alone. */
enum http_step http_next_routed(const char *const *routes, struct http_stream *s,
                                const char *buf, size_t len, size_t *used,
                                struct http_request *r);

/* A refused request: the connection must be closed after the answer. */
static inline int http_refused(int status)
{
    return status == 400 || status == 411 || status == 413 || status == 431 || status == 501;
}

/* The reason phrase of a status this server sends [RFC 9110 15]. */
const char *http_reason(int status);

/* The head of the response to r in out: status line, Content-Type type,
 * Content-Length body_len, Cache-Control: no-store (every answer is
 * measured now), Connection, Allow for 405, the empty line. Its length,
 * or -1 if it does not fit in size. The body, unless r->head_only, is
 * the caller's to send after it. */
int http_head(char *out, size_t size, const struct http_request *r, const char *type,
              size_t body_len);
/* The head and then body (unless r->head_only) in out; its length, or -1
 * if it does not fit in size. */
int http_response(char *out, size_t size, const struct http_request *r, const char *type,
                  const char *body, size_t body_len);

#endif
