/* The line editor: see lineedit.h for the keys. Every change redraws
 * only from the cursor on: the text after it, an erase to the end of the
 * screen (ESC [ J), and the cursor moved back.
 *
 * A line longer than the terminal is wide (LE_COLUMNS, with the prompt)
 * wraps onto more rows, and ESC [ n D cannot go up one: so every cursor
 * move goes by rows and columns, CUU/CUD (ESC [ n A / B) then CUB/CUF
 * (ESC [ n D / C), from where the cursor is to where it goes, both known
 * as positions in the line. One catch: a terminal that has just drawn the
 * last column of a row keeps the cursor there ("pending wrap") until the
 * next character; after drawing up to a row's end the editor sends CR LF,
 * so the cursor is always at the start of the next row as counted. */
#include <stddef.h>
#include <webscale/string.h>
#include "user/lineedit.h"

#define KEY_CTRL(c) ((c) & 0x1F)
#define KEY_ESC 0x1B
#define KEY_BS 0x08
#define KEY_DEL 0x7F
#define CSI_PARAM_MAX 9999       /* larger parameters mean nothing to us */
#define ERASE_TO_END "\033[J"      /* ED 0: the rest of this row and all below */

enum le_esc {
    ESC_NONE,
    ESC_SEEN,                    /* after ESC */
    ESC_CSI,                     /* after ESC [ : parameters, then a final byte */
    ESC_CSI_ODD,                 /* a CSI with intermediates or private marks */
    ESC_SS3,                     /* after ESC O : one final byte */
};

static void out(const struct lineedit *e, const char *s, int n)
{
    if (n > 0)
        e->out(e->ctx, s, n);
}

static void outs(const struct lineedit *e, const char *s) { out(e, s, (int)strlen(s)); }

/* ESC [ n final, for n > 0. */
static void csi_n(le_out_fn fn, void *ctx, int n, char final)
{
    char buf[16];
    int i = sizeof buf;
    if (n <= 0)
        return;
    buf[--i] = final;
    do
        buf[--i] = (char)('0' + n % 10);
    while ((n /= 10) > 0);
    buf[--i] = '[';
    buf[--i] = KEY_ESC;
    fn(ctx, buf + i, (int)sizeof buf - i);
}

/* From line position from to position to: rows first, then columns. The
 * prompt's length counts, as it shares the first row. */
static void cursor_move(const struct lineedit *e, le_out_fn fn, void *ctx, int from, int to)
{
    int p = (int)strlen(e->prompt);
    int rows = (p + from) / LE_COLUMNS - (p + to) / LE_COLUMNS;
    int cols = (p + from) % LE_COLUMNS - (p + to) % LE_COLUMNS;
    if (rows > 0)
        csi_n(fn, ctx, rows, 'A');
    else
        csi_n(fn, ctx, -rows, 'B');
    if (cols > 0)
        csi_n(fn, ctx, cols, 'D');
    else
        csi_n(fn, ctx, -cols, 'C');
}

/* Position pos ends a row: the prompt and the line up to it fill whole rows. */
static int ends_row(const struct lineedit *e, int pos)
{
    int p = (int)strlen(e->prompt);
    return p + pos > 0 && (p + pos) % LE_COLUMNS == 0;
}

/* The line drawn up to position pos: if that ends a row, CR LF takes the
 * cursor out of the terminal's pending wrap to the next row's start. */
static void drawn_to(const struct lineedit *e, le_out_fn fn, void *ctx, int pos)
{
    if (ends_row(e, pos))
        fn(ctx, "\r\n", 2);
}

static void left(const struct lineedit *e, int n) { cursor_move(e, e->out, e->ctx, e->cur, e->cur - n); }

/* The text from the cursor on changed: draw it, erase what was after it,
 * put the cursor back. */
static void redraw_tail(const struct lineedit *e)
{
    out(e, e->line + e->cur, e->len - e->cur);
    drawn_to(e, e->out, e->ctx, e->len);
    outs(e, ERASE_TO_END);
    cursor_move(e, e->out, e->ctx, e->len, e->cur);
}

static void insert(struct lineedit *e, char c)
{
    if (e->len >= LE_LINE_MAX - 1) {
        e->too_long = 1;             /* keep reading until Enter */
        return;
    }
    memmove(e->line + e->cur + 1, e->line + e->cur, e->len - e->cur);
    e->line[e->cur] = c;
    e->len++;
    out(e, &c, 1);
    e->cur++;
    drawn_to(e, e->out, e->ctx, e->cur);
    if (e->cur < e->len)
        redraw_tail(e);
}

