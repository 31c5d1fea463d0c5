/* The event loop: call_soon FIFO and iteration boundaries, timers (order, equal
 * deadlines, cancellation, compaction), stop/run_forever, add_reader/add_writer,
 * call_soon_threadsafe from another thread, lifecycle errors and leak reports. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "support/rc.h"

static char trace[1024];
static acio_loop_t *L;

static void note(const char *s)
{
    strcat(trace, s);
    strcat(trace, " ");
}

static void cb_note(void *data)
{
    note(data);
}

static void setup(void)
{
    trace[0] = 0;
    cr_assert_eq(acio_loop_new(&L), 0);
}

static bool closed_by_test;
static void teardown(void)
{
    if (!closed_by_test)
        cr_assert_eq(acio_loop_close(L), 0);
}

static void cb_stop(void *data)
{
    acio_loop_stop(data);
}

static void cb_chain(void *data)
{
    note("chain");
    OK(acio_loop_call_soon(L, cb_note, data, NULL));
}

TestSuite(loop, .init = setup, .fini = teardown);

Test(loop, call_soon_is_fifo_and_new_callbacks_wait_an_iteration)
{
    OK(acio_loop_call_soon(L, cb_note, "a", NULL));
    OK(acio_loop_call_soon(L, cb_chain, "c2", NULL));
    OK(acio_loop_call_soon(L, cb_note, "b", NULL));
    OK(acio_loop_call_soon(L, cb_stop, L, NULL));
    acio_loop_run_forever(L);
    cr_assert_str_eq(trace, "a chain b ");
    /* c2 waits for the next run. */
    OK(acio_loop_call_soon(L, cb_stop, L, NULL));
    acio_loop_run_forever(L);
    cr_assert_str_eq(trace, "a chain b c2 ");
}

Test(loop, timers_fire_by_deadline_and_fifo_on_ties)
{
    double t = acio_loop_time(L);
    OK(acio_loop_call_at(L, t + 0.03, cb_note, "t3", NULL));
    OK(acio_loop_call_at(L, t + 0.01, cb_note, "t1a", NULL));
    OK(acio_loop_call_at(L, t + 0.02, cb_note, "t2", NULL));
    OK(acio_loop_call_at(L, t + 0.01, cb_note, "t1b", NULL));
    OK(acio_loop_call_at(L, t + 0.01, cb_note, "t1c", NULL));
    OK(acio_loop_call_at(L, t + 0.01, cb_note, "t1d", NULL));
    OK(acio_loop_call_later(L, 0, cb_note, "now", NULL));
    OK(acio_loop_call_soon(L, cb_note, "soon", NULL));
    OK(acio_loop_call_later(L, 0.04, cb_stop, L, NULL));
    acio_loop_run_forever(L);
    cr_assert_str_eq(trace, "soon now t1a t1b t1c t1d t2 t3 ");
    cr_assert_geq(acio_loop_time(L), t + 0.04);
}

Test(loop, cancelled_handles_do_not_run)
{
    acio_handle_t *h1, *h2;
    OK(acio_loop_call_soon(L, cb_note, "x", &h1));
    OK(acio_loop_call_later(L, 0.01, cb_note, "y", &h2));
    OK(acio_loop_call_soon(L, cb_note, "z", NULL));
    acio_handle_cancel(h1);
    acio_handle_cancel(h2);
    cr_assert(acio_handle_cancelled(h1));
    cr_assert_lt(acio_handle_when(h1), 0);
    cr_assert_gt(acio_handle_when(h2), 0);
    OK(acio_loop_call_later(L, 0.02, cb_stop, L, NULL));
    acio_loop_run_forever(L);
    cr_assert_str_eq(trace, "z ");
    acio_handle_unref(h1);
    acio_handle_unref(h2);
}

static int fired;
static void cb_count(void *data)
{
    (void)data;
    fired++;
}

