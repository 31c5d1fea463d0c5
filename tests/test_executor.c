/* Thread-pool executors: run_in_executor and to_thread results and errors, many
 * concurrent jobs with every result counted exactly once, cancellation before a job
 * starts (it never runs), cooperative cancellation of a running job, shutdown with and
 * without waiting (and with cancel_futures and a timeout), lazy thread start and idle
 * reuse, named pools that do not starve each other, one executor shared by several
 * loops, and a loop closing while its jobs still run.
 *
 * Blocking functions wait on "gates" the test opens, never on the clock; every wait is
 * a bounded loop. Each test ends with its loop closed; the _asan variant's leak check
 * proves nothing was left behind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acio.h"
#include "support/rc.h"

/* ---- helpers ---- */

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A gate a worker waits behind until the test opens it (bounded: ~20 s). */
typedef struct {
    atomic_int open;
    atomic_int waiting; /* how many workers reached the gate */
} gate_t;

static bool gate_wait(gate_t *g)
{
    atomic_fetch_add(&g->waiting, 1);
    for (int i = 0; i < 20000; i++) {
        if (atomic_load(&g->open))
            return true;
        nap_ms(1);
    }
    return false;
}

/* On the loop: yield until cond() or ~20 s of iterations. */
static bool await_count(atomic_int *counter, int want)
{
    for (int i = 0; i < 20000; i++) {
        if (atomic_load(counter) >= want)
            return true;
        OK(acio_sleep(0.001));
    }
    return false;
}

/* asyncio's `await loop.shutdown_default_executor()` (no time limit), as a task. */
static void *shutdown_default_main(void *arg)
{
    return (void *)(intptr_t)acio_loop_shutdown_default_executor(arg, -1);
}

/* Runs main as a task on a fresh loop, then ends the way asyncio.run does, through the
 * public API only: shut the default executor down in a task (so the loop keeps running
 * while the workers finish), then close the loop (whose close hook detaches it from
 * every executor). */
static int run_main(acio_coro_fn main, void *arg, void **result)
{
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    acio_task_t *t;
    cr_assert_eq(acio_loop_create_task(loop, &t, main, arg, NULL), 0);
    int rc = acio_loop_run_until_complete(loop, t, result);
    acio_future_unref(t);
    cr_assert_eq(acio_loop_create_task(loop, &t, shutdown_default_main, loop, NULL), 0);
    void *shut = NULL;
    cr_assert_eq(acio_loop_run_until_complete(loop, t, &shut), 0);
    acio_future_unref(t);
    cr_assert_eq((int)(intptr_t)shut, 0, "shutdown_default_executor: %s",
                 acio_strerror((int)(intptr_t)shut));
    cr_assert_eq(acio_loop_close(loop), 0);
    return rc;
}

static void *add_one(void *arg, acio_job_t *job)
{
    (void)job;
    return (void *)((intptr_t)arg + 1);
}

static void *fail_eio(void *arg, acio_job_t *job)
{
    return acio_job_raise(job, -EIO, "cannot read %s", (const char *)arg);
}

/* ---- basics ---- */

static void *to_thread_main(void *arg)
{
    (void)arg;
    void *r = NULL;
    cr_assert_eq(acio_to_thread(add_one, (void *)41, &r), 0);
    cr_assert_eq((intptr_t)r, 42);
    char *msg = NULL;
    int rc = acio_to_thread_ex(fail_eio, "a.txt", &r, &msg);
    cr_assert_eq(rc, -EIO, "rc=%d", rc);
    cr_assert_str_eq(msg, "cannot read a.txt");
    free(msg);
    return (void *)7;
}

Test(executor, to_thread_result_and_error)
{
    void *r;
    cr_assert_eq(run_main(to_thread_main, NULL, &r), 0);
    cr_assert_eq((intptr_t)r, 7);
}

static void *rie_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *f;
    cr_assert_eq(acio_loop_run_in_executor(loop, NULL, add_one, (void *)1, &f), 0);
    cr_assert_not(acio_future_done(f));
    void *r = NULL;
    cr_assert_eq(acio_await(f, &r), 0);
    cr_assert_eq((intptr_t)r, 2);
    acio_future_unref(f);

    acio_executor_t *ex;
    acio_executor_opts_t o = {.name = "custom", .max_workers = 2};
    cr_assert_eq(acio_executor_new(&ex, &o), 0);
    cr_assert_str_eq(acio_executor_get_name(ex), "custom");
    cr_assert_eq(acio_executor_get_max_workers(ex), 2);
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, fail_eio, "b", &f), 0);
    cr_assert_eq(acio_await(f, NULL), -EIO);
    cr_assert_str_eq(acio_future_error_message(f), "cannot read b");
    acio_future_unref(f);
    cr_assert_eq(acio_executor_free(ex), 0);
    return NULL;
}

