/* TCP's state machine on the host, under ASan/UBSan [RFC 9293]: the four
 * kernel/net/tcp*.c files that run in the loop, linked against
 * tcp_stubs.c (a clock the test moves, loop timers on it, an ip_output
 * that keeps every segment). A test plays the peer: it builds segments
 * with tcp_build, hands them to tcp_input, and checks what TCP sent back
 * (flags, seq, ack, window, data) and the connection's state.
 *
 * Covered: passive open and LISTEN's answers, RST from a closed port for
 * every segment without RST (the FIN, Xmas and null scans included),
 * retransmission with backoff and give-up (data and SYN-ACK), RFC 6298's
 * RTO on a script of samples and from a live connection with Karn's rule,
 * FIN both ways and at once, TIME-WAIT
 * (its length, a FIN and a SYN in it), RFC 5961's challenge ACK, the
 * backlog and SYN cookies (round trip, MSS, forged and stale ACKs, a burst
 * of 1,000 SYNs), the accept queue's hold, reassembly of out-of-order
 * segments (holes, overlaps, the bound), window edges (shut,
 * partly outside, overlapping, ahead, the peer's window and MSS), a
 * shut window kept open while the peer answers the probes, and
 * sequence numbers across 2^32 on both sides. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <webscale/errno.h>
#include "kernel/net/tcp_internal.h"
#include "tests/host/check.h"
#include "tests/host/tcp_stubs.h"

#define US    0x0A00020Fu    /* 10.0.2.15: the guest */
#define PEER  0x0A000202u    /* 10.0.2.2 */
#define PORT  80

/* ---- the peer ---- */

struct peer {
    uint16_t port;           /* its port */
    uint32_t seq;            /* the next sequence number it sends */
    uint32_t ack;            /* what it acknowledges: our next */
    uint16_t wnd, mss;       /* mss: its SYN's MSS option, 0 for none */
};

/* A segment from the peer, in a heap block exactly its size (ASan sees any
 * read past its end). */
static void send_raw(const struct peer *p, uint32_t seq, uint32_t ack, uint8_t flags,
                     const void *data, size_t len)
{
    uint16_t mss = (flags & TCP_SYN) ? p->mss : 0;
    size_t h = mss ? TCP_HLEN + 4 : TCP_HLEN;
    uint8_t *b = malloc(h + len);
    if (len)
        memcpy(b + h, data, len);
    tcp_build(b, PEER, US, p->port, PORT, seq, ack, flags, p->wnd, mss, len);
    struct ip_info ip = { .src = PEER, .dst = US, .proto = IP_PROTO_TCP, .payload = b,
                          .len = h + len };
    tcp_input(&ip);
    free(b);
}

/* The next segment in the peer's stream: at p->seq, acknowledging p->ack. */
static void send_seg(struct peer *p, uint8_t flags, const void *data, size_t len)
{
    send_raw(p, p->seq, p->ack, flags, data, len);
    p->seq += (uint32_t)len + !!(flags & (TCP_SYN | TCP_FIN));
}

static struct tcp_conn *conn_of(const struct peer *p) { return tcp_lookup(PEER, p->port, PORT); }

/* ---- what TCP sent ---- */

static const struct stub_seg *last(void) { return stub_out(stub_out_count() - 1); }

#define CHECK_SEG(s, fl, sq, ak) check_seg(__FILE__, __LINE__, (s), (fl), (sq), (ak))
static void check_seg(const char *file, int line, const struct stub_seg *s, uint8_t flags,
                      uint32_t seq, uint32_t ack)
{
    if (!s) {
        fprintf(stderr, "%s:%d: CHECK_SEG failed: no segment was sent\n", file, line);
        check_failures++;
    } else if (s->t.flags != flags || s->t.seq != seq || s->t.ack != ack || s->dst != PEER) {
        fprintf(stderr, "%s:%d: CHECK_SEG failed: sent flags 0x%02x seq %u ack %u, "
                "expected flags 0x%02x seq %u ack %u\n", file, line, s->t.flags, s->t.seq,
                s->t.ack, flags, seq, ack);
        check_failures++;
    }
}

/* ---- the application: an accept callback and connection callbacks ---- */

static struct app {
    struct tcp_conn *c;      /* the accepted connection, NULL once closed */
    int accepts, readable, writable, closed, err;
    int refuse;              /* the accept callback aborts */
    int queue_max;           /* an accept queue of this many: then hold (0: never) */
    struct tcp_listener *l;
} app;

static void on_readable(struct tcp_conn *c, void *arg)
{
    (void)c, (void)arg;
    app.readable++;
}

static void on_writable(struct tcp_conn *c, void *arg)
{
    (void)c, (void)arg;
    app.writable++;
}

static void on_closed(struct tcp_conn *c, void *arg, int err)
{
    (void)c, (void)arg;
    app.closed++;
    app.err = err;
    app.c = NULL;
}

static const struct tcp_callbacks app_cbs = {
    .readable = on_readable, .writable = on_writable, .closed = on_closed,
};

static void on_accept(void *arg, struct tcp_conn *c)
{
    (void)arg;
    app.accepts++;
    if (app.refuse) {
        tcp_abort(c);
        return;
    }
    app.c = c;
    tcp_set_callbacks(c, &app_cbs, NULL);
    if (app.queue_max && app.accepts >= app.queue_max)
        tcp_listen_hold(app.l, 1);      /* as tcp_sock.c's server_accept does */
}

static struct tcp_listener *listen_on(int backlog)
{
    struct tcp_listener *l = NULL;
    memset(&app, 0, sizeof app);
    CHECK_EQ(tcp_listen(PORT, backlog, on_accept, NULL, &l), 0);
    app.l = l;
    return l;
}

/* The peer's SYN; checks the SYN-ACK and takes our ISS from it. */
static void peer_syn(struct peer *p, uint32_t isn)
{
    stub_out_clear();
    p->seq = isn;
    send_seg(p, TCP_SYN, NULL, 0);
    const struct stub_seg *s = last();
    CHECK_EQ(stub_out_count(), 1);
    if (!s)
        return;
    CHECK_SEG(s, TCP_SYN | TCP_ACK, s->t.seq, isn + 1);
    CHECK_EQ(s->t.mss, TCP_MSS_OURS);
    CHECK_EQ(s->t.wnd, TCP_RCVBUF);
    p->ack = s->t.seq + 1;
}

/* A whole handshake: SYN, SYN-ACK, ACK; returns the accepted connection. */
static struct tcp_conn *open_conn(struct peer *p, uint32_t isn)
{
    peer_syn(p, isn);
    send_seg(p, TCP_ACK, NULL, 0);
    CHECK(app.c != NULL && app.c == conn_of(p));
    CHECK(app.c && app.c->state == TCP_ESTABLISHED);
    CHECK_EQ(stub_out_count(), 1);          /* the ACK is answered by nothing */
    stub_out_clear();
    return app.c;
}

/* After each test: nothing left open, and the stack's timer has stopped. */
static void finish(struct tcp_listener *l)
{
    if (app.c)
        tcp_abort(app.c);
    tcp_unlisten(l);
    stub_advance_ms(2 * TCP_TICK_MS);
    CHECK_EQ(tcp_st.conns, 0);
    CHECK_EQ(tcp_st.time_wait, 0);
    CHECK_EQ(stub_timers_active(), 0);
    stub_out_clear();
}

static uint32_t drops(int reason) { return net_st.drops[reason]; }
static uint32_t resets(enum tcp_rst_reason why) { return tcp_st.resets_by[why]; }

/* ---- passive open and LISTEN ---- */

static void test_passive_open(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40000, .wnd = 8192, .mss = 1460 };
    uint32_t syns = tcp_st.syn_received, opens = tcp_st.passive_opens;
    peer_syn(&p, 1000);
    struct tcp_conn *c = conn_of(&p);
    CHECK(c && c->state == TCP_SYN_RECEIVED && c->mss == 1460);
    CHECK_EQ(l->half_open, 1);
    CHECK_EQ(tcp_st.syn_received, syns + 1);
    uint32_t iss = p.ack - 1;

    /* The same SYN again (our SYN-ACK was lost): the same SYN-ACK again. */
    stub_out_clear();
    send_raw(&p, 1000, 0, TCP_SYN, NULL, 0);
    CHECK_SEG(last(), TCP_SYN | TCP_ACK, iss, 1001);
    /* An ACK of something else: RST at that ACK [3.10.7.4, fifth]. */
    uint32_t bad = drops(NET_DROP_TCP_BAD_ACK), bad_rst = resets(TCP_RST_SYN_RCVD_ACK);
    send_raw(&p, 1001, iss + 7, TCP_ACK, NULL, 0);
    CHECK_SEG(last(), TCP_RST, iss + 7, 0);
    CHECK_EQ(drops(NET_DROP_TCP_BAD_ACK), bad + 1);
    CHECK_EQ(resets(TCP_RST_SYN_RCVD_ACK), bad_rst + 1);
    CHECK(conn_of(&p) == c && c->state == TCP_SYN_RECEIVED);

    /* The right ACK: ESTABLISHED, the accept callback, off the backlog. */
    stub_out_clear();
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(app.c == c && c->state == TCP_ESTABLISHED);
    CHECK_EQ(app.accepts, 1);
    CHECK_EQ(l->half_open, 0);
    CHECK_EQ(tcp_st.passive_opens, opens + 1);
    CHECK_EQ(stub_out_count(), 0);
    uint32_t ip;
    uint16_t port;
    tcp_peer(c, &ip, &port);
    CHECK(ip == PEER && port == 40000);

    /* Data both ways. */
    send_seg(&p, TCP_ACK | TCP_PSH, "hello", 5);
    CHECK_SEG(last(), TCP_ACK, iss + 1, 1006);
    CHECK_EQ(last()->t.wnd, TCP_RCVBUF - 5);
    CHECK_EQ(app.readable, 1);
    char buf[16];
    CHECK_EQ(tcp_recv(c, buf, sizeof buf), 5);
    CHECK(!memcmp(buf, "hello", 5));
    CHECK_EQ(tcp_recv(c, buf, sizeof buf), -E_WOULDBLOCK);
    CHECK(conn_of(&p) == c && c->rbuf == NULL);                      /* an idle connection keeps no buffer */
    stub_out_clear();
    CHECK_EQ(tcp_send(c, "world", 5), 5);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, iss + 1, 1006);
    CHECK(last()->t.len == 5 && !memcmp(last()->data, "world", 5));
    p.ack = iss + 6;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK_EQ(app.writable, 1);
    CHECK(conn_of(&p) == c && c->sbuf == NULL && c->snd_una == iss + 6 && !(c->flags & F_TIMED));

    /* ABORT: RST at snd_nxt. */
    stub_out_clear();
    uint32_t aborts = resets(TCP_RST_ABORT);
    tcp_abort(c);
    app.c = NULL;
    CHECK_EQ(resets(TCP_RST_ABORT), aborts + 1);
    CHECK_SEG(last(), TCP_RST, iss + 6, 1006);
    CHECK(conn_of(&p) == NULL);
    finish(l);
}

