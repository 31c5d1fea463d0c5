/* Seed 003: three factorials scheduled concurrently; gather returns their results in
 * the order the calls were given. Python twin:
 * tests/diff_compose/examples/gather_factorial.py. */
#include <stdio.h>

#include <acio.h>

typedef struct {
    const char *name;
    long number;
} job_t;

static void *factorial(void *arg)
{
    const job_t *j = arg;
    long f = 1;
    for (long i = 2; i <= j->number; i++) {
        printf("Task %s: Compute factorial(%ld), currently i=%ld...\n", j->name, j->number, i);
        int rc = acio_sleep(1);
        if (rc < 0)
            return acio_raise(rc, NULL);
        f *= i;
    }
    printf("Task %s: factorial(%ld) = %ld\n", j->name, j->number, f);
    return (void *)(intptr_t)f;
}

static void *main_task(void *arg)
{
    (void)arg;
    static const job_t jobs[] = {{"A", 2}, {"B", 3}, {"C", 4}};
    acio_call_t calls[] = {{factorial, (void *)&jobs[0], NULL},
                           {factorial, (void *)&jobs[1], NULL},
                           {factorial, (void *)&jobs[2], NULL}};
    void *results[3];
    acio_future_t *g;
    int rc = acio_gather_calls(&g, calls, 3, NULL, 0, results, NULL, NULL);
    if (rc < 0)
        return acio_raise(rc, NULL);
    rc = acio_await(g, NULL);
    acio_future_unref(g);
    if (rc < 0)
        return acio_raise(rc, NULL);
    printf("[%ld, %ld, %ld]\n", (long)(intptr_t)results[0], (long)(intptr_t)results[1],
           (long)(intptr_t)results[2]);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "error: %s\n", acio_strerror(rc));
    return rc < 0;
}
