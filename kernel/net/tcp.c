/* TCP [RFC 9293, which obsoletes RFC 793], passive open only: listening
 * ports with a bounded SYN backlog, the three-way handshake, in-order data
 * with sequence and acknowledgement checks, a receive window, go-back-N
 * retransmission on a timer with exponential backoff and a retry limit,
 * FIN in both directions with a short TIME-WAIT, RST to closed ports and
 * on abort, RFC 5961's challenge ACK against blind resets. Out-of-order
 * segments are dropped (the peer resends them); no congestion control:
 * this stack talks to slirp and a test peer on one machine.
 *
 * It runs in the event loop like the rest of kernel/net (tcp_input from
 * net_rx, the timer from a loop timer), so nothing here locks, and nothing
 * allocates in an interrupt handler. A connection is a small struct;
 * its send and receive buffers exist only while they hold bytes, so an
 * idle connection costs sizeof(struct tcp_conn) of heap.
 *
 * One loop timer for the whole stack ticks every TCP_TICK_MS while some
 * connection waits for something (retransmission, TIME-WAIT), and walks only
 * those connections: a per-connection loop_timer would cost 52 bytes each. */
#include <webscale/errno.h>
#include <webscale/loop.h>
#include <webscale/string.h>
#include <webscale/system.h>
#include <webscale/tcp.h>
#include <webscale/time.h>
#include "kernel/net/net.h"
#include "kernel/x86.h"

#define TCP_LISTENERS 4
#define TCP_HASH 256                 /* buckets of the connection table */
#define TCP_RCVBUF 2048              /* bytes: our receive window at most */
#define TCP_SNDBUF 4096              /* bytes queued by tcp_send at most */
#define TCP_MSS_OURS (ETH_MTU - IP_HLEN - TCP_HLEN)   /* 1460 */
#define TCP_TICK_MS 10
#define TCP_MSS_MIN 64               /* a peer's MSS of 1 would make us send a flood ourselves */
#define TCP_BACKLOG_MAX 1024         /* tcp_listen's backlog is clamped to this */
/* RFC 6298 asks for 1 s before the first RTT sample; we take no samples
 * and talk to slirp on the same host, where 1 s would only make every
 * lost segment a visible stall. */
#define TCP_RTO_MS 200
#define TCP_RTO_MAX_MS 3000
#define TCP_RETRIES 6                /* then the connection is reset */
#define TCP_SYN_RETRIES 3            /* SYN-ACKs sent again before a half-open one is dropped */
#define TCP_TIME_WAIT_MS 500         /* "short": 2*MSL would be 4 minutes [RFC 9293 3.4.2] */
/* A half-open connection younger than this is not evicted by a new SYN:
 * a real client's ACK comes back within one round trip, a flood's never. */
#define TCP_SYN_KEEP_MS 20

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
};

struct tcp_conn {
    struct tcp_conn *hnext;          /* hash chain */
    struct list_node timed;          /* on the timed list while deadline counts */
    struct list_node half;           /* SYN-RECEIVED: on the listener's list */
    struct tcp_listener *listener;   /* SYN-RECEIVED only */
    const struct tcp_callbacks *cb;
    void *arg;
    uint8_t *sbuf, *rbuf;            /* NULL while empty */
    uint32_t rip;
    uint16_t rport, lport;
    uint32_t snd_una, snd_nxt, rcv_nxt;
    uint32_t deadline_ms;            /* when the timer acts, clock ms */
    uint32_t born_ms;
    uint16_t sbuf_len, rbuf_len;     /* bytes held from snd_una / unread */
    uint16_t snd_wnd, mss;
    uint16_t rto_ms;
    uint8_t state, flags, retries, timed_on;
};

struct tcp_listener {
    uint16_t port;
    uint16_t backlog, half_open;
    tcp_accept_fn fn;
    void *arg;
    struct list half;                /* SYN-RECEIVED connections, oldest first */
};

static struct tcp_listener listeners[TCP_LISTENERS];
static struct tcp_conn *table[TCP_HASH];
static struct list timed = LIST_INIT(timed);
static struct loop_timer ticker;
static int ticker_ready;
static struct tcp_stats st;
static uint32_t half_open_total;
static uint32_t iss_secret;

