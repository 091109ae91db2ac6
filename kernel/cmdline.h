/* The kernel command line, boot side (reading it: <webscale/system.h>). */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

/* Keep a copy: the loader's memory becomes heap. */
void cmdline_init(const char *s);

#endif
