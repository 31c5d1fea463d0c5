/* Seed 003 §2.3, a sleep made of a future and a watcher task that polls the clock once
 * per loop iteration:
 *
 *     async def async_sleep(seconds):
 *         future = asyncio.Future()
 *         time_to_wake = time.time() + seconds
 *         watcher_task = asyncio.create_task(_sleep_watcher(future, time_to_wake))
 *         await future
 *
 *     async def _sleep_watcher(future, time_to_wake):
 *         while time.time() < time_to_wake:
 *             await YieldToEventLoop()
 *         future.set_result(None)
 *
 * YieldToEventLoop (a bare yield) is acio_sleep(0): exactly one loop iteration. The seed
 * uses it in display_date() (display_date.c; 3 s instead of 5 here). It busy-waits on
 * purpose, which is the seed's point: asyncio.sleep's call_later avoids these useless
 * wake-ups. Prints the current time, so there is no expected output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include <acio.h>

static double now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The watcher owns its arguments (malloc'd by async_sleep, freed here) and a reference
 * to the future, so it stays correct even if the sleeper is cancelled and goes away. */
struct watch {
    acio_future_t *future;
    double time_to_wake;
};

static void *sleep_watcher(void *arg)
{
    struct watch *w = arg;
    int rc = 0;
    while (rc == 0 && now() < w->time_to_wake)
        rc = acio_sleep(0); /* await YieldToEventLoop() */
    if (rc == 0)
        acio_future_set_result(w->future, NULL); /* this marks the future as done */
    acio_future_unref(w->future);
    free(w);
    return rc < 0 ? acio_raise(rc, "watcher interrupted") : NULL;
}

static int async_sleep(double seconds)
{
    acio_future_t *future;
    int rc = acio_future_new(acio_get_running_loop(), &future);
    if (rc < 0)
        return rc;
    struct watch *w = malloc(sizeof *w);
    if (w == NULL) {
        acio_future_unref(future);
        return -ENOMEM;
    }
    w->future = acio_future_ref(future);
    w->time_to_wake = now() + seconds;
    /* Add the watcher task to the event loop. out = NULL detaches it: the loop keeps it
     * alive until it ends. */
    rc = acio_create_task(NULL, sleep_watcher, w, "sleep_watcher");
    if (rc < 0) {
        acio_future_unref(w->future);
        free(w);
    } else {
        rc = acio_await(future, NULL); /* block until the future is marked as done */
    }
    acio_future_unref(future);
    return rc;
}

static void print_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s.%06ld\n", buf, (long)tv.tv_usec);
}

static void *display_date(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    double end_time = acio_loop_time(loop) + 3;
    for (;;) {
        print_now();
        if (acio_loop_time(loop) + 1 >= end_time)
            break;
        int rc = async_sleep(1);
        if (rc < 0)
            return acio_raise(rc, "sleep failed");
    }
    return NULL;
}

int main(void)
{
    int rc = acio_run(display_date, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "sleep_watcher: %s\n", acio_strerror(rc));
    return rc < 0;
}
