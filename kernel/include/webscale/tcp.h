/* TCP for user/ [RFC 9293, passive open only], in two styles over one
 * stack (kernel/net/tcp*.c runs in the event loop):
 *
 *  - loop style (nginx, node): tcp_listen with an accept callback, then
 *    per-connection readable / writable / closed callbacks; tcp_recv and
 *    tcp_send never block. Call these only from loop callbacks
 *    (loop_call_and_wait gets a thread there).
 *  - thread style (Apache): tcp_server_open, then tcp_accept / tcp_sock_recv
 *    / tcp_sock_send / tcp_sock_close, which sleep the calling thread on a
 *    wait queue until the loop has something for it. For threads only.
 *
 * Payload buffers are allocated only while they hold bytes, so an idle
 * connection costs tcp_conn_bytes() of heap and nothing more. */
#ifndef WEBSCALE_TCP_H
#define WEBSCALE_TCP_H

#include <stddef.h>
#include <stdint.h>

#define TCP_BACKLOG_DEFAULT 16   /* half-open (and, thread style, unaccepted) connections per port */

struct tcp_conn;
struct tcp_listener;

/* ---- loop style ---- */

struct tcp_callbacks {
    /* New bytes, or the peer's FIN (tcp_recv then returns 0). */
    void (*readable)(struct tcp_conn *c, void *arg);
    /* Acknowledged bytes made room in the send buffer. */
    void (*writable)(struct tcp_conn *c, void *arg);
    /* Reset by the peer (-E_CONNRESET) or given up after retransmissions
     * (-E_TIMEDOUT). The stack frees c when this returns: forget it. */
    void (*closed)(struct tcp_conn *c, void *arg, int err);
};

/* Called in the loop when a handshake completes: set callbacks with
 * tcp_set_callbacks, or tcp_abort(c) to refuse. */
typedef void (*tcp_accept_fn)(void *arg, struct tcp_conn *c);

/* Listen on port; backlog bounds half-open connections (beyond it SYNs are
 * answered with SYN cookies, so a flood grows nothing and real clients
 * still get through). 0 and *out, -E_BUSY (port taken), -E_NOMEM (table
 * full), -E_NOENT (no NIC). */
int tcp_listen(uint16_t port, int backlog, tcp_accept_fn fn, void *arg,
               struct tcp_listener **out);
/* hold 1: the caller's accept queue is full. Handshakes that complete
 * meanwhile are not handed to the accept callback: the peer's final ACK
 * is dropped unanswered (never an RST) and the connection stays half-open.
 * hold 0: room again; those whose ACK came go to the callback at once,
 * oldest first (it may hold again), the others when their ACK comes.
 * A SYN cookie that comes back while held waits the same way, in turn. */
void tcp_listen_hold(struct tcp_listener *l, int hold);
/* Stop listening. Half-open connections are reset, except those whose
 * peer completed the handshake while the listener was held: they are
 * closed with FIN (for the peer they were open). Established ones stay. */
void tcp_unlisten(struct tcp_listener *l);

void tcp_set_callbacks(struct tcp_conn *c, const struct tcp_callbacks *cb, void *arg);
/* Bytes copied out, 0 at end of stream (the peer closed), -E_WOULDBLOCK,
 * or -E_CONNRESET. */
int tcp_recv(struct tcp_conn *c, void *buf, size_t n);
/* Bytes queued (maybe fewer than n), -E_WOULDBLOCK when the send buffer is
 * full (writable will be called), -E_CONNRESET after a close. */
int tcp_send(struct tcp_conn *c, const void *buf, size_t n);
/* Bytes that tcp_send would take now. */
size_t tcp_send_space(struct tcp_conn *c);
/* Graceful close: queued bytes go out, then FIN. No more callbacks; c
 * belongs to the stack from now on. */
void tcp_close(struct tcp_conn *c);
/* Send RST and free c now. */
void tcp_abort(struct tcp_conn *c);
/* The peer's address and port (host order). */
void tcp_peer(const struct tcp_conn *c, uint32_t *ip, uint16_t *port);

/* ---- thread style ---- */

struct tcp_server;
struct tcp_sock;

/* backlog bounds both the SYN backlog (as for tcp_listen) and the queue of
 * connections not yet taken by tcp_accept: when that is full, further
 * handshakes wait half-open (never reset) until tcp_accept makes room.
 * -E_* as for tcp_listen. */
