/* Kernel heap internals (the public side is webscale/system.h). */
#ifndef KERNEL_MEM_H
#define KERNEL_MEM_H

#include <stdint.h>

void mem_init(uint32_t mem_top);
/* A page-aligned page of heap memory for a kernel stack, NULL when the
 * heap has none; and back. */
void *kpage_alloc(void);
void kpage_free(void *page);
/* Walk the heap and check every tag: 0 when consistent. */
int mem_check(void);

#endif
