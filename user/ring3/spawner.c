/* spawner PROGRAM [ARGS]: spawns a child, waits for it, prints its exit
 * code; also a spawn of a program that does not exist. */
#include "user/ring3/lib/ulib.h"

int main(int argc, char **argv)
{
    char args[SPAWN_ARGS_MAX];
    int len = 0;
    args[0] = 0;
    for (int i = 2; i < argc; i++) {
        for (const char *s = argv[i]; *s && len < (int)sizeof args - 2; s++)
            args[len++] = *s;
        args[len++] = ' ';
        args[len] = 0;
    }
    int code = 0;
    printf("spawner: spawn('nosuch') = %d (%s)\n", spawn("nosuch", ""), strerror(spawn("nosuch", "")));
    int r = spawn_wait(argc > 1 ? argv[1] : "hello", args, &code);
    if (r < 0) {
        printf("spawner: %s\n", strerror(r));
        return 1;
    }
    printf("spawner: child exited with code %d\n", code);
    return 0;
}
