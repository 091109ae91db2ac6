/* Error codes returned (negated) by kernel calls: 0 or more is success. */
#ifndef WEBSCALE_ERRNO_H
#define WEBSCALE_ERRNO_H

#define E_NOMEM      12   /* out of memory */
#define E_INVAL      22   /* bad argument */
#define E_WOULDBLOCK 11   /* a non-blocking call could not proceed now */
#define E_TIMEDOUT  110
#define E_INTR        4   /* interrupted (Ctrl-C) */
#define E_NOENT       2   /* no such thing */
#define E_BUSY       16
#define E_FAULT      14   /* a pointer that is not the caller's memory */
#define E_NOSYS      38   /* no such system call */
#define E_NOEXEC      8   /* not a program this kernel can run */
#define E_CHILD      10   /* no such child to wait for */
#define E_PERM        1   /* not allowed (a background job reading the console) */
#define E_CONNRESET 104   /* the connection was reset (RST, or retransmissions gave up) */

const char *ws_strerror(int err);   /* accepts err or -err */

#endif
