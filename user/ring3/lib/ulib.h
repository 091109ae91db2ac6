/* The ring-3 runtime: a system call stub for each call of
 * <webscale/syscall.h>, printf over write, and a few string helpers.
 * Programs include only this (and what it includes). */
#ifndef USER_RING3_ULIB_H
#define USER_RING3_ULIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <webscale/errno.h>
#include <webscale/string.h>
#include <webscale/syscall.h>

void exit(int code) __attribute__((noreturn));
int write(const void *buf, size_t len, int flags);
int read(void *buf, size_t len, int flags);
int sleep_ms(uint32_t ms);
int yield(void);
int getpid(void);
uint64_t clock_ns(void);
int spawn(const char *name, const char *args);
int wait(int pid, int *code);
/* spawn, then wait: the child's exit code, or the error (< 0) of either. */
int spawn_wait(const char *name, const char *args, int *code);
int wait_events(int mask, uint32_t timeout_ms);
int timer_set(uint32_t ms, uint32_t period_ms);
/* Another thread of this process runs fn(arg) on a stack of its own; when
 * fn returns it ends (thread_exit). Its thread id, or -E_NOMEM. */
int thread_create(void (*fn)(void *), void *arg);
void thread_exit(void) __attribute__((noreturn));
void *sbrk(int32_t increment);     /* (void *)-1 and errno-style code in sbrk_error */
extern int sbrk_error;
/* Any system call by number, for the tests of unknown numbers. */
int syscall3(int n, uint32_t a, uint32_t b, uint32_t c);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int puts(const char *s);               /* with a newline */
/* An argument that must be a whole number from lo to hi (a '-' allowed
 * when lo < 0): 0 and *v set, or the error printed in the kernel shell's
 * words ("PROG: WHAT must be a whole number from LO to HI, not 'S'") and
 * -1, for the program to exit non-zero. */
int parse_int(const char *prog, const char *what, const char *s, int lo, int hi, int *v);
const char *strerror(int err);         /* accepts err or -err */

#endif
