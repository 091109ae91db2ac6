/* The measurements behind `latency` and `make bench` (API and units in
 * <webscale/measure.h>). They live in the kernel because they need what
 * user/ may not touch: a software interrupt on a registered vector, rdtsc
 * with interrupts off, the UART's ring, the scheduler's slice.
 *
 * The clock is cpu_cycles(): the TSC when there is one, else the PIT at
 * 838 ns resolution. Most figures are far below 838 ns, so events are
 * timed in batches long enough for the clock, and of MEASURE_BATCHES
 * batches one is kept. With the TSC, the fastest: a batch that a timer
 * tick or another thread hit is only ever slower. With the PIT, the
 * median of batches several ticks long: a PIT reading can be a tick off
 * around the moment the counter wraps (QEMU shows the reload before the
 * IRQ), and "the fastest" would then pick exactly the batch that such an
 * error made look short (one instruction once measured 0.01 ns). */
#include <webscale/console.h>
#include <webscale/loop.h>
#include <webscale/measure.h>
#include <webscale/sched.h>
#include <webscale/sort.h>
#include <webscale/sync.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "kernel/console.h"
#include "kernel/irq.h"
#include "kernel/measure.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

#define BATCH_PIT_NS (5 * NS_PER_MS) /* a PIT batch spans 5 ticks: a tick's error <= 20 % once, and the median drops it */
#define BATCH_MIN_CYCLES 2000      /* with a TSC: rdtsc's own cost is noise */
#define BATCH_MAX_EVENTS (1u << 20)
#define BATCH_TRIES 4               /* batches run at most, per batch kept */
#define TSC_CALIBRATE_NS (2 * NS_PER_MS)
#define SERIAL_TIMEOUT_NS (100 * NS_PER_MS)

typedef uint64_t (*batch_fn)(uint32_t n);   /* run n events, return the time taken; 0: failed */

/* Why the last measure_* returned 0 (<webscale/measure.h>); NULL while
 * none failed. */
static const char *why_not;

uint64_t not_measured(const char *why)
{
    why_not = why;
    return 0;
}

const char *measure_why_not(void) { return why_not; }

/* Per event, in thousandths of a clock unit: the fastest of
 * MEASURE_BATCHES batches of at least reps events (more if the clock is
 * too coarse for reps, at most max). */
static uint64_t best_of_batches(batch_fn run, uint32_t reps, uint32_t max)
{
    int tsc = cpu_has_tsc();
    uint64_t enough = tsc ? BATCH_MIN_CYCLES : BATCH_PIT_NS;
    uint32_t n = reps ? reps : 1;
    if (n > max)
        n = max;
    not_measured(NULL);
    while (n < max && run(n) < enough)      /* also warms up what the batch touches */
        n = n * 2 > max ? max : n * 2;
    /* A batch is milliseconds: far below 2^32 cycles or ns. */
    uint32_t t[MEASURE_BATCHES];
    int k = 0;
    /* 0: the batch failed, or the PIT clock stood still. It does that
     * without -icount on a busy host: when QEMU delivers the PIT's
     * interrupts over a tick late, a reading would go back in time and
     * clock_ns holds it until time catches up. A few more tries then. */
    for (int i = 0; i < BATCH_TRIES * MEASURE_BATCHES && k < MEASURE_BATCHES; i++) {
        uint64_t v = run(n);
        if (v)
            t[k++] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    }
    if (k == 0)
        return not_measured(why_not ? why_not : "every batch took no time on the clock");
    sort_u32(t, (size_t)k);
    not_measured(NULL);                         /* a failed batch or two do not count */
    return (uint64_t)(tsc ? t[0] : t[k / 2]) * 1000 / n;
}

/* ---- the clock ---- */

static uint32_t tsc_per_us;

static uint32_t calibrate_tsc(void)
{
    if (tsc_per_us)
        return tsc_per_us;
    /* Spin (no sleep: a wake-up would add a tick's jitter) for 2 ms of
     * PIT time; its 838 ns resolution makes that 0.04 % exact. */
    uint64_t n0 = clock_ns(), c0 = rdtsc(), n1;
    while ((n1 = clock_ns()) - n0 < TSC_CALIBRATE_NS)
        ;
    uint64_t per_us = (rdtsc() - c0) * NS_PER_US / (n1 - n0);
    tsc_per_us = per_us ? (uint32_t)per_us : 1;
    return tsc_per_us;
}

void measure_clock(struct measure_clock *c)
{
    c->tsc = cpu_has_tsc();
    c->unit = c->tsc ? "cycles" : "ns";
    c->resolution = c->tsc ? 1 : clock_resolution_ns();
    c->units_per_us = c->tsc ? calibrate_tsc() : NS_PER_US;
}

/* ---- one instruction, a call ---- */

static uint64_t run_instructions(uint32_t turns)
{
    uint64_t t0 = cpu_cycles();
    spin_instructions(turns);
    return cpu_cycles() - t0;
}

