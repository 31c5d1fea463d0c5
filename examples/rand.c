/* Seed 002 "rand.py": three coroutines draw random numbers until one is above their
 * threshold, sleeping between tries; gather runs them concurrently.
 *
 *     c = ("\033[0m", "\033[36m", "\033[91m", "\033[35m")   # reset, cyan, red, magenta
 *
 *     async def makerandom(idx: int, threshold: int = 6) -> int:
 *         print(c[idx + 1] + f"Inititaed makerandom ({idx}).")
 *         i = random.randint(0, 10)
 *         while i <= threshold:
 *             print(c[idx + 1] + f"makerandom ({idx}) == {i} too low; retrying.")
 *             await asyncio.sleep(idx + 1)
 *             i = random.randint(0, 10)
 *         print(c[idx + 1] + f"---->Finished: makerandom ({idx}) == {i}" + c[0])
 *
 *     async def main():
 *         res = await asyncio.gather(*(makerandom(i, 10 - i - 1) for i in range(3)))
 *         return res
 *
 *     random.seed(666)
 *     r1, r2, r3 = asyncio.run(main())
 *     print()
 *     print(f"r1: {r1} r2:{r2} r3:{r3}")
 *
 * The random numbers are Python's (pyrandom.h: the same Mersenne Twister, seeded as
 * random.seed(666) seeds it), and the three coroutines draw them in the same order, so
 * this prints exactly what the seed's program prints, colour codes included. The seed's
 * makerandom has no return statement, so r1, r2 and r3 are None, as printed. The sleeps
 * are a tenth of the seed's (idx + 1 tenths of a second: about 1.1 s in all instead of
 * 11 s); only their ratios decide the order of the lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

#include "pyrandom.h"

static const char *const c[] = {"\033[0m", "\033[36m", "\033[91m", "\033[35m"};

typedef struct {
    int idx;
    int threshold;
} makerandom_args_t;

static void *makerandom(void *arg)
{
    const makerandom_args_t *a = arg;
    int idx = a->idx;
    printf("%sInititaed makerandom (%d).\n", c[idx + 1], idx);
    int i = pyrandom_randint(0, 10);
    while (i <= a->threshold) {
        printf("%smakerandom (%d) == %d too low; retrying.\n", c[idx + 1], idx, i);
        int rc = acio_sleep((idx + 1) * 0.1);
        if (rc < 0)
            return acio_raise(rc, "sleep failed");
        i = pyrandom_randint(0, 10);
    }
    printf("%s---->Finished: makerandom (%d) == %d%s\n", c[idx + 1], idx, i, c[0]);
    return NULL; /* no return statement in the seed: None */
}

/* How print() shows a result: makerandom returns None, the only value it can return. */
static const char *none_or_value(const void *r)
{
    return r ? "(a value)" : "None";
}

static void *main_task(void *arg)
{
    void **res = arg;
    static makerandom_args_t args[3];
    acio_call_t calls[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (makerandom_args_t){i, 10 - i - 1};
        calls[i] = (acio_call_t){makerandom, &args[i], NULL};
    }
    acio_future_t *g;
    int rc = acio_gather_calls(&g, calls, 3, NULL, 0, res, NULL, NULL);
    if (rc < 0)
        return acio_raise(rc, "gather failed");
    rc = acio_await(g, NULL);
    acio_future_unref(g);
    if (rc < 0)
        return acio_raise(rc, "a makerandom task failed");
    return res;
}

int main(void)
{
    pyrandom_seed(666);
    void *r[3] = {NULL, NULL, NULL};
    char *message = NULL;
    int rc = acio_run_ex(main_task, r, NULL, &message);
    if (rc < 0) {
        fprintf(stderr, "rand: %s: %s\n", acio_strerror(rc), message ? message : "");
        free(message);
        return 1;
    }
    printf("\n");
    printf("r1: %s r2:%s r3:%s\n", none_or_value(r[0]), none_or_value(r[1]), none_or_value(r[2]));
    return 0;
}
