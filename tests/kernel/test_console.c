/* The console's line policy (kernel/console.c), driven through the byte
 * handler it registers with its port. A fake port stands in for the UART
 * on the input side and does with each byte what the console's verdict
 * says, as the UART's ISR does; output still goes to the real port, so
 * the test's own messages get through. Each case puts the real port back
 * before it checks anything: a failed check ends the case's thread. */
#include <webscale/console.h>
#include <webscale/loop.h>
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/thread.h>
#include "kernel/console.h"
#include "kernel/ktest.h"
#include "kernel/lib/ring.h"
#include "kernel/x86.h"

static const struct console_port *real;
static uint8_t fake_buf[64];
static struct ring fake_rx;
static uint32_t fake_flush_to;
static int fake_marked, fake_dropping;
static console_rx_fn fake_rx_fn;
static console_ready_fn fake_ready;

static void fake_set_handlers(console_rx_fn rx, console_ready_fn ready)
{
    fake_rx_fn = rx;
    fake_ready = ready;
}
static size_t fake_write(const void *buf, size_t n) { return real->write(buf, n); }
static void fake_flush_polled(void) { real->flush_polled(); }
static size_t fake_tx_space(void) { return real->tx_space(); }
static size_t fake_rx_available(void)
{
    return fake_marked ? fake_rx.head - fake_flush_to : ring_used(&fake_rx);
}
static size_t fake_read(void *buf, size_t n)
{
    if (fake_marked) {
        fake_rx.tail = fake_flush_to;
        fake_marked = 0;
    }
    return ring_read(&fake_rx, buf, (uint32_t)n);
}
static int fake_rx_held(void) { return 0; }
static void fake_rx_drop_when_full(int drop) { fake_dropping = drop; }
static void fake_get_stats(struct console_port_stats *s) { real->get_stats(s); }

static const struct console_port fake_port = {
    .name = "fake",
    .set_handlers = fake_set_handlers,
    .write = fake_write,
    .flush_polled = fake_flush_polled,
    .tx_space = fake_tx_space,
    .read = fake_read,
    .rx_available = fake_rx_available,
    .rx_held = fake_rx_held,
    .rx_drop_when_full = fake_rx_drop_when_full,
    .get_stats = fake_get_stats,
};

static void fake_attach(void)
{
    real = console_port();
    ring_init(&fake_rx, fake_buf, sizeof fake_buf);
    fake_marked = 0;
    console_clear_interrupt();
    console_attach(&fake_port);
}

static void real_attach(void)
{
    console_set_raw(0);
    console_clear_interrupt();
    console_attach(real);
}

/* What a port's ISR does: every byte through the registered handler. */
static void fake_receive(const char *s, size_t n)
{
    uint32_t f = irq_save();
    for (size_t i = 0; i < n; i++) {
        if (fake_rx_fn((uint8_t)s[i]) == CONSOLE_RX_FLUSH) {
            fake_flush_to = fake_rx.head;
            fake_marked = 1;
        } else {
            ring_put(&fake_rx, (uint8_t)s[i]);
        }
    }
    fake_ready(1);
    irq_restore(f);
}

/* What a loop watcher of the source would see now. */
static int source_ready(struct loop_source *src)
{
    uint32_t f = irq_save();
    int r = src->ready(src->arg);
    irq_restore(f);
    return r;
}

/* Ctrl-C is no data: it raises the flag, reads say -E_INTR until it is
 * cleared, and the typeahead before it is gone; what came after stays. */
static void test_ctrl_c_discards_typeahead(void)
{
    struct console_stats before, after;
    char buf[16];
    console_get_stats(&before);
    fake_attach();
    uint32_t notifies = console_readable.notifies;
    fake_receive("ls -l\x03" "ps", 8);
    notifies = console_readable.notifies - notifies;
    int flag = console_interrupted();
    int readable = source_ready(&console_readable);
    int r_intr = console_read_nonblock(buf, sizeof buf);
    console_clear_interrupt();
    int r = console_read_nonblock(buf, sizeof buf);
    int empty = console_read_nonblock(buf, sizeof buf);
    int dropping = fake_dropping;
    real_attach();
    console_get_stats(&after);
    KT_ASSERT_EQ(flag, 1);
    KT_ASSERT_EQ(notifies, 1);
    KT_ASSERT(readable);
    KT_ASSERT_EQ(r_intr, -E_INTR);
    KT_ASSERT_EQ(r, 2);
    KT_ASSERT(memcmp(buf, "ps", 2) == 0);
    KT_ASSERT_EQ(empty, -E_WOULDBLOCK);
    KT_ASSERT_EQ(dropping, 0);         /* input is held back again, not dropped */
    KT_ASSERT_EQ(after.interrupts - before.interrupts, 1);
}