Test(executor, run_in_executor_default_and_custom)
{
    cr_assert_eq(run_main(rie_main, NULL, NULL), 0);
}

static void *errors_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *f = (acio_future_t *)1;
    cr_assert_eq(acio_loop_run_in_executor(NULL, NULL, add_one, NULL, &f), -EINVAL);
    cr_assert_null(f);
    cr_assert_eq(acio_loop_run_in_executor(loop, NULL, NULL, NULL, &f), -EINVAL);
    acio_executor_t *pp;
    cr_assert_eq(acio_process_pool_new(&pp, NULL), 0);
    cr_assert(acio_executor_is_process_pool(pp));
    cr_assert_eq(acio_loop_run_in_executor(loop, pp, add_one, NULL, &f), -EINVAL);
    cr_assert_eq(acio_loop_set_default_executor(loop, pp), -EINVAL);
    cr_assert_eq(acio_executor_free(pp), 0);
    cr_assert_eq(acio_to_thread(NULL, NULL, NULL), -EINVAL);
    return NULL;
}

Test(executor, bad_arguments)
{
    cr_assert_eq(run_main(errors_main, NULL, NULL), 0);
    cr_assert_eq(acio_to_thread(add_one, NULL, NULL), ACIO_ENOTASK);
    cr_assert_eq(acio_executor_shutdown(NULL, true, -1, false), -EINVAL);
    cr_assert_eq(acio_executor_free(NULL), 0);
    cr_assert_eq(acio_executor_new(NULL, NULL), -EINVAL);
}

Test(executor, default_size_like_python)
{
    acio_executor_t *ex;
    cr_assert_eq(acio_executor_new(&ex, NULL), 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        cpus = CPU_COUNT(&set);
    unsigned want = (unsigned)(cpus + 4 < 32 ? cpus + 4 : 32);
    cr_assert_eq(acio_executor_get_max_workers(ex), want, "%u vs %u",
                 acio_executor_get_max_workers(ex), want);
    acio_executor_stats_t st;
    acio_executor_stats(ex, &st);
    cr_assert_eq(st.threads, 0, "threads start lazily");
    cr_assert_eq(acio_executor_free(ex), 0);
}

/* ---- many jobs, none lost ---- */

#define MANY 2000
typedef struct {
    atomic_int ran[MANY];
    int seen[MANY];
    int tasks_done;
} many_t;

static void *mark(void *arg, acio_job_t *job)
{
    (void)job;
    many_t *m = *(many_t **)arg;
    intptr_t i = ((intptr_t *)arg)[1];
    atomic_fetch_add(&m->ran[i], 1);
    return (void *)(i * 3);
}

typedef struct {
    many_t *m;
    intptr_t i;
} slot_t;

static void *many_task(void *arg)
{
    slot_t *s = arg;
    void *r = NULL;
    int rc = acio_to_thread(mark, s, &r);
    cr_assert_eq(rc, 0, "job %ld: %d", (long)s->i, rc);
    cr_assert_eq((intptr_t)r, s->i * 3);
    s->m->seen[s->i]++;
    s->m->tasks_done++;
    return NULL;
}

static void *many_main(void *arg)
{
    many_t *m = arg;
    static slot_t slots[MANY];
    acio_task_t *t[MANY];
    for (int i = 0; i < MANY; i++) {
        slots[i] = (slot_t){m, i};
        cr_assert_eq(acio_create_task(&t[i], many_task, &slots[i], NULL), 0);
    }
    for (int i = 0; i < MANY; i++) {
        cr_assert_eq(acio_await(t[i], NULL), 0);
        acio_future_unref(t[i]);
    }
    return NULL;
}

Test(executor, many_concurrent_to_thread_none_lost)
{
    many_t *m = calloc(1, sizeof *m);
    cr_assert_eq(run_main(many_main, m, NULL), 0);
    cr_assert_eq(m->tasks_done, MANY);
    for (int i = 0; i < MANY; i++) {
        cr_assert_eq(atomic_load(&m->ran[i]), 1, "job %d ran %d times", i, m->ran[i]);
        cr_assert_eq(m->seen[i], 1, "result %d seen %d times", i, m->seen[i]);
    }
    free(m);
}

/* Fire-and-forget and futures on a small pool: results counted on the loop. */
static void *burst_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex;
    acio_executor_opts_t o = {.max_workers = 4};
    cr_assert_eq(acio_executor_new(&ex, &o), 0);
    enum { N = 5000 };
    static acio_future_t *f[N];
    for (intptr_t i = 0; i < N; i++)
        cr_assert_eq(acio_loop_run_in_executor(loop, ex, add_one, (void *)i, &f[i]), 0);
    long sum = 0;
    for (intptr_t i = 0; i < N; i++) {
        void *r;
        cr_assert_eq(acio_await(f[i], &r), 0);
        cr_assert_eq((intptr_t)r, i + 1);
        sum += (intptr_t)r;
        acio_future_unref(f[i]);
    }
    cr_assert_eq(sum, (long)N * (N + 1) / 2);
    acio_executor_stats_t st;
    acio_executor_stats(ex, &st);
    cr_assert_eq(st.submitted, N);
    cr_assert_eq(st.completed, N);
    cr_assert_leq(st.threads, 4);
    cr_assert_eq(acio_executor_free(ex), 0);
    return NULL;
}