/* Every character erased: nothing is left of a line typed past the end,
 * so what is typed now is refused only if it is too long itself (the
 * screen showed "ps" and Enter said "line too long"). */
static void forget_too_long_if_empty(struct lineedit *e)
{
    if (e->len == 0)
        e->too_long = 0;
}

/* Erase the n characters before the cursor. */
static void erase_before(struct lineedit *e, int n)
{
    if (n <= 0)
        return;
    memmove(e->line + e->cur - n, e->line + e->cur, e->len - e->cur);
    left(e, n);
    e->cur -= n;
    e->len -= n;
    redraw_tail(e);
    forget_too_long_if_empty(e);
}

static void erase_at(struct lineedit *e)
{
    if (e->cur == e->len)
        return;
    memmove(e->line + e->cur, e->line + e->cur + 1, e->len - e->cur - 1);
    e->len--;
    redraw_tail(e);
    forget_too_long_if_empty(e);
}

static void move_to(struct lineedit *e, int pos)
{
    if (pos < e->cur)
        left(e, e->cur - pos);
    else if (pos > e->cur) {
        out(e, e->line + e->cur, pos - e->cur);   /* moving right: draw over */
        drawn_to(e, e->out, e->ctx, pos);
    }
    e->cur = pos;
}

static void erase_word(struct lineedit *e)
{
    int n = e->cur;
    while (n > 0 && e->line[n - 1] == ' ')
        n--;
    while (n > 0 && e->line[n - 1] != ' ')
        n--;
    erase_before(e, e->cur - n);
}

static void set_line(struct lineedit *e, const char *s)
{
    left(e, e->cur);
    outs(e, ERASE_TO_END);
    size_t n = strlen(s);
    if (n > LE_LINE_MAX - 1)
        n = LE_LINE_MAX - 1;
    memcpy(e->line, s, n);
    e->len = e->cur = (int)n;
    out(e, e->line, e->len);
    drawn_to(e, e->out, e->ctx, e->len);
    e->too_long = 0;
}

void le_history_add(struct le_history *h, const char *s)
{
    if (!s[0])
        return;
    int newest = (h->next + LE_HISTORY - 1) % LE_HISTORY;
    if (h->count && strcmp(h->lines[newest], s) == 0)
        return;
    size_t n = strlen(s);
    if (n > LE_LINE_MAX - 1)
        n = LE_LINE_MAX - 1;
    memcpy(h->lines[h->next], s, n);
    h->lines[h->next][n] = 0;
    h->next = (h->next + 1) % LE_HISTORY;
    if (h->count < LE_HISTORY)
        h->count++;
}

static void history_move(struct lineedit *e, int dir)
{
    struct le_history *h = e->hist;
    int pos = e->hist_pos + dir;
    if (!h || pos < 0 || pos > h->count)
        return;
    if (e->hist_pos == 0) {
        memcpy(e->saved, e->line, e->len);
        e->saved[e->len] = 0;
        e->saved_too_long = e->too_long;
    }
    e->hist_pos = pos;
    set_line(e, pos == 0 ? e->saved : h->lines[(h->next + LE_HISTORY - pos) % LE_HISTORY]);
    /* Back to the line being typed: if it was typed past the end, saved
     * holds only its first LE_LINE_MAX-1 bytes, still to be refused. */
    if (pos == 0)
        e->too_long = e->saved_too_long;
}

void le_erase(const struct lineedit *e, le_out_fn fn, void *ctx)
{
    /* Up from the cursor's row to the prompt's, then its start, and all
     * below erased: ESC [ K alone would leave the rows above the
     * cursor's of a line that wraps. */
    csi_n(fn, ctx, ((int)strlen(e->prompt) + e->cur) / LE_COLUMNS, 'A');
    fn(ctx, "\r" ERASE_TO_END, (int)strlen("\r" ERASE_TO_END));
}

void le_redraw(const struct lineedit *e, le_out_fn fn, void *ctx)
{
    fn(ctx, e->prompt, (int)strlen(e->prompt));
    fn(ctx, e->line, e->len);
    drawn_to(e, fn, ctx, e->len);
    cursor_move(e, fn, ctx, e->len, e->cur);
}

static void clear_screen(struct lineedit *e)
{
    outs(e, LE_CLEAR_SCREEN);
    le_redraw(e, e->out, e->ctx);
}

