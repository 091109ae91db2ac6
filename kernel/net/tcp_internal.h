/* TCP's insides, shared by its four files and the host tests [RFC 9293].
 *
 * The stack follows the RFC's own description of event processing (3.10):
 *
 *   tcp.c         the connection table, listening ports and passive OPEN
 *                 (3.10.1), the states and their transitions (figure 5),
 *                 the stack-wide timer and its timeouts (3.10.8), TIME-WAIT
 *   tcp_cookie.c  SYN cookies (RFC 4987 3.6), the secret, RFC 6528's ISS
 *   tcp_input.c   SEGMENT ARRIVES (3.10.7): LISTEN, then the eight checks
 *                 of 3.10.7.4 in the RFC's order, one function each
 *   tcp_output.c  segments out: data within the peer's window, ACK, RST,
 *                 SYN-ACK; go-back-N retransmission with backoff
 *   tcp_rtt.c     the RTO from measured round trips (RFC 6298)
 *   tcp_user.c    the user calls on an open connection (SEND, RECEIVE,
 *                 CLOSE, ABORT, STATUS: 3.10.2 to 3.10.6)
 *
 * Everything runs in the event loop (tcp_input from net_rx, the timer from
 * a loop timer, the user calls from loop callbacks), so nothing locks. */
#ifndef KERNEL_NET_TCP_INTERNAL_H
#define KERNEL_NET_TCP_INTERNAL_H

#include <stdint.h>
#include <webscale/list.h>
#include <webscale/tcp.h>
#include "kernel/net/net.h"

#define TCP_LISTENERS 4
#define TCP_HASH 256                 /* buckets of the connection table */
/* Bytes: our receive window at most, a browser's request with its cookies
 * (8 KiB heads). The buffer is allocated only while it holds bytes. */
#define TCP_RCVBUF 8192
/* Out-of-order bytes wait in the receive buffer itself, at their place
 * after the in-order ones, as at most this many islands (runs of bytes
 * with a hole before each; touching segments merge into one island). So
 * the queue holds at most the window's bytes, in at most 4 pieces. */
#define TCP_REASM_MAX 4
#define TCP_SNDBUF 4096              /* bytes queued by tcp_send at most */
#define TCP_MSS_OURS (ETH_MTU - IP_HLEN - TCP_HLEN)   /* 1460 */
#define TCP_TICK_MS 10
#define TCP_MSS_MIN 64               /* a peer's MSS of 1 would make us send a flood ourselves */
#define TCP_BACKLOG_MAX 1024         /* tcp_listen's backlog is clamped to this */
/* RFC 6298's RTO (tcp_rtt.c). Before any sample 1 s (2.1). The minimum
 * is Linux's 200 ms, not the RFC's 1 s (2.4): on the TAP link a round trip
 * takes about 1 ms, so 1 s would make every lost segment a one-second
 * stall, while below 200 ms a peer that delays its ACK (Linux and Windows
 * wait up to 200 ms) would get spurious retransmissions. The maximum is
 * the RFC's 60 s (2.5: "at least 60 seconds"). */
#define TCP_RTO_INITIAL_MS 1000
#define TCP_RTO_MIN_MS 200
#define TCP_RTO_MAX_MS 60000
#define TCP_RTO_SYN_LOST_MS 3000     /* RFC 6298 5.7 */
#define TCP_RETRIES 6                /* then the connection is reset */
#define TCP_SYN_RETRIES 3            /* SYN-ACKs sent again before a half-open one is dropped */
#define TCP_TIME_WAIT_MS 500         /* "short": 2*MSL would be 4 minutes [RFC 9293 3.4.2] */
/* FIN-WAIT-2 is entered only after tcp_close, so nobody will read: a peer
 * that never sends its FIN (it went away, its RST was lost) would keep
 * the connection for ever. After this long it is forgotten quietly, as
 * Linux does with its tcp_fin_timeout (the same 60 s). */
#define TCP_FIN_WAIT_2_MS 60000

/* RFC 9293 3.3.2, without LISTEN (a listener is not a connection here)
 * and SYN-SENT (no active open). */
enum tcp_state {
    TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_LAST_ACK,
    TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSING, TCP_TIME_WAIT, TCP_CLOSED
};

enum tcp_flag {
    F_USER_CLOSED = 1,   /* tcp_close was called: no more callbacks */
    F_FIN_QUEUED = 2,    /* send FIN after the queued bytes */
    F_FIN_SENT = 4,      /* our FIN is in flight (snd_nxt counts it) */
    F_ACK_NOW = 8,       /* owe the peer an ACK */
    F_BUSY = 16,         /* being processed: a free waits until the end */
    F_DEAD = 32,         /* freed as soon as it is not busy */
    F_PEER_FIN = 64,     /* the peer's FIN was received */
    F_RESET = 128,       /* reset or timed out: recv/send fail */
    F_RTT = 256,         /* timing the segment at rtt_seq (RFC 6298) */
    F_KARN = 512,        /* retransmitted: time nothing until rtt_seq is acknowledged */
    F_SRTT = 1024,       /* srtt8 and rttvar8 hold a measurement */
    F_TIMED = 2048,      /* on the timed list: deadline_ms counts */
    F_WND_ANSWERED = 4096, /* an ACK with the window shut came since the last probe */
};