static void test_listen_answers(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40001, .wnd = 8192 };
    /* LISTEN [3.10.7.2]: an RST is ignored, an ACK gets an RST at its ack. */
    uint32_t closed = drops(NET_DROP_TCP_CLOSED);
    stub_out_clear();
    send_raw(&p, 5, 0, TCP_RST, NULL, 0);
    CHECK_EQ(stub_out_count(), 0);
    CHECK_EQ(drops(NET_DROP_TCP_CLOSED), closed + 1);
    uint32_t no_conn = resets(TCP_RST_NO_CONN);
    send_raw(&p, 5, 77, TCP_ACK, NULL, 0);
    CHECK_SEG(last(), TCP_RST, 77, 0);
    CHECK_EQ(tcp_st.conns, 0);
    CHECK_EQ(resets(TCP_RST_NO_CONN), no_conn + 1);

    /* CLOSED [3.10.7.1]: a SYN to a port nobody listens on gets RST|ACK
     * acknowledging it; an RST gets nothing. */
    uint32_t noport = drops(NET_DROP_TCP_NO_PORT);
    stub_out_clear();
    uint8_t seg[TCP_HLEN];
    tcp_build(seg, PEER, US, 40001, 81, 900, 0, TCP_SYN, 8192, 0, 0);
    struct ip_info ip = { .src = PEER, .dst = US, .payload = seg, .len = TCP_HLEN };
    tcp_input(&ip);
    CHECK_SEG(last(), TCP_RST | TCP_ACK, 0, 901);
    tcp_build(seg, PEER, US, 40001, 81, 900, 0, TCP_RST, 8192, 0, 0);
    tcp_input(&ip);
    CHECK_EQ(stub_out_count(), 1);
    CHECK_EQ(drops(NET_DROP_TCP_NO_PORT), noport + 2);

    /* The peer's MSS: none means 536; a tiny one is raised to TCP_MSS_MIN. */
    p.mss = 0;
    peer_syn(&p, 100);
    CHECK(conn_of(&p) && conn_of(&p)->mss == TCP_MSS_DEFAULT);
    struct peer q = { .port = 40002, .wnd = 8192, .mss = 8 };
    peer_syn(&q, 100);
    CHECK(conn_of(&q) && conn_of(&q)->mss == TCP_MSS_MIN);

    /* The accept callback refuses: RST, and the connection is freed only
     * when the segment's processing ends (ASan would see a use after free). */
    app.refuse = 1;
    struct peer r = { .port = 40003, .wnd = 8192 };
    uint32_t aborts = resets(TCP_RST_ABORT);
    peer_syn(&r, 300);
    send_seg(&r, TCP_ACK, NULL, 0);
    CHECK_EQ(app.accepts, 1);
    CHECK_SEG(last(), TCP_RST, r.ack, 301);
    CHECK(conn_of(&r) == NULL);
    CHECK_EQ(resets(TCP_RST_ABORT), aborts + 1);

    /* Unlisten resets the half-open ones. */
    stub_out_clear();
    uint32_t rst = tcp_st.resets_sent, unlisten = resets(TCP_RST_UNLISTEN);
    finish(l);
    CHECK_EQ(tcp_st.resets_sent, rst + 2);
    CHECK_EQ(resets(TCP_RST_UNLISTEN), unlisten + 2);
    CHECK(conn_of(&p) == NULL && conn_of(&q) == NULL);
}

/* A segment from PEER:40009 to port, in a heap block exactly its size. */
static void send_to_port(uint16_t port, uint32_t seq, uint32_t ack, uint8_t flags,
                         const char *data, size_t len)
{
    uint8_t *b = malloc(TCP_HLEN + len);
    memcpy(b + TCP_HLEN, data, len);
    tcp_build(b, PEER, US, 40009, port, seq, ack, flags, 8192, 0, len);
    struct ip_info ip = { .src = PEER, .dst = US, .proto = IP_PROTO_TCP, .payload = b,
                          .len = TCP_HLEN + len };
    tcp_input(&ip);
    free(b);
}

/* CLOSED [3.10.7.1]: every segment without RST gets one, the scanners'
 * flag soup too (nmap -sF, -sX, -sN): without ACK, RST|ACK with seq 0 and
 * ack SEG.SEQ + SEG.LEN (SYN, FIN and data count); with ACK, RST at
 * SEG.ACK. Whatever holds RST gets nothing. A listener's port drops the
 * soup quietly, as LISTEN's rules say (3.10.7.2). */
static void test_closed_port_scans(void)
{
    static const struct {
        uint8_t flags;
        uint32_t seq, ack;
        const char *data;
        uint8_t want;
        uint32_t want_seq, want_ack;
    } cases[] = {
        { TCP_FIN, 500, 0, "", TCP_RST | TCP_ACK, 0, 501 },                      /* FIN scan */
        { TCP_FIN | TCP_PSH | TCP_URG, 600, 0, "", TCP_RST | TCP_ACK, 0, 601 },  /* Xmas */
        { 0, 700, 0, "", TCP_RST | TCP_ACK, 0, 700 },                            /* null */
        { TCP_SYN | TCP_FIN, 800, 0, "", TCP_RST | TCP_ACK, 0, 802 },
        { TCP_PSH, 900, 0, "abcde", TCP_RST | TCP_ACK, 0, 905 },
        { TCP_FIN | TCP_PSH | TCP_URG, 0xFFFFFFFFu, 0, "", TCP_RST | TCP_ACK, 0, 0 },
        { TCP_FIN | TCP_ACK, 1000, 4242, "", TCP_RST, 4242, 0 },
        { TCP_ACK | TCP_PSH | TCP_URG | TCP_FIN, 1100, 999, "xyz", TCP_RST, 999, 0 },
        { TCP_SYN | TCP_ACK, 1200, 31337, "", TCP_RST, 31337, 0 },
    };
    uint32_t noport = drops(NET_DROP_TCP_NO_PORT), soup = drops(NET_DROP_TCP_FLAGS);
    uint32_t rst = tcp_st.resets_sent, rst_no_port = resets(TCP_RST_NO_PORT);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        stub_out_clear();
        send_to_port(81, cases[i].seq, cases[i].ack, cases[i].flags, cases[i].data,
                     strlen(cases[i].data));
        CHECK_EQ(stub_out_count(), 1);
        CHECK_SEG(last(), cases[i].want, cases[i].want_seq, cases[i].want_ack);
        CHECK(last() && last()->t.dport == 40009 && last()->t.sport == 81 && last()->t.len == 0);
    }
    static const uint8_t with_rst[] = { TCP_RST, TCP_RST | TCP_ACK, TCP_RST | TCP_FIN,
                                        TCP_RST | TCP_SYN, TCP_RST | TCP_FIN | TCP_PSH | TCP_URG };
    stub_out_clear();
    for (size_t i = 0; i < sizeof with_rst; i++)
        send_to_port(81, 5, 6, with_rst[i], "", 0);
    CHECK_EQ(stub_out_count(), 0);
    size_t n = sizeof cases / sizeof cases[0] + sizeof with_rst;
    CHECK_EQ(drops(NET_DROP_TCP_NO_PORT), noport + n);
    CHECK_EQ(drops(NET_DROP_TCP_FLAGS), soup);
    CHECK_EQ(tcp_st.resets_sent, rst + sizeof cases / sizeof cases[0]);
    CHECK_EQ(resets(TCP_RST_NO_PORT), rst_no_port + sizeof cases / sizeof cases[0]);

    /* The same soup to a listening port: dropped, unanswered, no state. */
    struct tcp_listener *l = listen_on(4);
    send_to_port(PORT, 500, 0, TCP_FIN, "", 0);
    send_to_port(PORT, 600, 0, TCP_FIN | TCP_PSH | TCP_URG, "", 0);
    send_to_port(PORT, 700, 0, 0, "", 0);
    send_to_port(PORT, 800, 0, TCP_SYN | TCP_FIN, "", 0);
    CHECK_EQ(stub_out_count(), 0);
    CHECK_EQ(drops(NET_DROP_TCP_FLAGS), soup + 4);
    CHECK_EQ(drops(NET_DROP_TCP_NO_PORT), noport + n);
    CHECK_EQ(tcp_st.conns, 0);
    CHECK_EQ(l->half_open, 0);
    finish(l);
}

/* ---- retransmission ---- */

/* The gap between segments i-1 and i is want ms, or up to a tick later. */
#define CHECK_GAP(i, want) check_gap(__FILE__, __LINE__, (i), (want))
static void check_gap(const char *file, int line, int i, uint32_t want)
{
    const struct stub_seg *a = stub_out(i - 1), *b = stub_out(i);
    uint32_t gap = a && b ? b->at_ms - a->at_ms : 0;
    if (gap < want || gap > want + TCP_TICK_MS) {
        fprintf(stderr, "%s:%d: CHECK_GAP failed: segment %d came %u ms after the one "
                "before, expected %u to %u ms\n", file, line, i, gap, want, want + TCP_TICK_MS);
        check_failures++;
    }
}

static void test_retransmit_backoff_give_up(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40010, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 5000);
    uint32_t iss = p.ack - 1, rexmit = tcp_st.retransmits, timeouts = tcp_st.timeouts;
    uint32_t gave_up = resets(TCP_RST_GIVE_UP);
    uint8_t data[100];
    memset(data, 'x', sizeof data);
    CHECK_EQ(tcp_send(c, data, sizeof data), 100);
    /* The handshake's round trip took 0 ms: the RTO is the minimum. The
     * peer never answers: the same segment after 200, 400, ... 6400 ms,
     * RST 12800 ms later and -E_TIMEDOUT. */
    CHECK_EQ(c->rto_ms, TCP_RTO_MIN_MS);
    stub_advance_ms(30000);
    CHECK_EQ(stub_out_count(), 1 + TCP_RETRIES + 1);
    for (int i = 0; i <= TCP_RETRIES; i++) {
        CHECK_SEG(stub_out(i), TCP_ACK | TCP_PSH, iss + 1, 5001);
        CHECK_EQ(stub_out(i)->t.len, 100);
    }
    uint32_t want[] = { 200, 400, 800, 1600, 3200, 6400, 12800 };
    for (int i = 1; i <= TCP_RETRIES + 1; i++)
        CHECK_GAP(i, want[i - 1]);
    CHECK_SEG(stub_out(TCP_RETRIES + 1), TCP_RST, iss + 101, 5001);
    CHECK(app.closed == 1 && app.err == -E_TIMEDOUT);
    CHECK_EQ(tcp_st.retransmits, rexmit + TCP_RETRIES);
    CHECK_EQ(tcp_st.timeouts, timeouts + 1);
    CHECK_EQ(resets(TCP_RST_GIVE_UP), gave_up + 1);
    CHECK(conn_of(&p) == NULL);
    finish(l);
}

