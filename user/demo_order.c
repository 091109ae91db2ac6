/* order: the talk's "async programs run in unknown order".
 *
 * The same batch of requests goes out twice. Each waits for its server's
 * reply (a timer: a base latency plus jitter) and then hands the parsing
 * to the worker pool; the completion is a callback in the loop. The
 * jitter stands in for the network's: it is taken from the PIT's phase at
 * the moment the request leaves, that is from when interrupts happened to
 * arrive before. The code is identical; the order is not. */
#include <webscale/kprintf.h>
#include <webscale/loop.h>
#include <webscale/sync.h>
#include <webscale/thread.h>
#include <webscale/time.h>
#include "user/commands.h"
#include "user/demo.h"
#include "user/shell.h"

#define REQUESTS_MAX 12
#define BASE_MS 10
#define JITTER_US 8000
#define PARSE_ITERATIONS 30000

struct order_req {
    int id;
    uint64_t sent, done;
    struct loop_timer reply;
};

static struct order_req reqs[REQUESTS_MAX];
static int finished[2][REQUESTS_MAX];
static uint64_t finished_ns[2][REQUESTS_MAX];
static volatile uint32_t nfinished;
static int run_no;
static struct semaphore batch_done;
static uint32_t batch;

/* Mix the clock's low bits: a stand-in for network jitter that really
 * depends on interrupt timing. */
static uint32_t jitter_us(void)
{
    uint32_t x = (uint32_t)clock_ns();
    x ^= x >> 13;
    x *= 0x5bd1e995u;
    x ^= x >> 15;
    return x % JITTER_US;
}

static void parse(void *arg)
{
    demo_work(PARSE_ITERATIONS);
}

static void completed(void *arg)
{
    struct order_req *q = arg;
    q->done = clock_ns();
    finished[run_no][nfinished] = q->id;
    finished_ns[run_no][nfinished] = q->done - q->sent;
    if (++nfinished == batch)
        sem_up(&batch_done);
}

static void replied(void *arg)
{
    loop_submit_work(parse, arg, completed);
}

static void send_batch(void *arg)
{
    for (uint32_t i = 0; i < batch; i++) {
        struct order_req *q = &reqs[i];
        q->id = (int)i + 1;
        q->sent = clock_ns();
        loop_timer_init(&q->reply, replied, q);
        loop_timer_start(&q->reply, BASE_MS * NS_PER_MS + jitter_us() * NS_PER_US, 0);
        demo_work(1000 + 997 * i);   /* building the next request takes a moment */
    }
}

/* The @demo line: each run's completion order as one word, "3,1,2". */
static void print_line(uint32_t n, int same)
{
    demo_line_begin("order");
    demo_line_u64("requests", n);
    for (int run = 0; run < 2; run++) {
        char word[REQUESTS_MAX * 4], key[16];
        int len = 0;
        for (uint32_t i = 0; i < n; i++)
            len += ksnprintf(word + len, sizeof word - (size_t)len, "%s%d", i ? "," : "",
                             finished[run][i]);
        ksnprintf(key, sizeof key, "run%d_order", run + 1);
        demo_line_str(key, word);
    }
    demo_line_str("same", same ? "yes" : "no");
    demo_line_end();
}

int cmd_order(int argc, char **argv)
{
    uint32_t n = 6;
    char a[24], b[24];
    if (shell_optional_uint(argc, argv, "N", 2, REQUESTS_MAX, &n))
        return 1;
    batch = n;
    sem_init(&batch_done, 0, "order demo");
    demo_say("The same %u requests, sent in the order 1..%u, twice. Each reply takes %d ms "
             "plus up to %d us of jitter, then parsing on the worker pool. The jitter comes "
             "from when interrupts arrived.\n", n, n, BASE_MS, JITTER_US);
    for (run_no = 0; run_no < 2; run_no++) {
        nfinished = 0;
        loop_call_and_wait(send_batch, NULL);
        sem_down(&batch_done);
        /* Let the PIT's phase move before the second run. */
        thread_sleep_ns(3 * NS_PER_MS + 377 * NS_PER_US);
    }
    kprintf("  done #   run 1: request   sent->done    run 2: request   sent->done\n");
    int same = 1;
    for (uint32_t i = 0; i < n; i++) {
        kprintf("  %6u   %14d  %12s   %14d  %12s\n", i + 1, finished[0][i],
                demo_ms(a, sizeof a, finished_ns[0][i]), finished[1][i],
                demo_ms(b, sizeof b, finished_ns[1][i]));
        if (finished[0][i] != finished[1][i])
            same = 0;
    }
    demo_say("sent->done: from sending the request to the end of its parsing.\n");
    demo_say("%s The callbacks ran in the order the events came, not the order the code "
             "sent them.\n",
             same ? "This time both runs happened to finish in the same order; run it again."
                  : "Same code, same requests, different order.");
    print_line(n, same);
    return 0;
}
