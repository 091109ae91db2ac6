/* What `scale` measures (user/demo_scale.c) and prints
 * (user/demo_scale_print.c): the rows, and the figures measured once. */
#ifndef USER_DEMO_SCALE_H
#define USER_DEMO_SCALE_H

#include <stddef.h>
#include <stdint.h>

#define SCALE_ROWS_MAX 8        /* Ns on one command line */
#define WAIT_MS 10              /* the network's part of a request */

enum way { THREADS, LOOP, WAYS };

struct row {
    int ok;                     /* 0: not run (no memory, or Ctrl-C) */
    int no_memory;              /* the clients did not fit in the heap */
    uint32_t n;
    uint64_t window_ns, requests, switches, idle_ns;
    size_t heap_bytes;          /* in use during the run, minus before it */
    uint32_t p50_ns, p99_ns;
};

/* What one `scale` run measured once, before its rows. */
struct scale_cfg {
    uint32_t work_iterations;   /* demo_work iterations of one request */
    uint64_t work_ns;           /* what they take, measured alone before the rows */
    uint64_t work_after_ns;     /* the same, after the rows: did QEMU's speed drift? */
    uint64_t switch_ps;         /* one cooperative switch, in ps */
    uint64_t window_ns;
};
extern struct scale_cfg scale_cfg;

void scale_print_header(void);
/* A row of the table, and its @demo line. */
void scale_print_row(enum way way, const struct row *r);
void scale_print_conclusion(struct row rows[WAYS][SCALE_ROWS_MAX], int nrows);

#endif
