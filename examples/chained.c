/* Seed 002 "chained.py": coroutines that await one another in a chain (part1, then part2
 * with part1's result), three chains run concurrently by gather.
 *
 *     async def part1(n: int) -> str:
 *         i = random.randint(0, 10)
 *         print(f"part1 ({n}) sleep for {i} seconds.")
 *         await asyncio.sleep(i)
 *         result = f"result{n} - 1"
 *         print(f"Returning part1 ({1}) == {result}")
 *         return result
 *
 *     async def part2(n: int, arg: str) -> str:
 *         i = random.randint(0, 10)
 *         print(f"part2 {n,arg} sleeping for {i} seconds.")
 *         await asyncio.sleep(i)
 *         result = f"result {n} -2 derived from {arg}"
 *         print(f"Returning part2 {n, arg} == {result}")
 *         return result
 *
 *     async def chain(n: int) -> None:
 *         start = time.perf_counter()
 *         p1 = await part1(n)
 *         p2 = await part2(n, p1)
 *         end = time.perf_counter() - start
 *         print(f"-->Chained result {n} => {p2} (took {end:0.5f} seconds).")
 *
 *     async def main(*args):
 *         await asyncio.gather(*(chain(n) for n in args))
 *
 *     random.seed(666)
 *     args = [1, 2, 3] if len(sys.argv) == 1 else map(int, sys.argv[1:])
 *     start = time.perf_counter()
 *     asyncio.run(main(*args))
 *     end = time.perf_counter() - start
 *     print(f"Program finished in {end: 0.5f} seconds.")
 *
 * The seed's `import sayncio` is a typo that stops it from running; this is the program
 * with `import asyncio`. Its quirks are kept: part1 prints "({1})", the literal 1, and
 * part2 prints the tuple (n, arg). Random numbers are Python's (pyrandom.h, seeded as
 * random.seed(666) seeds it) and are drawn in the same order, so the lines are the
 * same as Python's. Each "second" sleeps a tenth of a second (about 1.4 s in all instead
 * of 14 s). The durations printed are the seconds the program is meant to take (the sum
 * of a chain's draws, and the longest chain), so the output does not depend on the
 * machine's load; the measured times go to stderr. Usage: chained [n ...] (default 1 2 3). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <acio.h>

#include "pyrandom.h"

/* One second of the seed's. */
#define SECOND 0.1

typedef struct {
    int n;
    int slept; /* the seconds this chain's two parts slept */
    char p1[64], p2[160];
} chain_t;

static int part1(chain_t *c)
{
    int i = pyrandom_randint(0, 10);
    printf("part1 (%d) sleep for %d seconds.\n", c->n, i);
    int rc = acio_sleep(i * SECOND);
    if (rc < 0)
        return rc;
    c->slept += i;
    snprintf(c->p1, sizeof c->p1, "result%d - 1", c->n);
    printf("Returning part1 (%d) == %s\n", 1, c->p1);
    return 0;
}

static int part2(chain_t *c)
{
    int i = pyrandom_randint(0, 10);
    printf("part2 (%d, '%s') sleeping for %d seconds.\n", c->n, c->p1, i);
    int rc = acio_sleep(i * SECOND);
    if (rc < 0)
        return rc;
    c->slept += i;
    snprintf(c->p2, sizeof c->p2, "result %d -2 derived from %s", c->n, c->p1);
    printf("Returning part2 (%d, '%s') == %s\n", c->n, c->p1, c->p2);
    return 0;
}

static void *chain(void *arg)
{
    chain_t *c = arg;
    acio_loop_t *loop = acio_get_running_loop();
    double start = acio_loop_time(loop);
    int rc = part1(c); /* await part1(n): a plain call */
    if (rc == 0)
        rc = part2(c);
    if (rc < 0)
        return acio_raise(rc, "chain %d: sleep failed", c->n);
    double end = acio_loop_time(loop) - start;
    printf("-->Chained result %d => %s (took %d seconds).\n", c->n, c->p2, c->slept);
    fprintf(stderr, "chain %d measured: %.5f s\n", c->n, end);
    return NULL;
}

typedef struct {
    chain_t *chains;
    size_t n;
} main_args_t;

static void *main_task(void *arg)
{
    const main_args_t *m = arg;
    acio_call_t *calls = calloc(m->n, sizeof *calls);
    if (!calls)
        return acio_raise(-ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++)
        calls[i] = (acio_call_t){chain, &m->chains[i], NULL};
    acio_future_t *g;
    int rc = acio_gather_calls(&g, calls, m->n, NULL, 0, NULL, NULL, NULL);
    free(calls);
    if (rc < 0)
        return acio_raise(rc, "gather failed");
    rc = acio_await(g, NULL);
    acio_future_unref(g);
    return rc < 0 ? acio_raise(rc, "a chain failed") : NULL;
}

int main(int argc, char **argv)
{
    pyrandom_seed(666);
    static const int defaults[] = {1, 2, 3};
    size_t n = argc > 1 ? (size_t)(argc - 1) : 3;
    chain_t *chains = calloc(n, sizeof *chains);
    if (!chains)
        return 1;
    for (size_t i = 0; i < n; i++)
        chains[i].n = argc > 1 ? atoi(argv[i + 1]) : defaults[i];
    main_args_t m = {chains, n};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *message = NULL;
    int rc = acio_run_ex(main_task, &m, NULL, &message);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc < 0) {
        fprintf(stderr, "chained: %s: %s\n", acio_strerror(rc), message ? message : "");
        free(message);
        free(chains);
        return 1;
    }
    int longest = 0;
    for (size_t i = 0; i < n; i++)
        longest = chains[i].slept > longest ? chains[i].slept : longest;
    printf("Program finished in %d seconds.\n", longest);
    fprintf(stderr, "program measured: %.5f s\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    free(chains);
    return 0;
}
