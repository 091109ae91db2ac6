/* The ELF loader. An image is trusted in nothing: every header field it
 * reads is checked before use, every segment must lie in the user range
 * below the stack's guard page and inside the file, so a bad image is
 * refused with a reason and never makes the kernel fault. */
#include <webscale/errno.h>
#include <webscale/kprintf.h>
#include <webscale/string.h>
#include "kernel/elf.h"
#include "kernel/process.h"

#define EI_NIDENT 16
#define ELFCLASS32 1
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PHNUM_MAX 8          /* our programs have 2 */

struct elf_header {
    uint8_t ident[EI_NIDENT];    /* 0x7F 'E' 'L' 'F', class, data, version */
    uint16_t type, machine;
    uint32_t version, entry, phoff, shoff, flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_phdr {
    uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

static const uint8_t elf_magic[4] = { 0x7F, 'E', 'L', 'F' };

static int refuse(char *why, size_t n, const char *reason)
{
    strlcpy(why, reason, n);
    return -E_NOEXEC;
}

const struct program *program_find(const char *name)
{
    for (uint32_t i = 0; i < programs_count; i++)
        if (strcmp(programs[i].name, name) == 0)
            return &programs[i];
    return NULL;
}

const char *program_name(int i)
{
    return i >= 0 && (uint32_t)i < programs_count ? programs[i].name : NULL;
}

static int check_header(const struct elf_header *h, uint32_t size, char *why, size_t n)
{
    if (size < sizeof *h || memcmp(h->ident, elf_magic, sizeof elf_magic) != 0)
        return refuse(why, n, "not an ELF file (no magic number)");
    if (h->ident[4] != ELFCLASS32 || h->ident[5] != ELFDATA2LSB || h->version != EV_CURRENT)
        return refuse(why, n, "not a 32-bit little-endian ELF, version 1");
    if (h->type != ET_EXEC || h->machine != EM_386)
        return refuse(why, n, "not an i386 executable");
    if (h->phentsize != sizeof(struct elf_phdr) || h->phnum == 0 || h->phnum > PHNUM_MAX)
        return refuse(why, n, "bad program header size or count");
    if (h->phoff > size || (uint32_t)h->phnum * sizeof(struct elf_phdr) > size - h->phoff)
        return refuse(why, n, "program headers outside the file");
    return 0;
}

static int check_segment(const struct elf_phdr *ph, uint32_t size, char *why, size_t n)
{
    if (ph->filesz > ph->memsz || ph->memsz == 0)
        return refuse(why, n, "a segment's file size exceeds its memory size");
    if (ph->offset > size || ph->filesz > size - ph->offset)
        return refuse(why, n, "a segment lies outside the file");
    if (ph->vaddr < USER_BASE || ph->vaddr >= USER_GUARD_LO ||
        ph->memsz > USER_GUARD_LO - ph->vaddr)
        return refuse(why, n, "a segment lies outside the user range");
    return 0;
}

/* Map [vaddr, vaddr + memsz) (pages shared with a segment before stay),
 * copy the file's bytes; the rest stays zero (pages come zeroed). */
static int load_segment(struct process *p, const uint8_t *image, const struct elf_phdr *ph)
{
    for (uint32_t va = PAGE_ROUND_DOWN(ph->vaddr); va < ph->vaddr + ph->memsz; va += PAGE_SIZE) {
        if (vm_translate(p->pgdir, va))
            continue;
        if (p->pages + 1 > p->page_limit)
            return -E_NOMEM;
        int r = vm_map_user(p->pgdir, va, ph->flags & PF_W ? PTE_W : 0, &p->pages);
        if (r < 0)
            return r;
    }
    for (uint32_t done = 0; done < ph->filesz; ) {
        uint32_t va = ph->vaddr + done;
        uint32_t chunk = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (chunk > ph->filesz - done)
            chunk = ph->filesz - done;
        memcpy((void *)vm_translate(p->pgdir, va), image + ph->offset + done, chunk);
        done += chunk;
    }
    return 0;
}

int elf_load(struct process *p, const uint8_t *image, uint32_t size, uint32_t *entry,
             uint32_t *end, char *why, size_t why_size)
{
    const struct elf_header *h = (const struct elf_header *)image;
    int r = check_header(h, size, why, why_size);
    if (r < 0)
        return r;
    const struct elf_phdr *ph = (const struct elf_phdr *)(image + h->phoff);
    int entry_ok = 0;
    uint32_t top = USER_BASE;
    for (int i = 0; i < h->phnum; i++) {
        if (ph[i].type != PT_LOAD)
            continue;
        if ((r = check_segment(&ph[i], size, why, why_size)) < 0)
            return r;
        if ((ph[i].flags & PF_X) && h->entry >= ph[i].vaddr &&
            h->entry < ph[i].vaddr + ph[i].memsz)
            entry_ok = 1;
        if (ph[i].vaddr + ph[i].memsz > top)
            top = ph[i].vaddr + ph[i].memsz;
    }
    if (!entry_ok)
        return refuse(why, why_size, "the entry point is in no executable segment");
    for (int i = 0; i < h->phnum; i++)
        if (ph[i].type == PT_LOAD && (r = load_segment(p, image, &ph[i])) < 0)
            return r;
    *entry = h->entry;
    *end = PAGE_ROUND_UP(top);
    return 0;
}