Test(loop, many_cancelled_timers_are_compacted)
{
    enum { N = 5000 };
    static acio_handle_t *hs[N];
    fired = 0;
    for (int i = 0; i < N; i++)
        cr_assert_eq(acio_loop_call_later(L, 0.001 * (i % 50), cb_count, NULL, &hs[i]), 0);
    for (int i = 0; i < N; i++)
        if (i % 4)
            acio_handle_cancel(hs[i]);
    OK(acio_loop_call_later(L, 0.08, cb_stop, L, NULL));
    acio_loop_run_forever(L);
    cr_assert_eq(fired, N / 4, "fired %d", fired);
    for (int i = 0; i < N; i++)
        acio_handle_unref(hs[i]);
}

/* Enough timers for the wheel (timer.c) to take part: the first few hundred sit in the
 * heap, the rest wait in the wheel's slots, some share a deadline, some are cancelled
 * while in the wheel, some are already past due, one is beyond the wheel's span. They
 * must fire exactly in (deadline, scheduling order), as with the heap alone. */
enum { WHEEL_N = 3000 };
static int wheel_order[WHEEL_N], wheel_fired;

static void cb_record(void *data)
{
    wheel_order[wheel_fired++] = (int)(intptr_t)data;
}

typedef struct {
    double when;
    int index;
} wheel_ref_t;

static int by_when_then_index(const void *a, const void *b)
{
    const wheel_ref_t *x = a, *y = b;
    if (x->when != y->when)
        return x->when < y->when ? -1 : 1;
    return x->index - y->index;
}

Test(loop, many_timers_fire_in_order_through_the_wheel)
{
    static acio_handle_t *hs[WHEEL_N];
    static wheel_ref_t ref[WHEEL_N];
    size_t nref = 0;
    uint32_t state = 12345;
    double t0 = acio_loop_time(L);
    wheel_fired = 0;
    for (int i = 0; i < WHEEL_N; i++) {
        state = state * 1103515245u + 12345u;
        /* 600 distinct deadlines 0.5 ms apart (many ties), a few in the past. */
        double when = t0 + ((int)(state >> 16) % 600 - 20) * 0.0005;
        cr_assert_eq(acio_loop_call_at(L, when, cb_record, (void *)(intptr_t)i, &hs[i]), 0);
        ref[i] = (wheel_ref_t){when, i};
    }
    acio_handle_t *far;
    cr_assert_eq(acio_loop_call_later(L, 3600, cb_record, (void *)(intptr_t)-1, &far), 0);
    for (int i = 0; i < WHEEL_N; i += 7)
        acio_handle_cancel(hs[i]);
    for (int i = 0; i < WHEEL_N; i++)
        if (!acio_handle_cancelled(hs[i]))
            ref[nref++] = ref[i];
    qsort(ref, nref, sizeof ref[0], by_when_then_index);
    OK(acio_loop_call_at(L, t0 + 0.32, cb_stop, L, NULL));
    acio_loop_run_forever(L);
    cr_assert_eq((size_t)wheel_fired, nref, "fired %d of %zu", wheel_fired, nref);
    for (size_t i = 0; i < nref; i++)
        cr_assert_eq(wheel_order[i], ref[i].index, "position %zu: timer %d fired, not %d", i,
                     wheel_order[i], ref[i].index);
    for (int i = 0; i < WHEEL_N; i++)
        acio_handle_unref(hs[i]);
    cr_assert(!acio_handle_cancelled(far));
    acio_handle_cancel(far);
    acio_handle_unref(far);
}

Test(loop, stop_finishes_the_iteration)
{
    OK(acio_loop_call_soon(L, cb_note, "a", NULL));
    OK(acio_loop_call_soon(L, cb_stop, L, NULL));
    OK(acio_loop_call_soon(L, cb_note, "b", NULL));
    cr_assert_eq(acio_loop_run_forever(L), 0);
    cr_assert_str_eq(trace, "a b ");
    cr_assert(!acio_loop_is_running(L));
}