static uint32_t now_ms(void) { return (uint32_t)(clock_ns() / NS_PER_MS); }

static unsigned hash(uint32_t ip, uint16_t rport, uint16_t lport)
{
    uint32_t h = ip ^ ((uint32_t)rport << 16 | lport);
    h ^= h >> 16;
    h *= 0x45d9f3bu;
    h ^= h >> 16;
    return h & (TCP_HASH - 1);
}

/* RFC 6528: a clock that moves every 4 us plus a hash of the connection's
 * addresses with a secret, so sequence numbers are hard to guess. */
static uint32_t make_iss(uint32_t rip, uint16_t rport, uint16_t lport)
{
    if (!iss_secret)
        iss_secret = (uint32_t)clock_ns() * 2654435761u | 1;
    uint32_t h = (rip ^ iss_secret) * 2654435761u;
    h ^= ((uint32_t)rport << 16 | lport) * 40503u;
    h ^= h >> 13;
    return h + (uint32_t)(clock_ns() >> 12);
}

static struct tcp_conn *lookup(uint32_t ip, uint16_t rport, uint16_t lport)
{
    for (struct tcp_conn *c = table[hash(ip, rport, lport)]; c; c = c->hnext)
        if (c->rip == ip && c->rport == rport && c->lport == lport)
            return c;
    return NULL;
}

static struct tcp_listener *find_listener(uint16_t port)
{
    for (int i = 0; i < TCP_LISTENERS; i++)
        if (listeners[i].fn && listeners[i].port == port)
            return &listeners[i];
    return NULL;
}

/* ---- the timer ---- */

static void tcp_tick(void *arg);

static void timer_set(struct tcp_conn *c, uint32_t delay_ms)
{
    c->deadline_ms = now_ms() + delay_ms;
    if (!c->timed_on) {
        list_push_back(&timed, &c->timed);
        c->timed_on = 1;
    }
    if (!ticker_ready) {
        loop_timer_init(&ticker, tcp_tick, NULL);
        ticker_ready = 1;
    }
    if (!loop_timer_active(&ticker))
        loop_timer_start_ms(&ticker, TCP_TICK_MS, TCP_TICK_MS);
}

static void timer_clear(struct tcp_conn *c)
{
    if (c->timed_on) {
        list_remove(&c->timed);
        c->timed_on = 0;
    }
}

/* ---- freeing ---- */

static void unhash(struct tcp_conn *c)
{
    struct tcp_conn **pp = &table[hash(c->rip, c->rport, c->lport)];
    for (; *pp; pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            return;
        }
}

static void leave_half_open(struct tcp_conn *c)
{
    if (c->listener) {
        list_remove(&c->half);
        c->listener->half_open--;
        half_open_total--;
        c->listener = NULL;
    }
}

/* Out of every table now; the memory goes when nobody is using it. */
static void conn_release(struct tcp_conn *c)
{
    if (c->state != TCP_CLOSED) {
        if (c->state == TCP_TIME_WAIT)
            st.time_wait--;
        c->state = TCP_CLOSED;
        unhash(c);
        timer_clear(c);
        leave_half_open(c);
        st.conns--;
    }
    if (c->flags & F_BUSY) {
        c->flags |= F_DEAD;
        return;
    }
    kfree(c->sbuf);
    kfree(c->rbuf);
    kfree(c);
}

static void conn_unbusy(struct tcp_conn *c)
{
    c->flags &= ~F_BUSY;
    if (c->flags & F_DEAD)
        conn_release(c);
}

/* ---- output ---- */

static uint16_t rcv_window(const struct tcp_conn *c) { return TCP_RCVBUF - c->rbuf_len; }

/* Send one segment: flags, and len bytes of the send buffer from offset
 * off (seq = snd_una + off). */
static int send_segment(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t off,
                        size_t len, uint16_t mss_opt)
{
    uint8_t *p = net_tx + NET_TX_L4;
    if (len)
        memcpy(p + TCP_HLEN, c->sbuf + off, len);
    size_t h = tcp_build(p, net_if.ip, c->rip, c->lport, c->rport, seq, c->rcv_nxt, flags,
                         rcv_window(c), mss_opt, len);
    c->flags &= ~F_ACK_NOW;
    st.tx_segments++;
    st.tx_bytes += len;
    return ip_output(c->rip, IP_PROTO_TCP, h + len);
}