uint64_t measure_instruction(uint32_t reps)
{
    uint32_t turns = reps / INSNS_PER_TURN;
    return best_of_batches(run_instructions, turns, BATCH_MAX_EVENTS) / INSNS_PER_TURN;
}

/* The loop around every other batch, measured alone to be subtracted. */
static uint64_t run_empty_loop(uint32_t n)
{
    uint64_t t0 = cpu_cycles();
    __asm__ volatile("1:\n\tdecl %0\n\tjnz 1b" : "+r"(n));
    return cpu_cycles() - t0;
}

/* Called from asm, so it needs a global name; noinline and the empty asm
 * keep it a real function. A leaf without locals compiles to a bare ret,
 * so a call costs call + ret. */
void measure_empty_function(void);
__attribute__((noinline)) void measure_empty_function(void) { __asm__ volatile(""); }

static uint64_t run_calls(uint32_t n)
{
    uint64_t t0 = cpu_cycles();
    __asm__ volatile("1:\n\tcall measure_empty_function\n\tdecl %0\n\tjnz 1b"
                     : "+r"(n) : : "eax", "ecx", "edx", "memory", "cc");
    return cpu_cycles() - t0;
}

uint64_t measure_call(uint32_t reps)
{
    return minus(best_of_batches(run_calls, reps, BATCH_MAX_EVENTS),
                 best_of_batches(run_empty_loop, reps, BATCH_MAX_EVENTS));
}

/* ---- an interrupt with an empty handler ---- */

static void empty_irq_handler(void *arg) { }

static uint64_t run_irqs(uint32_t n)
{
    uint64_t t0 = cpu_cycles();
    __asm__ volatile("1:\n\tint %1\n\tdecl %0\n\tjnz 1b"
                     : "+r"(n) : "i"(IRQ_VECTOR_BASE + MEASURE_IRQ) : "memory", "cc");
    return cpu_cycles() - t0;
}

uint64_t measure_irq_round_trip(uint32_t reps)
{
    irq_register(MEASURE_IRQ, empty_irq_handler, NULL, "measure");
    return minus(best_of_batches(run_irqs, reps, BATCH_MAX_EVENTS),
                 best_of_batches(run_empty_loop, reps, BATCH_MAX_EVENTS));
}

/* ---- two threads, for the switch figures ---- */

/* Start two threads and wait for both to end; 0, or -1 (nothing left
 * running) if either could not be created. */
static int run_pair(const char *name_a, thread_fn a_fn, void *a_arg,
                    const char *name_b, thread_fn b_fn, void *b_arg)
{
    thread_t *a = thread_create(name_a, a_fn, a_arg);
    thread_t *b = thread_create(name_b, b_fn, b_arg);
    if (a)
        thread_join(a);
    if (b)
        thread_join(b);
    if (a && b)
        return 0;
    not_measured("no memory for a thread");
    return -1;
}

/* ---- cooperative switch: two threads yield to each other ---- */

static struct {
    uint32_t n;
    volatile uint64_t t0, t1;
} yp;

static void yield_first(void *arg)
{
    yp.t0 = cpu_cycles();
    for (uint32_t i = 0; i < yp.n; i++)
        thread_yield();
}

static void yield_second(void *arg)
{
    for (uint32_t i = 0; i < yp.n; i++)
        thread_yield();
    yp.t1 = cpu_cycles();
}

/* Each thread yields n/2 times. Between the two stamps lie all those
 * yields and the first thread's exit: n/2 * 2 + 1 switches, scaled here
 * to n so that the caller divides by n. */
static uint64_t run_yields(uint32_t n)
{
    yp.n = n / 2 ? n / 2 : 1;
    if (run_pair("yieldA", yield_first, NULL, "yieldB", yield_second, NULL) < 0)
        return 0;
    return (yp.t1 - yp.t0) * n / (2 * yp.n + 1);
}

uint64_t measure_yield_switch(uint32_t reps)
{
    return best_of_batches(run_yields, reps, BATCH_MAX_EVENTS);
}

/* ---- the event loop ---- */

static struct {
    uint32_t n, seen;
    volatile uint64_t t1;
    struct semaphore done;
} lp;

static void latency_probe(void *arg)
{
    if (++lp.seen == lp.n) {
        lp.t1 = cpu_cycles();
        sem_up(&lp.done);
    }
}

/* Post n probes, the last callback stamps. Interrupts stay off while
 * posting, so the loop cannot run a probe before lp.n says how many went
 * in: were it counted down for a refused post after the loop had run
 * all the others, no probe would ever see the last one, and sem_down
 * would wait forever. */
