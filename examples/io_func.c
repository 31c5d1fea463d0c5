/* Seed 004 §2.3, awaiting a coroutine that returns nothing, twice:
 *
 *     async def io_func():
 *         print("start io block")
 *         await asyncio.sleep(2)
 *         print("end io block")
 *
 *     async def foo():
 *         print("Fuck me on github")
 *         ret1 = await io_func()
 *         print(ret1)
 *         ret2 = await io_func()
 *         print(ret2)
 *
 *     ret = foo()
 *     asyncio.run(ret)
 *
 * A coroutine without a return statement returns None; printed as None here.
 * About 4 s, as in the seed. */
#include <stdio.h>

#include <acio.h>

/* A coroutine whose Python result is None and that can fail: in C it returns just the
 * error code (0 or negative), and its caller prints None on success. */
static int io_func(void)
{
    printf("start io block\n");
    int rc = acio_sleep(2);
    if (rc < 0)
        return rc;
    printf("end io block\n");
    return 0;
}

static void *foo(void *arg)
{
    (void)arg;
    printf("Fuck me on github\n");
    int rc = io_func(); /* ret1 = await io_func() */
    if (rc < 0)
        return acio_raise(rc, "io_func failed");
    printf("None\n");
    rc = io_func(); /* ret2 = await io_func() */
    if (rc < 0)
        return acio_raise(rc, "io_func failed");
    printf("None\n");
    return NULL;
}

int main(void)
{
    int rc = acio_run(foo, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "io_func: %s\n", acio_strerror(rc));
    return rc < 0;
}