/* RST for a segment that has no connection [RFC 9293 3.10.7.1]. */
static void send_reset(uint32_t rip, const struct tcp_info *t)
{
    uint8_t *p = net_tx + NET_TX_L4;
    size_t h;
    if (t->flags & TCP_ACK) {
        h = tcp_build(p, net_if.ip, rip, t->dport, t->sport, t->ack, 0, TCP_RST, 0, 0, 0);
    } else {
        uint32_t len = (uint32_t)t->len + !!(t->flags & TCP_SYN) + !!(t->flags & TCP_FIN);
        h = tcp_build(p, net_if.ip, rip, t->dport, t->sport, 0, t->seq + len,
                      TCP_RST | TCP_ACK, 0, 0, 0);
    }
    st.resets_sent++;
    st.tx_segments++;
    ip_output(rip, IP_PROTO_TCP, h);
}

static void send_ack(struct tcp_conn *c) { send_segment(c, c->snd_nxt, TCP_ACK, 0, 0, 0); }

/* Send what the window allows: queued bytes from snd_nxt, then our FIN. */
static void output(struct tcp_conn *c)
{
    if (c->state == TCP_SYN_RECEIVED || c->state == TCP_CLOSED)
        return;
    if (c->state == TCP_TIME_WAIT) {
        if (c->flags & F_ACK_NOW)
            send_ack(c);          /* the ACK of the peer's FIN */
        return;
    }
    for (;;) {
        uint32_t sent = c->snd_nxt - c->snd_una;       /* in flight */
        if (c->flags & F_FIN_SENT)
            break;
        uint32_t wnd = c->snd_wnd;
        uint32_t room = wnd > sent ? wnd - sent : 0;
        uint32_t unsent = c->sbuf_len - sent;
        uint32_t n = unsent < room ? unsent : room;
        if (n > c->mss)
            n = c->mss;
        int fin = (c->flags & F_FIN_QUEUED) && n == unsent;
        if (n == 0 && !fin)
            break;
        uint8_t flags = TCP_ACK | (n ? TCP_PSH : 0) | (fin ? TCP_FIN : 0);
        send_segment(c, c->snd_nxt, flags, sent, n, 0);
        c->snd_nxt += n;
        if (fin) {
            c->snd_nxt++;
            c->flags |= F_FIN_SENT;
        }
        if (!c->timed_on)
            timer_set(c, c->rto_ms);
    }
    /* Bytes wait but the peer's window is shut: the timer probes it. */
    if (c->sbuf_len > c->snd_nxt - c->snd_una && !c->timed_on)
        timer_set(c, c->rto_ms);
    if (c->flags & F_ACK_NOW)
        send_ack(c);
}

static void send_syn_ack(struct tcp_conn *c)
{
    send_segment(c, c->snd_una, TCP_SYN | TCP_ACK, 0, 0, TCP_MSS_OURS);
}

/* ---- callbacks into the user ---- */

static void notify_closed(struct tcp_conn *c, int err)
{
    c->flags |= F_RESET;
    if (!(c->flags & F_USER_CLOSED) && c->cb && c->cb->closed) {
        c->flags |= F_USER_CLOSED;
        c->cb->closed(c, c->arg, err);
    }
    conn_release(c);
}

static void notify_readable(struct tcp_conn *c)
{
    if (!(c->flags & F_USER_CLOSED) && c->cb && c->cb->readable)
        c->cb->readable(c, c->arg);
}

/* ---- the timer's work ---- */