/* The transmission control block [RFC 9293 3.3.1]: snd_una, snd_nxt and
 * snd_wnd on the send side, rcv_nxt on the receive side (rcv_wnd is what
 * rbuf has left). The initial sequence numbers are not kept: nothing
 * needs them after the handshake. */
struct tcp_conn {
    struct tcp_conn *hnext;          /* hash chain */
    struct list_node timed;          /* on the timed list while deadline counts */
    struct list_node half;           /* SYN-RECEIVED: on the listener's list */
    struct tcp_listener *listener;   /* SYN-RECEIVED only */
    const struct tcp_callbacks *cb;
    void *arg;
    uint8_t *sbuf;                   /* NULL while empty */
    struct tcp_rbuf *rbuf;           /* NULL while empty and no island waits */
    uint32_t rip;
    uint16_t rport, lport;
    uint32_t snd_una, snd_nxt, rcv_nxt;
    uint32_t deadline_ms;            /* when the timer acts, clock ms */
    uint16_t sbuf_len, rbuf_len;     /* bytes held from snd_una / unread */
    uint16_t snd_wnd, mss;
    uint32_t rtt_seq;                /* F_RTT: the timed sequence number */
    uint16_t rtt_ms;                 /* F_RTT: when it was sent, clock ms mod 2^16 */
    uint16_t srtt8, rttvar8;         /* SRTT and RTTVAR in ms, times 8 */
    uint16_t rto_ms;                 /* the RTO before backoff */
    uint16_t flags;
    uint8_t state, retries;
};

/* The receive buffer: data[0, rbuf_len) is in order and unread; ahead of
 * it, the islands [start, end) of out-of-order bytes, sorted, apart. */
struct tcp_rbuf {
    uint8_t islands;
    struct { uint16_t start, end; } island[TCP_REASM_MAX];
    uint8_t data[TCP_RCVBUF];
};

struct tcp_listener {
    uint16_t port;
    uint16_t backlog, half_open;
    /* tcp_listen_hold: the accept queue above is full. A handshake's final
     * ACK is then remembered (snd_una = snd_nxt) but not acted on. */
    uint8_t held;
    uint8_t cookies;                 /* a cookie was sent, at cookie_ms */
    uint32_t cookie_ms;
    tcp_accept_fn fn;
    void *arg;
    struct list half;                /* SYN-RECEIVED connections, oldest first */
};

extern struct tcp_stats tcp_st;

/* RCV.WND: what the receive buffer has left. */
static inline uint16_t tcp_rcv_window(const struct tcp_conn *c)
{
    return TCP_RCVBUF - c->rbuf_len;
}

/* SEG.LEN [RFC 9293 3.3.1]: SYN and FIN each take one sequence number. */
static inline uint32_t tcp_seg_len(const struct tcp_info *t)
{
    return (uint32_t)t->len + !!(t->flags & TCP_SYN) + !!(t->flags & TCP_FIN);
}

/* Freed, or about to be: the segment's or the timer's work stops here. */
static inline int tcp_gone(const struct tcp_conn *c)
{
    return c->state == TCP_CLOSED || (c->flags & F_DEAD);
}

/* ---- tcp.c ---- */

uint32_t tcp_now_ms(void);
struct tcp_conn *tcp_lookup(uint32_t rip, uint16_t rport, uint16_t lport);
struct tcp_listener *tcp_find_listener(uint16_t port);
/* LISTEN gets a SYN [RFC 9293 3.10.7.2]: a half-open connection, SYN-ACK. */
void tcp_passive_open(uint32_t rip, const struct tcp_info *t, struct tcp_listener *l);
/* A new SYN on the four numbers of c, in TIME-WAIT: RFC 1122 4.2.2.13
 * lets TIME-WAIT accept it if its sequence number is beyond what the old
 * connection received (RFC 6191 4.2, as without timestamps) and our new ISS
 * is beyond what the old one sent; then c goes and a half-open connection
 * takes its place (1). Otherwise 0: the first check of 3.10.7.4 answers
 * the SYN with an ACK, as before. A client that reuses its port within
 * our 500 ms TIME-WAIT (ab: 5,000 connections, its ports come round) then
 * connects at once instead of after the RST and its 1 s SYN retry. Not
 * while the backlog is full: a cookie's ISS cannot be chosen. */
int tcp_reopen_time_wait(struct tcp_conn *c, const struct tcp_info *t);
/* The peer's ACK found no connection but a listener: if it carries a good
 * cookie, a connection handed to the accept callback (NULL if refused, or
 * while the listener is held: then it waits in the backlog, acknowledged);
 * else an RST, as LISTEN answers any ACK (but a bare ACK that fails the
 * cookie check is dropped unanswered: tcp_cookie_open says why). */
