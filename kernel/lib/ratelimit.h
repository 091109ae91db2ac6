/* A token bucket: at most `burst` events at once, refilled at `rate` a
 * second, for replies a flood must not multiply (RFC 1122 3.2.2: ICMP
 * error messages SHOULD be rate-limited; RFC 1812 4.3.2.8 names the token
 * bucket). Integer nanoseconds, no floating point; the caller passes the
 * time and does any locking. Pure: compiles on the host too. */
#ifndef KERNEL_LIB_RATELIMIT_H
#define KERNEL_LIB_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
    uint64_t ns_per_token;      /* 1 s / rate */
    uint64_t stamp_ns;          /* the time the tokens below were counted at */
    uint32_t burst;             /* the bucket's size */
    uint32_t tokens;            /* in the bucket at stamp_ns */
};

/* A full bucket; rate > 0 per second, burst > 0. */
#define RATELIMIT_INIT(rate, burst) { 1000000000ull / (rate), 0, (burst), (burst) }

/* 1 and a token taken if one is left at time now, else 0. */
int ratelimit_take(struct ratelimit *r, uint64_t now);

#endif