/* Only typeahead, then Ctrl-C: nothing is left to read. */
static void test_ctrl_c_leaves_nothing_readable(void)
{
    char buf[16];
    fake_attach();
    fake_receive("make bench\x03", 11);
    int readable = source_ready(&console_readable);
    console_clear_interrupt();
    int r = console_read_nonblock(buf, sizeof buf);
    real_attach();
    KT_ASSERT_EQ(readable, 0);
    KT_ASSERT_EQ(r, -E_WOULDBLOCK);
}

/* Raw mode: 0x03 is a byte like any other. */
static void test_raw_passes_ctrl_c(void)
{
    char buf[16];
    fake_attach();
    console_set_raw(1);
    fake_receive("x\x03y", 3);
    int flag = console_interrupted();
    int r = console_read_nonblock(buf, sizeof buf);
    real_attach();
    KT_ASSERT_EQ(flag, 0);
    KT_ASSERT_EQ(r, 3);
    KT_ASSERT(memcmp(buf, "x\x03y", 3) == 0);
}

static volatile int reader_result = 1;

static void blocked_reader(void *arg)
{
    char c;
    reader_result = console_read(&c, 1);
}

/* A thread asleep in console_read is woken by the Ctrl-C and told so. */
static void test_ctrl_c_wakes_reader(void)
{
    fake_attach();
    reader_result = 1;
    thread_t *t = thread_create("reader", blocked_reader, NULL);
    thread_sleep_ms(5);
    int still_asleep = reader_result == 1;
    fake_receive("\x03", 1);
    if (t)
        thread_join(t);
    real_attach();
    KT_ASSERT(t != NULL);
    KT_ASSERT(still_asleep);
    KT_ASSERT_EQ(reader_result, -E_INTR);
}

/* Jobs: a thread with a job number writes through the job writer, and may
 * not read the console unless it is the foreground. */
#define TEST_JOB 3
static char job_seen[32];
static int job_seen_len, job_seen_job;
static volatile int job_read_bg, job_read_fg;

static int fake_job_writer(int job, const void *buf, size_t n)
{
    if (!job)
        return 0;                /* another thread's kprintf: not the job's */
    job_seen_job = job;
    for (size_t i = 0; i < n && job_seen_len < (int)sizeof job_seen; i++)
        job_seen[job_seen_len++] = ((const char *)buf)[i];
    return 1;
}

static void job_thread(void *arg)
{
    char c;
    thread_set_job(thread_current(), TEST_JOB);
    console_write("job!", 4);
    job_read_bg = console_read_nonblock(&c, 1);
    thread_set_foreground(thread_current());
    job_read_fg = console_read_nonblock(&c, 1);
    thread_set_foreground(NULL);
}

static void test_job_output_marked_and_reads_refused(void)
{
    fake_attach();
    job_seen_len = job_seen_job = 0;
    console_set_job_writer(fake_job_writer);
    thread_t *t = thread_create("job", job_thread, NULL);
    if (t)
        thread_join(t);
    console_set_job_writer(NULL);
    real_attach();
    KT_ASSERT(t != NULL);
    KT_ASSERT_EQ(job_seen_job, TEST_JOB);
    KT_ASSERT_EQ(job_seen_len, 4);
    KT_ASSERT(memcmp(job_seen, "job!", 4) == 0);
    KT_ASSERT_EQ(job_read_bg, -E_PERM);
    KT_ASSERT_EQ(job_read_fg, -E_WOULDBLOCK);
}

static const struct ktest_case console_cases[] = {
    { "job_output_marked_and_reads_refused", test_job_output_marked_and_reads_refused },
    { "ctrl_c_discards_typeahead", test_ctrl_c_discards_typeahead },
    { "ctrl_c_leaves_nothing_readable", test_ctrl_c_leaves_nothing_readable },
    { "raw_passes_ctrl_c", test_raw_passes_ctrl_c },
    { "ctrl_c_wakes_reader", test_ctrl_c_wakes_reader },
};
KTEST_SUITE(console, console_cases);