static void test_retransmit_from_snd_una(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40011, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 5000);
    uint32_t iss = p.ack - 1;
    uint8_t data[100];
    memset(data, 'y', sizeof data);
    tcp_send(c, data, sizeof data);
    stub_advance_ms(TCP_RTO_MIN_MS + TCP_TICK_MS);
    CHECK_EQ(stub_out_count(), 2);
    CHECK_EQ(c->retries, 1);
    /* Half of it arrives: retries start over, and the rest goes again one
     * RTO later, from the new snd_una. */
    stub_out_clear();
    p.ack = iss + 51;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == c && c->retries == 0 && c->sbuf_len == 50 && app.writable == 1);
    stub_advance_ms(TCP_RTO_MIN_MS - TCP_TICK_MS);
    CHECK_EQ(stub_out_count(), 0);
    stub_advance_ms(2 * TCP_TICK_MS);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, iss + 51, 5001);
    CHECK_EQ(last()->t.len, 50);
    finish(l);
}

static void test_syn_ack_give_up(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40012, .wnd = 8192 };
    peer_syn(&p, 42);
    uint32_t iss = p.ack - 1, resets = tcp_st.resets_sent;
    /* The handshake's last ACK never comes: SYN-ACK 3 times more (1, 2
     * and 4 s apart: RFC 6298's initial 1 s, doubled), then the half-open
     * connection is forgotten quietly 8 s later. */
    stub_advance_ms(14000);
    CHECK(conn_of(&p) != NULL);
    stub_advance_ms(2000);
    CHECK_EQ(stub_out_count(), 1 + TCP_SYN_RETRIES);
    for (int i = 0; i <= TCP_SYN_RETRIES; i++)
        CHECK_SEG(stub_out(i), TCP_SYN | TCP_ACK, iss, 43);
    CHECK_GAP(1, 1000);
    CHECK_GAP(2, 2000);
    CHECK_GAP(3, 4000);
    CHECK(conn_of(&p) == NULL);
    CHECK_EQ(l->half_open, 0);
    CHECK_EQ(tcp_st.resets_sent, resets);
    finish(l);
}

/* ---- RFC 6298: the RTO from round trips ---- */

/* A script of samples into a bare connection; after each, SRTT, RTTVAR
 * and the RTO as the RFC's formulas give them (in doubles): SRTT and RTTVAR
 * within 1 ms, the RTO (whole ms, K times RTTVAR's rounding) within 2 ms. */
static void test_rto_script(void)
{
    static const uint32_t r[] = { 100, 100, 300, 20, 20, 20, 20, 20, 20, 20, 20, 20,
                                  5000, 9000, 1, 0, 0, 0, 400 };
    struct tcp_conn c;
    memset(&c, 0, sizeof c);
    c.rto_ms = TCP_RTO_INITIAL_MS;
    double srtt = 0, rttvar = 0;
    for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++) {
        double x = r[i] > 8000 ? 8000 : r[i];      /* tcp_rtt.c's clamp */
        if (i == 0) {
            srtt = x;
            rttvar = x / 2;                         /* 2.2 */
        } else {
            rttvar = 0.75 * rttvar + 0.25 * (srtt > x ? srtt - x : x - srtt);
            srtt = 0.875 * srtt + 0.125 * x;        /* 2.3 */
        }
        double rto = srtt + (4 * rttvar > TCP_TICK_MS ? 4 * rttvar : TCP_TICK_MS);
        rto = rto < TCP_RTO_MIN_MS ? TCP_RTO_MIN_MS : rto > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : rto;
        tcp_rto_sample(&c, r[i]);
        double got_srtt = c.srtt8 / 8.0, got_var = c.rttvar8 / 8.0;
        if (got_srtt < srtt - 1 || got_srtt > srtt + 1 || got_var < rttvar - 1 ||
            got_var > rttvar + 1 || c.rto_ms < rto - 2 || c.rto_ms > rto + 2) {
            fprintf(stderr, "sample %u (%u ms): SRTT %.2f RTTVAR %.2f RTO %u ms, the RFC "
                    "says %.2f %.2f %.2f\n", i, r[i], got_srtt, got_var, c.rto_ms, srtt, rttvar, rto);
            check_failures++;
        }
    }
    /* The steady 20 ms run brought the RTO to the minimum, and 9 s of
     * variance well above it (but below the maximum). */
    CHECK(c.flags & F_SRTT);
}

/* Samples from the live connection: the handshake's, then data's, and
 * Karn's rule: an ACK after a retransmission is no sample. */
static void test_rto_karn(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40013, .wnd = 8192, .mss = 1460 };
    peer_syn(&p, 100);
    stub_advance_ms(100);                       /* the handshake takes 100 ms */
    send_seg(&p, TCP_ACK, NULL, 0);
    struct tcp_conn *c = app.c;
    CHECK(c && c->srtt8 == 100 * 8 && c->rttvar8 == 50 * 8 && c->rto_ms == 100 + 4 * 50);
    uint32_t iss = p.ack - 1;
    /* Data, unacknowledged: sent again after the RTO (300 ms), then 600. */
    stub_out_clear();
    tcp_send(c, "abc", 3);
    stub_advance_ms(300 + 600 + TCP_TICK_MS);
    CHECK_EQ(stub_out_count(), 3);
    CHECK_GAP(1, 300);
    CHECK_GAP(2, 600);
    /* Its ACK now would be a 910 ms sample, but it may be the copy's:
     * Karn says no sample, and the RTO before backoff stays. */
    p.ack = iss + 4;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(c->srtt8 == 100 * 8 && c->rttvar8 == 50 * 8 && c->rto_ms == 300 && c->retries == 0);
    /* New data acknowledged after 40 ms: a sample. SRTT = 7/8 100 + 40/8
     * = 92.5, RTTVAR = 3/4 50 + 1/4 60 = 52.5, RTO = 92.5 + 210 = 302.5,
     * rounded to 303. */
    tcp_send(c, "def", 3);
    stub_advance_ms(40);
    p.ack = iss + 7;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(c->srtt8 == 740 && c->rttvar8 == 420 && c->rto_ms == 303);
    tcp_abort(c);
    app.c = NULL;

    /* RFC 6298 5.7: the SYN-ACK was sent again, so the handshake gives no
     * sample, and data starts with an RTO of 3 s. */
    struct peer q = { .port = 40014, .wnd = 8192, .mss = 1460 };
    peer_syn(&q, 200);
    stub_advance_ms(TCP_RTO_INITIAL_MS + TCP_TICK_MS);
    send_seg(&q, TCP_ACK, NULL, 0);
    CHECK(app.c && !(app.c->flags & F_SRTT) && app.c->rto_ms == TCP_RTO_SYN_LOST_MS);
    finish(l);
}

/* ---- closing ---- */

/* A connection of p that we close at once: our FIN, FIN-WAIT-1. */
static struct tcp_conn *open_and_close(struct peer *p, uint32_t isn)
{
    struct tcp_conn *c = open_conn(p, isn);
    uint32_t iss = p->ack - 1;
    tcp_close(c);
    app.c = NULL;                                /* the stack's now */
    CHECK_SEG(last(), TCP_ACK | TCP_FIN, iss + 1, isn + 1);
    CHECK(conn_of(p) == c && c->state == TCP_FIN_WAIT_1);
    return c;
}

static void test_we_close_first(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40020, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_and_close(&p, 7000);
    uint32_t iss = p.ack - 1;
    CHECK_EQ(tcp_send(c, "x", 1), -E_CONNRESET);
    /* The ACK of our FIN. */
    stub_out_clear();
    p.ack = iss + 2;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == c && c->state == TCP_FIN_WAIT_2 && (c->flags & F_TIMED));
    CHECK_EQ(stub_out_count(), 0);
    /* Data after our close is acknowledged and forgotten. */
    send_seg(&p, TCP_ACK | TCP_PSH, "late", 4);
    CHECK_SEG(last(), TCP_ACK, iss + 2, 7005);
    CHECK_EQ(app.readable, 0);
    /* The peer's FIN: TIME-WAIT for TCP_TIME_WAIT_MS, then gone. */
    send_seg(&p, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 2, 7006);
    CHECK(conn_of(&p) == c && c->state == TCP_TIME_WAIT);
    CHECK_EQ(tcp_st.time_wait, 1);
    stub_advance_ms(TCP_TIME_WAIT_MS - TCP_TICK_MS);
    CHECK(conn_of(&p) == c);
    stub_advance_ms(2 * TCP_TICK_MS);
    CHECK(conn_of(&p) == NULL);
    CHECK_EQ(tcp_st.time_wait, 0);
    finish(l);
}

/* We closed, the peer acknowledged our FIN and never sends its own (it
 * went away, its RST was lost): after TCP_FIN_WAIT_2_MS the connection is
 * forgotten, quietly, its heap back; a FIN before that still ends it. */
static void test_fin_wait_2_timeout(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40023, .wnd = 8192, .mss = 1460 };
    long blocks = stub_heap_blocks;
    struct tcp_conn *c = open_and_close(&p, 7500);
    uint32_t forgotten = tcp_st.fin_wait_2_timeouts, rst = tcp_st.resets_sent;
    p.ack++;                                     /* our FIN */
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == c && c->state == TCP_FIN_WAIT_2);
    stub_out_clear();
    stub_advance_ms(TCP_FIN_WAIT_2_MS - TCP_TICK_MS);
    CHECK(conn_of(&p) == c && c->state == TCP_FIN_WAIT_2);
    stub_advance_ms(2 * TCP_TICK_MS);
    CHECK(conn_of(&p) == NULL);
    CHECK_EQ(stub_out_count(), 0);
    CHECK_EQ(tcp_st.resets_sent, rst);
    CHECK_EQ(tcp_st.fin_wait_2_timeouts, forgotten + 1);
    CHECK_EQ(stub_heap_blocks, blocks);
    CHECK_EQ(stub_timers_active(), 0);
    /* A FIN within the time: TIME-WAIT as usual, nothing forgotten. */
    struct peer q = { .port = 40024, .wnd = 8192, .mss = 1460 };
    c = open_and_close(&q, 7600);
    q.ack++;
    send_seg(&q, TCP_ACK, NULL, 0);
    stub_advance_ms(TCP_FIN_WAIT_2_MS / 2);
    send_seg(&q, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK(conn_of(&q) == c && c->state == TCP_TIME_WAIT);
    stub_advance_ms(TCP_FIN_WAIT_2_MS);
    CHECK(conn_of(&q) == NULL);
    CHECK_EQ(tcp_st.fin_wait_2_timeouts, forgotten + 1);
    finish(l);
}

