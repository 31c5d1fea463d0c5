/* Seed 003 §2.3, the simplest hand-made sleep: an awaitable that gives control back to
 * the loop on every iteration until the wake-up time has passed:
 *
 *     class AsyncSleep:
 *         def __init__(self, seconds):
 *             self.seconds = seconds
 *
 *         def __await__(self):
 *             time_to_wake = time.time() + self.seconds
 *             while time.time() < time_to_wake:
 *                 yield
 *
 * (the seed's async_sleep() without a future is the same loop written with
 * `await YieldToEventLoop()`). A bare yield to the loop is acio_sleep(0): exactly one
 * iteration. Used by the seed's display_date() (display_date.c; 3 s instead of 5 here).
 * It keeps the CPU busy, which is the seed's point. Prints the current time, so there
 * is no expected output. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include <acio.h>

static double now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* await AsyncSleep(seconds): 0, or -ECANCELED. */
static int async_sleep(double seconds)
{
    double time_to_wake = now() + seconds;
    while (now() < time_to_wake) {
        int rc = acio_sleep(0); /* yield */
        if (rc < 0)
            return rc;
    }
    return 0;
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
        fprintf(stderr, "sleep_yield: %s\n", acio_strerror(rc));
    return rc < 0;
}