static void cb_nested(void *data)
{
    (void)data;
    cr_assert(acio_loop_is_running(L));
    cr_assert_eq(acio_get_running_loop(), L);
    cr_assert_eq(acio_loop_run_forever(L), ACIO_ERUNNING);
    cr_assert_eq(acio_loop_close(L), ACIO_ERUNNING);
    acio_loop_t *other;
    OK(acio_loop_new(&other));
    cr_assert_eq(acio_loop_run_forever(other), ACIO_ERUNNING, "one running loop per thread");
    acio_loop_close(other);
    acio_loop_stop(L);
}

Test(loop, running_a_loop_inside_a_running_loop_is_refused)
{
    OK(acio_loop_call_soon(L, cb_nested, NULL, NULL));
    cr_assert_eq(acio_loop_run_forever(L), 0);
    cr_assert_null(acio_get_running_loop());
    acio_loop_t *got = (acio_loop_t *)1;
    cr_assert_eq(acio_get_running_loop_checked(&got), ACIO_ENOLOOP);
}

Test(loop, bad_arguments)
{
    cr_assert_eq(acio_loop_call_soon(NULL, cb_note, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_loop_call_soon(L, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_loop_call_later(L, 0.0 / 0.0, cb_note, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_loop_add_reader(L, -1, NULL, NULL), -EBADF);
    cr_assert_eq(acio_loop_new(NULL), -EINVAL);
    cr_assert_eq(acio_loop_close(NULL), 0);
}

static void on_readable(int fd, int events, void *data)
{
    (void)events;
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    cr_assert_eq(n, 3);
    note("read");
    acio_loop_remove_reader(L, fd);
    acio_loop_stop(data);
}

static void write_later(void *data)
{
    int fd = *(int *)data;
    cr_assert_eq(write(fd, "abc", 3), 3);
}

Test(loop, add_reader_runs_when_readable)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(acio_loop_add_reader(L, p[0], on_readable, L), 0);
    cr_assert_eq(acio_loop_add_reader(L, p[0], on_readable, L), -EEXIST);
    OK(acio_loop_call_later(L, 0.01, write_later, &p[1], NULL));
    acio_loop_run_forever(L);
    cr_assert_str_eq(trace, "read ");
    cr_assert_eq(acio_loop_remove_reader(L, p[0]), 0, "already removed");
    close(p[0]);
    close(p[1]);
}

static void on_writable(int fd, int events, void *data)
{
    (void)data;
    cr_assert_eq(events, ACIO_WRITABLE);
    note("writable");
    acio_loop_remove_writer(L, fd);
    acio_loop_stop(L);
}

Test(loop, add_writer_and_file_errors)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(acio_loop_add_writer(L, p[1], on_writable, NULL), 0);
    acio_loop_run_forever(L);
    cr_assert_str_eq(trace, "writable ");
    close(p[0]);
    close(p[1]);
    cr_assert_eq(acio_loop_add_reader(L, p[0], on_readable, NULL), -EBADF, "closed fd");
    char path[] = "/tmp/acio-loop-XXXXXX";
    int f = mkstemp(path);
    cr_assert_eq(acio_loop_add_reader(L, f, on_readable, NULL), -EPERM, "regular file");
    close(f);
    unlink(path);
}

static int reports;
static char last_report[256];
static void handler(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop;
    (void)data;
    reports++;
    snprintf(last_report, sizeof last_report, "%s", ctx->message);
}

Test(loop, close_reports_registered_fds)
{
    closed_by_test = true;
    int p[2];
    cr_assert_eq(pipe(p), 0);
    reports = 0;
    acio_loop_set_exception_handler(L, handler, NULL);
    cr_assert_eq(acio_loop_add_reader(L, p[0], on_readable, NULL), 0);
    cr_assert_eq(acio_loop_close(L), 0);
    cr_assert_eq(reports, 1);
    cr_assert(strstr(last_report, "fd"), "report: %s", last_report);
    close(p[0]);
    close(p[1]);
}

static void *never(void *arg)
{
    return arg;
}

Test(loop, closed_loop_refuses_work)
{
    closed_by_test = true;
    /* A future keeps its loop's memory alive after close, so the closed loop can still
     * be reached through it and must refuse everything. */
    acio_future_t *f;
    cr_assert_eq(acio_future_new(L, &f), 0);
    cr_assert_eq(acio_loop_close(L), 0);
    acio_loop_t *closed = acio_future_get_loop(f);
    cr_assert(acio_loop_is_closed(closed));
    cr_assert_eq(acio_loop_call_soon(closed, cb_note, "x", NULL), ACIO_ECLOSED);
    cr_assert_eq(acio_loop_call_later(closed, 1, cb_note, "x", NULL), ACIO_ECLOSED);
    cr_assert_eq(acio_loop_run_forever(closed), ACIO_ECLOSED);
    cr_assert_eq(acio_loop_create_task(closed, NULL, never, NULL, NULL), ACIO_ECLOSED);
    acio_future_t *g;
    cr_assert_eq(acio_future_new(closed, &g), ACIO_ECLOSED);
    cr_assert_eq(acio_loop_close(closed), 0, "closing twice is harmless");
    acio_future_unref(f);
}

static atomic_int ts_count;
static void ts_cb(void *data)
{
    (void)data;
    if (atomic_fetch_add(&ts_count, 1) + 1 == 4000)
        acio_loop_stop(L);
}

static void *ts_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(acio_loop_call_soon_threadsafe(L, ts_cb, NULL), 0);
    return NULL;
}

