/* Seed 001 §3.5 example 2, a future finished by another task:
 *
 *     async def set_after(fut):
 *         await asyncio.sleep(2)
 *         fut.set_result("666")
 *
 *     async def main():
 *         loop = asyncio.get_running_loop()
 *         fut = loop.create_future()
 *         await loop.create_task(  set_after(fut) )
 *         data = await fut
 *         print(data)
 *
 *     asyncio.run( main() )
 *
 * main owns the future (acio_future_new gives it the one reference) and lends it to the
 * set_after task, which cannot outlive main's await of it. */
#include <stdio.h>

#include <acio.h>

static void *set_after(void *arg)
{
    acio_future_t *fut = arg;
    int rc = acio_sleep(2);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    rc = acio_future_set_result(fut, "666");
    if (rc < 0)
        return acio_raise(rc, "set_result failed");
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *fut;
    int rc = acio_future_new(loop, &fut);
    if (rc < 0)
        return acio_raise(rc, "create_future failed");
    acio_task_t *t;
    rc = acio_loop_create_task(loop, &t, set_after, fut, NULL);
    if (rc == 0) {
        rc = acio_await(t, NULL);
        acio_future_unref(t);
    }
    void *data = NULL;
    if (rc == 0)
        rc = acio_await(fut, &data);
    acio_future_unref(fut);
    if (rc < 0)
        return acio_raise(rc, "waiting for the future failed");
    printf("%s\n", (const char *)data);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "set_after: %s\n", acio_strerror(rc));
    return rc < 0;
}