static uint64_t run_posts(uint32_t n)
{
    lp.seen = 0;
    lp.n = 0;
    uint32_t f = irq_save();
    uint64_t t0 = cpu_cycles();
    for (uint32_t i = 0; i < n; i++)
        if (loop_post(latency_probe, NULL) == 0)
            lp.n++;            /* else the ring was full (someone else posts too) */
    irq_restore(f);
    if (lp.n == 0)
        return not_measured("the loop's post ring stayed full");
    sem_down(&lp.done);
    return lp.t1 - t0;
}

static int start_loop(void)
{
    sem_init(&lp.done, 0, "measure loop");
    if (loop_start() < 0) {
        not_measured("no memory for the loop thread");
        return -1;
    }
    return 0;
}

uint64_t measure_loop_dispatch(uint32_t reps)
{
    if (start_loop() < 0)
        return 0;
    return best_of_batches(run_posts, reps, LOOP_POST_RING / 2);
}

static uint64_t run_loop_round_trips(uint32_t n)
{
    uint64_t t0 = cpu_cycles();
    for (uint32_t i = 0; i < n; i++) {
        lp.n = 1;
        lp.seen = 0;
        if (loop_post(latency_probe, NULL) < 0)
            return not_measured("the loop's post ring stayed full");
        sem_down(&lp.done);    /* the loop thread wakes, runs the probe, which wakes us */
    }
    return cpu_cycles() - t0;
}

uint64_t measure_loop_round_trip(uint32_t reps)
{
    if (start_loop() < 0)
        return 0;
    return best_of_batches(run_loop_round_trips, reps, BATCH_MAX_EVENTS);
}

/* ---- sleep ---- */

uint64_t measure_sleep_lateness(uint32_t reps)
{
    not_measured(NULL);
    uint64_t late_ns = 0;
    uint32_t n = reps ? reps : 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t deadline = clock_ns() + NS_PER_MS;
        thread_sleep_ms(1);
        late_ns += minus(clock_ns(), deadline);
    }
    /* The deadline is PIT time: in TSC cycles at the measured rate. */
    uint64_t per_us = cpu_has_tsc() ? calibrate_tsc() : NS_PER_US;
    return late_ns * per_us / n;       /* late_ns / n ns, in thousandths of a unit */
}

/* ---- the serial line ---- */

uint64_t measure_serial_byte(const char *text, size_t n, int polled)
{
    not_measured(NULL);
    if (n == 0)
        return not_measured("no bytes to send");
    uint64_t t0, t1;
    if (polled) {
        uint32_t f = irq_save();
        console_flush_polled();              /* older output first, in order */
        t0 = cpu_cycles();
        console_write(text, n);              /* into the ring; interrupts are off */
        console_flush_polled();              /* the CPU pushes each byte and spins */
        t1 = cpu_cycles();
        irq_restore(f);
    } else {
        console_flush_polled();
        size_t empty = console_tx_space();
        uint64_t give_up = clock_ns() + SERIAL_TIMEOUT_NS;
        t0 = cpu_cycles();
        console_write(text, n);
        /* The "transmitter empty" interrupt moves the ring into the FIFO. */
        while (console_tx_space() < empty && clock_ns() < give_up)
            ;
        console_flush_polled();              /* the last FIFO load leaves the UART */
        t1 = cpu_cycles();
    }
    if (t1 == t0)
        return not_measured("the line went out within one step of the clock");
    return (t1 - t0) * 1000 / n;
}

/* ---- semaphore and mutex ---- */

static struct semaphore ping, pong;
static uint32_t tokens;

static void ponger(void *arg)
{
    for (uint32_t i = 0; i < tokens; i++) {
        sem_down(&ping);
        sem_up(&pong);
    }
}

static uint64_t run_tokens(uint32_t n)
{
    sem_init(&ping, 0, "ping");
    sem_init(&pong, 0, "pong");
    tokens = n;
    thread_t *t = thread_create("ponger", ponger, NULL);
    if (!t)
        return not_measured("no memory for a thread");
    thread_yield();          /* the ponger starts and waits on ping */
    uint64_t t0 = cpu_cycles();
    for (uint32_t i = 0; i < n; i++) {
        sem_up(&ping);
        sem_down(&pong);
    }
    uint64_t t1 = cpu_cycles();
    thread_join(t);
    return t1 - t0;
}

uint64_t measure_semaphore_round_trip(uint32_t reps)
{
    return best_of_batches(run_tokens, reps, BATCH_MAX_EVENTS);
}

static struct mutex pair_lock;

static uint64_t run_mutex_pairs(uint32_t n)
{
    uint64_t t0 = cpu_cycles();
    for (uint32_t i = 0; i < n; i++) {
        mutex_lock(&pair_lock);
        mutex_unlock(&pair_lock);
    }
    return cpu_cycles() - t0;
}

uint64_t measure_mutex_pair(uint32_t reps)
{
    mutex_init(&pair_lock, "measure");
    return best_of_batches(run_mutex_pairs, reps, BATCH_MAX_EVENTS);
}
