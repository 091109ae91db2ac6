/* TCP [RFC 9293, which obsoletes RFC 793], passive open only: listening
 * ports with a bounded SYN backlog and SYN cookies beyond it (RFC 4987,
 * tcp_cookie.c), the three-way handshake, in-order data
 * with sequence and acknowledgement checks, a receive window, go-back-N
 * retransmission on a timer with exponential backoff and a retry limit,
 * FIN in both directions with a short TIME-WAIT, RST to closed ports and
 * on abort, RFC 5961's challenge ACK against blind resets. Out-of-order
 * segments are dropped (the peer resends them); no congestion control:
 * this stack talks to slirp and a test peer on one machine.
 *
 * This file holds what the other three (tcp_internal.h has the map) share:
 * the connection table, the listening ports and passive OPEN, the states
 * and their transitions, and the timer. A connection is a small struct;
 * its send and receive buffers exist only while they hold bytes, so an
 * idle connection costs sizeof(struct tcp_conn) of heap.
 *
 * One loop timer for the whole stack ticks every TCP_TICK_MS while some
 * connection waits for something (retransmission, TIME-WAIT), and walks only
 * those connections: a per-connection loop_timer would cost 52 bytes each. */
#include <webscale/assert.h>
#include <webscale/errno.h>
#include <webscale/loop.h>
#include <webscale/system.h>
#include <webscale/time.h>
#include "kernel/net/tcp_internal.h"

struct tcp_stats tcp_st;

static struct tcp_listener listeners[TCP_LISTENERS];
static struct tcp_conn *table[TCP_HASH];
static struct list timed = LIST_INIT(timed);
static struct loop_timer ticker;
static int ticker_ready;
static uint32_t half_open_total;

uint32_t tcp_now_ms(void) { return (uint32_t)(clock_ns() / NS_PER_MS); }

/* ---- the connection table: (remote address, remote port, local port) ---- */

static unsigned hash(uint32_t ip, uint16_t rport, uint16_t lport)
{
    uint32_t h = ip ^ ((uint32_t)rport << 16 | lport);
    h ^= h >> 16;
    h *= 0x45d9f3bu;
    h ^= h >> 16;
    return h & (TCP_HASH - 1);
}

struct tcp_conn *tcp_lookup(uint32_t ip, uint16_t rport, uint16_t lport)
{
    for (struct tcp_conn *c = table[hash(ip, rport, lport)]; c; c = c->hnext)
        if (c->rip == ip && c->rport == rport && c->lport == lport)
            return c;
    return NULL;
}

static void table_insert(struct tcp_conn *c)
{
    unsigned h = hash(c->rip, c->rport, c->lport);
    c->hnext = table[h];
    table[h] = c;
    if (++tcp_st.conns > tcp_st.conns_max)
        tcp_st.conns_max = tcp_st.conns;
}

static void table_remove(struct tcp_conn *c)
{
    struct tcp_conn **pp = &table[hash(c->rip, c->rport, c->lport)];
    for (; *pp; pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    tcp_st.conns--;
}

struct tcp_listener *tcp_find_listener(uint16_t port)
{
    for (int i = 0; i < TCP_LISTENERS; i++)
        if (listeners[i].fn && listeners[i].port == port)
            return &listeners[i];
    return NULL;
}

/* ---- states [RFC 9293 3.3.2, figure 5] ---- */

#define TO(s) (1u << (s))
/* The arrows this stack takes. Any state may go to CLOSED (RST, abort,
 * give-up); FIN-WAIT-1 reaches TIME-WAIT through FIN-WAIT-2 or CLOSING,
 * because the ACK of our FIN is processed before the peer's FIN. */
static const uint16_t next_states[] = {
    [TCP_SYN_RECEIVED] = TO(TCP_ESTABLISHED) | TO(TCP_CLOSED),
    [TCP_ESTABLISHED] = TO(TCP_FIN_WAIT_1) | TO(TCP_CLOSE_WAIT) | TO(TCP_CLOSED),
    [TCP_CLOSE_WAIT] = TO(TCP_LAST_ACK) | TO(TCP_CLOSED),
    [TCP_LAST_ACK] = TO(TCP_CLOSED),
    [TCP_FIN_WAIT_1] = TO(TCP_FIN_WAIT_2) | TO(TCP_CLOSING) | TO(TCP_CLOSED),
    [TCP_FIN_WAIT_2] = TO(TCP_TIME_WAIT) | TO(TCP_CLOSED),
    [TCP_CLOSING] = TO(TCP_TIME_WAIT) | TO(TCP_CLOSED),
    [TCP_TIME_WAIT] = TO(TCP_CLOSED),
    [TCP_CLOSED] = 0,
};

void tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
    ASSERT(next_states[c->state] & TO(s));
    if (c->state == TCP_TIME_WAIT)
        tcp_st.time_wait--;
    c->state = s;
    if (s == TCP_TIME_WAIT) {
        if (++tcp_st.time_wait > tcp_st.time_wait_max)
            tcp_st.time_wait_max = tcp_st.time_wait;
        tcp_timer_set(c, TCP_TIME_WAIT_MS);
    } else if (s == TCP_FIN_WAIT_2) {
        tcp_timer_set(c, TCP_FIN_WAIT_2_MS);
    }
}

