/* exit CODE: ends at once with that exit code (spawn's tests). */
#include "user/ring3/lib/ulib.h"

#define CODE_MAX 1000000               /* a range that fits the console's error line */

int main(int argc, char **argv)
{
    int code = 0;
    if (argc > 1 && parse_int("exit", "CODE", argv[1], -CODE_MAX, CODE_MAX, &code) < 0)
        return 1;
    exit(code);
}