static void timeout(struct tcp_conn *c)
{
    c->timed_on = 0;               /* already off the list (tcp_tick) */
    if (c->state == TCP_TIME_WAIT) {
        conn_release(c);
        return;
    }
    if (c->state == TCP_SYN_RECEIVED) {
        if (c->retries >= TCP_SYN_RETRIES) {
            conn_release(c);       /* a half-open one nobody finished: no RST, nobody to tell */
            return;
        }
        c->retries++;
        st.retransmits++;
        send_syn_ack(c);
        timer_set(c, (uint32_t)c->rto_ms << c->retries);
        return;
    }
    if (c->snd_una == c->snd_nxt && c->sbuf_len == 0)
        return;                    /* all acknowledged meanwhile */
    if (c->retries >= TCP_RETRIES) {
        st.timeouts++;
        send_segment(c, c->snd_nxt, TCP_RST, 0, 0, 0);
        st.resets_sent++;
        notify_closed(c, -E_TIMEDOUT);
        return;
    }
    c->retries++;
    if (c->snd_nxt != c->snd_una)
        st.retransmits++;
    /* Go back: resend from the oldest unacknowledged byte. A shut window
     * gets a one-byte probe [RFC 9293 3.8.6.1]. */
    c->snd_nxt = c->snd_una;
    c->flags &= ~F_FIN_SENT;
    uint32_t rto = (uint32_t)c->rto_ms << c->retries;
    c->deadline_ms = now_ms() + (rto > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : rto);
    uint16_t wnd = c->snd_wnd;
    if (!wnd)
        c->snd_wnd = 1;
    timer_set(c, c->deadline_ms - now_ms());
    output(c);
    if (!wnd)
        c->snd_wnd = 0;
}

static void tcp_tick(void *arg)
{
    (void)arg;
    uint32_t now = now_ms();
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
        conn_unbusy(c);
    }
    if (list_empty(&timed))
        loop_timer_stop(&ticker);
}

/* ---- input ---- */

static void on_syn(uint32_t rip, const struct tcp_info *t, struct tcp_listener *l)
{
    uint32_t now = now_ms();
    if (l->half_open >= l->backlog) {
        /* A flood fills the backlog with connections that never finish:
         * push out the oldest, unless it is too young to have had a chance. */
        struct tcp_conn *old = container_of(list_first(&l->half), struct tcp_conn, half);
        if (now - old->born_ms < TCP_SYN_KEEP_MS) {
            net_drop(NET_DROP_TCP_BACKLOG);
            return;
        }
        st.syn_evicted++;
        conn_release(old);
    }
    struct tcp_conn *c = kzalloc(sizeof *c);
    if (!c) {
        net_drop(NET_DROP_TCP_NO_MEMORY);
        return;
    }
    c->rip = rip;
    c->rport = t->sport;
    c->lport = t->dport;
    c->rcv_nxt = t->seq + 1;
    c->snd_una = make_iss(rip, t->sport, t->dport);
    c->snd_nxt = c->snd_una + 1;
    c->snd_wnd = t->wnd;
    c->mss = t->mss ? (t->mss < TCP_MSS_OURS ? t->mss : TCP_MSS_OURS) : TCP_MSS_DEFAULT;
    if (c->mss < TCP_MSS_MIN)
        c->mss = TCP_MSS_MIN;
    c->rto_ms = TCP_RTO_MS;
    c->born_ms = now;
    c->state = TCP_SYN_RECEIVED;
    c->listener = l;
    list_push_back(&l->half, &c->half);
    l->half_open++;
    if (++half_open_total > st.half_open_max)
        st.half_open_max = half_open_total;
    unsigned h = hash(rip, t->sport, t->dport);
    c->hnext = table[h];
    table[h] = c;
    if (++st.conns > st.conns_max)
        st.conns_max = st.conns;
    st.syn_received++;
    send_syn_ack(c);
    timer_set(c, c->rto_ms);
}

/* RFC 9293 3.10.7.4, first check: is any of the segment inside our window? */
static int acceptable(const struct tcp_conn *c, const struct tcp_info *t, uint32_t seg_len)
{
    uint32_t wnd = rcv_window(c);
    if (seg_len == 0)
        return wnd == 0 ? t->seq == c->rcv_nxt : seq_in(t->seq, c->rcv_nxt, wnd);
    if (wnd == 0)
        return 0;
    return seq_in(t->seq, c->rcv_nxt, wnd) || seq_in(t->seq + seg_len - 1, c->rcv_nxt, wnd);
}

