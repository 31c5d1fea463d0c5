/* Seed 003's `await asyncio.wait_for(long_task(), timeout=5)`, scaled down: a long task
 * times out (and is cancelled, and has finished when wait_for returns), a quick one
 * returns in time, and the same limit as a timeout scope whose deadline is moved once.
 * Python twin: tests/diff_compose/examples/timeout_wait_for.py. */
#include <stdio.h>

#include <acio.h>

static char text[3][32];

/* The body of long_task(seconds); *rc receives what the coroutine raises. */
static const char *long_task_body(double seconds, int slot, int *rc)
{
    *rc = acio_sleep(seconds);
    if (*rc == -ECANCELED) {
        printf("long_task(%.1f) cancelled\n", seconds);
        return NULL;
    }
    snprintf(text[slot], sizeof text[slot], "slept %g", seconds);
    return text[slot];
}

static void *long_task(void *arg)
{
    double seconds = *(double *)arg;
    int rc;
    const char *r = long_task_body(seconds, seconds < 0.5 ? 0 : 1, &rc);
    return rc < 0 ? acio_raise(rc, NULL) : (void *)r;
}

static void *main_task(void *arg)
{
    (void)arg;
    double one = 1.0, tenth = 0.1;
    void *res = NULL;
    int rc;

    rc = acio_wait_for_call(long_task, &one, NULL, 0.5, &res);
    if (rc == -ETIMEDOUT)
        printf("wait_for: TimeoutError\n");
    rc = acio_wait_for_call(long_task, &tenth, NULL, 0.5, &res);
    if (rc == 0)
        printf("wait_for: %s\n", (const char *)res);

    acio_timeout_t cm;
    if ((rc = acio_timeout_enter(&cm, 0.2)) < 0)
        return acio_raise(rc, NULL);
    if ((rc = acio_timeout_reschedule(&cm, acio_loop_time(acio_get_running_loop()) + 0.4)) < 0)
        return acio_raise(acio_timeout_exit(&cm, rc), NULL);
    const char *r = long_task_body(0.3, 2, &rc);
    if (rc == 0) {
        printf("inside: %s\n", r);
        long_task_body(1.0, 1, &rc);
    }
    rc = acio_timeout_exit(&cm, rc);
    if (rc == -ETIMEDOUT)
        printf("timeout block: TimeoutError (expired=%s)\n",
               acio_timeout_expired(&cm) ? "True" : "False");
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "error: %s\n", acio_strerror(rc));
    return rc < 0;
}
