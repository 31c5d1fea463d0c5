/* Seed 004 (as_completed with a timeout) and seed 002 (as_completed over two tasks that
 * reverse lists): results in completion order, then one iterator that times out.
 * Python twin: tests/diff_compose/examples/wait_as_completed.py. */
#include <stdio.h>

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

/* coro(seq): sleep max(seq)/10 s, return the list reversed (seq is {len, items...}). */
typedef struct {
    int len;
    int item[3];
    int reversed[3];
} seq_t;

static void *coro(void *arg)
{
    seq_t *s = arg;
    int max = s->item[0];
    for (int i = 1; i < s->len; i++)
        max = s->item[i] > max ? s->item[i] : max;
    int rc = acio_sleep(max / 10.0);
    if (rc < 0)
        return acio_raise(rc, NULL);
    for (int i = 0; i < s->len; i++)
        s->reversed[i] = s->item[s->len - 1 - i];
    return s->reversed;
}

static void print_list(const seq_t *s)
{
    printf("[");
    for (int i = 0; i < s->len; i++)
        printf(i ? ", %d" : "%d", s->reversed[i]);
    printf("]");
}

static int drain(acio_as_completed_t *ac, void (*show)(acio_future_t *))
{
    acio_future_t *f;
    int rc;
    while ((rc = acio_as_completed_next(ac, &f)) == 0)
        show(f);
    return rc == ACIO_ESTOPITERATION ? 0 : rc;
}

static void show_sum(acio_future_t *f)
{
    void *res = NULL;
    if (acio_future_result(f, &res) == 0)
        printf("%ld\n", (long)(intptr_t)res);
}

static void show_seq(acio_future_t *f)
{
    void *res = NULL;
    if (acio_future_result(f, &res) == 0) {
        printf("res: ");
        print_list((seq_t *)((char *)res - offsetof(seq_t, reversed)));
        printf(" completed\n");
    }
}

static void show_short(acio_future_t *f)
{
    void *res = NULL;
    if (acio_future_result(f, &res) == 0) {
        printf("res: ");
        print_list((seq_t *)((char *)res - offsetof(seq_t, reversed)));
        printf("\n");
    }
}

/* Two create_task calls; if the second fails, the first task is cancelled and let go. */
static int create_two(acio_task_t *t[2], acio_coro_fn f0, const void *a0, const char *n0,
                      acio_coro_fn f1, const void *a1, const char *n1)
{
    int rc = acio_create_task(&t[0], f0, (void *)a0, n0);
    if (rc == 0 && (rc = acio_create_task(&t[1], f1, (void *)a1, n1)) < 0) {
        acio_task_cancel(t[0], NULL);
        acio_future_unref(t[0]);
    }
    return rc;
}

static void *main_task(void *arg)
{
    (void)arg;
    static const args_t a1 = {1, 2, 3}, a2 = {4, 5, 6};
    seq_t s1 = {3, {3, 2, 1}, {0}}, s2 = {3, {10, 5, 0}, {0}}, s3 = {1, {30}, {0}},
          s4 = {1, {1}, {0}};
    acio_task_t *t[2];
    acio_as_completed_t *ac;
    int rc;

    if ((rc = create_two(t, foo, &a1, "task1", foo, &a2, "task2")) < 0)
        return acio_raise(rc, NULL);
    if ((rc = acio_as_completed_new(&ac, t, 2, 2)) == 0) {
        rc = drain(ac, show_sum);
        acio_as_completed_free(ac);
    }
    acio_future_unref(t[0]);
    acio_future_unref(t[1]);
    if (rc < 0)
        return acio_raise(rc, NULL);

    if ((rc = create_two(t, coro, &s1, NULL, coro, &s2, NULL)) < 0)
        return acio_raise(rc, NULL);
    acio_future_t *order[2] = {t[1], t[0]};
    if ((rc = acio_as_completed_new(&ac, order, 2, ACIO_NO_TIMEOUT)) == 0) {
        rc = drain(ac, show_seq);
        acio_as_completed_free(ac);
    }
    printf("Both tasks done: %s\n",
           acio_future_done(t[0]) && acio_future_done(t[1]) ? "True" : "False");
    acio_future_unref(t[0]);
    acio_future_unref(t[1]);
    if (rc < 0)
        return acio_raise(rc, NULL);

    if ((rc = create_two(t, coro, &s3, NULL, coro, &s4, NULL)) < 0)
        return acio_raise(rc, NULL);
    if ((rc = acio_as_completed_new(&ac, t, 2, 0.5)) == 0) {
        rc = drain(ac, show_short);
        if (rc == -ETIMEDOUT)
            printf("TimeoutError\n");
        acio_as_completed_free(ac);
    }
    acio_future_cancel(t[0], NULL);
    acio_future_unref(t[0]);
    acio_future_unref(t[1]);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "error: %s\n", acio_strerror(rc));
    return rc < 0;
}