int tcp_server_open(uint16_t port, int backlog, struct tcp_server **out);
/* Sleep until a connection arrives: 0 and *out, or -E_INTR once
 * tcp_server_close has been called. */
int tcp_accept(struct tcp_server *s, struct tcp_sock **out);
/* Stop listening, close every connection accepted from s that is still
 * open (FIN after what is queued, not RST; their threads wake with
 * -E_INTR) and wake tcp_accept. Free s with tcp_server_free once no
 * thread uses it. */
void tcp_server_close(struct tcp_server *s);
void tcp_server_free(struct tcp_server *s);
/* Sleep until bytes arrive: > 0 bytes, 0 end of stream, -E_CONNRESET,
 * -E_INTR (tcp_server_close closed it). */
int tcp_sock_recv(struct tcp_sock *k, void *buf, size_t n);
/* The same, but -E_TIMEDOUT if nothing came by deadline_ns (clock_ns
 * time; TIME_NEVER: tcp_sock_recv). */
int tcp_sock_recv_until(struct tcp_sock *k, void *buf, size_t n, uint64_t deadline_ns);
/* Sleep until all n bytes are queued: n, -E_CONNRESET or -E_INTR. */
int tcp_sock_send(struct tcp_sock *k, const void *buf, size_t n);
/* Graceful close and free k. */
void tcp_sock_close(struct tcp_sock *k);
/* Heap bytes of one struct tcp_sock (on top of the connection's). */
size_t tcp_sock_bytes(void);

/* ---- measuring ---- */

/* Why the stack sent an RST: each one is counted under one of these
 * (tcp_stats.resets_by, shown by `net`). */
enum tcp_rst_reason {
    TCP_RST_NO_PORT,         /* a segment to a port nobody listens on [RFC 9293 3.10.7.1] */
    TCP_RST_NO_CONN,         /* an ACK to a listening port, no connection, no cookie sent lately */
    TCP_RST_BAD_COOKIE,      /* an ACK to a listening port whose cookie does not check */
    TCP_RST_SYN_RCVD_ACK,    /* SYN-RECEIVED got an ACK of something we never sent */
    TCP_RST_ABORT,           /* tcp_abort: the user refused or dropped a connection */
    TCP_RST_GIVE_UP,         /* retransmissions unanswered TCP_RETRIES times */
    TCP_RST_UNLISTEN,        /* half-open when its port stopped listening */
    TCP_RST_REASONS
};
/* Its short name for reports ("no-port", ...), "?" for no reason. */
const char *tcp_rst_name(int reason);

struct tcp_stats {
    uint64_t rx_segments, tx_segments, rx_bytes, tx_bytes;   /* payload bytes */
    uint32_t passive_opens;       /* handshakes completed */
    uint32_t syn_received;        /* SYNs that made a half-open connection */
    uint32_t syn_cookies_sent;    /* SYNs answered with a cookie: backlog or heap full */
    uint32_t syn_cookies_ok;      /* connections opened by a returning cookie */
    uint32_t syn_cookies_adopted; /* half-open ones completed by the cookie sent to their SYN */
    uint32_t syn_cookies_took_over; /* half-open ones of another SYN, taken by a cookie's ACK */
    uint32_t half_open_max;       /* most half-open at once, on any port */
    uint32_t retransmits;         /* segments sent again after a timeout */
    uint32_t reasm_queued;        /* out-of-order segments kept for reassembly */
    uint32_t reasm_dropped;       /* out-of-order segments dropped: all islands taken */
    uint32_t timeouts;            /* connections given up after retries */
    uint32_t fin_wait_2_timeouts; /* closed by us, forgotten: the peer's FIN never came */
    uint32_t resets_sent, resets_received;
    uint32_t resets_by[TCP_RST_REASONS];   /* resets_sent by reason */
    uint32_t conns, conns_max;    /* open now (any state), most ever */
    uint32_t time_wait;           /* in TIME-WAIT now (counted in conns too) */
    uint32_t time_wait_max;       /* most in TIME-WAIT at once */
    uint32_t time_wait_reopened;  /* TIME-WAIT ended early by the peer's new SYN (RFC 1122 4.2.2.13) */
};
void tcp_get_stats(struct tcp_stats *s);
/* Heap bytes of one connection without payload: its struct plus the
 * heap's own header. */
size_t tcp_conn_bytes(void);

#endif