/* ---- the timer ---- */

static void tcp_tick(void *arg);

void tcp_timer_set(struct tcp_conn *c, uint32_t delay_ms)
{
    c->deadline_ms = tcp_now_ms() + delay_ms;
    if (!(c->flags & F_TIMED)) {
        list_push_back(&timed, &c->timed);
        c->flags |= F_TIMED;
    }
    if (!ticker_ready) {
        loop_timer_init(&ticker, tcp_tick, NULL);
        ticker_ready = 1;
    }
    if (!loop_timer_active(&ticker))
        loop_timer_start_ms(&ticker, TCP_TICK_MS, TCP_TICK_MS);
}

void tcp_timer_clear(struct tcp_conn *c)
{
    if (c->flags & F_TIMED) {
        list_remove(&c->timed);
        c->flags &= ~F_TIMED;
    }
}

/* The timeouts of RFC 9293 3.10.8 (no USER TIMEOUT: the retry limit is ours). */
static void timeout(struct tcp_conn *c)
{
    c->flags &= ~F_TIMED;         /* already off the list (tcp_tick) */
    if (c->state == TCP_TIME_WAIT)
        tcp_conn_release(c);       /* TIME-WAIT TIMEOUT */
    else if (c->state == TCP_FIN_WAIT_2) {
        tcp_st.fin_wait_2_timeouts++;
        tcp_conn_release(c);       /* the peer never sent its FIN: no RST, it may be gone */
    } else if (c->state == TCP_SYN_RECEIVED)
        tcp_syn_ack_timeout(c);
    else
        tcp_retransmit_timeout(c);
}

static void tcp_tick(void *arg)
{
    (void)arg;
    uint32_t now = tcp_now_ms();
    struct list_node *n = timed.head.next;
    while (n != &timed.head) {
        struct tcp_conn *c = container_of(n, struct tcp_conn, timed);
        n = n->next;
        if ((int32_t)(now - c->deadline_ms) < 0)
            continue;
        /* Off the list first; timeout() puts it back if it still waits.
         * Anything it frees is c itself, never the next one. */
        list_remove(&c->timed);
        c->flags |= F_BUSY;
        timeout(c);
        tcp_conn_unbusy(c);
    }
    if (list_empty(&timed))
        loop_timer_stop(&ticker);
}

/* ---- a connection's end ---- */

static void leave_half_open(struct tcp_conn *c)
{
    if (c->listener) {
        list_remove(&c->half);
        c->listener->half_open--;
        half_open_total--;
        c->listener = NULL;
    }
}

void tcp_conn_release(struct tcp_conn *c)
{
    if (c->state != TCP_CLOSED) {
        tcp_set_state(c, TCP_CLOSED);
        table_remove(c);
        tcp_timer_clear(c);
        leave_half_open(c);
    }
    if (c->flags & F_BUSY) {
        c->flags |= F_DEAD;
        return;
    }
    kfree(c->sbuf);
    kfree(c->rbuf);
    kfree(c);
}

void tcp_conn_unbusy(struct tcp_conn *c)
{
    c->flags &= ~F_BUSY;
    if (c->flags & F_DEAD)
        tcp_conn_release(c);
}

/* ---- callbacks into the user ---- */

