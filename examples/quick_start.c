/* Seed 001 §3.2, the smallest asyncio program:
 *
 *     async def func():
 *         print("快来搞我吧!")
 *
 *     result = func()
 *     asyncio.run( result )
 *
 * A coroutine function does nothing until a loop runs it: acio_run() creates the loop,
 * runs func as the main task and closes the loop. */
#include <stdio.h>

#include <acio.h>

static void *func(void *arg)
{
    (void)arg;
    printf("快来搞我吧!\n");
    return NULL;
}

int main(void)
{
    int rc = acio_run(func, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "quick_start: %s\n", acio_strerror(rc));
    return rc < 0;
}
