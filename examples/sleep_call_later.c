/* Seed 003 §2.3, asyncio.sleep() built from a future and loop.call_later():
 *
 *     async def sleep(seconds):
 *         loop = asyncio.get_running_loop()
 *         future = loop.create_future()
 *         loop.call_later(seconds, asyncio.Future.set_result, future, None)
 *         await future
 *
 * used by the seed's display_date() in place of asyncio.sleep (display_date.c; 3 s
 * instead of the seed's 5, to keep the demo short). Like the real asyncio.sleep, the
 * timer is cancelled once the await is over, so a cancelled sleep leaves no callback
 * pointing at a freed future. Prints the current time, so there is no expected output. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include <acio.h>

static void set_result(void *data)
{
    /* If the sleeping task was cancelled, the future is already done: set_result then
     * fails with ACIO_EINVALSTATE and nothing happens (asyncio's
     * _set_result_unless_cancelled). */
    acio_future_set_result(data, NULL);
}

static int my_sleep(double seconds)
{
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *future;
    int rc = acio_future_new(loop, &future);
    if (rc < 0)
        return rc;
    acio_handle_t *h;
    rc = acio_loop_call_later(loop, seconds, set_result, future, &h);
    if (rc == 0) {
        rc = acio_await(future, NULL);
        acio_handle_cancel(h); /* finally: h.cancel() */
        acio_handle_unref(h);
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
        int rc = my_sleep(1);
        if (rc < 0)
            return acio_raise(rc, "sleep failed");
    }
    return NULL;
}

int main(void)
{
    int rc = acio_run(display_date, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "sleep_call_later: %s\n", acio_strerror(rc));
    return rc < 0;
}
