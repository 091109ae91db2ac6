/* The line editor (user/lineedit.c) against a small terminal: every key
 * must leave the screen showing the prompt and the line, and the cursor
 * where the editor thinks it is; unknown sequences are counted, not shown. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "tests/host/check.h"
#include "user/lineedit.h"

#define TERM_COLUMNS 80          /* LE_COLUMNS: long lines wrap, as on the console */
#define TERM_ROWS 8
#define TERM_CELLS (TERM_COLUMNS * TERM_ROWS)
#define PROMPT "> "

/* A small screen, rows of 80, enough of ECMA-48 (and of a VT100's
 * autowrap: drawn into the last column, the cursor stays there until the
 * next character) for what the editor sends. The rows are one array, so
 * a wrapped line reads as a string. */
struct term {
    char row[TERM_CELLS + 1];
    int col;                     /* the cursor: row * TERM_COLUMNS + column */
    int pending;                 /* drawn into the last column, wrap due */
    int clears;                  /* ESC [ 2 J seen */
    int esc, num;                /* parser: 0, 1 after ESC, 2 in CSI */
    int bad;                     /* bytes the terminal did not expect */
    char sent[256];              /* the last bytes the editor sent */
    int nsent;
};

static void term_byte(struct term *t, char c)
{
    if (t->nsent < (int)sizeof t->sent - 1)
        t->sent[t->nsent++] = c;
    int r = t->col / TERM_COLUMNS, x = t->col % TERM_COLUMNS, n;
    if (t->esc == 1) {
        t->esc = c == '[' ? 2 : 0;
        t->num = 0;
        t->bad += c != '[';
        return;
    }
    if (t->esc == 2) {
        if (c >= '0' && c <= '9') {
            t->num = t->num * 10 + (c - '0');
            return;
        }
        t->esc = 0;
        t->pending = 0;
        n = t->num ? t->num : 1;
        if (c == 'D')
            x -= n;
        else if (c == 'C')
            x += n;
        else if (c == 'A')
            r -= n;
        else if (c == 'B')
            r += n;
        else if (c == 'K')
            memset(t->row + t->col, ' ', TERM_COLUMNS - x);
        else if (c == 'H')
            r = x = 0;
        else if (c == 'J' && t->num == 0)
            memset(t->row + t->col, ' ', TERM_CELLS - t->col);
        else if (c == 'J' && t->num == 2) {
            memset(t->row, ' ', TERM_CELLS);
            t->clears++;
        } else
            t->bad++;
        if (x < 0 || x >= TERM_COLUMNS || r < 0 || r >= TERM_ROWS)
            t->bad++, x = 0, r = r < 0 || r >= TERM_ROWS ? 0 : r;
        t->col = r * TERM_COLUMNS + x;
        return;
    }
    if (c == 0x1B) {
        t->esc = 1;
        return;
    }
    if (c >= 0x20 && c < 0x7F) {
        if (t->pending)
            t->col++;            /* the wrap: the next row's first column */
        t->pending = 0;
        if (t->col >= TERM_CELLS) {
            t->bad++;
            return;
        }
        t->row[t->col] = c;
        if (t->col % TERM_COLUMNS == TERM_COLUMNS - 1)
            t->pending = 1;
        else
            t->col++;
        return;
    }
    t->pending = 0;
    if (c == '\r')
        t->col = r * TERM_COLUMNS;
    else if (c == '\n' && r + 1 < TERM_ROWS)
        t->col += TERM_COLUMNS;
    else if (c == '\n')              /* a new, empty row: the screen scrolls */
        memset(t->row, ' ', TERM_CELLS);
    else if (c == '\b')
        t->col -= x > 0;
    else
        t->bad++;
}

static void term_out(void *ctx, const char *s, int n)
{
    for (int i = 0; i < n; i++)
        term_byte(ctx, s[i]);
}

static struct term term;
static struct le_history hist;
static struct lineedit e;

static void start(void)
{
    memset(&term, 0, sizeof term);
    memset(term.row, ' ', TERM_CELLS);
    le_start(&e, PROMPT, &hist, term_out, &term);
}

static int type(const char *keys)
{
    int done = 0;
    for (const char *p = keys; *p; p++)
        done = le_key(&e, (uint8_t)*p) == LE_DONE;
    return done;
}

/* The screen shows the prompt and want, the cursor at column cur of it. */
static int shows(const char *want, int cur)
{
    char expect[TERM_CELLS + 1];
    memset(expect, ' ', TERM_CELLS);
    memcpy(expect, PROMPT, strlen(PROMPT));
    memcpy(expect + strlen(PROMPT), want, strlen(want));
    int ok = memcmp(term.row, expect, TERM_CELLS) == 0 && !term.pending &&
             term.col == (int)strlen(PROMPT) + cur && e.len == (int)strlen(want) &&
             memcmp(e.line, want, e.len) == 0 && e.cur == cur && !term.bad;
    if (!ok)
        fprintf(stderr, "screen '%.40s' col %d, line '%.*s' cur %d; wanted '%s' cur %d\n",
                term.row, term.col, e.len, e.line, e.cur, want, cur);
    return ok;
}

