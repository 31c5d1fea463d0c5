/* Seed 002 (countasync.py), line for line: three count() coroutines run concurrently by
 * gather; all print "One", sleep one second together, then print "Two".
 * Python twin: tests/diff_compose/examples/count_gather.py. */
#include <stdio.h>

#include <acio.h>

static void *count(void *arg)
{
    (void)arg;
    printf("One\n");
    if (acio_sleep(1) < 0)
        return acio_raise(-ECANCELED, NULL);
    printf("Two\n");
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_call_t calls[] = {{count, NULL, NULL}, {count, NULL, NULL}, {count, NULL, NULL}};
    acio_future_t *g;
    int rc = acio_gather_calls(&g, calls, 3, NULL, 0, NULL, NULL, NULL);
    if (rc == 0) {
        rc = acio_await(g, NULL);
        acio_future_unref(g);
    }
    return rc < 0 ? acio_raise(rc, NULL) : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "error: %s\n", acio_strerror(rc));
    return rc < 0;
}