Test(executor, burst_of_futures_on_small_pool)
{
    cr_assert_eq(run_main(burst_main, NULL, NULL), 0);
}

/* ---- lazy start and reuse ---- */

static void *sequential_main(void *arg)
{
    acio_executor_t *ex = arg;
    acio_loop_t *loop = acio_get_running_loop();
    for (intptr_t i = 0; i < 200; i++) {
        acio_future_t *f;
        cr_assert_eq(acio_loop_run_in_executor(loop, ex, add_one, (void *)i, &f), 0);
        void *r;
        cr_assert_eq(acio_await(f, &r), 0);
        cr_assert_eq((intptr_t)r, i + 1);
        acio_future_unref(f);
    }
    return NULL;
}

Test(executor, sequential_jobs_reuse_one_idle_thread)
{
    acio_executor_t *ex;
    cr_assert_eq(acio_executor_new(&ex, NULL), 0);
    cr_assert_eq(run_main(sequential_main, ex, NULL), 0);
    acio_executor_stats_t st;
    acio_executor_stats(ex, &st);
    /* A worker goes idle before its result reaches the loop, so the next job finds it. */
    cr_assert_eq(st.threads, 1, "threads=%u", st.threads);
    cr_assert_eq(st.completed, 200);
    cr_assert_eq(acio_executor_free(ex), 0);
}

/* ---- cancellation ---- */

typedef struct {
    gate_t gate;
    atomic_int ran;
    atomic_int saw_cancel;
} cancel_t;

static void *gated(void *arg, acio_job_t *job)
{
    (void)job;
    cancel_t *c = arg;
    gate_wait(&c->gate);
    return (void *)1;
}

static void *count_run(void *arg, acio_job_t *job)
{
    (void)job;
    cancel_t *c = arg;
    atomic_fetch_add(&c->ran, 1);
    return NULL;
}

static void *cancel_before_start_main(void *arg)
{
    cancel_t *c = arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex;
    acio_executor_opts_t o = {.max_workers = 1};
    cr_assert_eq(acio_executor_new(&ex, &o), 0);
    acio_future_t *busy, *queued;
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, gated, c, &busy), 0);
    cr_assert(await_count(&c->gate.waiting, 1));
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, count_run, c, &queued), 0);
    acio_executor_stats_t st;
    acio_executor_stats(ex, &st);
    cr_assert_eq(st.queued, 1);
    cr_assert_eq(acio_future_cancel(queued, "not needed"), 1);
    cr_assert_eq(acio_await(queued, NULL), -ECANCELED);
    /* The done callback that removes the job runs via call_soon; give it a turn. */
    OK(acio_sleep(0));
    acio_executor_stats(ex, &st);
    cr_assert_eq(st.queued, 0, "the cancelled job left the queue");
    cr_assert_eq(st.cancelled, 1);
    atomic_store(&c->gate.open, 1);
    cr_assert_eq(acio_await(busy, NULL), 0);
    acio_future_unref(busy);
    acio_future_unref(queued);
    cr_assert_eq(acio_executor_free(ex), 0);
    cr_assert_eq(atomic_load(&c->ran), 0, "a job cancelled before it started never runs");
    return NULL;
}

Test(executor, cancel_before_start_removes_job)
{
    cancel_t c = {0};
    cr_assert_eq(run_main(cancel_before_start_main, &c, NULL), 0);
    cr_assert_eq(atomic_load(&c.ran), 0);
}

static void *cooperative(void *arg, acio_job_t *job)
{
    cancel_t *c = arg;
    atomic_fetch_add(&c->gate.waiting, 1);
    for (int i = 0; i < 20000; i++) {
        if (acio_job_cancelled(job)) {
            atomic_store(&c->saw_cancel, 1);
            return acio_job_raise(job, -ECANCELED, "stopped early");
        }
        nap_ms(1);
    }
    return (void *)1;
}

static void *to_thread_task(void *arg)
{
    cancel_t *c = arg;
    int rc = acio_to_thread(cooperative, c, NULL);
    atomic_store(&c->ran, rc);
    return NULL;
}

