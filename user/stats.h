/* httpd's figures for people and programs: GET /stats.json (every field
 * and its unit: user/web/stats-json.md) and the same figures as text in
 * the dashboard's page for a browser without JavaScript. Built from the
 * kernel's public statistics calls into a caller's bounded buffer
 * (user/outbuf.h): a page that does not fit says so (the buffer's full
 * flag) and is answered 500, never cut. */
#ifndef USER_STATS_H
#define USER_STATS_H

#include "user/outbuf.h"

#define STATS_VERSION 1               /* bump when a field changes meaning or goes */
#define STATS_JSON_MAX 49152          /* bytes: the largest /stats.json answered */
#define STATS_THREADS_MAX 64          /* threads listed; threads_total counts them all */
#define STATS_TRACE_WINDOW_MS 200     /* the timeline: the last 200 ms of switches ... */
#define STATS_TRACE_MAX 512           /* ... at most this many of them, the newest */
#define STATS_SLOWEST 5               /* the loop's slowest callbacks listed */

/* The figures as JSON. 0, or -E_NOMEM when there is no heap for the
 * snapshots (about 24 KiB, freed before it returns); b->full when the
 * text did not fit. */
int stats_json(struct outbuf *b);

/* The same figures as lines of text, HTML-escaped, for the page's
 * fallback: since boot (a page without JavaScript cannot take two
 * samples). 0 or -E_NOMEM as stats_json. */
int stats_text(struct outbuf *b);

#endif