/* An ACK that moved snd_una: drop acknowledged bytes, maybe our FIN. */
static void acked(struct tcp_conn *c, uint32_t ack)
{
    uint32_t n = ack - c->snd_una;
    int fin_acked = 0;
    if (n > c->sbuf_len) {            /* beyond the data: our FIN */
        fin_acked = 1;
        n = c->sbuf_len;
    }
    if (n) {
        memmove(c->sbuf, c->sbuf + n, c->sbuf_len - n);
        c->sbuf_len -= (uint16_t)n;
        if (!c->sbuf_len) {
            kfree(c->sbuf);           /* idle connections keep no buffer */
            c->sbuf = NULL;
        }
    }
    c->snd_una = ack;
    c->retries = 0;
    if (c->snd_una == c->snd_nxt)
        timer_clear(c);
    else
        timer_set(c, c->rto_ms);
    if (fin_acked) {
        if (c->state == TCP_FIN_WAIT_1)
            c->state = TCP_FIN_WAIT_2;
        else if (c->state == TCP_CLOSING) {
            c->state = TCP_TIME_WAIT;
            st.time_wait++;
            timer_set(c, TCP_TIME_WAIT_MS);
        } else if (c->state == TCP_LAST_ACK) {
            conn_release(c);
            return;
        }
    }
    if (n && !(c->flags & F_USER_CLOSED) && c->cb && c->cb->writable)
        c->cb->writable(c, c->arg);
}

static void established(struct tcp_conn *c)
{
    struct tcp_listener *l = c->listener;
    leave_half_open(c);
    c->state = TCP_ESTABLISHED;
    c->retries = 0;
    timer_clear(c);
    st.passive_opens++;
    l->fn(l->arg, c);             /* it sets callbacks, or aborts */
}

static void segment(struct tcp_conn *c, const struct tcp_info *t)
{
    uint32_t seg_len = (uint32_t)t->len + !!(t->flags & TCP_SYN) + !!(t->flags & TCP_FIN);
    if (c->state == TCP_SYN_RECEIVED && (t->flags & TCP_SYN) && t->seq + 1 == c->rcv_nxt &&
        !(t->flags & TCP_ACK)) {
        send_syn_ack(c);              /* our SYN-ACK was lost: the peer sent its SYN again */
        return;
    }
    if (!acceptable(c, t, seg_len)) {
        net_drop(NET_DROP_TCP_WINDOW);
        if (!(t->flags & TCP_RST))
            send_ack(c);
        return;
    }
    if (t->flags & TCP_RST) {
        /* RFC 5961 3.2: only an RST exactly at rcv_nxt resets; one
         * elsewhere in the window gets a challenge ACK. */
        if (t->seq != c->rcv_nxt) {
            net_drop(NET_DROP_TCP_BAD_ACK);
            send_ack(c);
            return;
        }
        st.resets_received++;
        if (c->state == TCP_SYN_RECEIVED || c->state == TCP_TIME_WAIT ||
            (c->flags & F_USER_CLOSED))
            conn_release(c);
        else
            notify_closed(c, -E_CONNRESET);
        return;
    }
    if (t->flags & TCP_SYN) {         /* RFC 5961 4.2: challenge ACK */
        net_drop(NET_DROP_TCP_BAD_ACK);
        send_ack(c);
        return;
    }
    /* ACK is set (tcp_parse dropped the rest). */
    if (c->state == TCP_SYN_RECEIVED) {
        if (t->ack != c->snd_nxt) {
            net_drop(NET_DROP_TCP_BAD_ACK);
            send_reset(c->rip, t);
            return;
        }
        c->snd_una = t->ack;
        c->snd_wnd = t->wnd;
        established(c);
        if (c->state == TCP_CLOSED)
            return;                   /* the accept callback refused it */
    } else {
        if (seq_gt(t->ack, c->snd_nxt)) {
            net_drop(NET_DROP_TCP_BAD_ACK);
            send_ack(c);
            return;
        }
        if (seq_ge(t->ack, c->snd_una))
            c->snd_wnd = t->wnd;
        if (seq_gt(t->ack, c->snd_una)) {
            acked(c, t->ack);
            if (c->state == TCP_CLOSED)
                return;
        }
    }
    /* Data, only in order: trim what we already have, drop what is ahead. */
    const uint8_t *data = t->data;
    uint32_t len = (uint32_t)t->len;
    uint32_t seq = t->seq;
    if (seq_lt(seq, c->rcv_nxt)) {
        uint32_t skip = c->rcv_nxt - seq;
        if (skip > len) {
            skip = len;
        }
        data += skip;
        len -= skip;
        seq += skip;
    }
    int fin = (t->flags & TCP_FIN) != 0;
    if (seq != c->rcv_nxt && (len || fin)) {
        net_drop(NET_DROP_TCP_WINDOW);
        send_ack(c);                  /* a duplicate ACK says what we want */
        return;
    }
    if (len) {
        if (c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
            c->state == TCP_FIN_WAIT_2) {
            if (c->flags & F_USER_CLOSED) {
                c->rcv_nxt += len;    /* nobody reads: take it and forget it */
            } else {
                if (!c->rbuf && !(c->rbuf = kmalloc(TCP_RCVBUF))) {
                    net_drop(NET_DROP_TCP_NO_MEMORY);
                    return;
                }
                uint32_t room = TCP_RCVBUF - c->rbuf_len;
                if (len > room) {
                    len = room;
                    fin = 0;          /* the FIN lies after what we cut */
                }
                memcpy(c->rbuf + c->rbuf_len, data, len);
                c->rbuf_len += (uint16_t)len;
                c->rcv_nxt += len;
            }
            st.rx_bytes += len;
            c->flags |= F_ACK_NOW;
        } else {
            net_drop(NET_DROP_TCP_CLOSED);   /* after the peer's FIN: nothing may follow */
            return;
        }
    }
    if (fin && !(c->flags & F_PEER_FIN)) {
        c->rcv_nxt++;
        c->flags |= F_PEER_FIN | F_ACK_NOW;
        switch (c->state) {
        case TCP_ESTABLISHED:
            c->state = TCP_CLOSE_WAIT;
            break;
        case TCP_FIN_WAIT_1:
            c->state = TCP_CLOSING;   /* both sent FIN at once */
            break;
        case TCP_FIN_WAIT_2:
            c->state = TCP_TIME_WAIT;
            st.time_wait++;
            timer_set(c, TCP_TIME_WAIT_MS);
            break;
        default:
            break;
        }
    } else if (fin && c->state == TCP_TIME_WAIT) {
        c->flags |= F_ACK_NOW;        /* our last ACK was lost: again, and wait anew */
        timer_set(c, TCP_TIME_WAIT_MS);
    }
    if (len || fin)
        notify_readable(c);
    if (c->state != TCP_CLOSED && !(c->flags & F_DEAD))
        output(c);                    /* replies ride on the ACK we owe */
}

