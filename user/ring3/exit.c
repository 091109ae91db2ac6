/* exit CODE: ends at once with that exit code (spawn's tests). */
#include "user/ring3/lib/ulib.h"

int main(int argc, char **argv)
{
    exit(argc > 1 ? atoi(argv[1]) : 0);
}
