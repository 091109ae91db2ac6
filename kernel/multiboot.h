/* The part of the multiboot information structure we read.
 * [Multiboot Specification 0.6.96, 3.3 "Boot information format"] */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
#define MULTIBOOT_INFO_MEMORY  (1u << 0)
#define MULTIBOOT_INFO_CMDLINE (1u << 2)
#define MULTIBOOT_INFO_LOADER  (1u << 9)

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower;      /* KiB below 1 MiB */
    uint32_t mem_upper;      /* KiB above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;        /* physical address of a C string */
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
};

#endif