static void test_peer_closes_first(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40021, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 8000);
    uint32_t iss = p.ack - 1;
    send_seg(&p, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, 8002);
    CHECK(conn_of(&p) == c && c->state == TCP_CLOSE_WAIT);
    CHECK_EQ(app.readable, 1);
    char buf[8];
    CHECK_EQ(tcp_recv(c, buf, sizeof buf), 0);   /* end of stream */
    /* Data after the peer's FIN is refused. */
    uint32_t closed = drops(NET_DROP_TCP_CLOSED);
    stub_out_clear();
    send_raw(&p, p.seq, p.ack, TCP_ACK, "no", 2);
    CHECK_EQ(drops(NET_DROP_TCP_CLOSED), closed + 1);
    CHECK_EQ(stub_out_count(), 0);
    /* We may still send, then close: LAST-ACK, and the ACK of our FIN ends
     * it without TIME-WAIT. */
    CHECK_EQ(tcp_send(c, "bye", 3), 3);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, iss + 1, 8002);
    tcp_close(c);
    app.c = NULL;
    CHECK_SEG(last(), TCP_ACK | TCP_FIN, iss + 4, 8002);
    CHECK(conn_of(&p) == c && c->state == TCP_LAST_ACK);
    p.ack = iss + 5;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == NULL);
    CHECK_EQ(tcp_st.time_wait, 0);
    CHECK_EQ(app.closed, 0);                     /* closed is for resets and timeouts */
    finish(l);
}

/* The peer closed, then answered a segment we sent before its FIN came
 * with an RST at that segment's ACK: rcv_nxt - 1. Taken in CLOSE-WAIT
 * (the user hears of it) and LAST-ACK (forgotten quietly); in
 * ESTABLISHED the same number is outside the window and dropped. */
static void test_rst_after_peer_fin(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40024, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 8200);
    uint32_t window = drops(NET_DROP_TCP_WINDOW), resets = tcp_st.resets_received;
    stub_out_clear();
    send_raw(&p, 8200, 0, TCP_RST, NULL, 0);
    CHECK_EQ(drops(NET_DROP_TCP_WINDOW), window + 1);
    CHECK_EQ(stub_out_count(), 0);
    CHECK(conn_of(&p) == c && c->state == TCP_ESTABLISHED);
    send_seg(&p, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK(conn_of(&p) == c && c->state == TCP_CLOSE_WAIT);
    app.closed = 0;
    send_raw(&p, 8201, 0, TCP_RST, NULL, 0);
    CHECK(conn_of(&p) == NULL);
    CHECK(app.closed == 1 && app.err == -E_CONNRESET);
    CHECK_EQ(drops(NET_DROP_TCP_WINDOW), window + 1);
    CHECK_EQ(tcp_st.resets_received, resets + 1);

    struct peer q = { .port = 40025, .wnd = 8192, .mss = 1460 };
    c = open_conn(&q, 8300);
    send_seg(&q, TCP_ACK | TCP_FIN, NULL, 0);
    tcp_close(c);
    app.c = NULL;
    CHECK(conn_of(&q) == c && c->state == TCP_LAST_ACK);
    app.closed = 0;
    send_raw(&q, 8301, 0, TCP_RST, NULL, 0);
    CHECK(conn_of(&q) == NULL);
    CHECK_EQ(app.closed, 0);
    CHECK_EQ(drops(NET_DROP_TCP_WINDOW), window + 1);
    finish(l);
}

static void test_simultaneous_close(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40022, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_and_close(&p, 9000);
    uint32_t iss = p.ack - 1;
    /* The peer's FIN crosses ours: CLOSING, then its ACK: TIME-WAIT. */
    send_seg(&p, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 2, 9002);
    CHECK(conn_of(&p) == c && c->state == TCP_CLOSING);
    p.ack = iss + 2;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == c && c->state == TCP_TIME_WAIT);
    stub_advance_ms(TCP_TIME_WAIT_MS + TCP_TICK_MS);
    CHECK(conn_of(&p) == NULL);

    /* FIN and the ACK of ours in one segment: FIN-WAIT-2, then TIME-WAIT. */
    struct peer q = { .port = 40023, .wnd = 8192, .mss = 1460 };
    c = open_and_close(&q, 9100);
    iss = q.ack - 1;
    q.ack = iss + 2;
    send_seg(&q, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 2, 9102);
    CHECK(conn_of(&q) == c && c->state == TCP_TIME_WAIT);
    stub_advance_ms(TCP_TIME_WAIT_MS + TCP_TICK_MS);
    CHECK(conn_of(&q) == NULL);
    finish(l);
}

/* ---- TIME-WAIT ---- */

/* A connection of p in TIME-WAIT, we having closed first. */
static struct tcp_conn *time_wait(struct peer *p, uint32_t isn)
{
    struct tcp_conn *c = open_and_close(p, isn);
    p->ack = c->snd_nxt;
    send_seg(p, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK(conn_of(p) == c && c->state == TCP_TIME_WAIT);
    stub_out_clear();
    return c;
}

static void test_time_wait(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40030, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = time_wait(&p, 10000);
    uint32_t snd = c->snd_nxt;
    /* The peer sends its FIN again (our ACK was lost). It lies before
     * rcv_nxt, so the first check of 3.10.7.4 answers it with an ACK;
     * the timer keeps its deadline, as the RFC's order has it. */
    stub_advance_ms(300);
    uint32_t window = drops(NET_DROP_TCP_WINDOW);
    send_raw(&p, p.seq - 1, p.ack, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, snd, 10002);
    CHECK_EQ(drops(NET_DROP_TCP_WINDOW), window + 1);
    /* A FIN at rcv_nxt (the eighth check) sends an ACK and waits anew. */
    send_raw(&p, p.seq, p.ack, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, snd, 10002);
    stub_advance_ms(TCP_TIME_WAIT_MS - TCP_TICK_MS);
    CHECK(conn_of(&p) == c);
    stub_advance_ms(2 * TCP_TICK_MS);
    CHECK(conn_of(&p) == NULL);

    /* A SYN from the same port during TIME-WAIT: an old duplicate (before
     * rcv_nxt) gets an ACK (first check), one at rcv_nxt a challenge ACK
     * (fourth); TIME-WAIT stays. One beyond rcv_nxt is a new connection
     * (RFC 1122 4.2.2.13, RFC 6191): TIME-WAIT ends and the SYN opens it,
     * with an ISS beyond the old connection's numbers. */
    c = time_wait(&p, 20000);
    snd = c->snd_nxt;
    uint32_t syns = tcp_st.syn_received, bad = drops(NET_DROP_TCP_BAD_ACK);
    uint32_t reopened = tcp_st.time_wait_reopened;
    window = drops(NET_DROP_TCP_WINDOW);
    send_raw(&p, 20002 - 10, 0, TCP_SYN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, snd, 20002);
    CHECK_EQ(drops(NET_DROP_TCP_WINDOW), window + 1);
    send_raw(&p, 20002, 0, TCP_SYN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, snd, 20002);
    CHECK_EQ(drops(NET_DROP_TCP_BAD_ACK), bad + 1);
    CHECK(conn_of(&p) == c && c->state == TCP_TIME_WAIT);
    CHECK_EQ(tcp_st.syn_received, syns);
    stub_out_clear();
    send_raw(&p, 900000, 0, TCP_SYN, NULL, 0);
    CHECK_EQ(stub_out_count(), 1);
    CHECK_SEG(last(), TCP_SYN | TCP_ACK, last()->t.seq, 900001);
    CHECK(seq_gt(last()->t.seq, snd - 1));
    CHECK(conn_of(&p) && conn_of(&p)->state == TCP_SYN_RECEIVED);
    CHECK_EQ(tcp_st.time_wait, 0);
    CHECK_EQ(tcp_st.syn_received, syns + 1);
    CHECK_EQ(tcp_st.time_wait_reopened, reopened + 1);
    /* It completes like any other handshake. */
    p.seq = 900001;
    p.ack = last()->t.seq + 1;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(app.c && app.c == conn_of(&p) && app.c->state == TCP_ESTABLISHED);
    if (app.c)
        tcp_abort(app.c);
    app.c = NULL;

    /* The ISS is chosen beyond the old connection's even when the clock
     * has not moved past it (the stub's clock stands still here). */
    struct peer r = { .port = 40031, .wnd = 8192, .mss = 1460 };
    c = time_wait(&r, 50000);
    snd = c->snd_nxt;
    stub_out_clear();
    send_raw(&r, 70000, 0, TCP_SYN, NULL, 0);
    CHECK_SEG(last(), TCP_SYN | TCP_ACK, snd + 1, 70001);
    finish(l);
}

/* ---- RFC 5961: blind RST and SYN ---- */

static void test_challenge_ack(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40040, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 30000);
    uint32_t iss = p.ack - 1, rcv = 30001;
    uint32_t bad = drops(NET_DROP_TCP_BAD_ACK), window = drops(NET_DROP_TCP_WINDOW);
    /* RST in the window, not at rcv_nxt: challenge ACK, nothing reset. */
    send_raw(&p, rcv + 5, 0, TCP_RST, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv);
    CHECK(conn_of(&p) == c && c->state == TCP_ESTABLISHED && app.closed == 0);
    /* RST outside the window: dropped, not answered. */
    stub_out_clear();
    send_raw(&p, rcv + TCP_RCVBUF, 0, TCP_RST, NULL, 0);
    CHECK_EQ(stub_out_count(), 0);
    CHECK_EQ(drops(NET_DROP_TCP_WINDOW), window + 1);
    /* SYN in the window, at rcv_nxt or not: challenge ACK. */
    send_raw(&p, rcv, 0, TCP_SYN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv);
    send_raw(&p, rcv + 100, 0, TCP_SYN, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv);
    CHECK_EQ(stub_out_count(), 2);
    /* An ACK of what we never sent: answered, dropped. */
    send_raw(&p, rcv, iss + 50, TCP_ACK, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv);
    CHECK_EQ(drops(NET_DROP_TCP_BAD_ACK), bad + 4);
    CHECK(conn_of(&p) == c && c->state == TCP_ESTABLISHED && c->snd_una == iss + 1);
    /* RST exactly at rcv_nxt: reset, the user hears -E_CONNRESET. */
    stub_out_clear();
    uint32_t resets = tcp_st.resets_received;
    send_raw(&p, rcv, 0, TCP_RST, NULL, 0);
    CHECK_EQ(stub_out_count(), 0);
    CHECK(app.closed == 1 && app.err == -E_CONNRESET);
    CHECK_EQ(tcp_st.resets_received, resets + 1);
    CHECK(conn_of(&p) == NULL);

