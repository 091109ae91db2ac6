/* The token bucket of ratelimit.h. Whole tokens only: the part of a token
 * that has grown since stamp_ns stays in (now - stamp_ns), so a slow
 * steady caller still gets exactly `rate` a second. */
#include "kernel/lib/ratelimit.h"

int ratelimit_take(struct ratelimit *r, uint64_t now)
{
    uint64_t grown = (now - r->stamp_ns) / r->ns_per_token;
    if (grown >= r->burst - r->tokens) {
        r->tokens = r->burst;        /* full: the time before does not count */
        r->stamp_ns = now;
    } else if (grown) {
        r->tokens += (uint32_t)grown;
        r->stamp_ns += grown * r->ns_per_token;
    }
    if (!r->tokens)
        return 0;
    r->tokens--;
    return 1;
}
