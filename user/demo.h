/* Small helpers the demos share: CPU work of a known size, percentiles
 * of measured latencies, durations printed with their unit, the heap in
 * use, and the machine-readable line of their figures. */
#ifndef USER_DEMO_H
#define USER_DEMO_H

#include <stddef.h>
#include <stdint.h>

/* For the few hot loops whose speed the demos measure: a function of at
 * most DEMO_HOT's alignment can never straddle a 4 KiB page. Under QEMU's
 * TCG a loop that does runs about 10x slower (translated blocks that span
 * two pages are not chained): cpu-vs-io 100 once took 1036 ms for 100 ms
 * of work only because a change elsewhere moved demo_work onto a boundary. */
#define DEMO_HOT __attribute__((aligned(128)))

/* Busy for ns of wall time, without yielding: a blocking call as the CPU
 * sees it (or "that totally free service in China"). */
DEMO_HOT void demo_spin_ns(uint64_t ns);
/* A fixed amount of CPU work: iterations of a small hash. Returns the hash
 * so that the compiler cannot drop it. */
DEMO_HOT uint32_t demo_work(uint32_t iterations);
/* Iterations of demo_work that take about ms on this machine, measured. */
uint32_t demo_calibrate(uint32_t ms);

/* The permille-th value of sorted v (500 = median, 990 = p99). */
uint32_t demo_percentile(const uint32_t *sorted, int n, int permille);

/* "12.345 ms" from ns, into buf. */
const char *demo_ms(char *buf, int size, uint64_t ns);
/* "12.345 us" from ns, into buf. */
const char *demo_us(char *buf, int size, uint64_t ns);

/* "12.34 %" of part in whole, into buf. */
const char *demo_percent(char *buf, int size, uint64_t part, uint64_t whole);
/* "2.00" from num / den, two decimals, into buf. */
const char *demo_ratio(char *buf, int size, uint64_t num, uint64_t den);
/* Bytes of heap in use now (<webscale/system.h>'s mem_get_stats). */
size_t demo_heap_used(void);

/* Prose fits an 80-column terminal: demo_say prints one paragraph,
 * formatted as kprintf does, wrapped at the last space before column
 * DEMO_COLUMNS; demo_wrap prints text from column `at` on, on a line that
 * already holds `used` columns (padded to `at`, or a new line if `used`
 * has reached it), continuing on new lines indented to `at`. A word longer than a line is
 * printed whole. A table may be wider: it says so in its header. */
#define DEMO_COLUMNS 80
void demo_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void demo_wrap(int at, int used, const char *text);
/* As demo_say, with every line after the first indented by indent
 * ("  in:  12 frames, ..." continued under its first figure). */
void demo_hang(int indent, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* text of any length from column col on (the cursor is there), each
 * further line indented by indent. */
void demo_hang_text(int col, int indent, const char *text);

/* After its prose, every demo prints its figures once more as one line
 * for programs (the tests read it, so rewording a sentence breaks none),
 * in the form of `trace dump`'s header:
 *     @demo NAME key=value key=value ...
 * A key ends in its unit (_ns, _ms, _bytes, _per_s, ...) or names a
 * count; a value is a whole number, a decimal, or one word ("-": not
 * measured). A demo with a table prints one such line a row, with a key
 * that names the row. tests/lib/demo_line.py parses them. */
#define DEMO_LINE_TAG "@demo"
void demo_line_begin(const char *name);
void demo_line_u64(const char *key, uint64_t v);
/* milli thousandths, as a decimal with three places. */
void demo_line_milli(const char *key, uint64_t milli);
void demo_line_str(const char *key, const char *word);
void demo_line_end(void);

#endif