    /* In SYN-RECEIVED the same rules; an RST at rcv_nxt forgets quietly. */
    struct peer q = { .port = 40041, .wnd = 8192 };
    peer_syn(&q, 31000);
    send_raw(&q, 31001 + 3, 0, TCP_RST, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, q.ack, 31001);
    CHECK(conn_of(&q) != NULL);
    send_raw(&q, 31001, 0, TCP_RST, NULL, 0);
    CHECK(conn_of(&q) == NULL);
    CHECK_EQ(app.closed, 1);
    finish(l);
}

/* ---- the backlog ---- */

static void test_backlog_and_cookies(void)
{
    struct tcp_listener *l = listen_on(2);
    struct peer a = { .port = 40050, .wnd = 8192 }, b = { .port = 40051, .wnd = 8192 };
    struct peer c = { .port = 40052, .wnd = 8192, .mss = 1400 };
    uint32_t cookies = tcp_st.syn_cookies_sent, ok = tcp_st.syn_cookies_ok;
    peer_syn(&a, 100);
    peer_syn(&b, 200);
    CHECK_EQ(l->half_open, 2);
    CHECK(tcp_st.half_open_max >= 2);
    /* Full: c gets a SYN-ACK all the same (peer_syn checks it), from no
     * state; a and b stay, however long they take. */
    long blocks = stub_heap_blocks;
    stub_advance_ms(5000);
    peer_syn(&c, 300);
    CHECK_EQ(tcp_st.syn_cookies_sent, cookies + 1);
    CHECK_EQ(stub_heap_blocks, blocks);
    CHECK(conn_of(&c) == NULL && conn_of(&a) != NULL && conn_of(&b) != NULL);
    CHECK_EQ(tcp_st.conns, 2);
    /* c's ACK, with its request: the cookie opens the connection, with
     * the MSS it encodes (1360: the largest entry not above 1400), and
     * the request is taken. */
    send_seg(&c, TCP_ACK | TCP_PSH, "GET", 3);
    struct tcp_conn *cc = conn_of(&c);
    CHECK(cc && cc->state == TCP_ESTABLISHED && app.c == cc);
    CHECK(cc && cc->mss == 1360 && cc->rbuf_len == 3 && cc->snd_una == c.ack);
    CHECK_SEG(last(), TCP_ACK, c.ack, 304);
    CHECK_EQ(tcp_st.syn_cookies_ok, ok + 1);
    CHECK_EQ(app.accepts, 1);
    tcp_abort(cc);
    app.c = NULL;
    /* a and b complete. */
    send_seg(&a, TCP_ACK, NULL, 0);
    send_seg(&b, TCP_ACK, NULL, 0);
    CHECK_EQ(app.accepts, 3);
    CHECK_EQ(l->half_open, 0);
    tcp_abort(conn_of(&a));
    finish(l);
}

/* Each MSS the SYN offers, and what the cookie brings back. */
static void test_cookie_mss(void)
{
    static const uint16_t offered[] = { 0, 8, 300, 536, 1000, 1200, 1459, 1460, 9000 };
    static const uint16_t want[] = { 536, TCP_MSS_MIN, 256, 536, 536, 1200, 1440, 1460, 1460 };
    struct tcp_listener *l = listen_on(1);
    struct peer f = { .port = 40059, .wnd = 8192 };
    peer_syn(&f, 1);                              /* fills the backlog */
    for (unsigned i = 0; i < sizeof offered / sizeof offered[0]; i++) {
        struct peer p = { .port = (uint16_t)(41000 + i), .wnd = 8192, .mss = offered[i] };
        peer_syn(&p, 1000 * i);
        CHECK(conn_of(&p) == NULL);
        send_seg(&p, TCP_ACK, NULL, 0);
        CHECK(conn_of(&p) && conn_of(&p)->mss == want[i]);
        tcp_abort(conn_of(&p));
    }
    app.c = NULL;
    finish(l);
}

/* The ACK of a cookie whose 4-tuple, ISN, MSS bits, hash or age is not
 * the cookie's: nothing opens; with data an RST, as LISTEN answers any
 * ACK, and a bare ACK is dropped unanswered (tcp_cookie_open says why). */
static void test_cookie_refused(void)
{
    struct tcp_listener *l = listen_on(1);
    struct peer f = { .port = 40060, .wnd = 8192 };
    peer_syn(&f, 1);
    struct peer p = { .port = 40061, .wnd = 8192, .mss = 1460 };
    peer_syn(&p, 5000);
    uint32_t cookie = p.ack - 1, bad = drops(NET_DROP_TCP_BAD_ACK);
    uint32_t bad_cookie = resets(TCP_RST_BAD_COOKIE), no_conn = resets(TCP_RST_NO_CONN);
    struct { uint32_t seq, ack; uint16_t port; } forged[] = {
        { 5001, cookie + 1 + 1, 40061 },                 /* the hash */
        { 5001, (cookie ^ 1u << 24) + 1, 40061 },        /* the MSS index */
        { 5001, (cookie ^ 1u << 27) + 1, 40061 },        /* the counter */
        { 5002, cookie + 1, 40061 },                     /* the ISN */
        { 5001, cookie + 1, 40062 },                     /* the port */
    };
    for (unsigned i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        struct peer q = p;
        q.port = forged[i].port;
        stub_out_clear();
        send_raw(&q, forged[i].seq, forged[i].ack, TCP_ACK, NULL, 0);
        CHECK_EQ(stub_out_count(), 0);
        CHECK(conn_of(&q) == NULL);
        send_raw(&q, forged[i].seq, forged[i].ack, TCP_ACK | TCP_PSH, "GET", 3);
        CHECK_SEG(last(), TCP_RST, forged[i].ack, 0);
        CHECK(conn_of(&q) == NULL);
    }
    CHECK_EQ(drops(NET_DROP_TCP_BAD_ACK), bad + 10);
    CHECK_EQ(resets(TCP_RST_BAD_COOKIE), bad_cookie + 5);
    CHECK_EQ(tcp_st.conns, 1);
    /* A cookie is good in its 64 s period and the next, not later. A
     * fresh SYN to a full backlog keeps cookies "recent", so only its age
     * refuses it. */
    struct peer r = { .port = 40063, .wnd = 8192, .mss = 1460 };
    struct peer h = { .port = 40068, .wnd = 8192 };
    stub_advance_ms(2 * 64000);           /* f's half-open one gave up long ago */
    peer_syn(&h, 1);                      /* the backlog is full again */
    peer_syn(&r, 7000);
    CHECK(conn_of(&r) == NULL);
    stub_out_clear();
    send_raw(&p, p.seq, p.ack, TCP_ACK | TCP_FIN, NULL, 0);
    CHECK_SEG(last(), TCP_RST, p.ack, 0);
    CHECK(conn_of(&p) == NULL);
    CHECK_EQ(resets(TCP_RST_BAD_COOKIE), bad_cookie + 6);
    /* The fresh one is good. */
    send_seg(&r, TCP_ACK, NULL, 0);
    CHECK(conn_of(&r) && conn_of(&r)->state == TCP_ESTABLISHED);
    /* No cookie sent for two periods: no ACK is taken for one. */
    tcp_abort(conn_of(&r));
    app.c = NULL;
    peer_syn(&r, 9000);
    CHECK(conn_of(&r) == NULL);
    stub_advance_ms(2 * 64000);
    stub_out_clear();
    send_seg(&r, TCP_ACK, NULL, 0);
    CHECK_SEG(last(), TCP_RST, r.ack, 0);
    CHECK_EQ(resets(TCP_RST_NO_CONN), no_conn + 1);
    finish(l);
}

/* One SYN, two SYN-ACKs: the first SYN met a full backlog (a cookie), the
 * client sent it again and the copy found room (a half-open connection
 * with another ISS). The client completes the cookie's SYN-ACK, which it
 * saw first: the half-open connection takes the cookie's ISS and the
 * handshake completes, no RST. An ACK of neither is still refused. */
static void test_cookie_meets_half_open(void)
{
    struct tcp_listener *l = listen_on(1);
    struct peer f = { .port = 40064, .wnd = 8192 };
    peer_syn(&f, 1);                              /* fills the backlog */
    struct peer p = { .port = 40065, .wnd = 8192, .mss = 1460 };
    peer_syn(&p, 6000);
    CHECK(conn_of(&p) == NULL);
    uint32_t cookie_ack = p.ack;
    send_seg(&f, TCP_ACK, NULL, 0);               /* f completes: room again */
    tcp_abort(app.c);
    app.c = NULL;
    CHECK_EQ(l->half_open, 0);
    peer_syn(&p, 6000);                           /* the same SYN again */
    struct tcp_conn *c = conn_of(&p);
    CHECK(c && c->state == TCP_SYN_RECEIVED && p.ack != cookie_ack);
    uint32_t rst = tcp_st.resets_sent, adopted = tcp_st.syn_cookies_adopted;
    stub_out_clear();
    p.ack = cookie_ack;
    send_seg(&p, TCP_ACK | TCP_PSH, "GET", 3);
    CHECK(app.c == c && c->state == TCP_ESTABLISHED && c->snd_una == cookie_ack);
    CHECK(c->mss == 1460 && c->rbuf_len == 3 && l->half_open == 0);
    CHECK_SEG(last(), TCP_ACK, cookie_ack, 6004);
    CHECK_EQ(tcp_st.resets_sent, rst);
    CHECK_EQ(tcp_st.syn_cookies_adopted, adopted + 1);
    /* Data goes out at the cookie's sequence numbers. */
    CHECK_EQ(tcp_send(c, "ok", 2), 2);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, cookie_ack, 6004);
    tcp_abort(c);
    app.c = NULL;

    /* A half-open connection and a cookie for another SYN: its ACK is no
     * ACK of this connection's. */
    struct peer g = { .port = 40066, .wnd = 8192 };
    peer_syn(&g, 1);                              /* fills the backlog again */
    struct peer q = { .port = 40067, .wnd = 8192 };
    peer_syn(&q, 9000);                           /* a cookie */
    stub_out_clear();
    send_raw(&g, 2, q.ack, TCP_ACK, NULL, 0);
    CHECK_SEG(last(), TCP_RST, q.ack, 0);
    CHECK(conn_of(&g) && conn_of(&g)->state == TCP_SYN_RECEIVED);
    finish(l);
}

/* A flood SYN on a client's four numbers: the client's own SYN met a full
 * backlog and got a cookie, the client is done with its handshake, and
 * then the flood's SYN (another ISN) finds room and makes a half-open
 * connection there. The client's next segment, outside that connection's
 * window, returns the cookie: the connection becomes the client's,
 * established at the cookie's numbers, no RST. Its first such segment is
 * its answer to the flood's SYN-ACK, a duplicate ACK at its own numbers,
 * which is the handshake's ACK again. An ACK that returns no cookie takes
 * nothing over. */