static void test_insert_and_move(void)
{
    start();
    type("uptme");
    CHECK(shows("uptme", 5));
    type("\x1b[D\x1b[D");                        /* Left twice */
    CHECK(shows("uptme", 3));
    type("i");                                   /* insert in the middle */
    CHECK(shows("uptime", 4));
    type("\x01");                                /* Ctrl-A */
    CHECK(shows("uptime", 0));
    type("\x1b[D");                              /* Left at the start: nothing */
    CHECK(shows("uptime", 0));
    type("\x05");                                /* Ctrl-E */
    CHECK(shows("uptime", 6));
    type("\x1b[C");                              /* Right at the end: nothing */
    CHECK(shows("uptime", 6));
    type("\x1b[H");                              /* Home, the three spellings */
    CHECK(shows("uptime", 0));
    type("\x1b[F\x1b[1~");
    CHECK(shows("uptime", 0));
    type("\x1b[4~\x1bOH\x1b[C\x1b[C");
    CHECK(shows("uptime", 2));
    type("\x1bOF\x1b[7~\x1b[8~");
    CHECK(shows("uptime", 6));
    CHECK(type("\r") && strcmp(e.line, "uptime") == 0);
    CHECK(e.dropped_bytes == 0 && e.dropped_seqs == 0);
}

static void test_erasing(void)
{
    start();
    type("sched slice 10");
    type("\x1b[D\x1b[D\x1b[D\x7f");              /* Backspace before the cursor */
    CHECK(shows("sched slic 10", 10));
    type("\x1b[3~");                             /* Delete at it */
    CHECK(shows("sched slic10", 10));
    type("\x0b");                                /* Ctrl-K */
    CHECK(shows("sched slic", 10));
    type("\x17");                                /* Ctrl-W: the word before */
    CHECK(shows("sched ", 6));
    type("\x1b[3~\x08\x08\x08\x08\x08\x08\x08"); /* Delete at the end, Backspace past the start */
    CHECK(shows("", 0));
    type("ps aux\x01\x1b[3~\x1b[3~\x1b[3~");
    CHECK(shows("aux", 0));
    type("\x1b[C\x15");                          /* Ctrl-U, cursor in the middle */
    CHECK(shows("", 0));
    CHECK(type("\n") && e.line[0] == 0);
}

static void test_history_and_clear(void)
{
    memset(&hist, 0, sizeof hist);
    le_history_add(&hist, "first");
    le_history_add(&hist, "second");
    le_history_add(&hist, "second");             /* the same twice: once */
    CHECK(hist.count == 2);
    start();
    type("draft");
    type("\x1b[A");
    CHECK(shows("second", 6));
    type("\x1b[A\x1b[A");                        /* past the oldest: stays */
    CHECK(shows("first", 5));
    type("\x1b[B\x1b[B");
    CHECK(shows("draft", 5));
    type("\x1b[D\x0c");                          /* Ctrl-L: clear, redraw, cursor kept */
    CHECK(term.clears == 1 && shows("draft", 4));
    CHECK(e.dropped_bytes == 0);                 /* Ctrl-L is a key, not dropped */
}

static void test_garbage_is_counted_not_shown(void)
{
    start();
    type("a\x1bOP");                             /* F1 */
    type("\x1b[1;5C");                           /* Ctrl-Right */
    type("\x1b[?25h");                           /* a private mode: not a key */
    type("\x1b[15~");                            /* F5 */
    type("\x1bx");                               /* Alt-x */
    type("\x02\x1c\x80\xff");                    /* bytes with no meaning */
    type("b");
    CHECK(shows("ab", 2));
    CHECK_EQ(e.dropped_seqs, 5);
    CHECK_EQ(e.dropped_bytes, 4);
    /* Cut short by Enter: the Enter is not eaten, the sequence counted. */
    CHECK(type("\x1b[\r") && strcmp(e.line, "ab") == 0);
    CHECK_EQ(e.dropped_seqs, 6);
}

