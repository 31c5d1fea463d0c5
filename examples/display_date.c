/* Seed 003 §2.3, a coroutine that prints the date every second:
 *
 *     async def display_date():
 *         loop = asyncio.get_running_loop()
 *         end_time = loop.time() + 5
 *         while True:
 *             print(datetime.datetime.now())
 *             if loop.time() + 1 >= end_time:
 *                 break
 *             await asyncio.sleep(1)
 *
 *     asyncio.run(display_date())
 *
 * The seed runs for 5 s; this port stops after 3 s (end_time = time + 3) to keep the
 * demo short. Its output is the current time, so it has no expected-output file. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include <acio.h>

/* print(datetime.datetime.now()): "2025-11-30 11:14:50.123456". */
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
        int rc = acio_sleep(1);
        if (rc < 0)
            return acio_raise(rc, "sleep failed");
    }
    return NULL;
}

int main(void)
{
    int rc = acio_run(display_date, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "display_date: %s\n", acio_strerror(rc));
    return rc < 0;
}
