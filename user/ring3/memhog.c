/* memhog: grows its heap a page at a time until the kernel says no
 * (-E_NOMEM: the process's page limit), touches every page (each first
 * touch a page fault that maps it), exits 0. First a page it has not
 * touched is handed to a system call: the kernel maps it too, so a
 * non-blocking read says "would block", not -E_FAULT. */
#include "user/ring3/lib/ulib.h"

#define PAGE 4096

int main(int argc, char **argv)
{
    int pages = 0;
    char *untouched = sbrk(PAGE);
    if (untouched == (void *)-1 || read(untouched, 16, IO_NONBLOCK) != -E_WOULDBLOCK) {
        printf("memhog: a fresh heap page refused by read()\n");
        return 1;
    }
    pages++;
    for (;;) {
        char *p = sbrk(PAGE);
        if (p == (void *)-1)
            break;
        for (int i = 0; i < PAGE; i += 512)
            p[i] = (char)i;
        pages++;
    }
    printf("memhog: %d heap pages, then sbrk: %s\n", pages, strerror(sbrk_error));
    return sbrk_error == -E_NOMEM ? 0 : 1;
}