static void *cooperative_main(void *arg)
{
    cancel_t *c = arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *f;
    /* run_in_executor: cancelling the future raises the running job's flag. */
    cr_assert_eq(acio_loop_run_in_executor(loop, NULL, cooperative, c, &f), 0);
    cr_assert(await_count(&c->gate.waiting, 1));
    cr_assert_eq(acio_future_cancel(f, NULL), 1);
    OK(acio_sleep(0));
    for (int i = 0; i < 20000 && !atomic_load(&c->saw_cancel); i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(atomic_load(&c->saw_cancel), 1, "the running job saw its cancel flag");
    acio_future_unref(f);

    /* to_thread: cancelling the awaiting task does the same. */
    atomic_store(&c->saw_cancel, 0);
    atomic_store(&c->gate.waiting, 0);
    acio_task_t *t;
    cr_assert_eq(acio_create_task(&t, to_thread_task, c, "waiter"), 0);
    cr_assert(await_count(&c->gate.waiting, 1));
    cr_assert_eq(acio_task_cancel(t, NULL), 1);
    UNCHECKED(acio_await(t, NULL));
    acio_future_unref(t);
    cr_assert_eq(atomic_load(&c->ran), -ECANCELED);
    for (int i = 0; i < 20000 && !atomic_load(&c->saw_cancel); i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(atomic_load(&c->saw_cancel), 1);
    return NULL;
}

Test(executor, cooperative_cancel_of_running_job)
{
    cancel_t c = {0};
    cr_assert_eq(run_main(cooperative_main, &c, NULL), 0);
}

static void *to_thread_queued_task(void *arg)
{
    cancel_t *c = arg;
    int rc = acio_to_thread(count_run, c, NULL);
    cr_assert_eq(rc, -ECANCELED);
    return NULL;
}

static void *to_thread_cancel_queued_main(void *arg)
{
    cancel_t *c = arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex;
    acio_executor_opts_t o = {.max_workers = 1};
    cr_assert_eq(acio_executor_new(&ex, &o), 0);
    cr_assert_eq(acio_loop_set_default_executor(loop, ex), 0);
    acio_future_t *busy;
    cr_assert_eq(acio_loop_run_in_executor(loop, NULL, gated, c, &busy), 0);
    cr_assert(await_count(&c->gate.waiting, 1));
    acio_task_t *t;
    cr_assert_eq(acio_create_task(&t, to_thread_queued_task, c, NULL), 0);
    OK(acio_sleep(0));
    OK(acio_sleep(0));
    cr_assert_eq(acio_task_cancel(t, NULL), 1);
    UNCHECKED(acio_await(t, NULL));
    acio_future_unref(t);
    atomic_store(&c->gate.open, 1);
    cr_assert_eq(acio_await(busy, NULL), 0);
    acio_future_unref(busy);
    acio_executor_stats_t st;
    acio_executor_stats(ex, &st);
    cr_assert_eq(st.cancelled, 1);
    cr_assert_eq(acio_executor_free(ex), 0); /* the loop still holds its reference */
    return NULL;
}

Test(executor, to_thread_cancelled_while_queued_never_runs)
{
    cancel_t c = {0};
    cr_assert_eq(run_main(to_thread_cancel_queued_main, &c, NULL), 0);
    cr_assert_eq(atomic_load(&c.ran), 0);
}

/* ---- shutdown ---- */

static void *shutdown_wait_main(void *arg)
{
    cancel_t *c = arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex;
    acio_executor_opts_t o = {.max_workers = 2};
    cr_assert_eq(acio_executor_new(&ex, &o), 0);
    enum { N = 50 };
    acio_future_t *f[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(acio_loop_run_in_executor(loop, ex, count_run, c, &f[i]), 0);
    /* Blocks this (loop) thread until every job has run: results are already queued. */
    cr_assert_eq(acio_executor_shutdown(ex, true, -1, false), 0);
    cr_assert_eq(atomic_load(&c->ran), N);
    acio_executor_stats_t st;
    acio_executor_stats(ex, &st);
    cr_assert_eq(st.threads, 0);
    cr_assert(st.shutdown);
    acio_future_t *late;
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, count_run, c, &late), -ESHUTDOWN);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(acio_await(f[i], NULL), 0);
        acio_future_unref(f[i]);
    }
    cr_assert_eq(acio_executor_free(ex), 0);
    return NULL;
}

Test(executor, shutdown_wait_runs_queued_jobs)
{
    cancel_t c = {0};
    cr_assert_eq(run_main(shutdown_wait_main, &c, NULL), 0);
}

