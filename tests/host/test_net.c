/* The network stack's pure parts under ASan/UBSan: the Internet checksum
 * (RFC 1071's own example), header parsing with every reason to drop,
 * builders against parsers, the ARP table's merge, eviction and ageing,
 * its refresh of an entry in use before expiry, the senders it learns
 * (our subnet only), the bounded queue of frames waiting for an address,
 * the ICMP errors' token bucket, address text, and random bytes into every parser (each buffer exactly as
 * long as it says, so ASan catches any read past the end). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/ratelimit.h"
#include "kernel/net/net.h"
#include "tests/host/check.h"

/* Copy into a heap block of exactly n bytes: reading past it is an ASan error. */
static uint8_t *exact(const void *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, src, n);
    return p;
}

static void test_checksum(void)
{
    /* RFC 1071 section 3: the sum of these words is 0xddf2. */
    const uint8_t rfc[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    CHECK(inet_fold(inet_sum(rfc, 8, 0)) == (uint16_t)~0xddf2);
    /* An odd length pads with a zero byte. */
    const uint8_t odd[3] = { 0x12, 0x34, 0x56 };
    CHECK(inet_checksum(odd, 3) == (uint16_t)~(0x1234 + 0x5600));
    /* A header with its checksum in place sums to zero: Wikipedia's IPv4 example. */
    const uint8_t hdr[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                              0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
    CHECK(inet_checksum(hdr, 20) == 0);
    /* Carries fold back in. */
    uint8_t ff[64];
    memset(ff, 0xFF, sizeof ff);
    CHECK(inet_checksum(ff, sizeof ff) == 0);
    /* The sum taken four bytes at a time in the CPU's order equals RFC
     * 1071's big-endian 16-bit words, for every length and alignment and
     * with a partial sum carried in (a pseudo-header's). */
    static uint8_t buf[1503];
    uint32_t seed = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    for (size_t off = 0; off < 3; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += len < 70 ? 1 : 97) {
            uint32_t ref = 0x1A2B3;
            for (size_t i = 0; i + 1 < len; i += 2)
                ref += (uint32_t)(buf[off + i] << 8 | buf[off + i + 1]);
            if (len & 1)
                ref += (uint32_t)buf[off + len - 1] << 8;
            CHECK(inet_fold(inet_sum(buf + off, len, 0x1A2B3)) == inet_fold(ref));
        }
}

/* A valid 20-byte header plus payload of n bytes, checksum set. */
static size_t make_ip(uint8_t *p, uint8_t proto, size_t n)
{
    memset(p + IP_HLEN, 0xAB, n);
    ip_build(p, NET_IP(10, 0, 2, 2), NET_IP(10, 0, 2, 15), proto, 77, n);
    return IP_HLEN + n;
}

static int parse_ip_exact(const uint8_t *p, size_t len, struct ip_info *ip)
{
    uint8_t *q = exact(p, len);
    int r = ip_parse(q, len, ip);
    free(q);
    return r;
}

static void refix(uint8_t *p)
{
    put16(p + 10, 0);
    put16(p + 10, inet_checksum(p, (size_t)(p[0] & 15) * 4));
}

static void test_ip(void)
{
    uint8_t p[1600];
    struct ip_info ip;
    size_t n = make_ip(p, IP_PROTO_UDP, 30);
    CHECK(parse_ip_exact(p, n, &ip) == NET_PASS);
    CHECK(ip.src == NET_IP(10, 0, 2, 2) && ip.dst == NET_IP(10, 0, 2, 15));
    CHECK(ip.proto == IP_PROTO_UDP && ip.len == 30 && ip.ttl == IP_TTL_OUT && ip.id == 77);
    /* Ethernet padding after the datagram is cut off by the total length. */
    CHECK(parse_ip_exact(p, n + 16, &ip) == NET_PASS && ip.len == 30);

    CHECK(parse_ip_exact(p, 19, &ip) == NET_DROP_IP_TRUNCATED);
    CHECK(parse_ip_exact(p, n - 1, &ip) == NET_DROP_IP_TRUNCATED);   /* total > frame */

    uint8_t q[1600];
    memcpy(q, p, n); q[0] = 0x65; refix(q);                         /* version 6 */
    CHECK(parse_ip_exact(q, n, &ip) == NET_DROP_IP_HEADER);
    memcpy(q, p, n); q[0] = 0x44;                                    /* IHL 4 */
    CHECK(parse_ip_exact(q, n, &ip) == NET_DROP_IP_HEADER);
    memcpy(q, p, n); q[0] = 0x4F; refix(q);                          /* IHL 60 > 50 bytes */
    CHECK(parse_ip_exact(q, n, &ip) == NET_DROP_IP_TRUNCATED);
    memcpy(q, p, n); put16(q + 2, 19); refix(q);                     /* total < header */
    CHECK(parse_ip_exact(q, n, &ip) == NET_DROP_IP_HEADER);
    memcpy(q, p, n); q[12] ^= 1;                                     /* checksum */
    CHECK(parse_ip_exact(q, n, &ip) == NET_DROP_IP_CHECKSUM);
    memcpy(q, p, n); put16(q + 6, IP_FLAG_EVIL); refix(q);
    CHECK(parse_ip_exact(q, n, &ip) == NET_DROP_IP_FLAGS);
    memcpy(q, p, n); put16(q + 6, IP_FLAG_MF); refix(q);
    CHECK(parse_ip_exact(q, n, &ip) == NET_DROP_IP_FRAGMENT);
    memcpy(q, p, n); put16(q + 6, 185); refix(q);                    /* last fragment */
    CHECK(parse_ip_exact(q, n, &ip) == NET_DROP_IP_FRAGMENT);
    memcpy(q, p, n); put16(q + 6, IP_FLAG_DF); refix(q);             /* DF is fine */
    CHECK(parse_ip_exact(q, n, &ip) == NET_PASS);
    /* Options: IHL 6, the payload starts after them. */
    memmove(q + 24, p + 20, 30);
    memcpy(q, p, 20);
    q[0] = 0x46; put16(q + 2, 54); q[20] = 1; q[21] = 1; q[22] = 1; q[23] = 0;
    refix(q);
    CHECK(parse_ip_exact(q, 54, &ip) == NET_PASS && ip.hlen == 24 && ip.len == 30);

    uint32_t us = NET_IP(10, 0, 2, 15), mask = NET_IP(255, 255, 255, 0);
    CHECK(!ip_source_bad(NET_IP(10, 0, 2, 2), us, mask));
    CHECK(!ip_source_bad(NET_IP(8, 8, 8, 8), us, mask));
    CHECK(ip_source_bad(0, us, mask));
    CHECK(ip_source_bad(0xFFFFFFFFu, us, mask));
    CHECK(ip_source_bad(NET_IP(10, 0, 2, 255), us, mask));
    CHECK(ip_source_bad(NET_IP(224, 0, 0, 1), us, mask));
    CHECK(ip_source_bad(NET_IP(127, 0, 0, 1), us, mask));
    CHECK(ip_source_bad(us, us, mask));
}

static void test_udp_icmp(void)
{
    uint8_t p[200];
    uint32_t src = NET_IP(10, 0, 2, 2), dst = NET_IP(10, 0, 2, 15);
    memcpy(p + UDP_HLEN, "hello", 5);
    udp_build(p, src, dst, 5555, 7, 5);
    struct udp_info u;
    uint8_t *q = exact(p, 13);
    CHECK(udp_parse(q, 13, src, dst, &u) == NET_PASS);
    CHECK(u.sport == 5555 && u.dport == 7 && u.len == 5 && memcmp(u.data, "hello", 5) == 0);
    /* The pseudo-header is covered: another destination fails. */
    CHECK(udp_parse(q, 13, src, dst + 1, &u) == NET_DROP_UDP_CHECKSUM);
    q[9] ^= 0x20;
    CHECK(udp_parse(q, 13, src, dst, &u) == NET_DROP_UDP_CHECKSUM);
    put16(q + 6, 0);                                   /* no checksum: accepted */
    CHECK(udp_parse(q, 13, src, dst, &u) == NET_PASS);
    put16(q + 4, 14);                                  /* longer than the datagram */
    CHECK(udp_parse(q, 13, src, dst, &u) == NET_DROP_UDP_TRUNCATED);
    put16(q + 4, 7);
    CHECK(udp_parse(q, 13, src, dst, &u) == NET_DROP_UDP_TRUNCATED);
    CHECK(udp_parse(q, 7, src, dst, &u) == NET_DROP_UDP_TRUNCATED);
    free(q);

    for (int i = 0; i < 56; i++)
        p[ICMP_HLEN + i] = (uint8_t)i;
    icmp_build(p, ICMP_ECHO_REQUEST, 0, 0x1234, 9, 56);
    struct icmp_info ic;
    q = exact(p, 64);
    CHECK(icmp_parse(q, 64, &ic) == NET_PASS);
    CHECK(ic.type == ICMP_ECHO_REQUEST && ic.id == 0x1234 && ic.seq == 9 && ic.len == 56);
    q[40] ^= 1;
    CHECK(icmp_parse(q, 64, &ic) == NET_DROP_ICMP_CHECKSUM);
    CHECK(icmp_parse(q, 7, &ic) == NET_DROP_ICMP_TRUNCATED);
    free(q);
}

static void test_arp_parse(void)
{
    uint8_t p[ARP_LEN], mac[6] = { 0x52, 0x54, 0, 1, 2, 3 }, none[6] = { 0 };
    arp_build(p, ARP_OP_REQUEST, mac, NET_IP(10, 0, 2, 2), none, NET_IP(10, 0, 2, 15));
    struct arp_info a;
    uint8_t *q = exact(p, ARP_LEN);
    CHECK(arp_parse(q, ARP_LEN, &a) == NET_PASS);
    CHECK(a.op == ARP_OP_REQUEST && a.spa == NET_IP(10, 0, 2, 2) && a.tpa == NET_IP(10, 0, 2, 15));
    CHECK(memcmp(a.sha, mac, 6) == 0);
    CHECK(arp_parse(q, ARP_LEN - 1, &a) == NET_DROP_ARP_MALFORMED);
    q[7] = 3;                                          /* RARP request: not ours */
    CHECK(arp_parse(q, ARP_LEN, &a) == NET_DROP_ARP_MALFORMED);
    q[7] = 1; q[5] = 16;                               /* IPv6-sized addresses */
    CHECK(arp_parse(q, ARP_LEN, &a) == NET_DROP_ARP_MALFORMED);
    q[5] = 4; q[8] = 0xFF;                             /* broadcast sender */
    CHECK(arp_parse(q, ARP_LEN, &a) == NET_DROP_ARP_MALFORMED);
    free(q);
}

static void test_arp_table(void)
{
    struct arp_table t;
    arp_table_init(&t);
    uint8_t mac[6] = { 2, 0, 0, 0, 0, 0 };
    uint64_t now = 1000;
    CHECK(arp_table_find(&t, NET_IP(10, 0, 2, 2)) < 0);
    /* The merge only updates what is there. */
    CHECK(arp_table_update(&t, NET_IP(10, 0, 2, 2), mac, now) < 0);
    int i = arp_table_insert(&t, NET_IP(10, 0, 2, 2), NULL, now);
    CHECK(i >= 0 && t.s[i].state == ARP_PENDING);
    CHECK(arp_table_update(&t, NET_IP(10, 0, 2, 2), mac, now + 5) == i);
    CHECK(t.s[i].state == ARP_RESOLVED && t.s[i].stamp_ns == now + 5);
    /* Fill it; one more evicts the oldest (10.0.2.2, stamped first). */
    for (int k = 1; k < NET_ARP_ENTRIES; k++) {
        mac[5] = (uint8_t)k;
        CHECK(arp_table_insert(&t, NET_IP(10, 0, 2, 100 + k), mac, now + 10 + k) >= 0);
    }
    CHECK(arp_table_insert(&t, NET_IP(10, 0, 2, 99), mac, now + 100) == i);
    CHECK(arp_table_find(&t, NET_IP(10, 0, 2, 2)) < 0);
    CHECK(arp_table_find(&t, NET_IP(10, 0, 2, 99)) == i);
    /* Re-inserting an address reuses its slot. */
    CHECK(arp_table_insert(&t, NET_IP(10, 0, 2, 99), mac, now + 200) == i);
    /* A pending entry lasts ARP_PENDING_NS, a resolved one ARP_TTL_NS. */
    arp_table_init(&t);
    int pend = arp_table_insert(&t, NET_IP(10, 0, 2, 3), NULL, 0);
    int res = arp_table_insert(&t, NET_IP(10, 0, 2, 4), mac, 0);
    CHECK(arp_table_expire(&t, ARP_PENDING_NS - 1) == 0);
    CHECK(arp_table_expire(&t, ARP_PENDING_NS) == 1u << pend);
    CHECK(arp_table_find(&t, NET_IP(10, 0, 2, 4)) == res);
    CHECK(arp_table_expire(&t, ARP_TTL_NS) == 1u << res);
    CHECK(arp_table_find(&t, NET_IP(10, 0, 2, 4)) < 0);
}

/* An entry in use is asked again from ARP_TTL_NS - ARP_REFRESH_NS on, at
 * most once per ARP_RETRY_NS, never before; a reply (the merge) renews it,
 * and until it would expire it stays resolved: its MAC keeps serving. */
static void test_arp_refresh(void)
{
    struct arp_table t;
    arp_table_init(&t);
    uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
    uint64_t t0 = 5 * NS_PER_S, soon = t0 + ARP_TTL_NS - ARP_REFRESH_NS;
    int i = arp_table_insert(&t, NET_IP(10, 0, 2, 2), mac, t0);
    CHECK_EQ(arp_table_refresh_due(&t, i, t0), 0);
    CHECK_EQ(arp_table_refresh_due(&t, i, soon - 1), 0);
    CHECK_EQ(arp_table_refresh_due(&t, i, soon), 1);
    CHECK_EQ(t.s[i].asked_ns, soon);
    /* Asked: not again within ARP_RETRY_NS, then again. */
    CHECK_EQ(arp_table_refresh_due(&t, i, soon + 1), 0);
    CHECK_EQ(arp_table_refresh_due(&t, i, soon + ARP_RETRY_NS - 1), 0);
    CHECK_EQ(arp_table_refresh_due(&t, i, soon + ARP_RETRY_NS), 1);
    /* Unanswered, it stays resolved with its MAC up to the last moment. */
    CHECK_EQ(arp_table_expire(&t, t0 + ARP_TTL_NS - 1), 0);
    CHECK(t.s[i].state == ARP_RESOLVED && t.s[i].mac[5] == 9);
    /* The reply renews it: no refresh due until the next window. */
    uint64_t t1 = soon + 2 * ARP_RETRY_NS;
    CHECK_EQ(arp_table_update(&t, NET_IP(10, 0, 2, 2), mac, t1), i);
    CHECK_EQ(arp_table_refresh_due(&t, i, t1 + 1), 0);
    CHECK_EQ(arp_table_expire(&t, t0 + ARP_TTL_NS), 0);
    CHECK_EQ(arp_table_refresh_due(&t, i, t1 + ARP_TTL_NS - ARP_REFRESH_NS - 1), 0);
    CHECK_EQ(arp_table_refresh_due(&t, i, t1 + ARP_TTL_NS - ARP_REFRESH_NS), 1);
    /* Never answered: it expires at ARP_TTL_NS after the last reply. */
    CHECK_EQ(arp_table_expire(&t, t1 + ARP_TTL_NS), 1u << i);
    /* A pending entry is not refreshed: arp_output asks for it its own way. */
    int p = arp_table_insert(&t, NET_IP(10, 0, 2, 3), NULL, 0);
    CHECK_EQ(arp_table_refresh_due(&t, p, ARP_TTL_NS), 0);
}

/* Only senders on our subnet (10.0.2.0/24 here); 0.0.0.0 is a probe. */
static void test_arp_sender(void)
{
    uint32_t us = NET_IP(10, 0, 2, 15), mask = NET_IP(255, 255, 255, 0);
    CHECK_EQ(arp_sender_check(NET_IP(10, 0, 2, 2), us, mask), NET_PASS);
    CHECK_EQ(arp_sender_check(NET_IP(10, 0, 2, 254), us, mask), NET_PASS);
    CHECK_EQ(arp_sender_check(0, us, mask), NET_PASS);
    CHECK_EQ(arp_sender_check(NET_IP(10, 0, 3, 2), us, mask), NET_DROP_ARP_OFF_SUBNET);
    CHECK_EQ(arp_sender_check(NET_IP(192, 168, 1, 1), us, mask), NET_DROP_ARP_OFF_SUBNET);
    CHECK_EQ(arp_sender_check(NET_IP(11, 0, 2, 2), us, mask), NET_DROP_ARP_OFF_SUBNET);
    CHECK_EQ(arp_sender_check(0xFFFFFFFFu, us, mask), NET_DROP_ARP_OFF_SUBNET);
    CHECK_EQ(arp_sender_check(NET_IP(10, 0, 2, 77), us, NET_IP(255, 255, 0, 0)), NET_PASS);
    CHECK_EQ(arp_sender_check(NET_IP(10, 0, 9, 77), us, NET_IP(255, 255, 0, 0)), NET_PASS);
}

/* Up to ARP_QUEUE_LEN frames wait, oldest out first; one more pushes the
 * oldest out and says so; they come back in order, whole. */
static void test_arp_queue(void)
{
    static struct arp_queue q;   /* big: 4 frames of 1514 bytes */
    uint32_t ip = NET_IP(10, 0, 2, 2);
    uint8_t f[ETH_HLEN + ETH_MTU];
    size_t len;
    CHECK(arp_queue_peek(&q, ip, &len) == NULL);
    for (int k = 0; k < ARP_QUEUE_LEN + 2; k++) {
        memset(f, 'a' + k, sizeof f);
        CHECK_EQ(arp_queue_push(&q, ip, f, (size_t)(100 + k)), k >= ARP_QUEUE_LEN);
    }
    CHECK_EQ(q.n, ARP_QUEUE_LEN);
    CHECK(arp_queue_peek(&q, NET_IP(10, 0, 2, 3), &len) == NULL);   /* not for that one */
    for (int k = 2; k < ARP_QUEUE_LEN + 2; k++) {
        uint8_t *g = arp_queue_peek(&q, ip, &len);
        CHECK(g != NULL);
        if (!g)
            break;
        CHECK_EQ(len, 100 + k);
        CHECK(g[0] == 'a' + k && g[ETH_HLEN + len - 1] == 'a' + k);
        arp_queue_pop(&q);
    }
    CHECK(arp_queue_peek(&q, ip, &len) == NULL);
    arp_queue_pop(&q);                               /* popping nothing is harmless */
    CHECK_EQ(q.n, 0);
    /* A maximal frame fits; clear says how many it let go. */
    memset(f, 'z', sizeof f);
    CHECK_EQ(arp_queue_push(&q, ip, f, ETH_MTU), 0);
    CHECK_EQ(arp_queue_push(&q, ip, f, 20), 0);
    CHECK(arp_queue_peek(&q, ip, &len) != NULL && len == ETH_MTU);
    CHECK_EQ(arp_queue_clear(&q), 2);
    CHECK_EQ(arp_queue_clear(&q), 0);
    CHECK(arp_queue_peek(&q, ip, &len) == NULL);
}

/* The token bucket: a full burst at once, then one per 1 s / rate, never
 * more than the burst however long it rested, none lost to rounding. */
static void test_ratelimit(void)
{
    struct ratelimit r = RATELIMIT_INIT(100, 10);   /* 10 ms a token */
    uint64_t t = 123 * NS_PER_S;
    int got = 0;
    for (int k = 0; k < 50; k++)
        got += ratelimit_take(&r, t);
    CHECK_EQ(got, 10);
    CHECK_EQ(ratelimit_take(&r, t + 10 * NS_PER_MS - 1), 0);
    CHECK_EQ(ratelimit_take(&r, t + 10 * NS_PER_MS), 1);
    CHECK_EQ(ratelimit_take(&r, t + 10 * NS_PER_MS), 0);
    /* Asked every 3 ms for 3 s: 100 a second exactly (300, within one). */
    got = 0;
    uint64_t u = t + 10 * NS_PER_MS;
    for (int k = 1; k <= 1000; k++)
        got += ratelimit_take(&r, u + (uint64_t)k * 3 * NS_PER_MS);
    CHECK(got >= 299 && got <= 301);
    /* A long rest fills the bucket, no more. */
    uint64_t later = u + 3600 * NS_PER_S;
    got = 0;
    for (int k = 0; k < 50; k++)
        got += ratelimit_take(&r, later);
    CHECK_EQ(got, 10);
}

static void test_text(void)
{
    uint32_t ip = 0;
    char buf[32];
    CHECK(net_parse_ip("10.0.2.2", &ip) == 0 && ip == NET_IP(10, 0, 2, 2));
    CHECK(net_parse_ip("255.255.255.255", &ip) == 0 && ip == 0xFFFFFFFFu);
    CHECK(net_parse_ip("256.0.0.1", &ip) < 0);
    CHECK(net_parse_ip("1.2.3", &ip) < 0);
    CHECK(net_parse_ip("1.2.3.4.", &ip) < 0);
    CHECK(net_parse_ip("1.2.3.4x", &ip) < 0);
    CHECK(net_parse_ip("1..3.4", &ip) < 0);
    CHECK(net_parse_ip("0001.2.3.4", &ip) < 0);
    CHECK(net_parse_ip("", &ip) < 0);
    net_fmt_ip(buf, sizeof buf, NET_IP(192, 168, 0, 254));
    CHECK(strcmp(buf, "192.168.0.254") == 0);
    const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    net_fmt_mac(buf, sizeof buf, mac);
    CHECK(strcmp(buf, "52:54:00:12:34:56") == 0);
    for (int r = 0; r < NET_DROP_REASONS; r++)
        CHECK(strcmp(net_drop_name(r), "?") != 0);
    CHECK(strcmp(net_drop_name(NET_DROP_REASONS), "?") == 0);
}

/* Destinations that must never reach the wire [RFC 1122 3.2.1.3]; ping
 * once sent 127.0.0.1, 0.0.0.0 and multicast to the gateway's MAC. */
static void test_dest_refused(void)
{
    uint32_t us = NET_IP(10, 0, 2, 15);
    CHECK(net_dest_refused(NET_IP(0, 0, 0, 0), us) != NULL);
    CHECK(net_dest_refused(NET_IP(0, 1, 2, 3), us) != NULL);
    CHECK(net_dest_refused(NET_IP(127, 0, 0, 1), us) != NULL);
    CHECK(net_dest_refused(NET_IP(127, 255, 255, 254), us) != NULL);
    CHECK(net_dest_refused(us, us) != NULL);
    CHECK(net_dest_refused(NET_IP(224, 0, 0, 1), us) != NULL);
    CHECK(net_dest_refused(NET_IP(239, 255, 255, 255), us) != NULL);
    CHECK(net_dest_refused(NET_IP(240, 0, 0, 1), us) != NULL);
    CHECK(net_dest_refused(NET_IP(255, 255, 255, 254), us) != NULL);
    /* What may go: the gateway, a neighbour, the Internet, broadcasts. */
    CHECK(net_dest_refused(NET_IP(10, 0, 2, 2), us) == NULL);
    CHECK(net_dest_refused(NET_IP(10, 0, 2, 16), us) == NULL);
    CHECK(net_dest_refused(NET_IP(8, 8, 8, 8), us) == NULL);
    CHECK(net_dest_refused(NET_IP(223, 255, 255, 255), us) == NULL);
    CHECK(net_dest_refused(NET_IP(10, 0, 2, 255), us) == NULL);
    CHECK(net_dest_refused(0xFFFFFFFFu, us) == NULL);
}

/* Random bytes, random lengths, into every parser: no crash, no read past
 * the end, and a pass only with consistent lengths. */
static void test_fuzz(void)
{
    uint32_t seed = 12345;
    uint8_t raw[1600];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        for (size_t i = 0; i < sizeof raw; i++) {
            seed = seed * 1103515245u + 12345u;
            raw[i] = (uint8_t)(seed >> 16);
        }
        len = (seed >> 8) % 1600;
        if (round & 1) {                  /* mostly-valid headers reach deeper checks */
            raw[0] = 0x45;
            put16(raw + 2, (uint16_t)((seed >> 4) % 1600));
            put16(raw + 6, 0);
            refix(raw);
        }
        uint8_t *q = exact(raw, len);
        struct ip_info ip;
        struct arp_info a;
        struct eth_info e;
        struct icmp_info ic;
        struct udp_info u;
        eth_parse(q, len, &e);
        arp_parse(q, len, &a);
        if (ip_parse(q, len, &ip) == NET_PASS) {
            CHECK(ip.hlen + ip.len <= len);
            icmp_parse(ip.payload, ip.len, &ic);
            if (udp_parse(ip.payload, ip.len, ip.src, ip.dst, &u) == NET_PASS)
                CHECK(u.len + UDP_HLEN <= ip.len);
        }
        icmp_parse(q, len, &ic);
        udp_parse(q, len, 1, 2, &u);
        free(q);
    }
}

int main(void)
{
    test_checksum();
    test_ip();
    test_udp_icmp();
    test_arp_parse();
    test_arp_table();
    test_arp_refresh();
    test_arp_sender();
    test_arp_queue();
    test_ratelimit();
    test_text();
    test_dest_refused();
    test_fuzz();
    return check_done("test_net");
}