void tcp_input(const struct ip_info *ip)
{
    struct tcp_info t;
    int r = tcp_parse(ip->payload, ip->len, ip->src, ip->dst, &t);
    if (r == NET_PASS && ip->dst != net_if.ip)
        r = NET_DROP_TCP_HEADER;      /* TCP is unicast [RFC 1122 4.2.3.10] */
    if (r != NET_PASS) {
        net_drop(r);
        return;
    }
    st.rx_segments++;
    struct tcp_conn *c = lookup(ip->src, t.sport, t.dport);
    if (c) {
        c->flags |= F_BUSY;
        segment(c, &t);
        conn_unbusy(c);
        return;
    }
    struct tcp_listener *l = find_listener(t.dport);
    if (!l) {
        net_drop(NET_DROP_TCP_NO_PORT);
        if (!(t.flags & TCP_RST))
            send_reset(ip->src, &t);
        return;
    }
    /* LISTEN [RFC 9293 3.10.7.2]: RST ignored, ACK answered with RST,
     * SYN opens. */
    if (t.flags & TCP_RST) {
        net_drop(NET_DROP_TCP_CLOSED);
    } else if (t.flags & TCP_ACK) {
        net_drop(NET_DROP_TCP_BAD_ACK);
        send_reset(ip->src, &t);
    } else {
        on_syn(ip->src, &t, l);
    }
}

/* ---- the loop-style API ---- */

int tcp_listen(uint16_t port, int backlog, tcp_accept_fn fn, void *arg,
               struct tcp_listener **out)
{
    if (!net_if.up)
        return -E_NOENT;
    if (!fn || port == 0 || backlog < 1)
        return -E_INVAL;
    if (find_listener(port))
        return -E_BUSY;
    for (int i = 0; i < TCP_LISTENERS; i++) {
        struct tcp_listener *l = &listeners[i];
        if (l->fn)
            continue;
        l->port = port;
        l->backlog = (uint16_t)(backlog > TCP_BACKLOG_MAX ? TCP_BACKLOG_MAX : backlog);
        l->half_open = 0;
        l->arg = arg;
        list_init(&l->half);
        l->fn = fn;
        *out = l;
        return 0;
    }
    return -E_NOMEM;
}