static void *shutdown_nowait_main(void *arg)
{
    cancel_t *c = arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex;
    acio_executor_opts_t o = {.max_workers = 1};
    cr_assert_eq(acio_executor_new(&ex, &o), 0);
    acio_future_t *busy, *q1, *q2;
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, gated, c, &busy), 0);
    cr_assert(await_count(&c->gate.waiting, 1));
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, count_run, c, &q1), 0);
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, count_run, c, &q2), 0);
    /* Not waiting: returns while the gated job still runs; the queued ones are
     * cancelled. A short timeout reports the busy worker. */
    cr_assert_eq(acio_executor_shutdown(ex, false, 0, true), 0);
    cr_assert_eq(acio_executor_shutdown(ex, true, 0.01, false), -ETIMEDOUT);
    cr_assert_eq(acio_await(q1, NULL), -ECANCELED);
    cr_assert_eq(acio_await(q2, NULL), -ECANCELED);
    cr_assert_not(acio_future_done(busy));
    atomic_store(&c->gate.open, 1);
    void *r;
    cr_assert_eq(acio_await(busy, &r), 0, "a running job finishes after shutdown(wait=false)");
    cr_assert_eq((intptr_t)r, 1);
    acio_future_unref(busy);
    acio_future_unref(q1);
    acio_future_unref(q2);
    cr_assert_eq(acio_executor_free(ex), 0);
    cr_assert_eq(atomic_load(&c->ran), 0);
    return NULL;
}

Test(executor, shutdown_without_wait_and_cancel_futures)
{
    cancel_t c = {0};
    cr_assert_eq(run_main(shutdown_nowait_main, &c, NULL), 0);
}

static void *self_shutdown(void *arg, acio_job_t *job)
{
    (void)job;
    return (void *)(intptr_t)acio_executor_shutdown(arg, true, -1, false);
}

static void *deadlock_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex;
    cr_assert_eq(acio_executor_new(&ex, NULL), 0);
    acio_future_t *f;
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, self_shutdown, ex, &f), 0);
    void *r;
    cr_assert_eq(acio_await(f, &r), 0);
    cr_assert_eq((intptr_t)r, -EDEADLK);
    acio_future_unref(f);
    cr_assert_eq(acio_executor_free(ex), 0);
    return NULL;
}

Test(executor, shutdown_wait_from_own_worker_is_refused)
{
    cr_assert_eq(run_main(deadlock_main, NULL, NULL), 0);
}

static void *default_shutdown_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    cr_assert_eq(acio_to_thread(add_one, NULL, NULL), 0);
    cr_assert_eq(acio_loop_shutdown_default_executor(loop, -1), 0);
    cr_assert_eq(acio_to_thread(add_one, NULL, NULL), -ESHUTDOWN);
    acio_future_t *f;
    cr_assert_eq(acio_loop_run_in_executor(loop, NULL, add_one, NULL, &f), -ESHUTDOWN);
    return NULL;
}

Test(executor, shutdown_default_executor)
{
    cr_assert_eq(run_main(default_shutdown_main, NULL, NULL), 0);
}

/* ---- separate pools per kind of work ---- */

static void *thread_name(void *arg, acio_job_t *job)
{
    (void)job;
    char *buf = arg;
    pthread_getname_np(pthread_self(), buf, 16);
    return NULL;
}

static void *pools_main(void *arg)
{
    cancel_t *c = arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *dns, *files;
    acio_executor_opts_t od = {.name = "dns", .max_workers = 2};
    acio_executor_opts_t of = {.name = "files", .max_workers = 1};
    cr_assert_eq(acio_executor_new(&dns, &od), 0);
    cr_assert_eq(acio_executor_new(&files, &of), 0);
    /* Saturate the dns pool with stuck lookups... */
    acio_future_t *stuck[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(acio_loop_run_in_executor(loop, dns, gated, c, &stuck[i]), 0);
    cr_assert(await_count(&c->gate.waiting, 2));
    /* ...file work still gets through on its own pool. */
    char name[16] = "";
    acio_future_t *f;
    cr_assert_eq(acio_loop_run_in_executor(loop, files, thread_name, name, &f), 0);
    cr_assert_eq(acio_await(f, NULL), 0);
    acio_future_unref(f);
    cr_assert_str_eq(name, "files-0");
    acio_executor_stats_t st;
    acio_executor_stats(dns, &st);
    cr_assert_eq(st.threads, 2);
    cr_assert_eq(st.queued, 2);
    atomic_store(&c->gate.open, 1);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(acio_await(stuck[i], NULL), 0);
        acio_future_unref(stuck[i]);
    }
    cr_assert_eq(acio_executor_free(dns), 0);
    cr_assert_eq(acio_executor_free(files), 0);
    return NULL;
}

Test(executor, named_pools_do_not_starve_each_other)
{
    cancel_t c = {0};
    cr_assert_eq(run_main(pools_main, &c, NULL), 0);
}

/* ---- one executor, several loops ---- */

typedef struct {
    acio_executor_t *ex;
    pthread_t self;
    int got;
    int wrong_thread;
} loop_thread_t;

