/* Run under Valgrind by tests/valgrind/check.cmake: a future used after its last unref
 * (mode "use") or unref'd twice (mode "double") must be reported as an invalid access,
 * though the object went back to acio's pool rather than to free(). */
#include <stdio.h>
#include <string.h>

#include <acio.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "use";
    acio_loop_t *loop;
    acio_future_t *f;
    if (acio_loop_new(&loop) < 0 || acio_future_new(loop, &f) < 0)
        return 2;
    acio_future_unref(f);
    if (strcmp(mode, "double") == 0)
        acio_future_unref(f); /* the bug under test */
    else
        printf("done=%d\n", acio_future_done(f)); /* the bug under test */
    return acio_loop_close(loop) < 0 ? 3 : 0;
}
