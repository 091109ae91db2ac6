/* The kernel command line from the boot loader: "key=value key2 ...".
 * run=COMMAND must come last: its value is the rest of the line. */
#include <webscale/string.h>
#include <webscale/system.h>
#include "kernel/cmdline.h"

#define CMDLINE_MAX 256
static char cmdline[CMDLINE_MAX];

/* Multiboot loaders (GRUB, QEMU's -kernel) put the kernel's own path
 * first; keep only the arguments, which are all key=value. */
void cmdline_init(const char *s)
{
    if (!s)
        s = "";
    while (*s == ' ')
        s++;
    const char *end = s;
    while (*end && *end != ' ' && *end != '=')
        end++;
    if (*end != '=') {
        s = end;
        while (*s && *s != ' ')
            s++;
        while (*s == ' ')
            s++;
    }
    strlcpy(cmdline, s, sizeof cmdline);
}

const char *kernel_cmdline(void) { return cmdline; }

int kernel_cmdline_get(const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *word = p;
        while (*p && *p != ' ')
            p++;
        size_t wlen = p - word;
        if (wlen >= klen && strncmp(word, key, klen) == 0 &&
            (wlen == klen || word[klen] == '=')) {
            const char *v = wlen == klen ? word + klen : word + klen + 1;
            /* run= takes the rest of the line: it is a shell command. */
            size_t vlen = strcmp(key, "run") == 0 ? strlen(v) : (size_t)(word + wlen - v);
            if (size) {
                size_t n = vlen < size - 1 ? vlen : size - 1;
                memcpy(buf, v, n);
                buf[n] = 0;
            }
            return (int)vlen;
        }
    }
    return -1;
}