void tcp_unlisten(struct tcp_listener *l)
{
    while (!list_empty(&l->half)) {
        struct tcp_conn *c = container_of(list_first(&l->half), struct tcp_conn, half);
        send_segment(c, c->snd_nxt, TCP_RST, 0, 0, 0);
        st.resets_sent++;
        conn_release(c);
    }
    l->fn = NULL;
}

void tcp_set_callbacks(struct tcp_conn *c, const struct tcp_callbacks *cb, void *arg)
{
    c->cb = cb;
    c->arg = arg;
}

int tcp_recv(struct tcp_conn *c, void *buf, size_t n)
{
    if (c->rbuf_len) {
        size_t k = n < c->rbuf_len ? n : c->rbuf_len;
        int was_shut = rcv_window(c) < c->mss;
        memcpy(buf, c->rbuf, k);
        memmove(c->rbuf, c->rbuf + k, c->rbuf_len - k);
        c->rbuf_len -= (uint16_t)k;
        if (!c->rbuf_len) {
            kfree(c->rbuf);
            c->rbuf = NULL;
        }
        /* The window opened from (almost) shut: tell the peer, or it waits
         * for its persist timer [RFC 9293 3.8.6.2.2]. */
        if (was_shut && rcv_window(c) >= c->mss && c->state != TCP_CLOSED)
            send_ack(c);
        return (int)k;
    }
    if (c->flags & F_RESET)
        return -E_CONNRESET;
    if (c->flags & F_PEER_FIN)
        return 0;
    return -E_WOULDBLOCK;
}

size_t tcp_send_space(struct tcp_conn *c)
{
    if (c->flags & (F_RESET | F_FIN_QUEUED) || c->state == TCP_CLOSED)
        return 0;
    return TCP_SNDBUF - c->sbuf_len;
}

int tcp_send(struct tcp_conn *c, const void *buf, size_t n)
{
    if (c->flags & (F_RESET | F_FIN_QUEUED) || c->state == TCP_CLOSED)
        return -E_CONNRESET;
    size_t room = TCP_SNDBUF - c->sbuf_len;
    if (n > room)
        n = room;
    if (n == 0)
        return -E_WOULDBLOCK;
    if (!c->sbuf && !(c->sbuf = kmalloc(TCP_SNDBUF)))
        return -E_NOMEM;
    memcpy(c->sbuf + c->sbuf_len, buf, n);
    c->sbuf_len += (uint16_t)n;
    if (!(c->flags & F_BUSY))
        output(c);                    /* else the segment's processing sends it */
    return (int)n;
}

void tcp_close(struct tcp_conn *c)
{
    if (c->flags & F_USER_CLOSED)
        return;
    c->flags |= F_USER_CLOSED;
    kfree(c->rbuf);                   /* nobody will read it */
    c->rbuf = NULL;
    c->rbuf_len = 0;
    if (c->state == TCP_ESTABLISHED)
        c->state = TCP_FIN_WAIT_1;
    else if (c->state == TCP_CLOSE_WAIT)
        c->state = TCP_LAST_ACK;
    else {
        conn_release(c);
        return;
    }
    c->flags |= F_FIN_QUEUED;
    if (!(c->flags & F_BUSY))
        output(c);
}

void tcp_abort(struct tcp_conn *c)
{
    if (c->state != TCP_CLOSED) {
        send_segment(c, c->snd_nxt, TCP_RST, 0, 0, 0);
        st.resets_sent++;
    }
    c->flags |= F_USER_CLOSED | F_RESET;
    conn_release(c);
}

void tcp_peer(const struct tcp_conn *c, uint32_t *ip, uint16_t *port)
{
    *ip = c->rip;
    *port = c->rport;
}

void tcp_get_stats(struct tcp_stats *s)
{
    /* The loop thread may be preempted mid-update: display figures only. */
    uint32_t f = irq_save();
    *s = st;
    irq_restore(f);
}

size_t tcp_conn_bytes(void) { return kmalloc_footprint(sizeof(struct tcp_conn)); }
