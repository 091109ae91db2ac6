/* SYN cookies [RFC 4987 3.6] and the stack's secret.
 *
 * When a listener's SYN backlog is full (or the heap is), the SYN is
 * answered with a SYN-ACK whose ISS is a cookie, and nothing is kept:
 *
 *   bits 31..27  t mod 32, t a counter that moves every 64 s
 *   bits 26..24  the MSS, as an index into cookie_mss[]
 *   bits 23..0   a keyed hash of the 4-tuple, the peer's ISN, t and the
 *                MSS index (so none of them can be changed)
 *
 * The peer's ACK of it (ack - 1 is the cookie, seq - 1 its ISN) is checked
 * by hashing again; t may be this period or the one before (a cookie is
 * good for 64 to 128 s), and a forger must guess 24 bits. What the SYN
 * said and a cookie cannot keep is only the exact MSS: the peer gets the
 * largest entry of cookie_mss[] that is not above its own.
 *
 * The keyed hash is SipHash-2-4 [Aumasson, Bernstein 2012] with a 128-bit
 * secret made once, at the first tcp_listen, from what a 486 offers: the
 * nanoseconds since boot at that moment (they depend on when the user or
 * a test typed the command), the interface's MAC and address. A 486 has
 * no RDRAND and no TSC, so the secret is hard to guess from outside but
 * not cryptographically random. The same secret keys RFC 6528's ISS. */
#include <webscale/string.h>
#include <webscale/time.h>
#include "kernel/net/tcp_internal.h"

/* ---- SipHash-2-4 ---- */

static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static void sip_round(uint64_t v[4])
{
    v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
    v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m, int rounds)
{
    v[3] ^= m;
    for (int i = 0; i < rounds; i++)
        sip_round(v);
    v[0] ^= m;
}

uint64_t tcp_siphash(const uint64_t key[2], const void *msg, size_t len)
{
    const uint8_t *p = msg;
    uint64_t v[4] = {
        key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
        key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull,
    };
    uint64_t last = (uint64_t)len << 56;
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t m = 0;
        for (int i = 7; i >= 0; i--)
            m = m << 8 | p[i];             /* little-endian words */
        sip_block(v, m, 2);
    }
    for (size_t i = 0; i < len; i++)
        last |= (uint64_t)p[i] << (8 * i);
    sip_block(v, last, 2);
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- the secret ---- */

static uint64_t secret[2];
static int secret_made;

void tcp_secret_init(void)
{
    if (secret_made)
        return;
    struct {
        uint64_t ns;
        uint32_t ip;
        uint8_t mac[6];
    } seed;
    memset(&seed, 0, sizeof seed);
    seed.ns = clock_ns();
    seed.ip = net_if.ip;
    memcpy(seed.mac, net_if.mac, sizeof seed.mac);
    const uint64_t k0[2] = { 0x0123456789abcdefull, seed.ns };
    secret[0] = tcp_siphash(k0, &seed, sizeof seed);
    const uint64_t k1[2] = { secret[0], ~seed.ns };
    secret[1] = tcp_siphash(k1, &seed, sizeof seed);
    secret_made = 1;
}

/* The keyed hash of a connection's addresses and ports with extra words. */
static uint64_t hash_conn(uint32_t rip, uint16_t rport, uint16_t lport, uint32_t a, uint32_t b)
{
    uint32_t m[5] = { rip, net_if.ip, (uint32_t)rport << 16 | lport, a, b };
    return tcp_siphash(secret, m, sizeof m);
}

/* RFC 6528: ISS = M + F(4-tuple, secret), M a clock that moves every
 * 4.096 us (2^12 ns). */
uint32_t tcp_make_iss(uint32_t rip, uint16_t rport, uint16_t lport)
{
    return (uint32_t)hash_conn(rip, rport, lport, 0, 0) + (uint32_t)(clock_ns() >> 12);
}

/* ---- cookies ---- */

#define COOKIE_PERIOD_MS 64000u      /* RFC 4987 3.6: t moves every 64 s */
#define COOKIE_MAX_AGE 1             /* periods a cookie stays good after its own */
#define COOKIE_HASH_MASK 0xFFFFFFu

/* What a cookie can say of the peer's MSS: the common values (Ethernet
 * 1460; 1440 and 1360 behind PPPoE and tunnels; 536 without an option). */
static const uint16_t cookie_mss[8] = { TCP_MSS_MIN, 256, 536, 1024, 1200, 1360, 1440, 1460 };
_Static_assert(TCP_MSS_OURS == 1460, "cookie_mss[] ends at our MSS");

static uint32_t cookie_hash(uint32_t rip, const struct tcp_info *t, uint32_t isn,
                            uint32_t count, unsigned idx)
{
    return (uint32_t)hash_conn(rip, t->sport, t->dport, isn, count << 3 | idx) & COOKIE_HASH_MASK;
}

uint32_t tcp_cookie_make(uint32_t rip, const struct tcp_info *syn, uint16_t mss, uint32_t now_ms)
{
    unsigned idx = 0;
    while (idx + 1 < 8 && cookie_mss[idx + 1] <= mss)
        idx++;
    uint32_t count = now_ms / COOKIE_PERIOD_MS;
    return (count & 31) << 27 | idx << 24 | cookie_hash(rip, syn, syn->seq, count, idx);
}

int tcp_cookie_check(uint32_t rip, const struct tcp_info *ack, uint32_t now_ms, uint16_t *mss)
{
    uint32_t cookie = ack->ack - 1;
    uint32_t now = now_ms / COOKIE_PERIOD_MS;
    uint32_t age = (now - (cookie >> 27)) & 31;
    if (age > COOKIE_MAX_AGE)
        return 0;
    unsigned idx = (cookie >> 24) & 7;
    if (cookie_hash(rip, ack, ack->seq - 1, now - age, idx) != (cookie & COOKIE_HASH_MASK))
        return 0;
    *mss = cookie_mss[idx];
    return 1;
}

int tcp_cookies_recent(uint32_t sent_ms, uint32_t now_ms)
{
    return now_ms - sent_ms < (COOKIE_MAX_AGE + 1) * COOKIE_PERIOD_MS;
}
