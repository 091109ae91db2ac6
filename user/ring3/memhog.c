/* memhog: grows its heap a page at a time until the kernel says no
 * (-E_NOMEM: the process's page limit), touches every page, exits 0. */
#include "user/ring3/lib/ulib.h"

#define PAGE 4096

int main(int argc, char **argv)
{
    int pages = 0;
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
