/* Seed 002 "asyncio.create_task", awaiting a task and inspecting it afterwards:
 *
 *     async def coro(seq) -> list:
 *         """'IO' wait time is proportional to the max element."""
 *         await asyncio.sleep(max(seq))
 *         return list(reversed(seq))
 *
 *     async def main():
 *         t = asyncio.create_task(coro([3, 2, 1]))
 *         await t
 *         print(f't: type {type(t)}')
 *         print(f't done: {t.done()}')
 *
 *     t = asyncio.run(main())
 *
 * The type line is printed as Python prints it when acio_is_task() says t is a task.
 * Sleeps 3 s, as in the seed. */
#include <stdio.h>

#include <acio.h>

struct seq {
    int v[3];
};

static void *coro(void *arg)
{
    struct seq *s = arg;
    int max = s->v[0];
    for (int i = 1; i < 3; i++)
        if (s->v[i] > max)
            max = s->v[i];
    int rc = acio_sleep(max);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    for (int i = 0; i < 3 / 2; i++) { /* list(reversed(seq)), in place */
        int tmp = s->v[i];
        s->v[i] = s->v[2 - i];
        s->v[2 - i] = tmp;
    }
    return s;
}

static void *main_task(void *arg)
{
    (void)arg;
    struct seq seq = {{3, 2, 1}};
    acio_task_t *t;
    int rc = acio_create_task(&t, coro, &seq, NULL);
    if (rc < 0)
        return acio_raise(rc, "create_task failed");
    rc = acio_await(t, NULL);
    if (rc == 0) {
        printf("t: type %s\n", acio_is_task(t) ? "<class '_asyncio.Task'>" : "<future>");
        printf("t done: %s\n", acio_future_done(t) ? "True" : "False");
    }
    acio_future_unref(t);
    return rc < 0 ? acio_raise(rc, "coro failed") : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "create_task_done: %s\n", acio_strerror(rc));
    return rc < 0;
}
