/* Formatted output to the console, and into buffers. */
#ifndef WEBSCALE_KPRINTF_H
#define WEBSCALE_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Formats into a line buffer and writes it to the console in one piece.
 * From a thread it may sleep while the serial output ring is full; with
 * interrupts off (IRQ handlers, panics) it writes straight to the UART. */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
