/* Seed 004 (asyncio.wait with a timeout): with timeout=2 both tasks are done, with
 * timeout=0.5 both are pending (and then cancelled). Names and results are printed
 * sorted. Python twin: tests/diff_compose/examples/wait_tasks.py. */
#include <stdio.h>
#include <string.h>

#include <acio.h>

typedef struct {
    long a, b, c;
} args_t;

static void *foo(void *arg)
{
    const args_t *x = arg;
    int rc = acio_sleep(1);
    if (rc < 0)
        return acio_raise(rc, NULL);
    return (void *)(intptr_t)(x->a + x->b + x->c);
}

static void show(const char *label, acio_future_t **tasks, size_t n)
{
    /* Two tasks at most here: sort by name. */
    if (n == 2 && strcmp(acio_task_get_name(tasks[0]), acio_task_get_name(tasks[1])) > 0) {
        acio_future_t *t = tasks[0];
        tasks[0] = tasks[1];
        tasks[1] = t;
    }
    printf("%s", label);
    for (size_t i = 0; i < n; i++) {
        void *res = NULL;
        if (acio_future_done(tasks[i]) && acio_future_result(tasks[i], &res) == 0)
            printf(" %s=%ld", acio_task_get_name(tasks[i]), (long)(intptr_t)res);
        else
            printf(" %s", acio_task_get_name(tasks[i]));
    }
    printf("%s\n", n == 0 ? " " : "");
}

static void *main_task(void *arg)
{
    (void)arg;
    static const args_t a1 = {1, 2, 3}, a2 = {4, 5, 6};
    static const double timeouts[] = {2, 0.5};
    for (int k = 0; k < 2; k++) {
        acio_task_t *tasks[2];
        acio_future_t *done[2], *pending[2];
        size_t nd, np;
        if (acio_create_task(&tasks[0], foo, (void *)&a1, "task1") < 0)
            return acio_raise(-ENOMEM, NULL);
        if (acio_create_task(&tasks[1], foo, (void *)&a2, "task2") < 0) {
            acio_future_unref(tasks[0]);
            return acio_raise(-ENOMEM, NULL);
        }
        int rc = acio_wait(tasks, 2, timeouts[k], ACIO_ALL_COMPLETED, done, &nd, pending, &np);
        if (rc == 0) {
            printf("timeout=%g:\n", timeouts[k]);
            show("  done:", done, nd);
            show("  pending:", pending, np);
            for (size_t i = 0; i < np; i++)
                acio_future_cancel(pending[i], NULL);
            rc = acio_wait(tasks, 2, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, NULL, NULL, NULL, NULL);
        }
        acio_future_unref(tasks[0]);
        acio_future_unref(tasks[1]);
        if (rc < 0)
            return acio_raise(rc, NULL);
    }
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "error: %s\n", acio_strerror(rc));
    return rc < 0;
}
