/* Process pools: a function runs in a forked worker and its result bytes come back into
 * a loop future; errors keep their code and message; a worker that dies (abort, exit,
 * SIGKILL) fails its job with ACIO_ECHILDDIED and a message saying how, and the pool
 * replaces it; many jobs on a few workers all come back; large inputs and outputs cross
 * the pipe intact; shutdown stops the workers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "executor/hook.h"

static int run_main(acio_coro_fn main, void *arg)
{
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    acio_task_t *t;
    cr_assert_eq(acio_loop_create_task(loop, &t, main, arg, NULL), 0);
    int rc = acio_loop_run_until_complete(loop, t, NULL);
    acio_future_unref(t);
    acio__executor_loop_closing(loop);
    cr_assert_eq(acio_loop_close(loop), 0);
    return rc;
}

/* Sum of the decimal numbers in the input, computed in the child; also reports the pid
 * so the test can tell it did not run in the parent. */
static void *sum_in_child(const void *in, size_t len, size_t *out_len, acio_job_t *job)
{
    (void)len;
    long a, b;
    if (sscanf(in, "%ld %ld", &a, &b) != 2)
        return acio_job_raise(job, -EINVAL, "bad input '%s'", (const char *)in);
    char *out = malloc(64);
    *out_len = (size_t)snprintf(out, 64, "%ld pid=%d", a + b, (int)getpid());
    return out;
}

static void *die(const void *in, size_t len, size_t *out_len, acio_job_t *job)
{
    (void)len;
    (void)out_len;
    (void)job;
    const char *how = in;
    if (strcmp(how, "kill") == 0)
        raise(SIGKILL);
    if (strcmp(how, "exit") == 0)
        _exit(3);
    abort();
}

static void *echo_reversed(const void *in, size_t len, size_t *out_len, acio_job_t *job)
{
    (void)job;
    unsigned char *out = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        out[i] = ((const unsigned char *)in)[len - 1 - i];
    *out_len = len;
    return out;
}

static int submit(acio_executor_t *pool, acio_process_fn fn, const char *s, acio_future_t **f)
{
    return acio_loop_run_in_process_pool(acio_get_running_loop(), pool, fn, s, strlen(s) + 1, f);
}

static void *basic_main(void *arg)
{
    (void)arg;
    acio_executor_t *pool;
    acio_executor_opts_t o = {.max_workers = 2};
    cr_assert_eq(acio_process_pool_new(&pool, &o), 0);
    acio_future_t *f;
    cr_assert_eq(submit(pool, sum_in_child, "40 2", &f), 0);
    acio_bytes_t *b = NULL;
    cr_assert_eq(acio_await(f, (void **)&b), 0);
    long sum;
    int pid;
    cr_assert_eq(sscanf((char *)b->data, "%ld pid=%d", &sum, &pid), 2, "%s", b->data);
    cr_assert_eq(sum, 42);
    cr_assert_neq(pid, (int)getpid(), "ran in a worker process");
    cr_assert_eq(b->len, strlen((char *)b->data));
    free(b);
    acio_future_unref(f);

    cr_assert_eq(submit(pool, sum_in_child, "oops", &f), 0);
    cr_assert_eq(acio_await(f, NULL), -EINVAL);
    cr_assert_str_eq(acio_future_error_message(f), "bad input 'oops'");
    acio_future_unref(f);
    cr_assert_eq(acio_executor_free(pool), 0);
    return NULL;
}

Test(process_pool, result_bytes_and_errors)
{
    cr_assert_eq(run_main(basic_main, NULL), 0);
}

static void *death_main(void *arg)
{
    (void)arg;
    acio_executor_t *pool;
    acio_executor_opts_t o = {.max_workers = 1};
    cr_assert_eq(acio_process_pool_new(&pool, &o), 0);
    const char *ways[] = {"kill", "exit", "abort"};
    const char *expect[] = {"killed by signal 9", "exited with status 3", "killed by signal 6"};
    for (int i = 0; i < 3; i++) {
        acio_future_t *f;
        cr_assert_eq(submit(pool, die, ways[i], &f), 0);
        cr_assert_eq(acio_await(f, NULL), ACIO_ECHILDDIED);
        const char *msg = acio_future_error_message(f);
        cr_assert(msg && strstr(msg, expect[i]), "%s: message '%s'", ways[i], msg);
        cr_assert(strstr(msg, "worker process"), "%s", msg);
        acio_future_unref(f);
        /* The pool replaced the worker: the next job works. */
        cr_assert_eq(submit(pool, sum_in_child, "1 1", &f), 0);
        acio_bytes_t *b;
        cr_assert_eq(acio_await(f, (void **)&b), 0);
        cr_assert_eq(strncmp((char *)b->data, "2 ", 2), 0);
        free(b);
        acio_future_unref(f);
    }
    acio_executor_stats_t st;
    acio_executor_stats(pool, &st);
    cr_assert_eq(st.processes_died, 3);
    cr_assert_eq(st.processes_spawned, 4);
    cr_assert_eq(acio_executor_free(pool), 0);
    return NULL;
}