static void *whoami(void *arg, acio_job_t *job)
{
    (void)job;
    return arg;
}

static void on_done_check_thread(acio_future_t *fut, void *data)
{
    (void)fut;
    loop_thread_t *lt = data;
    if (!pthread_equal(pthread_self(), lt->self))
        lt->wrong_thread++;
}

static void *multi_main(void *arg)
{
    loop_thread_t *lt = arg;
    acio_loop_t *loop = acio_get_running_loop();
    enum { N = 500 };
    acio_future_t *f[N];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(acio_loop_run_in_executor(loop, lt->ex, whoami, lt, &f[i]), 0);
        OK(acio_future_add_done_callback(f[i], on_done_check_thread, lt));
    }
    for (int i = 0; i < N; i++) {
        void *r;
        cr_assert_eq(acio_await(f[i], &r), 0);
        if (r == lt)
            lt->got++;
        acio_future_unref(f[i]);
    }
    OK(acio_sleep(0)); /* let the last done callbacks run */
    return NULL;
}

static void *loop_thread(void *arg)
{
    loop_thread_t *lt = arg;
    lt->self = pthread_self();
    run_main(multi_main, lt, NULL);
    return NULL;
}

Test(executor, one_executor_several_loops)
{
    acio_executor_t *ex;
    acio_executor_opts_t o = {.max_workers = 3};
    cr_assert_eq(acio_executor_new(&ex, &o), 0);
    loop_thread_t lt[3] = {{.ex = ex}, {.ex = ex}, {.ex = ex}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, loop_thread, &lt[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(lt[i].got, 500, "loop %d got %d", i, lt[i].got);
        cr_assert_eq(lt[i].wrong_thread, 0, "results settle on their own loop's thread");
    }
    acio_executor_stats_t st;
    acio_executor_stats(ex, &st);
    cr_assert_eq(st.completed, 1500);
    cr_assert_eq(acio_executor_free(ex), 0);
}

/* ---- a loop closing while its jobs run ---- */

static void *close_main(void *arg)
{
    cancel_t *c = arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex = NULL;
    acio_executor_opts_t o = {.max_workers = 1};
    cr_assert_eq(acio_executor_new(&ex, &o), 0);
    /* One running (stuck behind the gate), one queued, one fire-and-forget. */
    acio_future_t *running, *queued;
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, gated, c, &running), 0);
    cr_assert(await_count(&c->gate.waiting, 1));
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, count_run, c, &queued), 0);
    cr_assert_eq(acio_loop_run_in_executor(loop, ex, count_run, c, NULL), 0);
    acio_future_unref(running);
    acio_future_unref(queued);
    return ex;
}

Test(executor, loop_closes_while_jobs_run)
{
    cancel_t c = {0};
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    acio_task_t *t;
    cr_assert_eq(acio_loop_create_task(loop, &t, close_main, &c, NULL), 0);
    void *ex;
    cr_assert_eq(acio_loop_run_until_complete(loop, t, &ex), 0);
    acio_future_unref(t);
    cr_assert_eq(acio_loop_close(loop), 0);
    /* The worker finishes after the loop is gone: its result is dropped safely, and the
     * jobs that had not started never run. */
    atomic_store(&c.gate.open, 1);
    cr_assert_eq(acio_executor_free(ex), 0);
    cr_assert_eq(atomic_load(&c.ran), 0);
}

/* ---- shutdown_default_executor inside a task keeps the loop running ---- */

typedef struct {
    acio_loop_t *loop;
    atomic_int answered;
} needs_loop_t;

static void answer(void *data)
{
    needs_loop_t *n = data;
    atomic_store(&n->answered, 1);
}

/* Like asyncio.run_coroutine_threadsafe(...).result() from a worker: it can only
 * finish if the loop runs while the executor shuts down. */
static void *ask_the_loop(void *arg, acio_job_t *job)
{
    (void)job;
    needs_loop_t *n = arg;
    nap_ms(20); /* let the main task reach the shutdown first */
    if (acio_loop_call_soon_threadsafe(n->loop, answer, n) < 0)
        return (void *)-1;
    for (int i = 0; i < 20000 && !atomic_load(&n->answered); i++)
        nap_ms(1);
    return (void *)(intptr_t)atomic_load(&n->answered);
}

static void *shutdown_in_task_main(void *arg)
{
    needs_loop_t *n = arg;
    n->loop = acio_get_running_loop();
    acio_future_t *f;
    cr_assert_eq(acio_loop_run_in_executor(n->loop, NULL, ask_the_loop, n, &f), 0);
    cr_assert_eq(acio_loop_shutdown_default_executor(n->loop, -1), 0);
    void *r;
    cr_assert_eq(acio_await(f, &r), 0);
    cr_assert_eq((intptr_t)r, 1, "the job got its answer from the loop");
    acio_future_unref(f);
    cr_assert_eq(acio_to_thread(add_one, NULL, NULL), -ESHUTDOWN);
    return NULL;
}

