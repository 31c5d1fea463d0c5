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
 *         g = [i async for i in mygen()]
 *         f = [j async for j in mygen() if not (j // 3 % 5)]
 *         return g, f
 *
 *     g, f = asyncio.run(main())
 *     # g == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
 *     # f == [1, 2, 16, 32, 256, 512]
 *
 * Written with acio's async generators: the body is an ordinary C loop that hands each
 * value over with acio_agen_yield() and awaits between values; ACIO_AFOR is the
 * `async for` of the comprehensions. Each comprehension sleeps ten times 0.1 s: about
 * 2 s in all. */
#include <stdio.h>

#include <acio.h>

/* The generator body; arg is u. Values travel as integers in the void pointer. */
static int mygen(acio_agen_t *gen, void *arg)
{
    long u = (long)(intptr_t)arg;
    long i = 0;
    while (i < u) {
        int rc = acio_agen_yield(gen, (void *)(intptr_t)(1L << i), NULL);
        if (rc < 0)
            return rc == ACIO_EGENERATOREXIT ? 0 : rc; /* closed early */
        i += 1;
        if ((rc = acio_sleep(0.1)) < 0)
            return rc;
    }
    return 0;
}

typedef struct {
    long v[16];
    int n;
} list_t;

/* [x async for x in mygen() if keep(x)] */
static int comprehension(list_t *out, int (*keep)(long))
{
    acio_agen_t *gen;
    void *x;
    int rc = acio_agen_new(&gen, mygen, (void *)(intptr_t)10, 0);
    if (rc < 0)
        return rc;
    ACIO_AFOR(rc, acio_agen_aiter(gen), x)
    if (keep == NULL || keep((long)(intptr_t)x))
        out->v[out->n++] = (long)(intptr_t)x;
    acio_agen_free(gen);
    return acio_afor_failed(rc) ? rc : 0;
}

static int filter(long j)
{
    return !(j / 3 % 5);
}

static void print_list(const list_t *l)
{
    printf("[");
    for (int k = 0; k < l->n; k++)
        printf("%s%ld", k ? ", " : "", l->v[k]);
    printf("]\n");
}

static void *main_task(void *arg)
{
    list_t *gf = arg; /* main's return value: g = gf[0], f = gf[1] */
    int rc;
    if ((rc = comprehension(&gf[0], NULL)) < 0 || (rc = comprehension(&gf[1], filter)) < 0)
        return acio_raise(rc, "mygen failed");
    return gf;
}

int main(void)
{
    list_t gf[2] = {{.n = 0}, {.n = 0}};
    int rc = acio_run(main_task, gf, NULL);
    if (rc < 0) {
        fprintf(stderr, "mygen: %s\n", acio_strerror(rc));
        return 1;
    }
    print_list(&gf[0]);
    print_list(&gf[1]);
    return 0;
}