Test(process_pool, dead_worker_fails_its_job_and_is_replaced)
{
    cr_assert_eq(run_main(death_main, NULL), 0);
}

static void *many_main(void *arg)
{
    (void)arg;
    acio_executor_t *pool;
    acio_executor_opts_t o = {.max_workers = 3};
    cr_assert_eq(acio_process_pool_new(&pool, &o), 0);
    enum { N = 300 };
    acio_future_t *f[N];
    for (int i = 0; i < N; i++) {
        char in[32];
        snprintf(in, sizeof in, "%d %d", i, 1000);
        cr_assert_eq(submit(pool, sum_in_child, in, &f[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        acio_bytes_t *b;
        cr_assert_eq(acio_await(f[i], (void **)&b), 0);
        cr_assert_eq(atol((char *)b->data), i + 1000);
        free(b);
        acio_future_unref(f[i]);
    }
    acio_executor_stats_t st;
    acio_executor_stats(pool, &st);
    cr_assert_eq(st.completed, N);
    cr_assert_leq(st.processes_spawned, 3);
    cr_assert_eq(acio_executor_free(pool), 0);
    return NULL;
}

Test(process_pool, many_jobs_few_workers)
{
    cr_assert_eq(run_main(many_main, NULL), 0);
}

static void *large_main(void *arg)
{
    (void)arg;
    acio_executor_t *pool;
    cr_assert_eq(acio_process_pool_new(&pool, NULL), 0);
    size_t n = 3 * 1024 * 1024 + 7; /* far beyond a socket buffer, both ways */
    unsigned char *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = (unsigned char)(i * 131 + 7);
    acio_future_t *f;
    cr_assert_eq(
        acio_loop_run_in_process_pool(acio_get_running_loop(), pool, echo_reversed, in, n, &f), 0);
    acio_bytes_t *b;
    cr_assert_eq(acio_await(f, (void **)&b), 0);
    cr_assert_eq(b->len, n);
    for (size_t i = 0; i < n; i++)
        if (b->data[i] != in[n - 1 - i])
            cr_assert_fail("byte %zu differs", i);
    free(b);
    free(in);
    acio_future_unref(f);
    /* An empty input is fine too. */
    cr_assert_eq(
        acio_loop_run_in_process_pool(acio_get_running_loop(), pool, echo_reversed, NULL, 0, &f),
        0);
    cr_assert_eq(acio_await(f, (void **)&b), 0);
    cr_assert_eq(b->len, 0);
    free(b);
    acio_future_unref(f);
    cr_assert_eq(acio_executor_free(pool), 0);
    return NULL;
}

Test(process_pool, large_input_and_output)
{
    cr_assert_eq(run_main(large_main, NULL), 0);
}

static void *shutdown_main(void *arg)
{
    (void)arg;
    acio_executor_t *pool;
    cr_assert_eq(acio_process_pool_new(&pool, NULL), 0);
    acio_future_t *f;
    cr_assert_eq(submit(pool, sum_in_child, "2 3", &f), 0);
    acio_bytes_t *b;
    cr_assert_eq(acio_await(f, (void **)&b), 0);
    int pid = atoi(strstr((char *)b->data, "pid=") + 4);
    free(b);
    acio_future_unref(f);
    cr_assert_eq(acio_executor_shutdown(pool, true, -1, false), 0);
    /* The worker was told to exit and reaped: its pid no longer exists. */
    cr_assert_eq(kill(pid, 0), -1);
    cr_assert_eq(errno, ESRCH);
    cr_assert_eq(submit(pool, sum_in_child, "2 3", &f), -ESHUTDOWN);
    cr_assert_eq(acio_executor_free(pool), 0);
    return NULL;
}

Test(process_pool, shutdown_reaps_workers)
{
    cr_assert_eq(run_main(shutdown_main, NULL), 0);
}