Test(executor, shutdown_default_executor_in_task_awaits)
{
    needs_loop_t n = {0};
    cr_assert_eq(run_main(shutdown_in_task_main, &n, NULL), 0);
    cr_assert_eq(atomic_load(&n.answered), 1);
}

/* ---- out of memory: a failed submission never runs its function, leaks nothing ---- */

void acio__alloc_fail_after(long n);

static void *count_calls(void *arg, acio_job_t *job)
{
    (void)job;
    atomic_fetch_add((atomic_int *)arg, 1);
    return NULL;
}

static void *oom_main(void *arg)
{
    atomic_int *calls = arg;
    acio_loop_t *loop = acio_get_running_loop();
    int failures = 0, expected_calls = 0;
    for (long n = 1; n <= 12; n++) {
        acio_future_t *f = NULL;
        acio__alloc_fail_after(n);
        int rc = acio_loop_run_in_executor(loop, NULL, count_calls, calls, &f);
        acio__alloc_fail_after(0);
        if (rc < 0) {
            cr_assert_eq(rc, -ENOMEM, "n=%ld rc=%d", n, rc);
            cr_assert_null(f);
            failures++;
            continue;
        }
        expected_calls++;
        cr_assert_eq(acio_await(f, NULL), 0);
        acio_future_unref(f);
        /* Same for to_thread. */
        acio__alloc_fail_after(n);
        rc = acio_to_thread(count_calls, calls, NULL);
        acio__alloc_fail_after(0);
        if (rc == 0)
            expected_calls++;
        else
            cr_assert_eq(rc, -ENOMEM, "to_thread n=%ld rc=%d", n, rc);
    }
    cr_assert_gt(failures, 0, "some allocation was made to fail");
    cr_assert_eq(atomic_load(calls), expected_calls);
    return NULL;
}

Test(executor, out_of_memory_on_submit)
{
    atomic_int calls = 0;
    cr_assert_eq(run_main(oom_main, &calls, NULL), 0);
}

/* ---- submitting from another thread than the loop's ---- */

typedef struct {
    acio_loop_t *loop;
    int rc;
} other_thread_t;

static void *submit_from_other_thread(void *arg)
{
    other_thread_t *o = arg;
    acio_future_t *f;
    o->rc = acio_loop_run_in_executor(o->loop, NULL, add_one, NULL, &f);
    return NULL;
}

static void *wrong_thread_main(void *arg)
{
    other_thread_t *o = arg;
    o->loop = acio_get_running_loop();
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, submit_from_other_thread, o), 0);
    pthread_join(th, NULL);
    return NULL;
}

Test(executor, submit_from_another_thread_is_refused)
{
    other_thread_t o = {0};
    cr_assert_eq(run_main(wrong_thread_main, &o, NULL), 0);
    cr_assert_eq(o.rc, ACIO_EWRONGTHREAD, "rc=%d", o.rc);
}

/* asyncio.run's ending: a fire-and-forget job that needs the loop still finishes. */
static void *fire_and_forget_main(void *arg)
{
    needs_loop_t *n = arg;
    n->loop = acio_get_running_loop();
    cr_assert_eq(acio_loop_run_in_executor(n->loop, NULL, ask_the_loop, n, NULL), 0);
    return NULL;
}

Test(executor, run_ending_waits_for_default_executor_with_loop_running)
{
    needs_loop_t n = {0};
    cr_assert_eq(run_main(fire_and_forget_main, &n, NULL), 0);
    cr_assert_eq(atomic_load(&n.answered), 1);
}

/* ---- Executor.submit(): a thread pool without a loop ---- */

/* concurrent.futures: pool.submit(fn, i) ten times on five threads, then each future's
 * result in turn; an error keeps its code and message. No loop exists at all. */
Test(executor, submit_without_a_loop)
{
    acio_executor_t *ex;
    cr_assert_eq(acio_executor_new(&ex, &(acio_executor_opts_t){.max_workers = 5}), 0);
    acio_cfuture_t *f[10];
    for (intptr_t i = 0; i < 10; i++)
        cr_assert_eq(acio_executor_submit(ex, add_one, (void *)i, &f[i]), 0);
    for (intptr_t i = 0; i < 10; i++) {
        void *r = NULL;
        cr_assert_eq(acio_cfuture_result(f[i], 20, &r), 0);
        cr_assert_eq((intptr_t)r, i + 1);
        acio_cfuture_unref(f[i]);
    }
    acio_cfuture_t *e;
    cr_assert_eq(acio_executor_submit(ex, fail_eio, "b.txt", &e), 0);
    void *r = NULL;
    cr_assert_eq(acio_cfuture_result(e, 20, &r), -EIO);
    cr_assert_str_eq(acio_cfuture_error_message(e), "cannot read b.txt");
    acio_cfuture_unref(e);
    acio_executor_stats_t st;
    acio_executor_stats(ex, &st);
    cr_assert_eq(st.submitted, 11);
    cr_assert_leq(st.threads, 5);
    cr_assert_eq(acio_executor_free(ex), 0);
}

