/* Seed 002, an asynchronous generator consumed by async comprehensions:
 *
 *     async def mygen(u: int = 10):
 *         """Yield powers of 2."""
 *         i = 0
 *         while i < u:
 *             yield 2 ** i
 *             i += 1
 *             await asyncio.sleep(0.1)
 *
 *     async def main():
 *         # This does *not* introduce concurrent execution
 *         # It is meant to show syntax only
 *         g = [i async for i in mygen()]
 *         f = [j async for j in mygen() if not (j // 3 % 5)]
 *         return g, f
 *
 *     g, f = asyncio.run(main())
 *     # g == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
 *     # f == [1, 2, 16, 32, 256, 512]
 *
 * An async generator is its state plus an anext function that resumes where the last
 * yield left off; anext may await because it runs on the caller's task. Each
 * comprehension sleeps ten times 0.1 s: about 2 s in all. */
#include <stdbool.h>
#include <stdio.h>

#include <acio.h>

struct mygen {
    int u, i;
    bool started; /* false until the first value has been yielded */
};

/* __anext__: 0 and the next power in *out, ACIO_ESTOPASYNCITERATION at the end, or the
 * error of the sleep (-ECANCELED). */
static int mygen_anext(struct mygen *g, long *out)
{
    if (g->started) { /* resume after `yield 2 ** i` */
        g->i += 1;
        int rc = acio_sleep(0.1);
        if (rc < 0)
            return rc;
    }
    if (g->i >= g->u)
        return ACIO_ESTOPASYNCITERATION;
    g->started = true;
    *out = 1L << g->i;
    return 0;
}

struct list {
    long v[10];
    int n;
};

static void print_list(const struct list *l)
{
    printf("[");
    for (int k = 0; k < l->n; k++)
        printf("%s%ld", k ? ", " : "", l->v[k]);
    printf("]\n");
}

static void *main_task(void *arg)
{
    struct list *gf = arg; /* g = gf[0], f = gf[1]: main's return value */
    struct mygen a = {.u = 10}, b = {.u = 10};
    long j;
    int rc;
    while ((rc = mygen_anext(&a, &j)) == 0) /* g = [i async for i in mygen()] */
        gf[0].v[gf[0].n++] = j;
    if (rc != ACIO_ESTOPASYNCITERATION)
        return acio_raise(rc, "mygen failed");
    while ((rc = mygen_anext(&b, &j)) == 0) /* f = [j async for j in mygen() if ...] */
        if (!(j / 3 % 5))
            gf[1].v[gf[1].n++] = j;
    if (rc != ACIO_ESTOPASYNCITERATION)
        return acio_raise(rc, "mygen failed");
    return gf;
}

int main(void)
{
    struct list gf[2] = {{.n = 0}, {.n = 0}};
    int rc = acio_run(main_task, gf, NULL);
    if (rc < 0) {
        fprintf(stderr, "powers: %s\n", acio_strerror(rc));
        return 1;
    }
    print_list(&gf[0]); /* g */
    print_list(&gf[1]); /* f */
    return 0;
}