static void test_cookie_takes_over_half_open(void)
{
    struct tcp_listener *l = listen_on(1);
    struct peer f = { .port = 40068, .wnd = 8192 };
    peer_syn(&f, 1);                              /* fills the backlog */
    struct peer p = { .port = 40069, .wnd = 8192, .mss = 1460 };
    peer_syn(&p, 6000);                           /* the client: a cookie */
    CHECK(conn_of(&p) == NULL);
    uint32_t cookie_ack = p.ack;
    send_seg(&f, TCP_ACK, NULL, 0);               /* f completes: room again */
    tcp_abort(app.c);
    app.c = NULL;
    struct peer flood = { .port = 40069, .wnd = 512 };
    peer_syn(&flood, 70000);                      /* the flood, on p's port */
    struct tcp_conn *c = conn_of(&p);
    CHECK(c && c->state == TCP_SYN_RECEIVED && c->rcv_nxt == 70001);
    uint32_t rst = tcp_st.resets_sent, took = tcp_st.syn_cookies_took_over;
    /* Another sequence number than the cookie's SYN's: no cookie. Dropped
     * by the first check, with an ACK; the half-open connection stays. */
    stub_out_clear();
    send_raw(&p, p.seq + 100, p.ack, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == c && c->state == TCP_SYN_RECEIVED && c->rcv_nxt == 70001);
    CHECK_SEG(last(), TCP_ACK, c->snd_nxt, 70001);
    CHECK_EQ(tcp_st.syn_cookies_took_over, took);
    /* The client's duplicate ACK: the connection is the client's. */
    stub_out_clear();
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(app.c == c && c->state == TCP_ESTABLISHED && c->snd_una == cookie_ack);
    CHECK(c->mss == 1460 && c->rcv_nxt == 6001 && l->half_open == 0);
    CHECK_EQ(tcp_st.resets_sent, rst);
    CHECK_EQ(tcp_st.syn_cookies_took_over, took + 1);
    send_seg(&p, TCP_ACK | TCP_PSH, "GET", 3);
    CHECK(c->rbuf_len == 3);
    CHECK_SEG(last(), TCP_ACK, cookie_ack, 6004);
    CHECK_EQ(tcp_send(c, "ok", 2), 2);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, cookie_ack, 6004);
    tcp_abort(c);
    app.c = NULL;
    finish(l);
}

/* A burst of 1,000 SYNs: every one answered, the heap holds the backlog's
 * 16 connections and no more, and every handshake then completes. */
#define BURST 1000
static void test_syn_burst(void)
{
    static struct peer p[BURST];
    struct tcp_listener *l = listen_on(TCP_BACKLOG_DEFAULT);
    long blocks = stub_heap_blocks;
    for (int i = 0; i < BURST; i++) {
        p[i] = (struct peer){ .port = (uint16_t)(20000 + i), .wnd = 8192, .mss = 1460 };
        peer_syn(&p[i], 77u * (uint32_t)i);
    }
    CHECK_EQ(tcp_st.conns, TCP_BACKLOG_DEFAULT);
    CHECK_EQ(stub_heap_blocks, blocks + TCP_BACKLOG_DEFAULT);
    for (int i = 0; i < BURST; i++)
        send_seg(&p[i], TCP_ACK, NULL, 0);
    CHECK_EQ(app.accepts, BURST);
    CHECK_EQ(tcp_st.conns, BURST);
    for (int i = 0; i < BURST; i++) {
        stub_out_clear();
        if (conn_of(&p[i]) && conn_of(&p[i])->state == TCP_ESTABLISHED)
            tcp_abort(conn_of(&p[i]));
    }
    app.c = NULL;
    finish(l);
}

/* SipHash-2-4's vectors [Aumasson, Bernstein 2012, appendix A]: key
 * 00 01 .. 0f; the empty message, and 00 01 .. 0e. */
static void test_siphash(void)
{
    const uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
    uint8_t m[15];
    for (int i = 0; i < 15; i++)
        m[i] = (uint8_t)i;
    CHECK(tcp_siphash(key, m, 0) == 0x726fdb47dd0e0e31ull);
    CHECK(tcp_siphash(key, m, 15) == 0xa129ca6149be45e5ull);
}

/* ---- the accept queue: full means wait, never RST ---- */

static void test_accept_queue_full(void)
{
    struct tcp_listener *l = listen_on(4);
    app.queue_max = 1;
    struct peer a = { .port = 40055, .wnd = 8192, .mss = 1460 };
    struct peer b = { .port = 40056, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *ca = open_conn(&a, 100);   /* fills the queue: held */
    CHECK(l->held);
    uint32_t resets = tcp_st.resets_sent, full = drops(NET_DROP_TCP_BACKLOG);
    /* b completes its handshake and sends its request at once: nothing
     * answers, no RST, b stays half-open with its ACK remembered. */
    peer_syn(&b, 200);
    uint32_t iss = b.ack - 1;
    stub_out_clear();
    send_raw(&b, 201, b.ack, TCP_ACK, NULL, 0);
    send_raw(&b, 201, b.ack, TCP_ACK | TCP_PSH, "GET", 3);
    CHECK_EQ(stub_out_count(), 0);
    CHECK_EQ(drops(NET_DROP_TCP_BACKLOG), full + 2);
    struct tcp_conn *cb = conn_of(&b);
    CHECK(cb && cb->state == TCP_SYN_RECEIVED && tcp_syn_acked(cb));
    CHECK_EQ(app.accepts, 1);
    /* Its timer goes on past the half-open limit (it is a real client):
     * SYN-ACKs at ISS, never an RST. */
    stub_advance_ms(20000);
    CHECK(stub_out_count() > TCP_SYN_RETRIES);
    for (int i = 0; i < stub_out_count(); i++)
        CHECK_SEG(stub_out(i), TCP_SYN | TCP_ACK, iss, 201);
    CHECK(conn_of(&b) == cb && cb->state == TCP_SYN_RECEIVED);
    CHECK_EQ(tcp_st.resets_sent, resets);
    /* The application takes a from its queue: room, b is accepted, and
     * the request it sends again is taken. */
    app.queue_max = 0;
    tcp_listen_hold(l, 0);
    CHECK_EQ(app.accepts, 2);
    CHECK(app.c == cb && cb->state == TCP_ESTABLISHED && cb->snd_una == iss + 1);
    CHECK_EQ(l->half_open, 0);
    stub_out_clear();
    send_raw(&b, 201, b.ack, TCP_ACK | TCP_PSH, "GET", 3);
    CHECK_SEG(last(), TCP_ACK, iss + 1, 204);
    CHECK_EQ(cb->rbuf_len, 3);
    CHECK_EQ(tcp_st.resets_sent, resets);
    tcp_abort(ca);
    finish(l);

    /* Released while a handshake is half-way: it completes when its ACK
     * comes, as usual. */
    l = listen_on(4);
    app.queue_max = 1;
    open_conn(&a, 300);
    tcp_abort(app.c);
    peer_syn(&b, 400);
    tcp_listen_hold(l, 0);
    CHECK_EQ(app.accepts, 1);
    send_seg(&b, TCP_ACK, NULL, 0);
    CHECK(app.accepts == 2 && app.c == conn_of(&b) && app.c->state == TCP_ESTABLISHED);
    finish(l);
}

/* The last segment sent to the peer's port, or NULL. */
static const struct stub_seg *last_to(const struct peer *p)
{
    for (int i = stub_out_count() - 1; i >= 0; i--)
        if (stub_out(i)->t.dport == p->port)
            return stub_out(i);
    return NULL;
}

/* The accept queue full and the backlog too: a SYN gets a cookie, and its
 * ACK (with the request) waits in the backlog as an acknowledged half-open
 * connection, unanswered, no RST; released, the waiting ones go in their
 * turn. At unlisten a waiting one, open for its peer, gets FIN; a plain
 * half-open one RST. */
static void test_cookie_while_held(void)
{
    struct tcp_listener *l = listen_on(1);
    app.queue_max = 1;
    struct peer a = { .port = 40070, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *ca = open_conn(&a, 100);   /* fills the queue: held */
    CHECK(l->held);
    struct peer f = { .port = 40071, .wnd = 8192 }, p = { .port = 40072, .wnd = 8192 };
    struct peer q = { .port = 40073, .wnd = 8192 };
    peer_syn(&f, 200);                          /* the backlog's one slot */
    peer_syn(&p, 300);                          /* cookies */
    peer_syn(&q, 400);
    CHECK(conn_of(&p) == NULL && conn_of(&q) == NULL);
    uint32_t rst = tcp_st.resets_sent, full = drops(NET_DROP_TCP_BACKLOG);
    stub_out_clear();
    send_seg(&p, TCP_ACK | TCP_PSH, "GET", 3);
    send_raw(&q, q.seq, q.ack, TCP_ACK, NULL, 0);
    CHECK_EQ(stub_out_count(), 0);
    CHECK_EQ(drops(NET_DROP_TCP_BACKLOG), full + 2);
    struct tcp_conn *cp = conn_of(&p), *cq = conn_of(&q);
    CHECK(cp && cp->state == TCP_SYN_RECEIVED && tcp_syn_acked(cp) && cp->snd_nxt == p.ack);
    CHECK(cq && cq->state == TCP_SYN_RECEIVED && tcp_syn_acked(cq));
    CHECK_EQ(app.accepts, 1);
    /* Still waiting, it gets its SYN-ACK again (at the cookie) after the
     * initial RTO: the peer's ACK again says it is there. */
    stub_advance_ms(TCP_RTO_INITIAL_MS + TCP_TICK_MS);
    CHECK_SEG(last_to(&p), TCP_SYN | TCP_ACK, p.ack - 1, 301);
    CHECK_EQ(tcp_st.resets_sent, rst);
    /* Room: p and q go in, p first (f has not answered). */
    app.queue_max = 0;
    tcp_listen_hold(l, 0);
    CHECK_EQ(app.accepts, 3);
    CHECK(cp->state == TCP_ESTABLISHED && cq->state == TCP_ESTABLISHED && app.c == cq);
    CHECK(conn_of(&f) && conn_of(&f)->state == TCP_SYN_RECEIVED);
    stub_out_clear();
    send_raw(&p, 301, p.ack, TCP_ACK | TCP_PSH, "GET", 3);   /* the request again */
    CHECK_SEG(last(), TCP_ACK, p.ack, 304);
    CHECK_EQ(cp->rbuf_len, 3);
    tcp_abort(ca);
    tcp_abort(cp);
    tcp_abort(cq);
    app.c = NULL;
    finish(l);

    /* Stopped while one waits: FIN to it, RST to the plain half-open one. */
    l = listen_on(1);
    app.queue_max = 1;
    ca = open_conn(&a, 500);
    peer_syn(&f, 600);
    peer_syn(&p, 700);
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) && tcp_syn_acked(conn_of(&p)));
    uint32_t unlisten = resets(TCP_RST_UNLISTEN);
    stub_out_clear();
    tcp_unlisten(l);
    CHECK_EQ(resets(TCP_RST_UNLISTEN), unlisten + 1);
    CHECK_EQ(stub_out_count(), 2);
    CHECK_SEG(last_to(&f), TCP_RST, f.ack, 601);
    CHECK_SEG(last_to(&p), TCP_ACK | TCP_FIN, p.ack, 701);
    CHECK(conn_of(&p) && conn_of(&p)->state == TCP_FIN_WAIT_1 && conn_of(&f) == NULL);
    p.ack++;
    send_seg(&p, TCP_ACK | TCP_FIN, NULL, 0);   /* the peer closes too */
    CHECK(conn_of(&p) && conn_of(&p)->state == TCP_TIME_WAIT);
    stub_advance_ms(TCP_TIME_WAIT_MS + TCP_TICK_MS);
    tcp_abort(ca);
    app.c = NULL;
    l = listen_on(1);
    finish(l);
}