static void start_threads(void *data)
{
    pthread_t *th = data;
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, ts_thread, NULL);
}

Test(loop, call_soon_threadsafe_wakes_the_loop_and_loses_nothing)
{
    pthread_t th[4];
    atomic_store(&ts_count, 0);
    OK(acio_loop_call_later(L, 0.01, start_threads, th, NULL));
    acio_loop_run_forever(L);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&ts_count), 4000);
}

/* Threadsafe callbacks placed in the middle of a busy FIFO (the loop thread keeps three
 * callbacks queued at all times) keep each thread's order, and none is lost. */
#define ORD_THREADS 3
#define ORD_CALLS   3000
static int ord_next[ORD_THREADS];
static int ord_done;
static bool ord_bad;
static atomic_int ord_busy;

static void ord_cb(void *data)
{
    intptr_t v = (intptr_t)data;
    int th = (int)(v / ORD_CALLS), i = (int)(v % ORD_CALLS);
    if (ord_next[th] != i)
        ord_bad = true;
    ord_next[th] = i + 1;
    if (++ord_done == ORD_THREADS * ORD_CALLS)
        atomic_store(&ord_busy, 0);
}

static void busy_cb(void *data)
{
    (void)data;
    if (atomic_load(&ord_busy))
        cr_assert_eq(acio_loop_call_soon(L, busy_cb, NULL, NULL), 0);
    else
        acio_loop_stop(L);
}

static void *ord_thread(void *arg)
{
    intptr_t th = (intptr_t)arg;
    for (int i = 0; i < ORD_CALLS; i++)
        cr_assert_eq(acio_loop_call_soon_threadsafe(L, ord_cb, (void *)(th * ORD_CALLS + i)), 0);
    return NULL;
}

