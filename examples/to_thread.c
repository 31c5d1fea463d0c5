/* Seed 003's to_thread row, `await asyncio.to_thread(blocking_io, arg1, arg2)`, made a
 * runnable program (checked against this Python):
 *
 *     def blocking_io(arg1, arg2):
 *         time.sleep(0.2)
 *         return f"{arg1}+{arg2}"
 *
 *     async def main():
 *         print("started main")
 *         r = await asyncio.to_thread(blocking_io, "arg1", "arg2")
 *         print("blocking_io returned", r)
 *         results = await asyncio.gather(
 *             *(asyncio.to_thread(blocking_io, i, i * i) for i in range(3)))
 *         print(results)
 *         print("finished main")
 *
 *     asyncio.run(main())
 *
 * C has no *args: the arguments travel in a struct. The three concurrent calls take
 * about 0.2 s together, not 0.6 s (the elapsed time goes to stderr). gather() of three
 * to_thread coroutines becomes three tasks awaited in order. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <acio.h>

typedef struct {
    char arg1[16], arg2[16];
    char result[40];
} io_args_t;

static void *blocking_io(void *arg, acio_job_t *job)
{
    (void)job;
    io_args_t *a = arg;
    struct timespec d = {0, 200 * 1000 * 1000};
    nanosleep(&d, NULL);
    snprintf(a->result, sizeof a->result, "%s+%s", a->arg1, a->arg2);
    return a->result;
}

static void *call_blocking_io(void *arg)
{
    void *r;
    int rc = acio_to_thread(blocking_io, arg, &r);
    return rc < 0 ? acio_raise(rc, "to_thread") : r;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *main_task(void *arg)
{
    (void)arg;
    printf("started main\n");
    io_args_t one = {"arg1", "arg2", ""};
    char *r;
    int rc = acio_to_thread(blocking_io, &one, (void **)&r);
    if (rc < 0)
        return acio_raise(rc, "to_thread");
    printf("blocking_io returned %s\n", r);

    io_args_t three[3];
    acio_task_t *tasks[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        snprintf(three[i].arg1, sizeof three[i].arg1, "%d", i);
        snprintf(three[i].arg2, sizeof three[i].arg2, "%d", i * i);
    }
    double t0 = now();
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_create_task(&tasks[i], call_blocking_io, &three[i], NULL);
    char *results[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_await(tasks[i], (void **)&results[i]);
    for (int i = 0; i < 3; i++)
        acio_future_unref(tasks[i]);
    if (rc < 0)
        return acio_raise(rc, "gather");
    printf("['%s', '%s', '%s']\n", results[0], results[1], results[2]);
    fprintf(stderr, "three concurrent calls took %.2f s\n", now() - t0);
    printf("finished main\n");
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "to_thread: %s\n", acio_strerror(rc));
    return rc < 0;
}