/* ---- window edges ---- */

static void fill(uint8_t *b, size_t n, uint32_t from)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((from + i) * 7);
}

static void test_receive_window(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40060, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 50000);
    uint32_t iss = p.ack - 1, rcv = 50001;
    uint8_t d[1460];
    fill(d, 1000, 0);
    send_seg(&p, TCP_ACK, d, 1000);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv + 1000);
    CHECK_EQ(last()->t.wnd, TCP_RCVBUF - 1000);
    /* Full segments while they fit, each ACK with the window left. */
    uint32_t at = 1000;
    for (; TCP_RCVBUF - at >= 1460; at += 1460) {
        fill(d, 1460, at);
        send_seg(&p, TCP_ACK, d, 1460);
        CHECK_EQ(last()->t.wnd, TCP_RCVBUF - at - 1460);
    }
    /* 1460 bytes and FIN into the rest: as much taken as fits, the FIN
     * (which lies after the cut) not. */
    CHECK(TCP_RCVBUF - at > 0 && TCP_RCVBUF - at < 1460);
    fill(d, 1460, at);
    send_raw(&p, rcv + at, p.ack, TCP_ACK | TCP_FIN, d, 1460);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv + TCP_RCVBUF);
    CHECK_EQ(last()->t.wnd, 0);
    CHECK(conn_of(&p) == c && c->state == TCP_ESTABLISHED && !(c->flags & F_PEER_FIN));
    /* The window is shut: a byte at rcv_nxt is not acceptable, an empty
     * ACK exactly there is (and needs no answer), one beside it is not. */
    uint32_t window = drops(NET_DROP_TCP_WINDOW);
    stub_out_clear();
    send_raw(&p, rcv + TCP_RCVBUF, p.ack, TCP_ACK, "z", 1);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv + TCP_RCVBUF);
    CHECK_EQ(last()->t.wnd, 0);
    send_raw(&p, rcv + TCP_RCVBUF, p.ack, TCP_ACK, NULL, 0);
    CHECK_EQ(stub_out_count(), 1);
    send_raw(&p, rcv + TCP_RCVBUF + 1, p.ack, TCP_ACK, NULL, 0);
    CHECK_EQ(stub_out_count(), 2);
    CHECK_EQ(drops(NET_DROP_TCP_WINDOW), window + 2);
    /* Reading opens the window, and an ACK says so at once. */
    uint8_t got[TCP_RCVBUF], want[TCP_RCVBUF];
    fill(want, TCP_RCVBUF, 0);
    CHECK_EQ(tcp_recv(c, got, sizeof got), TCP_RCVBUF);
    CHECK(!memcmp(got, want, TCP_RCVBUF));
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv + TCP_RCVBUF);
    CHECK_EQ(last()->t.wnd, TCP_RCVBUF);
    /* Overlapping what we have: only the new part is taken. */
    rcv += TCP_RCVBUF;
    fill(d, 20, TCP_RCVBUF - 10);
    send_raw(&p, rcv - 10, p.ack, TCP_ACK, d, 20);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv + 10);
    CHECK_EQ(tcp_recv(c, got, sizeof got), 10);
    CHECK(!memcmp(got, d + 10, 10));
    rcv += 10;
    /* Wholly old: not acceptable, and the duplicate ACK says what we want. */
    window = drops(NET_DROP_TCP_WINDOW);
    send_raw(&p, rcv - 20, p.ack, TCP_ACK, d, 20);
    CHECK_SEG(last(), TCP_ACK, iss + 1, rcv);
    CHECK_EQ(drops(NET_DROP_TCP_WINDOW), window + 1);
    CHECK(c->rbuf_len == 0 && c->rbuf == NULL);
    /* No memory for the receive buffer: dropped, not acknowledged. */
    uint32_t nomem = drops(NET_DROP_TCP_NO_MEMORY);
    stub_out_clear();
    stub_no_memory = 1;
    send_raw(&p, rcv, p.ack, TCP_ACK, d, 20);
    stub_no_memory = 0;
    CHECK_EQ(stub_out_count(), 0);
    CHECK_EQ(drops(NET_DROP_TCP_NO_MEMORY), nomem + 1);
    CHECK_EQ(c->rcv_nxt, rcv);
    finish(l);
}

static void test_send_window(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40061, .wnd = 100, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 60000);
    uint32_t iss = p.ack - 1;
    uint8_t d[300];
    fill(d, sizeof d, 0);
    /* The peer's window is 100: 100 bytes go, 200 wait. */
    CHECK_EQ(tcp_send(c, d, sizeof d), 300);
    CHECK_EQ(stub_out_count(), 1);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, iss + 1, 60001);
    CHECK_EQ(last()->t.len, 100);
    /* It takes them and shuts its window: nothing goes until the RTO,
     * then a one-byte probe [3.8.6.1]. */
    stub_out_clear();
    p.wnd = 0;
    p.ack = iss + 101;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK_EQ(stub_out_count(), 0);
    stub_advance_ms(TCP_RTO_MIN_MS + TCP_TICK_MS);
    CHECK_EQ(stub_out_count(), 1);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, iss + 101, 60001);
    CHECK(last()->t.len == 1 && last()->data[0] == d[100]);
    CHECK_EQ(c->snd_wnd, 0);
    /* The probe's ACK opens the window: the other 199 bytes go. */
    stub_out_clear();
    p.wnd = 1000;
    p.ack = iss + 102;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, iss + 102, 60001);
    CHECK(last()->t.len == 199 && !memcmp(last()->data, d + 101, 199));
    CHECK_EQ(tcp_send_space(c), TCP_SNDBUF - 199);

    /* Without an MSS option the peer takes 536-byte segments. */
    struct peer q = { .port = 40062, .wnd = 8192 };
    tcp_abort(c);
    c = open_conn(&q, 61000);
    iss = q.ack - 1;
    uint8_t big[1200];
    fill(big, sizeof big, 0);
    CHECK_EQ(tcp_send(c, big, sizeof big), 1200);
    CHECK_EQ(stub_out_count(), 3);
    CHECK(stub_out(0)->t.len == 536 && stub_out(1)->t.len == 536 && stub_out(2)->t.len == 128);
    CHECK_SEG(stub_out(2), TCP_ACK | TCP_PSH, iss + 1 + 2 * 536, 61001);
    finish(l);
}

/* A shut window that the peer keeps shut while it answers every probe
 * (a client that reads slowly, or not yet): RFC 1122 4.2.2.17, "as long
 * as the receiving TCP continues to send acknowledgments in response to
 * the probe segments, the sending TCP MUST allow the connection to stay
 * open". The probes go on, ever further apart up to TCP_RTO_MAX_MS, and
 * when the window opens the data goes. A peer that stops answering is
 * still given up (below). */
/* A connection whose peer took 50 bytes and shut its window; 10 more wait. */
static struct tcp_conn *open_shut(struct peer *p, uint32_t isn)
{
    uint8_t d[50];
    fill(d, sizeof d, 0);
    struct tcp_conn *c = open_conn(p, isn);
    CHECK_EQ(tcp_send(c, d, 50), 50);
    p->wnd = 0;
    p->ack += 50;
    send_seg(p, TCP_ACK, NULL, 0);
    CHECK_EQ(tcp_send(c, d, 10), 10);
    return c;
}

static void test_zero_window_persists(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40063, .wnd = 100, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 62000);
    uint32_t iss = p.ack - 1, gave_up = resets(TCP_RST_GIVE_UP);
    uint8_t d[300];
    fill(d, sizeof d, 0);
    CHECK_EQ(tcp_send(c, d, sizeof d), 300);
    /* It takes the first 100 bytes and shuts its window. */
    p.wnd = 0;
    p.ack = iss + 101;
    send_seg(&p, TCP_ACK, NULL, 0);
    /* 20 probes, far more than TCP_RETRIES, each answered by an ACK that
     * takes nothing and says the window is still shut. */
    uint32_t gap_max = 0;
    for (int i = 0; i < 20; i++) {
        stub_out_clear();
        uint32_t waited = 0;
        while (stub_out_count() == 0 && waited <= TCP_RTO_MAX_MS + TCP_TICK_MS) {
            stub_advance_ms(TCP_TICK_MS);
            waited += TCP_TICK_MS;
        }
        CHECK_EQ(stub_out_count(), 1);
        CHECK_SEG(last(), TCP_ACK | TCP_PSH, iss + 101, 62001);
        CHECK(last() && last()->t.len == 1 && last()->data[0] == d[100]);
        if (waited > gap_max)
            gap_max = waited;
        send_seg(&p, TCP_ACK, NULL, 0);
    }
    CHECK(conn_of(&p) == c && c->state == TCP_ESTABLISHED && app.closed == 0);
    CHECK_EQ(resets(TCP_RST_GIVE_UP), gave_up);
    CHECK(gap_max <= TCP_RTO_MAX_MS + TCP_TICK_MS);
    /* It opens its window: the other 200 bytes go, and it takes them. */
    stub_out_clear();
    p.wnd = 8192;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(stub_out_count() >= 1);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, iss + 101, 62001);
    CHECK(last() && last()->t.len == 200 && !memcmp(last()->data, d + 100, 200));
    p.ack = iss + 301;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == c && c->sbuf == NULL && c->retries == 0 && !(c->flags & F_TIMED));

    /* This peer shuts its window and then goes silent: the probes are not
     * answered, and after TCP_RETRIES of them the connection is given up. */
    struct peer q = { .port = 40064, .wnd = 8192, .mss = 1460 };
    tcp_abort(c);
    c = open_shut(&q, 63000);
    stub_out_clear();
    stub_advance_ms(10 * TCP_RTO_MAX_MS);
    CHECK_EQ(stub_out_count(), TCP_RETRIES + 1);       /* the probes, then RST */
    /* Not at snd_nxt, after the probe's byte, beyond the shut window
     * (Linux would drop it): at its edge, the peer's rcv_nxt. */
    CHECK_SEG(last(), TCP_RST, q.ack, 63001);
    CHECK(conn_of(&q) == NULL && app.err == -E_TIMEDOUT);
    CHECK_EQ(resets(TCP_RST_GIVE_UP), gave_up + 1);

    /* This one answers every probe, but the user has closed the
     * connection (its FIN waits behind the bytes): nobody waits for them,
     * so it is given up after TCP_RETRIES probes, answered or not. */
    struct peer r = { .port = 40065, .wnd = 8192, .mss = 1460 };
    c = open_shut(&r, 64000);
    tcp_close(c);
    app.c = NULL;
    stub_out_clear();
    for (int i = 0; i < 3 * TCP_RETRIES && conn_of(&r); i++) {
        int sent = stub_out_count();
        for (uint32_t w = 0; stub_out_count() == sent && w <= TCP_RTO_MAX_MS; w += TCP_TICK_MS)
            stub_advance_ms(TCP_TICK_MS);
        if (conn_of(&r))
            send_seg(&r, TCP_ACK, NULL, 0);      /* each probe answered: "still shut" */
    }
    CHECK(conn_of(&r) == NULL);
    CHECK_EQ(stub_out_count(), TCP_RETRIES + 1);       /* the probes, then RST */
    CHECK_SEG(last(), TCP_RST, r.ack, 64001);          /* inside its window, as above */
    CHECK_EQ(resets(TCP_RST_GIVE_UP), gave_up + 2);
    finish(l);
}