static int user_listens(const struct tcp_conn *c)
{
    return !(c->flags & F_USER_CLOSED) && c->cb;
}

void tcp_notify_readable(struct tcp_conn *c)
{
    if (user_listens(c) && c->cb->readable)
        c->cb->readable(c, c->arg);
}

void tcp_notify_writable(struct tcp_conn *c)
{
    if (user_listens(c) && c->cb->writable)
        c->cb->writable(c, c->arg);
}

void tcp_notify_closed(struct tcp_conn *c, int err)
{
    c->flags |= F_RESET;
    if (user_listens(c) && c->cb->closed) {
        c->flags |= F_USER_CLOSED;
        c->cb->closed(c, c->arg, err);
    }
    tcp_conn_release(c);
}

/* ---- passive OPEN [RFC 9293 3.10.1, 3.10.7.2] ---- */

static void backlog_join(struct tcp_conn *c, struct tcp_listener *l)
{
    c->listener = l;
    list_push_back(&l->half, &c->half);
    l->half_open++;
    if (++half_open_total > tcp_st.half_open_max)
        tcp_st.half_open_max = half_open_total;
}

/* The peer's MSS option within [TCP_MSS_MIN, ours]; 536 without one. */
static uint16_t choose_mss(uint16_t offered)
{
    uint16_t mss = offered ? (offered < TCP_MSS_OURS ? offered : TCP_MSS_OURS)
                           : TCP_MSS_DEFAULT;
    return mss < TCP_MSS_MIN ? TCP_MSS_MIN : mss;
}

/* A SYN-RECEIVED connection from the SYN t; snd_nxt counts our SYN. */
static struct tcp_conn *conn_from_syn(uint32_t rip, const struct tcp_info *t)
{
    struct tcp_conn *c = kzalloc(sizeof *c);
    if (!c)
        return NULL;
    c->rip = rip;
    c->rport = t->sport;
    c->lport = t->dport;
    c->rcv_nxt = t->seq + 1;
    c->snd_una = tcp_make_iss(rip, t->sport, t->dport);
    c->snd_nxt = c->snd_una + 1;
    c->snd_wnd = t->wnd;
    c->mss = choose_mss(t->mss);
    c->rto_ms = TCP_RTO_INITIAL_MS;
    c->state = TCP_SYN_RECEIVED;
    return c;
}

/* c has just been made from a SYN: on the listener's backlog and in the
 * table, SYN-ACK sent and timed. */
static void half_open_start(struct tcp_conn *c, struct tcp_listener *l)
{
    backlog_join(c, l);
    table_insert(c);
    tcp_st.syn_received++;
    tcp_send_syn_ack(c);
    tcp_rtt_start(c, c->snd_una);
    tcp_timer_set(c, c->rto_ms);
}

/* No room for state: a SYN-ACK whose ISS is a cookie, and nothing kept. */
static void answer_with_cookie(uint32_t rip, const struct tcp_info *t, struct tcp_listener *l,
                               uint32_t now)
{
    l->cookie_ms = now;
    l->cookies = 1;
    tcp_st.syn_cookies_sent++;
    tcp_send_syn_ack_stateless(rip, t, tcp_cookie_make(rip, t, choose_mss(t->mss), now));
}

/* A full backlog answers with a cookie: a half-open connection is never
 * pushed out for a newer SYN, so a real client that is completing its
 * handshake always can, and a flood makes nothing grow. */
void tcp_passive_open(uint32_t rip, const struct tcp_info *t, struct tcp_listener *l)
{
    uint32_t now = tcp_now_ms();
    struct tcp_conn *c = l->half_open < l->backlog ? conn_from_syn(rip, t) : NULL;
    if (!c) {
        answer_with_cookie(rip, t, l, now);
        return;
    }
    half_open_start(c, l);
}

