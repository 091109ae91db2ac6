/* The console as threads see it: kernel/console.c above the serial port
 * (COM1, drivers/uart16550.c). */
#ifndef WEBSCALE_CONSOLE_H
#define WEBSCALE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_CTRL_C 0x03

/* Blocking: sleep until at least one byte is there, return up to n. */
int console_read(void *buf, size_t n);
/* Non-blocking: return what is there now, or -E_WOULDBLOCK. */
int console_read_nonblock(void *buf, size_t n);
/* Blocking: returns only when all n bytes are in the output ring. */
int console_write(const void *buf, size_t n);
/* Non-blocking: queue what fits, return how many, or -E_WOULDBLOCK. */
int console_write_nonblock(const void *buf, size_t n);
void console_puts(const char *s);

/* Jobs (see kernel/console.c): the blocking writes of a thread with a job
 * number (kprintf, console_write) go to fn instead, which prints them,
 * marked, with console_write_unmarked. One writer, the shell's. The
 * kprintf of any other thread that may sleep goes to it too, as job 0, so
 * that a job's line lands neither in the prompt nor in a command's line.
 * fn returns 1 if it printed the bytes, else 0 and the console writes
 * them as they are. */
typedef int (*console_job_writer_fn)(int job, const void *buf, size_t n);
void console_set_job_writer(console_job_writer_fn fn);
int console_write_unmarked(const void *buf, size_t n);

/* Ctrl-C: the console does not pass it on as data; it sets this flag,
 * discards the unread input before it (like a terminal) and wakes readers,
 * so a running demo can stop and the shell can cancel. Poll
 * console_interrupted() while not reading the console: it also lets a
 * Ctrl-C through that waits behind more typeahead than the driver holds. */
int console_interrupted(void);
void console_clear_interrupt(void);
/* A read would get a byte now: someone typed. */
int console_input_ready(void);

/* Raw mode passes every byte, 0x03 included, through as data. */
void console_set_raw(int on);

struct console_stats {
    uint64_t rx_bytes, tx_bytes;
    uint32_t rx_irqs, tx_irqs;
    uint32_t rx_stalls;      /* times the RX ring filled and input was paused */
    uint32_t overruns;       /* bytes the UART itself reported lost */
    uint32_t interrupts;     /* Ctrl-C presses */
    uint32_t rx_dropped;     /* typeahead dropped: ring full, nobody reading it */
};
void console_get_stats(struct console_stats *s);

/* The console as event sources for the loop's watchers (<webscale/loop.h>),
 * level-triggered like poll: a byte can be read now (console_read_nonblock
 * returns bytes); a byte can be queued now (console_write_nonblock takes
 * it). The port's ISR notifies them when bytes arrive or room frees. */
struct loop_source;
extern struct loop_source console_readable, console_writable;

#endif
