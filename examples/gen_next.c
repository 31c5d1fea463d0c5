/* Seed 002, calling a generator function returns a generator; next() runs it:
 *
 *     >>> def gen():
 *     ...     yield 0x10, 0x20, 0x30
 *     ...
 *     >>> g = gen()
 *     >>> next(g)
 *     (16, 32, 48)
 *
 * The tuple lives on the generator's own stack: the pointer it yields stays valid while
 * the generator is suspended, because acio never moves a coroutine's stack. */
#include <stdio.h>

#include <acio.h>

static void *gen(void *arg)
{
    (void)arg;
    int tuple[3] = {0x10, 0x20, 0x30};
    acio_coro_yield(tuple);
    return NULL;
}

int main(void)
{
    acio_coro_t *g;
    int rc = acio_coro_new(&g, gen, NULL, 0);
    if (rc < 0) {
        fprintf(stderr, "gen_next: %s\n", acio_strerror(rc));
        return 1;
    }
    void *v;
    rc = acio_coro_resume(g, NULL, &v); /* next(g) */
    if (rc == 0) {
        const int *t = v;
        printf("(%d, %d, %d)\n", t[0], t[1], t[2]);
    } else {
        fprintf(stderr, "gen_next: %s\n", acio_strerror(rc));
    }
    acio_coro_free(g);
    return rc != 0;
}
