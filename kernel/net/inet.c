/* The Internet checksum [RFC 1071] and the small text helpers of
 * <webscale/net.h>: dotted quads, MAC addresses, drop-reason names.
 * Pure: compiles on the host too (tests/host/test_net.c). */
#include <webscale/kprintf.h>
#include "kernel/net/net.h"

/* s + w in one's complement: the carry out of bit 31 added back in
 * (2^32 = 1 modulo 0xFFFF, so the 16-bit sum is kept [RFC 1071 2(C)]). */
static inline uint32_t add_carry(uint32_t s, uint32_t w)
{
    s += w;
    return s + (s < w);
}

uint32_t inet_sum(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    /* The sum does not depend on byte order [RFC 1071 2(B)]: add the bytes
     * as this little-endian CPU loads them, four at a time, each carry
     * added back in; fold to 16 bits, and swap the two bytes back to
     * network order. Equal, after inet_fold, to adding big-endian 16-bit
     * words; an odd last byte is padded with zero (it lands at an even
     * offset, the low byte of a little-endian word). */
    uint32_t s = 0;
#if defined(__i386__) || defined(__x86_64__)
    /* 32 bytes a round: eight adds, each carry going into the next by adc
     * and the last one back in: 13 instructions per 32 bytes where the
     * loop below takes about 40 (tools/httpcost.py). */
    for (; len >= 32; p += 32, len -= 32)
        __asm__("addl 0(%1), %0\n\tadcl 4(%1), %0\n\tadcl 8(%1), %0\n\t"
                "adcl 12(%1), %0\n\tadcl 16(%1), %0\n\tadcl 20(%1), %0\n\t"
                "adcl 24(%1), %0\n\tadcl 28(%1), %0\n\tadcl $0, %0"
                : "+r"(s) : "r"(p), "m"(*(const uint8_t(*)[32])p) : "cc");
#endif
    for (; len >= 4; p += 4, len -= 4) {
        uint32_t w;
        __builtin_memcpy(&w, p, 4);
        s = add_carry(s, w);
    }
    if (len >= 2) {
        uint16_t h;
        __builtin_memcpy(&h, p, 2);
        s = add_carry(s, h);
        p += 2;
        len -= 2;
    }
    if (len)
        s = add_carry(s, p[0]);
    s = (s & 0xFFFF) + (s >> 16);    /* at most 0x1FFFE */
    s = (s & 0xFFFF) + (s >> 16);    /* at most 0xFFFF */
    return sum + ((s & 0xFF) << 8 | s >> 8);
}

uint16_t inet_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t inet_checksum(const void *data, size_t len) { return inet_fold(inet_sum(data, len, 0)); }

uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + proto + len;
}

int net_parse_ip(const char *s, uint32_t *ip)
{
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        if (*s < '0' || *s > '9')
            return -1;
        uint32_t n = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            n = n * 10 + (uint32_t)(*s++ - '0');
            if (++digits > 3 || n > 255)
                return -1;
        }
        v = v << 8 | n;
        if (part < 3 && *s++ != '.')
            return -1;
    }
    if (*s)
        return -1;
    *ip = v;
    return 0;
}

const char *net_dest_refused(uint32_t ip, uint32_t us)
{
    uint32_t top = ip >> 24;
    if (top == 0)
        return "\"this host\" (0.0.0.0/8), a source address only";
    if (top == 127)
        return "a loopback address (127.0.0.0/8): it never leaves its host";
    if (ip == us)
        return "our own address: this stack has no loopback interface";
    if (top >= 224 && top < 240)
        return "a multicast address (224.0.0.0/4): this stack speaks no multicast";
    if (top >= 240 && ip != 0xFFFFFFFFu)
        return "a reserved address (240.0.0.0/4)";
    return NULL;
}

void net_fmt_ip(char *buf, size_t size, uint32_t ip)
{
    ksnprintf(buf, size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF,
              ip & 0xFF);
}

void net_fmt_mac(char *buf, size_t size, const uint8_t m[6])
{
    ksnprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *const drop_names[NET_DROP_REASONS] = {
    [NET_DROP_RX_RING_FULL] = "rx-ring-full",
    [NET_DROP_RX_SHORT] = "rx-too-short",
    [NET_DROP_RX_LONG] = "rx-too-long",
    [NET_DROP_RX_BAD_HEADER] = "rx-bad-ring-header",
    [NET_DROP_RX_OVERFLOW] = "rx-overflow",
    [NET_DROP_RX_CARD_ERRORS] = "rx-card-errors",
    [NET_DROP_RX_CARD_MISSED] = "rx-card-missed",
    [NET_DROP_TX_QUEUE_FULL] = "tx-queue-full",
    [NET_DROP_TX_ERROR] = "tx-error",
    [NET_DROP_ETH_TYPE] = "eth-type",
    [NET_DROP_ARP_MALFORMED] = "arp-malformed",
    [NET_DROP_ARP_NOT_US] = "arp-not-for-us",
    [NET_DROP_ARP_OFF_SUBNET] = "arp-off-subnet",
    [NET_DROP_ARP_UNRESOLVED] = "arp-unresolved",
    [NET_DROP_ARP_QUEUE_FULL] = "arp-queue-full",
    [NET_DROP_IP_TRUNCATED] = "ip-truncated",
    [NET_DROP_IP_HEADER] = "ip-bad-header",
    [NET_DROP_IP_CHECKSUM] = "ip-checksum",
    [NET_DROP_IP_FLAGS] = "ip-reserved-flag",
    [NET_DROP_IP_FRAGMENT] = "ip-fragment",
    [NET_DROP_IP_NOT_US] = "ip-not-for-us",
    [NET_DROP_IP_SOURCE] = "ip-bad-source",
    [NET_DROP_IP_PROTOCOL] = "ip-protocol",
    [NET_DROP_ICMP_TRUNCATED] = "icmp-truncated",
    [NET_DROP_ICMP_CHECKSUM] = "icmp-checksum",
    [NET_DROP_ICMP_TYPE] = "icmp-type",
    [NET_DROP_UDP_TRUNCATED] = "udp-truncated",
    [NET_DROP_UDP_CHECKSUM] = "udp-checksum",
    [NET_DROP_UDP_NO_PORT] = "udp-no-port",
    [NET_DROP_ECHO_REFUSED] = "echo-refused",
    [NET_DROP_TCP_TRUNCATED] = "tcp-truncated",
    [NET_DROP_TCP_HEADER] = "tcp-bad-header",
    [NET_DROP_TCP_CHECKSUM] = "tcp-checksum",
    [NET_DROP_TCP_FLAGS] = "tcp-bad-flags",
    [NET_DROP_TCP_NO_PORT] = "tcp-no-port",
    [NET_DROP_TCP_BACKLOG] = "tcp-backlog-full",
    [NET_DROP_TCP_NO_MEMORY] = "tcp-no-memory",
    [NET_DROP_TCP_WINDOW] = "tcp-out-of-window",
    [NET_DROP_TCP_BAD_ACK] = "tcp-bad-ack",
    [NET_DROP_TCP_CLOSED] = "tcp-closed",
    [NET_DROP_TCP_REASM_FULL] = "tcp-reassembly-full",
};

const char *net_drop_name(int reason)
{
    if (reason < 0 || reason >= NET_DROP_REASONS || !drop_names[reason])
        return "?";
    return drop_names[reason];
}