void le_start(struct lineedit *e, const char *prompt, struct le_history *h, le_out_fn fn,
              void *ctx)
{
    memset(e, 0, sizeof *e);
    e->prompt = prompt;
    e->hist = h;
    e->out = fn;
    e->ctx = ctx;
    outs(e, prompt);
}

/* The final byte of ESC [ ... or ESC O: a key, or a sequence we drop. */
static void escape_key(struct lineedit *e, uint8_t final, int csi)
{
    int p = e->nparams ? e->param : 0;
    if (e->nparams > 1)
        final = 0;                   /* modifiers: Ctrl-Left and the like */
    switch (final) {
    case 'A': history_move(e, +1); return;
    case 'B': history_move(e, -1); return;
    case 'C': move_to(e, e->cur < e->len ? e->cur + 1 : e->len); return;
    case 'D': move_to(e, e->cur > 0 ? e->cur - 1 : 0); return;
    case 'H': move_to(e, 0); return;
    case 'F': move_to(e, e->len); return;
    case '~':
        if (csi && (p == 1 || p == 7)) {
            move_to(e, 0);
            return;
        }
        if (csi && (p == 4 || p == 8)) {
            move_to(e, e->len);
            return;
        }
        if (csi && p == 3) {
            erase_at(e);
            return;
        }
        break;
    }
    e->dropped_seqs++;
}

/* Inside an escape sequence: 1 if c belonged to it. */
static int escape_byte(struct lineedit *e, uint8_t c)
{
    if (c < 0x20 || c == KEY_DEL) {  /* cut short: c is handled as typed */
        if (e->esc != ESC_NONE)
            e->dropped_seqs++;
        e->esc = ESC_NONE;
        return 0;
    }
    switch (e->esc) {
    case ESC_SEEN:
        if (c == '[' || c == 'O') {
            e->esc = c == '[' ? ESC_CSI : ESC_SS3;
            e->param = e->nparams = 0;
        } else {
            e->esc = ESC_NONE;       /* Alt-x */
            e->dropped_seqs++;
        }
        return 1;
    case ESC_CSI:
    case ESC_CSI_ODD:
        if (c >= '0' && c <= '9') {
            if (!e->nparams)
                e->nparams = 1;
            if (e->nparams == 1 && e->param <= CSI_PARAM_MAX)
                e->param = e->param * 10 + (c - '0');
            return 1;
        }
        if (c == ';') {
            e->nparams += e->nparams ? 1 : 2;
            return 1;
        }
        if (c >= 0x20 && c <= 0x3F) {
            e->esc = ESC_CSI_ODD;    /* intermediates, private marks (ESC [ ? ...) */
            return 1;
        }
        if (e->esc == ESC_CSI && c >= 0x40 && c <= 0x7E)
            escape_key(e, c, 1);
        else
            e->dropped_seqs++;
        e->esc = ESC_NONE;
        return 1;
    case ESC_SS3:
        escape_key(e, c, 0);
        e->esc = ESC_NONE;
        return 1;
    }
    return 0;
}

enum le_result le_key(struct lineedit *e, uint8_t c)
{
    if (e->esc != ESC_NONE && escape_byte(e, c))
        return LE_MORE;
    switch (c) {
    case '\r':
    case '\n':
        move_to(e, e->len);
        /* A line that ends a row has its CR LF already (drawn_to): a
         * second would leave a blank row under it. */
        if (!ends_row(e, e->len))
            outs(e, "\r\n");
        e->line[e->len] = 0;
        return LE_DONE;
    case KEY_BS:
    case KEY_DEL:
        if (e->cur > 0)
            erase_before(e, 1);
        return LE_MORE;
    case KEY_CTRL('A'): move_to(e, 0); return LE_MORE;
    case KEY_CTRL('E'): move_to(e, e->len); return LE_MORE;
    case KEY_CTRL('K'):
        outs(e, ERASE_TO_END);
        e->len = e->cur;
        forget_too_long_if_empty(e);
        return LE_MORE;
    case KEY_CTRL('L'): clear_screen(e); return LE_MORE;
    case KEY_CTRL('U'):
        move_to(e, e->len);
        erase_before(e, e->len);
        e->too_long = 0;
        return LE_MORE;
    case KEY_CTRL('W'): erase_word(e); return LE_MORE;
    case KEY_ESC: e->esc = ESC_SEEN; return LE_MORE;
    case '\t': c = ' '; break;
    }
    if (c < 0x20 || c > 0x7E) {
        e->dropped_bytes++;
        return LE_MORE;
    }
    insert(e, (char)c);
    return LE_MORE;
}