static void *wait_at_gate(void *arg, acio_job_t *job)
{
    (void)job;
    return gate_wait(arg) ? (void *)1 : NULL;
}

static void *count_runs(void *arg, acio_job_t *job)
{
    (void)job;
    atomic_fetch_add((atomic_int *)arg, 1);
    return NULL;
}

/* Future.cancel() succeeds only before the job starts, and then the job never runs;
 * shutdown(cancel_futures=True) cancels what is still queued; after shutdown, submit is
 * refused. */
Test(executor, submit_cancel_and_shutdown)
{
    acio_executor_t *ex;
    cr_assert_eq(acio_executor_new(&ex, &(acio_executor_opts_t){.max_workers = 1}), 0);
    gate_t gate = {0};
    atomic_int runs = 0;
    acio_cfuture_t *busy, *a, *b, *c;
    cr_assert_eq(acio_executor_submit(ex, wait_at_gate, &gate, &busy), 0);
    for (int i = 0; i < 20000 && atomic_load(&gate.waiting) == 0; i++)
        nap_ms(1);
    cr_assert_eq(atomic_load(&gate.waiting), 1);
    cr_assert_eq(acio_executor_submit(ex, count_runs, &runs, &a), 0);
    cr_assert_eq(acio_executor_submit(ex, count_runs, &runs, &b), 0);
    cr_assert_eq(acio_cfuture_cancel(a), 1, "a queued job can be cancelled");
    cr_assert_eq(acio_cfuture_cancel(busy), 0, "a running one cannot");
    cr_assert_eq(acio_executor_shutdown(ex, false, 0, true), 0);
    cr_assert(acio_cfuture_cancelled(b));
    c = (acio_cfuture_t *)&gate;
    cr_assert_eq(acio_executor_submit(ex, count_runs, &runs, &c), -ESHUTDOWN);
    cr_assert_null(c);
    atomic_store(&gate.open, 1);
    void *r = NULL;
    cr_assert_eq(acio_cfuture_result(busy, 20, &r), 0);
    cr_assert_eq((intptr_t)r, 1);
    cr_assert_eq(acio_cfuture_result(a, 0, &r), -ECANCELED);
    cr_assert_eq(acio_cfuture_result(b, 0, &r), -ECANCELED);
    cr_assert_eq(acio_executor_free(ex), 0);
    cr_assert_eq(atomic_load(&runs), 0, "cancelled jobs never ran");
    acio_cfuture_unref(busy);
    acio_cfuture_unref(a);
    acio_cfuture_unref(b);
}

Test(executor, submit_bad_arguments_and_out_of_memory)
{
    acio_cfuture_t *f = (acio_cfuture_t *)&f;
    cr_assert_eq(acio_executor_submit(NULL, add_one, NULL, &f), -EINVAL);
    cr_assert_null(f);
    acio_executor_t *pp, *ex;
    cr_assert_eq(acio_process_pool_new(&pp, NULL), 0);
    cr_assert_eq(acio_executor_submit(pp, add_one, NULL, &f), -EINVAL);
    cr_assert_eq(acio_executor_free(pp), 0);
    cr_assert_eq(acio_executor_new(&ex, NULL), 0);
    cr_assert_eq(acio_executor_submit(ex, NULL, NULL, &f), -EINVAL);
    cr_assert_eq(acio_executor_submit(ex, add_one, NULL, NULL), -EINVAL);
    /* Every allocation of a submission failing in turn: -ENOMEM and nothing runs, or
     * the job runs and its future is settled. */
    atomic_int runs = 0;
    int failures = 0, expected = 0;
    for (long n = 1; n <= 8; n++) {
        f = NULL;
        acio__alloc_fail_after(n);
        int rc = acio_executor_submit(ex, count_runs, &runs, &f);
        acio__alloc_fail_after(0);
        if (rc < 0) {
            cr_assert_eq(rc, -ENOMEM, "n=%ld rc=%d", n, rc);
            cr_assert_null(f);
            failures++;
            continue;
        }
        expected++;
        void *r;
        cr_assert_eq(acio_cfuture_result(f, 20, &r), 0);
        acio_cfuture_unref(f);
    }
    cr_assert_gt(failures, 0);
    cr_assert_eq(acio_executor_free(ex), 0);
    cr_assert_eq(atomic_load(&runs), expected);
}
