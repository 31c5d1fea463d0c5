/* Seed 003 §1.1, the asyncio "Hello World":
 *
 *     async def hello():
 *         print('Hello ...')
 *         await asyncio.sleep(1)
 *         print('... World!')
 *
 *     asyncio.run(hello())
 *
 * A coroutine function is a plain C function run on its own stack by a task; awaiting
 * asyncio.sleep becomes acio_sleep(), which suspends only this task. */
#include <stdio.h>

#include <acio.h>

static void *hello(void *arg)
{
    (void)arg;
    printf("Hello ...\n");
    int rc = acio_sleep(1);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("... World!\n");
    return NULL;
}

int main(void)
{
    int rc = acio_run(hello, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "hello: %s\n", acio_strerror(rc));
    return rc < 0;
}
