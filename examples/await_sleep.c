/* Seed 001 §3.3 example 1, await on asyncio.sleep:
 *
 *     async def func():
 *         print("来玩呀")
 *         response = await asyncio.sleep(2)
 *         print("结束",response)
 *
 *     asyncio.run( func() )
 *
 * asyncio.sleep's result is None: acio_sleep() returns 0 and no value, printed as
 * Python prints None. */
#include <stdio.h>

#include <acio.h>

static void *func(void *arg)
{
    (void)arg;
    printf("来玩呀\n");
    int rc = acio_sleep(2);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("结束 None\n");
    return NULL;
}

int main(void)
{
    int rc = acio_run(func, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "await_sleep: %s\n", acio_strerror(rc));
    return rc < 0;
}