int tcp_reopen_time_wait(struct tcp_conn *c, const struct tcp_info *t)
{
    struct tcp_listener *l = tcp_find_listener(c->lport);
    if (c->state != TCP_TIME_WAIT || (t->flags & (TCP_SYN | TCP_ACK)) != TCP_SYN ||
        !seq_gt(t->seq, c->rcv_nxt) || !l || l->half_open >= l->backlog)
        return 0;
    uint32_t rip = c->rip, old_nxt = c->snd_nxt;
    tcp_conn_release(c);
    struct tcp_conn *n = conn_from_syn(rip, t);
    if (!n) {
        net_drop(NET_DROP_TCP_NO_MEMORY);     /* the peer sends its SYN again */
        return 1;
    }
    /* RFC 6528's ISS grows 244 a millisecond, so it is beyond the old
     * connection's numbers unless that one sent more than the clock moved. */
    if (!seq_gt(n->snd_una, old_nxt)) {
        n->snd_una = old_nxt + 1;
        n->snd_nxt = n->snd_una + 1;
    }
    tcp_st.time_wait_reopened++;
    half_open_start(n, l);
    return 1;
}

/* Into ESTABLISHED and the user's hands [RFC 9293 3.10.7.4, fifth]. */
static void hand_over(struct tcp_conn *c, struct tcp_listener *l)
{
    tcp_set_state(c, TCP_ESTABLISHED);
    tcp_rtt_established(c);
    c->retries = 0;
    tcp_timer_clear(c);
    tcp_st.passive_opens++;
    l->fn(l->arg, c);             /* it sets callbacks, or aborts */
}

void tcp_established(struct tcp_conn *c)
{
    struct tcp_listener *l = c->listener;
    leave_half_open(c);
    hand_over(c, l);
}

struct tcp_conn *tcp_cookie_open(uint32_t rip, const struct tcp_info *t, struct tcp_listener *l)
{
    uint16_t mss;
    if (!l->cookies || !tcp_cookies_recent(l->cookie_ms, tcp_now_ms())) {
        net_drop(NET_DROP_TCP_BAD_ACK);
        tcp_send_reset(rip, t, TCP_RST_NO_CONN);
        return NULL;
    }
    if (!tcp_cookie_check(rip, t, tcp_now_ms(), &mss)) {
        /* A bare ACK asks for nothing, and may be a real client's answer
         * to another segment of ours on its four numbers, come before its
         * lost handshake ACK: hping3 flooding from the client's address
         * walks through its port, our cookie SYN-ACK to that SYN reaches
         * the client's socket, which answers with a duplicate ACK at its
         * snd_nxt. An RST would end the connection that the client's
         * data, sent again from ISN + 1, is about to open; so only an ACK
         * that carries data or FIN, past its handshake, gets one. */
        net_drop(NET_DROP_TCP_BAD_ACK);
        if (t->len || (t->flags & TCP_FIN))
            tcp_send_reset(rip, t, TCP_RST_BAD_COOKIE);
        return NULL;
    }
    /* The accept queue is full: the peer is real (it answered our SYN-ACK)
     * and waits in the backlog like a half-open connection whose ACK came
     * while held, in its turn. Forgotten, it would get in only if one of
     * its retransmissions (exponentially further apart) happened to come
     * while the queue had room: newer clients would pass it for seconds. */
    if (l->held && l->half_open >= TCP_BACKLOG_MAX) {
        net_drop(NET_DROP_TCP_BACKLOG);   /* the peer sends again */
        return NULL;
    }
    struct tcp_conn *c = kzalloc(sizeof *c);
    if (!c) {
        net_drop(NET_DROP_TCP_NO_MEMORY);
        return NULL;
    }
    c->rip = rip;
    c->rport = t->sport;
    c->lport = t->dport;
    c->rcv_nxt = t->seq;
    c->snd_una = c->snd_nxt = t->ack;
    c->snd_wnd = t->wnd;
    c->mss = mss;
    c->rto_ms = TCP_RTO_INITIAL_MS;  /* no state, so the SYN-ACK was not timed */
    c->state = TCP_SYN_RECEIVED;
    table_insert(c);
    tcp_st.syn_cookies_ok++;
    if (l->held) {
        backlog_join(c, l);       /* acknowledged: tcp_listen_hold hands it over */
        tcp_timer_set(c, c->rto_ms);
        net_drop(NET_DROP_TCP_BACKLOG);   /* this segment; its data comes again */
        return NULL;
    }
    c->flags |= F_BUSY;           /* the accept callback may abort it */
    hand_over(c, l);
    tcp_conn_unbusy(c);
    return tcp_lookup(rip, t->sport, t->dport);
}

