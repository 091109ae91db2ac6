/* hello [WORDS...]: the smallest ring-3 program: who it is, what it got. */
#include "user/ring3/lib/ulib.h"

int main(int argc, char **argv)
{
    printf("hello from ring 3: pid %d, %d argument%s", getpid(), argc - 1, argc == 2 ? "" : "s");
    for (int i = 1; i < argc; i++)
        printf(" '%s'", argv[i]);
    printf("\n");
    return 0;
}