struct tcp_conn *tcp_cookie_open(uint32_t rip, const struct tcp_info *t, struct tcp_listener *l);
/* In SYN-RECEIVED, an ACK of another ISS than c's: if it returns a good
 * cookie (the peer completed our cookie SYN-ACK to the same SYN, or to
 * another SYN on c's four numbers: then seq is not c's rcv_nxt), c takes
 * the cookie's ISS (and that SYN's numbers) and 1 is returned; else 0. */
int tcp_cookie_adopt(struct tcp_conn *c, const struct tcp_info *t);
/* SYN-RECEIVED -> ESTABLISHED: off the backlog, into the accept callback. */
void tcp_established(struct tcp_conn *c);
/* In SYN-RECEIVED: the peer has acknowledged our SYN, but the listener was
 * held, so the connection waits for room in the accept queue. */
static inline int tcp_syn_acked(const struct tcp_conn *c)
{
    return c->snd_una == c->snd_nxt;
}
/* Every change of c->state goes through here; it checks the arrow is one of
 * figure 5's, and enters and leaves TIME-WAIT's timer and count. */
void tcp_set_state(struct tcp_conn *c, enum tcp_state s);
/* Out of every table now (CLOSED); the memory goes when nobody uses it. */
void tcp_conn_release(struct tcp_conn *c);
/* The end of a segment's or a timeout's work on c: free it if it died. */
void tcp_conn_unbusy(struct tcp_conn *c);
/* The timer acts on c after delay_ms (only one deadline per connection). */
void tcp_timer_set(struct tcp_conn *c, uint32_t delay_ms);
void tcp_timer_clear(struct tcp_conn *c);
/* Callbacks into the user, unless tcp_close has been called. */
void tcp_notify_readable(struct tcp_conn *c);
void tcp_notify_writable(struct tcp_conn *c);
/* Reset or given up: tell the user (err), then release c. */
void tcp_notify_closed(struct tcp_conn *c, int err);

/* ---- tcp_cookie.c ---- */

uint64_t tcp_siphash(const uint64_t key[2], const void *msg, size_t len);
/* The stack's secret, made once (tcp_listen calls it). */
void tcp_secret_init(void);
/* RFC 6528's initial sequence number. */
uint32_t tcp_make_iss(uint32_t rip, uint16_t rport, uint16_t lport);
/* The ISS that encodes syn's connection, mss and the time. */
uint32_t tcp_cookie_make(uint32_t rip, const struct tcp_info *syn, uint16_t mss, uint32_t now_ms);
/* ack acknowledges a good cookie: 1 and the MSS it encodes, else 0. */
int tcp_cookie_check(uint32_t rip, const struct tcp_info *ack, uint32_t now_ms, uint16_t *mss);
/* A cookie sent at sent_ms may still come back now. */
int tcp_cookies_recent(uint32_t sent_ms, uint32_t now_ms);

/* ---- tcp_rtt.c ---- */

/* seq goes out now: time it, unless a segment is timed already or Karn's
 * rule says wait. */
void tcp_rtt_start(struct tcp_conn *c, uint32_t seq);
/* A retransmission: whatever is timed is no sample (Karn). */
void tcp_rtt_cancel(struct tcp_conn *c);
/* ack moved snd_una: a sample if it covers the timed segment. */
void tcp_rtt_ack(struct tcp_conn *c, uint32_t ack);
/* One round-trip sample of r ms: SRTT, RTTVAR and the RTO. */
void tcp_rto_sample(struct tcp_conn *c, uint32_t r);
/* The handshake is over: RFC 6298 5.7 if the SYN-ACK was sent again. */
void tcp_rtt_established(struct tcp_conn *c);

/* ---- tcp_output.c ---- */

/* RST|ACK or RST for a segment that has no connection [RFC 9293 3.10.7.1],
 * counted under why. */
void tcp_send_reset(uint32_t rip, const struct tcp_info *t, enum tcp_rst_reason why);
/* RST on a connection (abort, give-up, unlisten), at snd_nxt. */
void tcp_send_rst(struct tcp_conn *c, enum tcp_rst_reason why);
void tcp_send_ack(struct tcp_conn *c);
void tcp_send_syn_ack(struct tcp_conn *c);
/* A SYN-ACK at iss for the SYN t, from no connection (a cookie). */
void tcp_send_syn_ack_stateless(uint32_t rip, const struct tcp_info *t, uint32_t iss);
/* Send what the window allows (queued bytes from snd_nxt, then our FIN)
 * and the ACK we owe. */
void tcp_output(struct tcp_conn *c);
/* RETRANSMISSION TIMEOUT [RFC 9293 3.10.8]: SYN-ACK again or give up the
 * half-open connection; data and FIN again from snd_una, or give up. */
void tcp_syn_ack_timeout(struct tcp_conn *c);
void tcp_retransmit_timeout(struct tcp_conn *c);

#endif