static void test_too_long(void)
{
    start();
    for (int i = 0; i < LE_LINE_MAX + 10; i++)
        type("x");
    CHECK(e.too_long && e.len == LE_LINE_MAX - 1);
    type("\x15");                                /* Ctrl-U forgets it */
    CHECK(!e.too_long && e.len == 0);
    /* Up and Down again: the line typed is back, cut short, and still
     * refused (it used to come back as a shorter line that ran). */
    le_history_add(&hist, "ps");
    start();
    for (int i = 0; i < LE_LINE_MAX + 10; i++)
        type("y");
    type("\x1b[A");
    CHECK(shows("ps", 2) && !e.too_long);        /* a history line is whole */
    type("\x1b[B");
    CHECK(e.too_long && e.len == LE_LINE_MAX - 1);
    /* Erased to the last character, by Backspace, Ctrl-W, Ctrl-K or
     * Delete, it is forgotten: "ps" typed then is not refused. */
    for (int i = 0; i < LE_LINE_MAX - 2; i++)
        type("\x7f");
    CHECK(e.too_long && e.len == 1);             /* a character of it is left */
    type("\x7f");
    CHECK(!e.too_long);
    for (const char *erase = "\x17\x0b"; *erase; erase++) {     /* Ctrl-W, Ctrl-K */
        for (int i = 0; i < LE_LINE_MAX + 10; i++)
            type("y");
        if (*erase == 0x0b)
            type("\x01");                        /* Ctrl-K from the start */
        type((char[]){ *erase, 0 });
        CHECK(!e.too_long && e.len == 0);
    }
    for (int i = 0; i < LE_LINE_MAX + 10; i++)
        type("y");
    type("\x01");
    for (int i = 0; i < LE_LINE_MAX - 1; i++)
        type("\x1b[3~");                        /* Delete */
    CHECK(!e.too_long && e.len == 0);
    CHECK(type("ps\r") && strcmp(e.line, "ps") == 0 && !e.too_long);
}

/* A line longer than a row: Home goes up a row and left (CUU, CUB), not
 * ESC [ 83 D, which stops at the row's first column; drawn to a row's
 * end, CR LF leaves the terminal's pending wrap. Up to a history line and
 * Ctrl-U redraw from the line's start, the rows below erased. */
static void test_wrapped_line(void)
{
    char longline[84], shorter[8] = "ps";
    memset(longline, 'x', 83);
    longline[83] = 0;
    start();
    type("ps\r");
    le_history_add(&hist, "ps");
    start();
    for (int i = 0; i < 77; i++)
        type("x");
    term.nsent = 0;
    type("x");                             /* the 78th ends row 0 (the prompt's 2 too) */
    CHECK(term.nsent == 3 && memcmp(term.sent, "x\r\n", 3) == 0);
    type("xxxxx");
    CHECK(shows(longline, 83));
    term.nsent = 0;
    type("\x01");                          /* Ctrl-A, Home */
    term.sent[term.nsent] = 0;
    CHECK(strcmp(term.sent, "\033[1A\033[3D") == 0);
    CHECK(shows(longline, 0));
    type("\x05");                          /* Ctrl-E, End: drawn over, into row 1 */
    CHECK(shows(longline, 83));
    type("\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D");   /* Left across the row's start */
    CHECK(shows(longline, 77));
    type("\x1b[A");                        /* Up: "ps", the rows below erased */
    CHECK(shows(shorter, 2));
    type("\x1b[B");                        /* Down: the long line again */
    CHECK(shows(longline, 83));
    type("\x15");                          /* Ctrl-U */
    CHECK(shows("", 0));
}

/* Enter on a line that ends a row exactly: the cursor is on the next
 * row already (drawn_to's CR LF), and Enter adds no second, blank row. */
static void test_enter_at_row_end(void)
{
    start();
    for (int i = 0; i < 78; i++)           /* with the prompt's 2: one whole row */
        type("x");
    term.nsent = 0;
    CHECK(type("\r") && e.len == 78);
    CHECK(term.nsent == 0 && term.col == TERM_COLUMNS);
    start();
    for (int i = 0; i < 77; i++)           /* one short of the row's end */
        type("x");
    term.nsent = 0;
    CHECK(type("\r") && term.nsent == 2 && memcmp(term.sent, "\r\n", 2) == 0);
    CHECK(term.col == TERM_COLUMNS);
}

/* le_erase from anywhere in a line of three rows: the screen is blank and
 * the cursor at the prompt row's start, where a job's line then goes;
 * le_redraw after it shows the line and the cursor as they were. */
static void test_erase_and_redraw(void)
{
    char line[200];
    memset(line, 'y', 170);
    line[170] = 0;
    int curs[] = { 170, 0, 78, 77, 100 };
    for (int k = 0; k < 5; k++) {
        start();
        type(line);
        type("\x01");                      /* Home, then right to curs[k] */
        for (int i = 0; i < curs[k]; i++)
            type("\x1b[C");
        CHECK(shows(line, curs[k]));
        le_erase(&e, term_out, &term);
        int blank = 1;
        for (int i = 0; i < TERM_CELLS; i++)
            blank &= term.row[i] == ' ';
        CHECK(blank && term.col == 0 && !term.bad);
        le_redraw(&e, term_out, &term);
        CHECK(shows(line, curs[k]));
    }
}

int main(void)
{
    test_insert_and_move();
    test_erasing();
    test_history_and_clear();
    test_garbage_is_counted_not_shown();
    test_too_long();
    test_wrapped_line();
    test_enter_at_row_end();
    test_erase_and_redraw();
    return check_done("lineedit");
}
