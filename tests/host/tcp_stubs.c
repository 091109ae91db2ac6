/* The kernel around TCP, for test_tcp_state on the host (tcp_stubs.h says
 * what each part stands in for). Everything here is as small as TCP's use
 * of it: one thread, no interrupts, a clock that moves only when the test
 * says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webscale/loop.h>
#include <webscale/system.h>
#include <webscale/time.h>
#include "tests/host/tcp_stubs.h"

/* ---- the interface and the stack's globals (net.c in the kernel) ---- */

struct net_iface net_if;
struct net_stats net_st;
uint8_t net_tx[ETH_HLEN + ETH_MTU];

/* ---- the clock ---- */

uint64_t stub_now_ns = NS_PER_S;

uint64_t clock_ns(void) { return stub_now_ns; }

/* ---- the heap ---- */

int stub_no_memory;
long stub_heap_blocks;

static void *counted(void *p)
{
    stub_heap_blocks += p != NULL;
    return p;
}

void *kmalloc(size_t size) { return stub_no_memory ? NULL : counted(malloc(size)); }
void *kzalloc(size_t size) { return stub_no_memory ? NULL : counted(calloc(1, size)); }
void kfree(void *p)
{
    stub_heap_blocks -= p != NULL;
    free(p);
}
size_t kmalloc_footprint(size_t size) { return size + 8; }

/* ---- ASSERT ---- */

void assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "%s:%d: ASSERT(%s) failed in %s()\n", file, line, expr, func);
    abort();
}

/* ---- loop timers: a short list, fired by stub_advance_ms ---- */

#define STUB_TIMERS 4
static struct loop_timer *timers[STUB_TIMERS];

void loop_timer_init_named(struct loop_timer *t, const char *name, loop_fn cb, void *arg)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->cb = cb;
    t->arg = arg;
}

static void remember(struct loop_timer *t)
{
    for (int i = 0; i < STUB_TIMERS; i++)
        if (timers[i] == t)
            return;
    for (int i = 0; i < STUB_TIMERS; i++)
        if (!timers[i]) {
            timers[i] = t;
            return;
        }
    fprintf(stderr, "tcp_stubs: more than %d loop timers\n", STUB_TIMERS);
    abort();
}

int loop_timer_start_ms(struct loop_timer *t, uint32_t delay_ms, uint32_t period_ms)
{
    remember(t);
    t->node.key = stub_now_ns + delay_ms * NS_PER_MS;
    t->period_ns = period_ms * NS_PER_MS;
    t->node.pos = 1;                 /* "armed" */
    return 0;
}

int loop_timer_stop(struct loop_timer *t)
{
    int was = t->node.pos != 0;
    t->node.pos = 0;
    return was;
}

int loop_timer_active(const struct loop_timer *t) { return t->node.pos != 0; }

int stub_timers_active(void)
{
    int n = 0;
    for (int i = 0; i < STUB_TIMERS; i++)
        n += timers[i] && loop_timer_active(timers[i]);
    return n;
}

static void fire_due(void)
{
    for (int i = 0; i < STUB_TIMERS; i++) {
        struct loop_timer *t = timers[i];
        if (!t || !loop_timer_active(t) || t->node.key > stub_now_ns)
            continue;
        if (t->period_ns)
            t->node.key += t->period_ns;
        else
            t->node.pos = 0;
        t->fired++;
        t->cb(t->arg);
    }
}

void stub_advance_ms(uint32_t ms)
{
    for (uint32_t i = 0; i < ms; i++) {
        stub_now_ns += NS_PER_MS;
        fire_due();
    }
}

/* ---- ip_output: keep what TCP sends ---- */

static struct stub_seg out[STUB_SEGS];
static int nout;

int ip_output(uint32_t dst, uint8_t proto, size_t len)
{
    if (proto != IP_PROTO_TCP || nout == STUB_SEGS) {
        fprintf(stderr, "tcp_stubs: ip_output(proto %u) with %d segments kept\n", proto, nout);
        abort();
    }
    struct stub_seg *s = &out[nout++];
    s->dst = dst;
    s->at_ms = stub_now_ms();
    int r = tcp_parse(net_tx + NET_TX_L4, len, net_if.ip, dst, &s->t);
    if (r != NET_PASS) {
        fprintf(stderr, "tcp_stubs: TCP sent a segment tcp_parse drops (reason %d)\n", r);
        abort();
    }
    memcpy(s->data, s->t.data, s->t.len);
    s->t.data = s->data;
    return 0;
}

int stub_out_count(void) { return nout; }
const struct stub_seg *stub_out(int i) { return i >= 0 && i < nout ? &out[i] : NULL; }
void stub_out_clear(void) { nout = 0; }