/* ---- out-of-order segments: the reassembly queue ---- */

/* Bytes of the peer's stream at offset off (from its ISN + 1). */
static void send_at(struct peer *p, uint32_t isn, uint32_t off, uint32_t len, uint8_t flags)
{
    uint8_t d[1460];
    fill(d, len, off);
    send_raw(p, isn + 1 + off, p->ack, TCP_ACK | flags, d, len);
}

/* Reads everything and checks it is the stream's bytes [from, from + n). */
static void check_read(struct tcp_conn *c, uint32_t from, uint32_t n)
{
    static uint8_t got[TCP_RCVBUF], want[TCP_RCVBUF];
    CHECK_EQ(tcp_recv(c, got, sizeof got), (int)n);
    fill(want, n, from);
    CHECK(!memcmp(got, want, n));
}

static void test_reassembly(void)
{
    struct tcp_listener *l = listen_on(4);
    struct peer p = { .port = 40063, .wnd = 8192, .mss = 1460 };
    struct tcp_conn *c = open_conn(&p, 70000);
    uint32_t isn = 70000, iss = p.ack - 1, queued = tcp_st.reasm_queued;
    /* Holes: [100, 200) and [300, 400) come first; each gets a duplicate
     * ACK at once, the window stays what the buffer can take, and nothing
     * is readable yet. */
    send_at(&p, isn, 300, 100, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, isn + 1);
    CHECK_EQ(last()->t.wnd, TCP_RCVBUF);
    send_at(&p, isn, 100, 100, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, isn + 1);
    CHECK(c->rbuf && c->rbuf->islands == 2 && c->rbuf_len == 0 && app.readable == 0);
    CHECK_EQ(tcp_st.reasm_queued, queued + 2);
    /* Overlaps: [150, 320) joins both islands into [100, 400). */
    send_at(&p, isn, 150, 170, 0);
    CHECK(c->rbuf->islands == 1 && c->rbuf->island[0].start == 100 && c->rbuf->island[0].end == 400);
    /* The first hole filled: everything up to 400 at once. */
    send_at(&p, isn, 0, 100, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, isn + 1 + 400);
    CHECK_EQ(last()->t.wnd, TCP_RCVBUF - 400);
    CHECK_EQ(app.readable, 1);
    CHECK(c->rbuf->islands == 0 && c->rbuf_len == 400);
    /* An island ahead, then reading part of the in-order bytes moves it
     * down; the segment that fills the hole overlaps both sides. */
    send_at(&p, isn, 600, 50, 0);
    check_read(c, 0, 400);
    CHECK(c->rbuf && c->rbuf->islands == 1 && c->rbuf->island[0].start == 200);
    send_at(&p, isn, 390, 220, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, isn + 1 + 650);
    check_read(c, 400, 250);
    CHECK(c->rbuf == NULL);
    /* The bound (island offsets count from the first unread byte, stream
     * offset 650): TCP_REASM_MAX islands; one more apart from them is
     * dropped and counted, one that touches an island still joins it. */
    uint32_t full = drops(NET_DROP_TCP_REASM_FULL), dropped = tcp_st.reasm_dropped;
    for (int i = 0; i < TCP_REASM_MAX; i++)
        send_at(&p, isn, 1000 + 200 * (uint32_t)i, 100, 0);
    CHECK_EQ(c->rbuf->islands, TCP_REASM_MAX);
    send_at(&p, isn, 3000, 100, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, isn + 1 + 650);
    CHECK_EQ(drops(NET_DROP_TCP_REASM_FULL), full + 1);
    CHECK_EQ(tcp_st.reasm_dropped, dropped + 1);
    send_at(&p, isn, 1100, 50, 0);
    CHECK(c->rbuf->islands == TCP_REASM_MAX && c->rbuf->island[0].end == 1150 - 650);
    /* Past the window's edge: the part beyond it is cut. */
    send_at(&p, isn, 650 + TCP_RCVBUF - 10, 100, 0);
    CHECK_EQ(drops(NET_DROP_TCP_REASM_FULL), full + 2);
    /* Fill every hole in order: the whole stream to 1800 arrives, a FIN
     * ahead was not kept, the FIN in order is. */
    send_at(&p, isn, 1900, 10, TCP_FIN);
    CHECK_EQ(drops(NET_DROP_TCP_REASM_FULL), full + 3);
    send_at(&p, isn, 650, 1150, 0);
    CHECK_SEG(last(), TCP_ACK, iss + 1, isn + 1 + 1800);
    check_read(c, 650, 1150);
    CHECK(!(c->flags & F_PEER_FIN));
    /* An island beyond the FIN (a broken peer's) is forgotten: the FIN
     * takes its own place. */
    send_at(&p, isn, 1900, 10, 0);
    send_at(&p, isn, 1800, 10, TCP_FIN);
    CHECK_SEG(last(), TCP_ACK, iss + 1, isn + 1 + 1811);
    CHECK(c->state == TCP_CLOSE_WAIT && c->rbuf->islands == 0);
    check_read(c, 1800, 10);
    finish(l);
}

/* ---- sequence numbers across 2^32 ---- */

static void test_sequence_wrap(void)
{
    struct tcp_listener *l = listen_on(4);
    /* The peer's ISN just below 2^32: its data crosses the wrap. */
    struct peer p = { .port = 40070, .wnd = 8192, .mss = 1460 };
    uint64_t syn_ns = stub_now_ns;
    struct tcp_conn *c = open_conn(&p, 0xFFFFFFF0u);
    uint8_t d[600];
    fill(d, sizeof d, 0);
    send_seg(&p, TCP_ACK, d, 40);
    CHECK_SEG(last(), TCP_ACK, p.ack, 0x19);
    send_seg(&p, TCP_ACK, d + 40, 10);
    CHECK_SEG(last(), TCP_ACK, p.ack, 0x23);
    uint8_t got[64];
    CHECK_EQ(tcp_recv(c, got, sizeof got), 50);
    CHECK(!memcmp(got, d, 50));
    /* Old data from before the wrap is not acceptable. */
    send_raw(&p, 0xFFFFFFF8u, p.ack, TCP_ACK, d, 4);
    CHECK_SEG(last(), TCP_ACK, p.ack, 0x23);
    uint32_t iss0 = p.ack - 1;
    tcp_abort(c);
    app.c = NULL;
    stub_advance_ms(2 * TCP_TICK_MS);

    /* Our ISS near 2^32: RFC 6528's clock adds one every 4.096 us, and
     * the hash part is the same for the same addresses, so moving the
     * clock on by the right amount puts the next ISS where we want it. */
    uint32_t target = 0xFFFFFF00u;
    uint64_t then = syn_ns + ((uint64_t)(target - iss0) << 12);
    if (then < stub_now_ns)
        then += 1ull << 44;           /* 2^32 steps of the clock: the same ISS */
    stub_now_ns = then;
    c = open_conn(&p, 0x1000);
    CHECK_EQ(p.ack, target + 1);
    CHECK_EQ(tcp_send(c, d, 512), 512);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, target + 1, 0x1001);
    CHECK_EQ(c->snd_nxt, 0x101);
    /* An ACK across the wrap takes 271 bytes; an old one is ignored; one
     * beyond snd_nxt is answered; the rest is sent again from 0x10. */
    stub_out_clear();
    p.ack = 0x10;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == c && c->snd_una == 0x10 && c->sbuf_len == 512 - 271);
    send_raw(&p, p.seq, 0xFFFFFF80u, TCP_ACK, NULL, 0);
    CHECK_EQ(stub_out_count(), 0);
    CHECK_EQ(c->snd_una, 0x10);
    send_raw(&p, p.seq, 0x200, TCP_ACK, NULL, 0);
    CHECK_SEG(last(), TCP_ACK, 0x101, 0x1001);
    stub_out_clear();
    stub_advance_ms(TCP_RTO_MIN_MS + TCP_TICK_MS);
    CHECK_SEG(last(), TCP_ACK | TCP_PSH, 0x10, 0x1001);
    CHECK(last() && last()->t.len == 241 && !memcmp(last()->data, d + 271, 241));
    p.ack = 0x101;
    send_seg(&p, TCP_ACK, NULL, 0);
    CHECK(conn_of(&p) == c && c->snd_una == 0x101 && c->sbuf == NULL && !(c->flags & F_TIMED));
    finish(l);
}

int main(void)
{
    net_if.up = 1;
    net_if.ip = US;
    net_if.netmask = 0xFFFFFF00u;
    test_passive_open();
    test_listen_answers();
    test_closed_port_scans();
    test_retransmit_backoff_give_up();
    test_retransmit_from_snd_una();
    test_syn_ack_give_up();
    test_rto_script();
    test_rto_karn();
    test_we_close_first();
    test_fin_wait_2_timeout();
    test_peer_closes_first();
    test_rst_after_peer_fin();
    test_simultaneous_close();
    test_time_wait();
    test_challenge_ack();
    test_siphash();
    test_backlog_and_cookies();
    test_cookie_mss();
    test_cookie_refused();
    test_cookie_meets_half_open();
    test_cookie_takes_over_half_open();
    test_syn_burst();
    test_accept_queue_full();
    test_cookie_while_held();
    test_receive_window();
    test_reassembly();
    test_send_window();
    test_zero_window_persists();
    test_sequence_wrap();
    return check_done("test_tcp_state");
}
