/* printf-style formatting with no libc: the engine under kprintf and
 * ksnprintf. Supports the flags "-0+ #", width and precision (also "*"),
 * the lengths hh h l ll z j t, and the conversions d i u x X o c s p %.
 * Pure: compiles on the host too, where the tests compare it with libc. */
#ifndef KERNEL_LIB_FORMAT_H
#define KERNEL_LIB_FORMAT_H

#include <stdarg.h>
#include <webscale/kprintf.h>

typedef void (*format_emit_fn)(char c, void *ctx);

/* Calls emit for every output character; returns how many there were. */
int format_v(format_emit_fn emit, void *ctx, const char *fmt, va_list ap);

#endif
