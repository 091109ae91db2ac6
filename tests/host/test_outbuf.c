/* user/outbuf.c: appends whole or not at all, never past the buffer (ASan
 * watches: every buffer here is malloc'd to its exact size), JSON and
 * HTML escapes. */
#include <string.h>
#include "tests/host/check.h"
#include "user/outbuf.h"

static void whole_or_nothing(void)
{
    for (size_t cap = 0; cap < 40; cap++) {
        char *p = malloc(cap ? cap : 1);
        struct outbuf b;
        outbuf_init(&b, p, cap);
        outbuf_printf(&b, "%s", "0123456789");
        outbuf_printf(&b, "%d,", 42);
        outbuf_json_str(&b, "a\"b");
        if (cap > 19) {
            CHECK(!b.full && !strcmp(p, "012345678942,\"a\\\"b\""));
        } else {
            CHECK(b.full);
            /* what is there is a prefix of whole appends, NUL-terminated */
            CHECK(!cap || !strcmp(p, "") || !strcmp(p, "0123456789") ||
                  !strcmp(p, "012345678942,"));
        }
        size_t len = b.len;
        outbuf_printf(&b, "more");
        CHECK(!b.full || b.len == len);   /* nothing after the first miss */
        free(p);
    }
}

static void escapes(void)
{
    char p[100];
    struct outbuf b;
    outbuf_init(&b, p, sizeof p);
    outbuf_json_str(&b, "q\" s\\ nl\n tab\t bell\x07");
    CHECK(!strcmp(p, "\"q\\\" s\\\\ nl\\u000a tab\\u0009 bell\\u0007\""));
    outbuf_init(&b, p, sizeof p);
    outbuf_html(&b, "<a href=\"x\">&</a>");
    CHECK(!strcmp(p, "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"));
    outbuf_init(&b, p, sizeof p);
    outbuf_printf(&b, "[1,2,");
    outbuf_uncomma(&b);
    outbuf_printf(&b, "]");
    outbuf_uncomma(&b);
    CHECK(!strcmp(p, "[1,2]") && b.len == 5);
    outbuf_init(&b, p, sizeof p);
    outbuf_u32(&b, 0);
    outbuf_str(&b, ",");
    outbuf_u32(&b, 4294967295u);
    outbuf_str(&b, ",");
    outbuf_u32(&b, 1000);
    CHECK(!strcmp(p, "0,4294967295,1000"));
    outbuf_init(&b, p, 4);
    outbuf_u32(&b, 12345);       /* does not fit: nothing of it */
    CHECK(b.full && !strcmp(p, ""));
    outbuf_init(&b, p, sizeof p);
    outbuf_u64(&b, 4294967296ull);
    outbuf_str(&b, ",");
    outbuf_u64(&b, 18446744073709551615ull);
    outbuf_str(&b, ",");
    outbuf_u64(&b, 1000000000000000007ull);
    outbuf_str(&b, ",");
    outbuf_u64(&b, 42);
    CHECK(!strcmp(p, "4294967296,18446744073709551615,1000000000000000007,42"));
    for (size_t cap = 1; cap < 22; cap++) {   /* 20 digits: whole or nothing */
        char q[22];
        outbuf_init(&b, q, cap);
        outbuf_u64(&b, 18446744073709551615ull);
        CHECK(cap > 20 ? !strcmp(q, "18446744073709551615") : b.full && !strcmp(q, ""));
    }
}

int main(void)
{
    whole_or_nothing();
    escapes();
    return check_done("outbuf");
}
