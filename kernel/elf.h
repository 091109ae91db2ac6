/* The programs embedded in the kernel, and the ELF loader that puts one
 * into a process's address space. [System V ABI, "Object Files" (ELF),
 * and its Intel386 supplement] */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stddef.h>
#include <stdint.h>

struct process;

/* One of the images built from user/ring3/ (build/ring3/programs.S,
 * written by tools/mkprograms.py). */
struct program {
    const char *name;
    const uint8_t *image;
    uint32_t size;
};

extern const struct program programs[];
extern const uint32_t programs_count;

const struct program *program_find(const char *name);

/* Check image's headers and segments against the user range, then map
 * and fill the segments in p's address space (pages counted in p->pages,
 * at most p->page_limit). *entry is the entry point, *end the first byte
 * after the highest segment, page-aligned (where the heap starts).
 * Returns 0; -E_NOEXEC with the reason in why; -E_NOMEM. */
int elf_load(struct process *p, const uint8_t *image, uint32_t size, uint32_t *entry,
             uint32_t *end, char *why, size_t why_size);

#endif
