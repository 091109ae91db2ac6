/* httpd's insides, shared by user/cmd_httpd.c (the two styles and the
 * command) and user/httpd_serve.c (a connection's input, answered in
 * order, and the page), over the pure parser of user/http.h. */
#ifndef USER_HTTPD_H
#define USER_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <webscale/sync.h>
#include "user/http.h"

#define HTTP_RESP_MAX 1024        /* the longest answer built in place: a head, a short body */
/* The dashboard's page: its HTML template (user/web/dashboard.html) with
 * the figures as text in it (user/stats.c), built on the heap. */
#define HTTP_DASHBOARD_MAX 16384
/* A connection that waits for the client's bytes (the next request, the
 * rest of a head) and gets none for this long is closed (FIN), as nginx's
 * keepalive_timeout and client_header_timeout do. Without it a client
 * that vanished without a trace (its RST lost: QEMU's NE2000 loses
 * frames in a burst) or one that connects and never sends held its
 * connection for ever. One waiting for room (a client that does not
 * read) is not closed: TCP's zero-window probes watch that one. The
 * threads style closes after exactly this long without a byte, the loop
 * style after this long to twice this long (its one timer sweeps once per
 * HTTPD_IDLE_MS). */
#define HTTPD_IDLE_MS 120000

enum style { STYLE_THREADS, STYLE_LOOP };

/* What both styles count. Written by the server's threads or loop
 * callbacks, read by the shell: display figures. */
struct httpd_figures {
    enum style style;
    uint16_t port;
    volatile uint32_t requests, bad_requests, conns, open, open_max;
    volatile uint32_t no_thread;  /* threads style: connections closed for want of a thread */
    volatile uint32_t idle_closed;   /* closed after HTTPD_IDLE_MS without a byte */
    volatile uint32_t heads_held, heads_held_max;   /* HTTP_HEAD_MAX buffers */
    uint32_t time_wait_base;      /* TIME-WAIT connections when the server started */
    uint32_t time_wait_at_max;    /* ... and at open_max: not open, not in the heap figure */
    size_t heap_base;             /* heap used before the server started */
    size_t heap_at_max;           /* heap used (over the base) at open_max, TIME-WAIT not */
    uint64_t switches_base, start_ns;
    struct mutex lock;            /* threads style: the counters */
};
extern struct httpd_figures httpd;

uint64_t httpd_switches(void);
/* Heap per connection at the peak of open ones, TIME-WAIT not counted. */
uint32_t httpd_bytes_per_conn(void);

/* What a connection holds only while it is behind, on the heap only
 * then, so an idle one does not carry it: the bytes held between reads (a
 * head not complete yet, or requests waiting for room to answer them) in
 * a buffer of their own, while there are some; the body of the last answer not
 * yet taken by the send buffer (loop style: a page larger than the room in
 * it), sent before any other answer (out_owned freed when it is gone;
 * NULL: a static asset); a request waiting for the slow service (loop
 * style: LATER_WAITING until its timer ends, then LATER_READY, answered
 * before anything behind it), and the style's state for that wait. */
struct hbusy {
    char *held;                  /* HTTP_HEAD_MAX bytes, while len > 0 */
    uint16_t len;
    const char *out;
    size_t out_len;
    char *out_owned;
    uint8_t close_after;         /* close once the body in flight is sent */
    uint8_t later_state;
    struct http_request later;
    void *wait;                  /* the loop style's timer */
};

/* The input side of one connection, either style: the stream's place (a
 * body to skip) and what it is behind with, while it is: an idle
 * keep-alive connection has 8 bytes of it. */
struct hin {
    struct http_stream s;
    struct hbusy *busy;          /* while bytes, a body or a request wait */
};

enum { LATER_NONE, LATER_WAITING, LATER_READY };
/* What GET /slow waits for its "slow service" (the talk's free service
 * in China): a blocking sleep in a connection thread, a loop timer in the
 * loop style; then it answers /text's page. */
#define HTTPD_SLOW_MS 10

/* A connection's input starts here: nothing held, nothing behind. */
void httpd_input_init(struct hin *in);
/* Something waits to be answered or sent: call httpd_serve again when
 * there is room. */
static inline int httpd_pending(const struct hin *in) { return in->busy != NULL; }

/* How a style reads and writes. recv: > 0 bytes, 0 at the end,
 * -E_WOULDBLOCK, < 0 reset. send: n, or less on failure. room (loop style
 * only): the send buffer takes a whole response now. */
struct hio {
    int (*recv)(void *ctx, char *buf, size_t n);
    int (*send)(void *ctx, const char *buf, size_t n);
    int (*room)(void *ctx);
    /* Loop style only: start the slow service's wait of ms (keeping its
     * state in in->busy->wait); when it ends, set in->busy->later_state to
     * LATER_READY and serve again. 0 or -E_NOMEM.
     * Without it (threads), the slow service sleeps the thread. */
    int (*wait_ms)(void *ctx, uint32_t ms);
    void *ctx;
};

enum serve_end {
    SERVE_READ,                  /* everything answered that can be: read more */
    SERVE_IDLE,                  /* nothing to read now (loop style): readable comes */
    SERVE_ROOM,                  /* no room for the next answer: writable comes */
    SERVE_WAIT,                  /* a request waits for the slow service's timer */
    SERVE_CLOSE,                 /* close the connection */
};

/* Send what is left of the body in flight, then answer the requests in
 * buf[0..len), in order and each whole, while io->room says there is room
 * (always, without room); skip their bodies; keep what is left in
 * in->busy (whose held buffer buf may be). */
enum serve_end httpd_serve(struct hin *in, char *buf, size_t len, const struct hio *io,
                           char *resp);
/* Read once with io->recv (after the held bytes, or into scratch when
 * none are held) and answer what that completes. */
enum serve_end httpd_serve_more(struct hin *in, const struct hio *io, char *scratch,
                                size_t scratch_size, char *resp);
/* httpd_serve on what in holds: call it when httpd_pending says so. */
enum serve_end httpd_serve_pending(struct hin *in, const struct hio *io, char *resp);
/* Free what in holds (the connection ends). */
void httpd_input_free(struct hin *in);

#endif