/* Our SYN-ACKs to one SYN can differ: the first SYN met a full backlog and
 * got a cookie, the client's second (it sent again, or the first waited
 * long in the card) found room and got a half-open connection with
 * another ISS. The client completes whichever SYN-ACK it saw first, so
 * the ACK that c calls bad may be the cookie's: then c takes the cookie's
 * ISS (its MSS stays the SYN's exact one, which the cookie rounded down),
 * and the handshake completes instead of being reset.
 *
 * Or the half-open connection is another SYN's on the same four numbers:
 * hping3 flooding from a client's own address walks through every port
 * about 15 times a second, so once a client's cookie handshake is done on
 * its side, a flood SYN on its port soon finds room in the backlog. The
 * client's data then lies outside that connection's window and would be
 * dropped until the half-open one timed out (curl gave up after 5 s). The
 * cookie proves the client got our SYN-ACK to its own SYN at seq - 1, and
 * nobody completes a flood's SYN-ACK: c becomes the client's connection,
 * with the cookie's MSS. */
int tcp_cookie_adopt(struct tcp_conn *c, const struct tcp_info *t)
{
    struct tcp_listener *l = c->listener;
    uint16_t mss;
    if (!l || !l->cookies || !tcp_cookies_recent(l->cookie_ms, tcp_now_ms()) ||
        !tcp_cookie_check(c->rip, t, tcp_now_ms(), &mss))
        return 0;
    if (t->seq != c->rcv_nxt) {
        c->rcv_nxt = t->seq;       /* the cookie's SYN, not c's own */
        c->mss = mss;
        tcp_st.syn_cookies_took_over++;
    } else {
        tcp_st.syn_cookies_adopted++;
    }
    c->snd_una = t->ack - 1;       /* as if our SYN had carried the cookie */
    c->snd_nxt = t->ack;
    tcp_rtt_cancel(c);             /* that SYN-ACK was not the one timed */
    return 1;
}

int tcp_listen(uint16_t port, int backlog, tcp_accept_fn fn, void *arg,
               struct tcp_listener **out)
{
    if (!net_if.up)
        return -E_NOENT;
    if (!fn || port == 0 || backlog < 1)
        return -E_INVAL;
    if (tcp_find_listener(port))
        return -E_BUSY;
    tcp_secret_init();
    for (int i = 0; i < TCP_LISTENERS; i++) {
        struct tcp_listener *l = &listeners[i];
        if (l->fn)
            continue;
        l->port = port;
        l->backlog = (uint16_t)(backlog > TCP_BACKLOG_MAX ? TCP_BACKLOG_MAX : backlog);
        l->half_open = 0;
        l->held = 0;
        l->cookies = 0;
        l->arg = arg;
        list_init(&l->half);
        l->fn = fn;
        *out = l;
        return 0;
    }
    return -E_NOMEM;
}

/* The first half-open connection of l whose handshake the peer completed. */
static struct tcp_conn *first_acked(struct tcp_listener *l)
{
    struct list_node *n;
    list_for_each(n, &l->half) {
        struct tcp_conn *c = container_of(n, struct tcp_conn, half);
        if (tcp_syn_acked(c))
            return c;
    }
    return NULL;
}

void tcp_listen_hold(struct tcp_listener *l, int hold)
{
    l->held = hold != 0;
    /* Released: the ones that waited for room go first, oldest first, as
     * long as the accept callback does not hold the listener again. */
    struct tcp_conn *c;
    while (!l->held && (c = first_acked(l))) {
        c->flags |= F_BUSY;
        tcp_established(c);
        tcp_conn_unbusy(c);
    }
}

/* A half-open connection the peer has completed is, for the peer, an
 * open one: it is closed as the user would close it (FIN), not reset. The
 * others are reset: their peer's ACK would find no listener. */
void tcp_unlisten(struct tcp_listener *l)
{
    while (!list_empty(&l->half)) {
        struct tcp_conn *c = container_of(list_first(&l->half), struct tcp_conn, half);
        if (tcp_syn_acked(c)) {
            leave_half_open(c);
            tcp_set_state(c, TCP_ESTABLISHED);
            c->retries = 0;
            tcp_timer_clear(c);        /* the SYN-ACK's; the FIN sets its own */
            tcp_close(c);
        } else {
            tcp_send_rst(c, TCP_RST_UNLISTEN);
            tcp_conn_release(c);
        }
    }
    l->fn = NULL;
}