Test(loop, call_soon_threadsafe_keeps_each_threads_order_in_a_busy_fifo)
{
    pthread_t th[ORD_THREADS];
    atomic_store(&ord_busy, 1);
    for (int i = 0; i < 3; i++)
        OK(acio_loop_call_soon(L, busy_cb, NULL, NULL));
    for (intptr_t i = 0; i < ORD_THREADS; i++)
        pthread_create(&th[i], NULL, ord_thread, (void *)i);
    acio_loop_run_forever(L);
    for (int i = 0; i < ORD_THREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_not(ord_bad, "a thread's callbacks ran out of order");
    cr_assert_eq(ord_done, ORD_THREADS * ORD_CALLS);
}

static void *stopper(void *arg)
{
    usleep(20000);
    acio_loop_stop_threadsafe(arg);
    return NULL;
}

Test(loop, stop_threadsafe_wakes_a_sleeping_loop)
{
    pthread_t th;
    pthread_create(&th, NULL, stopper, L);
    OK(acio_loop_call_later(L, 30, cb_note, "never", NULL));
    acio_loop_run_forever(L);
    pthread_join(th, NULL);
    cr_assert_str_eq(trace, "");
}

/* loop.call_later(d, loop.stop): acio_loop_stop_cb has the callback signature. */
Test(loop, stop_cb_as_a_scheduled_callback)
{
    OK(acio_loop_call_soon(L, cb_note, "soon", NULL));
    OK(acio_loop_call_later(L, 0.01, acio_loop_stop_cb, L, NULL));
    OK(acio_loop_call_later(L, 30, cb_note, "never", NULL));
    acio_loop_run_forever(L);
    cr_assert_str_eq(trace, "soon ");
    /* and from call_soon: the loop stops after that iteration */
    OK(acio_loop_call_soon(L, acio_loop_stop_cb, L, NULL));
    OK(acio_loop_call_soon(L, cb_note, "same-iteration", NULL));
    acio_loop_run_forever(L);
    cr_assert_str_eq(trace, "soon same-iteration ");
}

static void slow_cb(void *data)
{
    (void)data;
    usleep(30000);
    acio_loop_stop(L);
}

Test(loop, debug_mode_reports_slow_callbacks)
{
    reports = 0;
    acio_loop_set_debug(L, true);
    cr_assert(acio_loop_get_debug(L));
    acio_loop_set_slow_callback_duration(L, 0.01);
    acio_loop_set_exception_handler(L, handler, NULL);
    OK(acio_loop_call_soon(L, slow_cb, NULL, NULL));
    acio_loop_run_forever(L);
    cr_assert_eq(reports, 1);
    cr_assert(strstr(last_report, "took"), "report: %s", last_report);
}

static void *wrong_thread(void *arg)
{
    return (void *)(long)acio_loop_call_soon(arg, cb_note, "x", NULL);
}

static void check_wrong_thread(void *data)
{
    (void)data;
    pthread_t th;
    void *rc;
    pthread_create(&th, NULL, wrong_thread, L);
    pthread_join(th, &rc);
    cr_assert_eq((long)rc, ACIO_EWRONGTHREAD);
    acio_loop_stop(L);
}

Test(loop, debug_mode_refuses_calls_from_other_threads)
{
    acio_loop_set_debug(L, true);
    OK(acio_loop_call_soon(L, check_wrong_thread, NULL, NULL));
    acio_loop_run_forever(L);
}

static void stuck_cb(void *data)
{
    (void)data;
    usleep(300000);
    acio_loop_stop(L);
}

Test(loop, watchdog_reports_a_stuck_loop)
{
    cr_redirect_stderr();
    cr_assert_eq(acio_loop_set_watchdog(L, 0.05), 0);
    OK(acio_loop_call_soon(L, stuck_cb, NULL, NULL));
    acio_loop_run_forever(L);
    cr_assert_eq(acio_loop_set_watchdog(L, 0), 0);
    fflush(stderr);
    cr_assert_stderr_neq_str("", "the watchdog printed nothing");
}

Test(misc, strerror_names_every_code)
{
    cr_assert_str_eq(acio_err_name(-ECANCELED), "ECANCELED");
    cr_assert_str_eq(acio_err_name(ACIO_EQUEUEFULL), "ACIO_EQUEUEFULL");
    cr_assert(strstr(acio_strerror(ACIO_ECLOSED), "closed"));
    cr_assert(strstr(acio_strerror(-ETIMEDOUT), "timed out"));
    for (int c = ACIO_ERR_BASE - 1; c >= ACIO_EFAILED; c--)
        cr_assert_str_neq(acio_err_name(c), "UNKNOWN", "code %d", c);
    cr_assert_str_eq(acio_err_name(12345), "UNKNOWN");
    cr_assert_str_eq(acio_version_string(), "0.1.0");
}
