/* The shell's line editor, pure: bytes in, terminal output through a
 * callback, no kernel calls, so tests/host/test_lineedit.c runs it on the
 * host. user/shell.c feeds it the console's bytes.
 *
 * Keys (a VT100/xterm sends these [ECMA-48 5.4; xterm's ctlseqs]):
 *   printable          insert at the cursor (Tab inserts a space)
 *   Left, Right        ESC [ D, ESC [ C (or ESC O D/C): move one character
 *   Home, End          ESC [ H / F, ESC [ 1 ~ / 4 ~, ESC [ 7 ~ / 8 ~,
 *                      ESC O H / F, and Ctrl-A / Ctrl-E
 *   Backspace, DEL     erase before the cursor;  Delete (ESC [ 3 ~): at it
 *   Ctrl-K             erase from the cursor to the end
 *   Ctrl-U             erase the line;  Ctrl-W the word before the cursor
 *   Ctrl-L             clear the screen, draw the prompt and line again
 *   Up, Down           walk the history (the line being typed is kept)
 *   Enter (CR or LF)   the line is done
 * Other control bytes, and escape sequences the editor does not know
 * (F1, Alt-x, Ctrl-Left...), are dropped and counted, never inserted. A
 * sequence cut short by a control byte ends there and that byte is handled
 * as typed: swallowing it would eat an Enter. A line longer than
 * LE_LINE_MAX-1 is marked too_long and refused whole by the shell, also
 * after a walk through the history and back; erased to nothing (Ctrl-U,
 * or every character of it) it is forgotten. */
#ifndef USER_LINEEDIT_H
#define USER_LINEEDIT_H

#include <stdint.h>

#define LE_LINE_MAX 256          /* bytes, with the NUL */
#define LE_HISTORY 16            /* lines remembered */
#define LE_COLUMNS 80            /* the terminal's width: where a long line wraps */

typedef void (*le_out_fn)(void *ctx, const char *s, int n);

struct le_history {
    char lines[LE_HISTORY][LE_LINE_MAX];
    int count;                   /* lines stored, at most LE_HISTORY */
    int next;                    /* slot the next line goes to */
};

struct lineedit {
    char line[LE_LINE_MAX];      /* NUL-terminated once le_key says LE_DONE */
    int len, cur;                /* length, and the cursor: 0..len */
    int too_long;                /* typed past the end: refuse at Enter */
    int dropped_bytes;           /* control bytes with no meaning here */
    int dropped_seqs;            /* escape sequences with no meaning here */
    int esc;                     /* enum le_esc */
    int param, nparams;          /* CSI: the first parameter; how many */
    int hist_pos;                /* 0 = the line being typed, k = k-th newest */
    char saved[LE_LINE_MAX];     /* the line being typed, while in history */
    int saved_too_long;          /* and whether it was typed past the end */
    struct le_history *hist;
    const char *prompt;
    le_out_fn out;
    void *ctx;
};

enum le_result { LE_MORE, LE_DONE };

/* A new line: prints the prompt. */
void le_start(struct lineedit *e, const char *prompt, struct le_history *h, le_out_fn out,
              void *ctx);
/* Feed one byte. */
enum le_result le_key(struct lineedit *e, uint8_t c);
/* Erase the prompt and the line from the screen, the cursor left at the
 * start of the prompt's row: a line printed there goes above them. */
void le_erase(const struct lineedit *e, le_out_fn out, void *ctx);
/* Draw the prompt and the line again, the cursor where it was, through
 * out (the shell passes an unlocked writer while it holds the lock). */
void le_redraw(const struct lineedit *e, le_out_fn out, void *ctx);
void le_history_add(struct le_history *h, const char *s);

/* The terminal's clear screen: cursor home, erase all [ECMA-48 CUP, ED]. */
#define LE_CLEAR_SCREEN "\033[H\033[2J"

#endif
