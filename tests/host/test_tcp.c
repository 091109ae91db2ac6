/* TCP's pure parts under ASan/UBSan [RFC 9293]: sequence-number
 * comparisons across the 2^32 wrap, the checksum over the pseudo-header
 * (against a segment summed by hand), tcp_build against tcp_parse with and
 * without the MSS option, every reason tcp_parse drops for, and random
 * bytes into the parser (buffers exactly as long as they say). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/net/net.h"
#include "tests/host/check.h"

#define SRC 0x0A000202u   /* 10.0.2.2 */
#define DST 0x0A00020Fu   /* 10.0.2.15 */

static void test_seq(void)
{
    CHECK(seq_lt(1, 2) && !seq_lt(2, 1) && !seq_lt(5, 5));
    CHECK(seq_le(5, 5) && seq_ge(5, 5) && !seq_gt(5, 5));
    /* Across the wrap: 0xFFFFFFF0 is before 0x10. */
    CHECK(seq_lt(0xFFFFFFF0u, 0x10) && seq_gt(0x10, 0xFFFFFFF0u));
    CHECK(seq_ge(0, 0xFFFFFFFFu) && seq_le(0xFFFFFFFFu, 0));
    /* Half the space apart is "after" by the signed rule. */
    CHECK(seq_lt(0, 0x7FFFFFFFu) && seq_gt(0, 0x80000001u));
    CHECK(seq_in(0xFFFFFFFEu, 0xFFFFFFF0u, 0x20) && seq_in(0x0F, 0xFFFFFFF0u, 0x20));
    CHECK(!seq_in(0x10, 0xFFFFFFF0u, 0x20) && !seq_in(0xFFFFFFEFu, 0xFFFFFFF0u, 0x20));
    CHECK(!seq_in(5, 5, 0));
}

static uint16_t fold16(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

static void test_checksum_and_build(void)
{
    uint8_t seg[64];
    memset(seg, 0, sizeof seg);
    memcpy(seg + TCP_HLEN, "hi!", 3);
    size_t h = tcp_build(seg, SRC, DST, 40000, 80, 0x01020304, 0xA0B0C0D0, TCP_ACK | TCP_PSH,
                         8192, 0, 3);
    CHECK(h == 20);
    CHECK(seg[12] == 0x50 && seg[13] == (TCP_ACK | TCP_PSH));
    /* The checksum by hand: pseudo-header words, then the segment's. */
    uint32_t s = (SRC >> 16) + (SRC & 0xFFFF) + (DST >> 16) + (DST & 0xFFFF) + 6 + 23;
    for (int i = 0; i < 22; i += 2)
        if (i != 16)
            s += (uint32_t)(seg[i] << 8 | seg[i + 1]);
    s += (uint32_t)('!' << 8);
    CHECK((uint16_t)(seg[16] << 8 | seg[17]) == fold16(s));

    struct tcp_info t;
    CHECK(tcp_parse(seg, 23, SRC, DST, &t) == NET_PASS);
    CHECK(t.sport == 40000 && t.dport == 80 && t.seq == 0x01020304 && t.ack == 0xA0B0C0D0);
    CHECK(t.wnd == 8192 && t.mss == 0 && t.len == 3 && !memcmp(t.data, "hi!", 3));
    /* The pseudo-header counts: other addresses make it wrong. */
    CHECK(tcp_parse(seg, 23, SRC + 1, DST, &t) == NET_DROP_TCP_CHECKSUM);
    seg[22] ^= 1;
    CHECK(tcp_parse(seg, 23, SRC, DST, &t) == NET_DROP_TCP_CHECKSUM);

    /* With the MSS option the data moves behind it. */
    memset(seg, 0, sizeof seg);
    memcpy(seg + TCP_HLEN, "abcd", 4);
    h = tcp_build(seg, DST, SRC, 80, 40000, 7, 9, TCP_SYN | TCP_ACK, 2048, 1460, 4);
    CHECK(h == 24 && seg[12] == 0x60 && seg[20] == TCP_OPT_MSS && seg[21] == 4);
    CHECK(tcp_parse(seg, 28, DST, SRC, &t) == NET_PASS);
    CHECK(t.mss == 1460 && t.len == 4 && !memcmp(t.data, "abcd", 4));
}

static int parse_flags(uint8_t flags, size_t len, uint8_t off_words)
{
    uint8_t seg[40];
    memset(seg, 0, sizeof seg);
    tcp_build(seg, SRC, DST, 1234, 80, 1, 2, flags, 100, 0, len > 20 ? len - 20 : 0);
    if (off_words) {
        seg[12] = (uint8_t)(off_words << 4);
        seg[16] = seg[17] = 0;
        uint16_t c = inet_fold(inet_sum(seg, len, inet_pseudo_sum(SRC, DST, 6, (uint16_t)len)));
        seg[16] = (uint8_t)(c >> 8);
        seg[17] = (uint8_t)c;
    }
    uint8_t *p = malloc(len);
    memcpy(p, seg, len);
    struct tcp_info t;
    int r = tcp_parse(p, len, SRC, DST, &t);
    free(p);
    return r;
}

static void test_drops(void)
{
    CHECK(parse_flags(TCP_SYN, 20, 0) == NET_PASS);
    CHECK(parse_flags(TCP_RST, 20, 0) == NET_PASS);
    CHECK(parse_flags(TCP_ACK | TCP_FIN, 20, 0) == NET_PASS);
    CHECK(parse_flags(TCP_SYN | TCP_FIN, 20, 0) == NET_DROP_TCP_FLAGS);
    CHECK(parse_flags(TCP_SYN | TCP_RST | TCP_ACK, 20, 0) == NET_DROP_TCP_FLAGS);
    CHECK(parse_flags(0, 20, 0) == NET_DROP_TCP_FLAGS);                     /* null scan */
    CHECK(parse_flags(TCP_FIN | TCP_PSH | TCP_URG, 20, 0) == NET_DROP_TCP_FLAGS);   /* Xmas */
    CHECK(parse_flags(TCP_FIN, 20, 0) == NET_DROP_TCP_FLAGS);               /* FIN without ACK */
    CHECK(parse_flags(TCP_ACK, 19, 0) == NET_DROP_TCP_TRUNCATED);
    CHECK(parse_flags(TCP_ACK, 20, 4) == NET_DROP_TCP_HEADER);              /* offset < 5 */
    CHECK(parse_flags(TCP_ACK, 24, 7) == NET_DROP_TCP_TRUNCATED);           /* offset beyond */
}

static void test_fuzz(void)
{
    srand(6);
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(rand() % 80);
        uint8_t *p = malloc(n ? n : 1);
        for (size_t k = 0; k < n; k++)
            p[k] = (uint8_t)rand();
        if (n > 13 && i % 2)
            p[12] = (uint8_t)((5 + rand() % 11) << 4);
        struct tcp_info t;
        int r = tcp_parse(p, n, SRC, DST, &t);
        CHECK(r == NET_PASS || (r >= NET_DROP_TCP_TRUNCATED && r <= NET_DROP_TCP_FLAGS));
        free(p);
    }
}

int main(void)
{
    test_seq();
    test_checksum_and_build();
    test_drops();
    test_fuzz();
    return check_done("test_tcp");
}
