/* Unit tests for async iteration (include/acio/aiter.h): a hand-written async iterator
 * (the seeds' Reader), ACIO_AFOR and acio_aiter_foreach, and async generators: values
 * with awaits in between, asend, athrow, aclose running the body's cleanup (which may
 * itself await), errors, "already running", cancellation of the consumer reaching the
 * body's await, and freeing a generator in every state. */
#include <criterion/criterion.h>

#include "diff_sync/trace.h"
#include "support/rc.h"

/* A lost wake-up shows as a hang: fail it after a generous bound instead. */
TestSuite(aiter, .timeout = 60);
TestSuite(agen, .timeout = 60);

#define I(x) ((void *)(intptr_t)(x))
#define V(p) ((int)(intptr_t)(p))

/* ---- a hand-written async iterator: the seeds' Reader ---- */

typedef struct {
    acio_aiter_t it; /* first */
    int count;
    int limit;
} reader_t;

static int reader_anext(acio_aiter_t *it, void **value)
{
    reader_t *r = (reader_t *)it;
    int rc = acio_sleep(0); /* readline() awaits */
    if (rc < 0)
        return rc;
    if (++r->count == r->limit)
        return ACIO_ESTOPASYNCITERATION;
    *value = I(r->count);
    return 0;
}

static void *reader_main(void *arg)
{
    (void)arg;
    reader_t r = {{reader_anext, NULL, NULL}, 0, 5};
    void *v;
    int rc;
    ACIO_AFOR(rc, &r.it, v)
    tr("%d", V(v));
    cr_assert_eq(rc, ACIO_ESTOPASYNCITERATION);
    cr_assert(!acio_afor_failed(rc));
    cr_assert_eq(acio_aclose(&r.it), 0, "no aclose: nothing to do");
    /* break leaves rc at 0 */
    r.count = 0;
    ACIO_AFOR(rc, &r.it, v)
    if (V(v) == 2)
        break;
    cr_assert_eq(rc, 0);
    cr_assert(!acio_afor_failed(rc));
    return NULL;
}

Test(aiter, reader_with_afor)
{
    trace_reset();
    cr_assert_eq(acio_run(reader_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "1\n2\n3\n4\n");
    cr_assert_eq(acio_anext(NULL, NULL), -EINVAL);
    cr_assert(acio_afor_failed(-EIO));
}

static int sum_body(void *value, void *arg)
{
    *(int *)arg += V(value);
    return V(value) == 3 ? 1 : 0;
}

static void *foreach_main(void *arg)
{
    (void)arg;
    reader_t r = {{reader_anext, NULL, NULL}, 0, 10};
    int sum = 0;
    cr_assert_eq(acio_aiter_foreach(&r.it, sum_body, &sum), 1, "the body's break value");
    cr_assert_eq(sum, 6);
    sum = 0;
    r.count = 5;
    cr_assert_eq(acio_aiter_foreach(&r.it, sum_body, &sum), 0, "exhausted");
    cr_assert_eq(sum, 6 + 7 + 8 + 9);
    return NULL;
}

Test(aiter, foreach_function)
{
    cr_assert_eq(acio_run(foreach_main, NULL, NULL), 0);
}

/* ---- async generators ---- */

static int cleanup_runs;

/* mygen: powers of two with an await between values; cleanup on close. */
static int powers(acio_agen_t *gen, void *arg)
{
    int u = V(arg);
    for (int i = 0; i < u; i++) {
        int rc = acio_agen_yield(gen, I(1 << i), NULL);
        if (rc < 0) {
            /* Closing (or thrown into): clean up, awaiting on the way out. */
            OK(acio_sleep(0));
            cleanup_runs++;
            tr("cleanup after %d: %s", 1 << i, rcname(rc));
            return rc == ACIO_EGENERATOREXIT ? 0 : rc;
        }
        if ((rc = acio_sleep(0)) < 0) {
            tr("body sleep %s", rcname(rc));
            return rc;
        }
    }
    return 0;
}

static void *powers_main(void *arg)
{
    (void)arg;
    acio_agen_t *g;
    void *v;
    int rc, n = 0;
    cr_assert_eq(acio_agen_new(&g, powers, I(10), 0), 0);
    ACIO_AFOR(rc, acio_agen_aiter(g), v)
    cr_assert_eq(V(v), 1 << n++);
    cr_assert_eq(rc, ACIO_ESTOPASYNCITERATION);
    cr_assert_eq(n, 10);
    cr_assert(acio_agen_finished(g));
    cr_assert_eq(acio_agen_anext(g, &v), ACIO_ESTOPASYNCITERATION, "stays exhausted");
    cr_assert_eq(acio_agen_free(g), 0);

    /* [j async for j in mygen() if not (j // 3 % 5)] */
    cr_assert_eq(acio_agen_new(&g, powers, I(10), 0), 0);
    ACIO_AFOR(rc, acio_agen_aiter(g), v)
    if (!(V(v) / 3 % 5))
        tr("%d", V(v));
    cr_assert_eq(acio_agen_free(g), 0);
    cr_assert_eq(cleanup_runs, 0);
    return NULL;
}

Test(agen, powers_of_two)
{
    trace_reset();
    cr_assert_eq(acio_run(powers_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "1\n2\n16\n32\n256\n512\n");
}

static void *aclose_main(void *arg)
{
    (void)arg;
    acio_agen_t *g;
    void *v;
    cleanup_runs = 0;
    cr_assert_eq(acio_agen_new(&g, powers, I(10), 0), 0);
    cr_assert_eq(acio_agen_anext(g, &v), 0);
    cr_assert_eq(acio_agen_anext(g, &v), 0);
    cr_assert_eq(V(v), 2);
    tr("aclose");
    cr_assert_eq(acio_agen_aclose(g), 0);
    cr_assert(acio_agen_finished(g));
    cr_assert_eq(cleanup_runs, 1);
    cr_assert_eq(acio_agen_anext(g, &v), ACIO_ESTOPASYNCITERATION);
    cr_assert_eq(acio_agen_aclose(g), 0, "closing twice is fine");
    cr_assert_eq(acio_agen_free(g), 0);

    /* Freeing a suspended generator from a task closes it (cleanup runs). */
    cr_assert_eq(acio_agen_new(&g, powers, I(10), 0), 0);
    cr_assert_eq(acio_agen_anext(g, &v), 0);
    tr("free");
    cr_assert_eq(acio_agen_free(g), 0);
    cr_assert_eq(cleanup_runs, 2);

    /* Closing or freeing one that never started runs nothing. */
    cr_assert_eq(acio_agen_new(&g, powers, I(10), 0), 0);
    cr_assert_eq(acio_agen_aclose(g), 0);
    cr_assert_eq(acio_agen_anext(g, &v), ACIO_ESTOPASYNCITERATION);
    cr_assert_eq(acio_agen_free(g), 0);
    cr_assert_eq(acio_agen_new(&g, powers, I(10), 0), 0);
    cr_assert_eq(acio_agen_free(g), 0);
    cr_assert_eq(cleanup_runs, 2);
    return NULL;
}

Test(agen, aclose_runs_cleanup)
{
    trace_reset();
    cr_assert_eq(acio_run(aclose_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "aclose\n"
                                  "cleanup after 2: ACIO_EGENERATOREXIT\n"
                                  "free\n"
                                  "cleanup after 1: ACIO_EGENERATOREXIT\n");
}

/* An echo generator: yields what it is sent, doubled; athrow ends it with the code. */
static int echo(acio_agen_t *gen, void *arg)
{
    (void)arg;
    void *sent = NULL;
    int rc = acio_agen_yield(gen, I(-1), &sent);
    while (rc == 0) {
        rc = acio_agen_yield(gen, I(2 * V(sent)), &sent);
    }
    tr("echo ends: %s", rcname(rc));
    return rc == ACIO_EGENERATOREXIT ? 0 : rc;
}

static void *asend_main(void *arg)
{
    (void)arg;
    acio_agen_t *g;
    void *v;
    cr_assert_eq(acio_agen_new(&g, echo, NULL, 0), 0);
    cr_assert_eq(acio_agen_asend(g, I(5), &v), -EINVAL, "first send must be NULL");
    cr_assert_eq(acio_agen_asend(g, NULL, &v), 0);
    cr_assert_eq(V(v), -1);
    cr_assert_eq(acio_agen_asend(g, I(21), &v), 0);
    cr_assert_eq(V(v), 42);
    cr_assert_eq(acio_agen_asend(g, I(4), &v), 0);
    cr_assert_eq(V(v), 8);
    cr_assert_eq(acio_agen_athrow(g, -EIO, &v), -EIO, "the body returned the thrown code");
    cr_assert(acio_agen_finished(g));
    cr_assert_eq(acio_agen_athrow(g, -EIO, &v), ACIO_ESTOPASYNCITERATION);
    cr_assert_eq(acio_agen_athrow(g, 5, &v), -EINVAL, "codes are negative");
    cr_assert_eq(acio_agen_free(g), 0);

    /* athrow into a generator that has not started: raised at once, body never runs. */
    cr_assert_eq(acio_agen_new(&g, echo, NULL, 0), 0);
    cr_assert_eq(acio_agen_athrow(g, -EPIPE, &v), -EPIPE);
    cr_assert(acio_agen_finished(g));
    cr_assert_eq(acio_agen_free(g), 0);
    return NULL;
}

Test(agen, asend_and_athrow)
{
    trace_reset();
    cr_assert_eq(acio_run(asend_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "echo ends: EIO\n");
}

static int failing(acio_agen_t *gen, void *arg)
{
    (void)arg;
    OK(acio_agen_yield(gen, I(1), NULL));
    return -EBADMSG;
}

/* A body that keeps yielding when asked to close, until it is abandoned. */
static int stubborn(acio_agen_t *gen, void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++) {
        int rc = acio_agen_yield(gen, I(i), NULL);
        if (rc < 0)
            tr("stubborn: %s at %d", rcname(rc), i);
        if (rc == -ECANCELED)
            return 0;
    }
    return 0;
}

static void *errors_main(void *arg)
{
    (void)arg;
    acio_agen_t *g;
    void *v;
    cr_assert_eq(acio_agen_new(&g, failing, NULL, 0), 0);
    cr_assert_eq(acio_agen_anext(g, &v), 0);
    cr_assert_eq(acio_agen_anext(g, &v), -EBADMSG);
    cr_assert_eq(acio_agen_anext(g, &v), ACIO_ESTOPASYNCITERATION, "error reported once");
    cr_assert_eq(acio_agen_free(g), 0);

    /* A body that yields when asked to close: aclose fails and it stays suspended;
     * free tries to close it, then abandons it (its yield returns -ECANCELED) and the
     * body releases the generator when it returns (ASan checks nothing leaks). */
    cr_assert_eq(acio_agen_new(&g, stubborn, NULL, 0), 0);
    cr_assert_eq(acio_agen_anext(g, &v), 0);
    cr_assert_eq(acio_agen_aclose(g), ACIO_EGENERATOREXIT);
    cr_assert(!acio_agen_finished(g));
    cr_assert_eq(acio_agen_free(g), ACIO_EGENERATOREXIT);
    yield_n(2);

    cr_assert_eq(acio_agen_yield(NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_agen_new(NULL, failing, NULL, 0), -EINVAL);
    cr_assert_eq(acio_agen_new(&g, NULL, NULL, 0), -EINVAL);
    return NULL;
}

Test(agen, errors_and_stubborn_close)
{
    trace_reset();
    cr_assert_eq(acio_run(errors_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "stubborn: ACIO_EGENERATOREXIT at 0\n"
                                  "stubborn: ACIO_EGENERATOREXIT at 1\n"
                                  "stubborn: cancelled at 2\n");
}

/* A body that waits a long time between values. */
static int slow(acio_agen_t *gen, void *arg)
{
    (void)arg;
    for (int i = 0;; i++) {
        int rc = acio_agen_yield(gen, I(i), NULL);
        if (rc < 0)
            return rc == ACIO_EGENERATOREXIT ? 0 : rc;
        rc = acio_sleep(100);
        tr("slow: sleep %s", rcname(rc));
        if (rc < 0)
            return rc;
    }
}

static acio_agen_t *G;

static void *slow_consumer(void *arg)
{
    (void)arg;
    void *v;
    int rc;
    cr_assert_eq(acio_agen_anext(G, &v), 0);
    rc = acio_agen_anext(G, &v);
    tr("consumer: anext %s", rcname(rc));
    return NULL;
}

static void *cancel_main(void *arg)
{
    (void)arg;
    acio_task_t *c, *c2;
    void *v;
    cr_assert_eq(acio_agen_new(&G, slow, NULL, 0), 0);
    SPAWN(&c, slow_consumer, NULL, "consumer");
    yield_n(4); /* the consumer waits for the second value; the body sleeps */
    cr_assert_eq(acio_agen_anext(G, &v), ACIO_ERUNNING, "already running");
    cr_assert_eq(acio_agen_free(G), ACIO_ERUNNING);
    tr("cancel consumer");
    acio_task_cancel(c, NULL);
    UNCHECKED(acio_await(c, NULL));
    acio_future_unref(c);
    cr_assert(acio_agen_finished(G));
    cr_assert_eq(acio_agen_free(G), 0);

    /* acio_run cancels the consumer still waiting at shutdown: the body runs inside it,
     * so the cancellation reaches the body's sleep, as in asyncio. */
    cr_assert_eq(acio_agen_new(&G, slow, NULL, 0), 0);
    SPAWN(&c2, slow_consumer, NULL, "consumer2");
    yield_n(2);
    acio_future_unref(c2);
    return NULL;
}

Test(agen, consumer_cancel_reaches_body)
{
    trace_reset();
    OK(acio_run(cancel_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "cancel consumer\n"
                                  "slow: sleep cancelled\n"
                                  "consumer: anext cancelled\n"
                                  "slow: sleep cancelled\n"
                                  "consumer: anext cancelled\n");
    cr_assert_eq(acio_agen_free(G), 0);
}

Test(agen, outside_a_task)
{
    acio_agen_t *g;
    void *v;
    cr_assert_eq(acio_agen_new(&g, powers, I(3), 0), 0);
    cr_assert_eq(acio_agen_anext(g, &v), ACIO_ENOTASK);
    cr_assert_eq(acio_agen_free(g), 0);
}

/* ---- generators inside generators, and timeouts around a request ---- */

/* Yields 10 * each value of the inner generator (arg), sleeping between them: the
 * inner body's awaits are relayed through two levels of nesting. */
static int inner_gen(acio_agen_t *gen, void *arg)
{
    for (int i = 1; i <= V(arg); i++) {
        if (acio_sleep(0.001) < 0)
            return -ECANCELED;
        int rc = acio_agen_yield(gen, I(i), NULL);
        if (rc < 0)
            return rc == ACIO_EGENERATOREXIT ? 0 : rc;
    }
    return 0;
}

static int outer_gen(acio_agen_t *gen, void *arg)
{
    acio_agen_t *inner;
    void *v;
    int rc;
    cr_assert_eq(acio_agen_new(&inner, inner_gen, arg, 0), 0);
    while ((rc = acio_agen_anext(inner, &v)) == 0) {
        OK(acio_sleep(0));
        if ((rc = acio_agen_yield(gen, I(V(v) * 10), NULL)) < 0)
            break;
    }
    cr_assert_eq(acio_agen_free(inner), 0);
    return rc == ACIO_ESTOPASYNCITERATION || rc == ACIO_EGENERATOREXIT ? 0 : rc;
}

static void *nested_main(void *arg)
{
    (void)arg;
    acio_agen_t *g;
    void *v;
    int rc, sum = 0;
    cr_assert_eq(acio_agen_new(&g, outer_gen, I(4), 0), 0);
    ACIO_AFOR(rc, acio_agen_aiter(g), v)
    sum += V(v);
    cr_assert_eq(rc, ACIO_ESTOPASYNCITERATION);
    cr_assert_eq(sum, 100);
    cr_assert_eq(acio_agen_free(g), 0);

    /* A timeout around one request cancels the innermost body's sleep. */
    cr_assert_eq(acio_agen_new(&g, outer_gen, I(4), 0), 0);
    acio_timeout_t cm;
    cr_assert_eq(acio_timeout_enter(&cm, 0.0001), 0);
    rc = acio_agen_anext(g, &v);
    rc = acio_timeout_exit(&cm, rc);
    cr_assert_eq(rc, -ETIMEDOUT, "got %s", acio_err_name(rc));
    cr_assert(acio_agen_finished(g));
    cr_assert_eq(acio_agen_free(g), 0);
    return NULL;
}

Test(agen, generators_nest_and_time_out)
{
    cr_assert_eq(acio_run(nested_main, NULL, NULL), 0);
}

/* Errors passing through a generator keep their message: the body's own
 * (acio_agen_raise) and the consumer's athrow message, read on both sides. */
static char body_saw[64];

static int raising_body(acio_agen_t *gen, void *arg)
{
    (void)arg;
    int rc = acio_agen_yield(gen, (void *)1, NULL);
    if (rc < 0) {
        const char *m = acio_agen_error_message(gen);
        snprintf(body_saw, sizeof body_saw, "%s", m ? m : "(null)");
        return rc; /* let the thrown error end the body: `raise` */
    }
    return acio_agen_raise(gen, -EIO, "row %d is bad", 3);
}

static void *agen_messages_main(void *arg)
{
    (void)arg;
    acio_agen_t *gen;
    void *v;
    OK(acio_agen_new(&gen, raising_body, NULL, 0));
    OK(acio_agen_anext(gen, &v));
    cr_assert_null(acio_agen_error_message(gen));
    cr_assert_eq(acio_agen_anext(gen, &v), -EIO);
    cr_assert_str_eq(acio_agen_error_message(gen), "row 3 is bad");
    cr_assert_eq(acio_agen_free(gen), 0);

    OK(acio_agen_new(&gen, raising_body, NULL, 0));
    OK(acio_agen_anext(gen, &v));
    cr_assert_eq(acio_agen_athrow_msg(gen, -EPIPE, "the consumer went away", &v), -EPIPE);
    cr_assert_str_eq(body_saw, "the consumer went away", "the body reads the message");
    cr_assert_str_eq(acio_agen_error_message(gen), "the consumer went away",
                     "and the consumer reads it when the body re-raises");
    cr_assert_eq(acio_agen_free(gen), 0);

    /* athrow before the first request: raised at once, message kept. */
    OK(acio_agen_new(&gen, raising_body, NULL, 0));
    cr_assert_eq(acio_agen_athrow_msg(gen, -EPIPE, "never started", &v), -EPIPE);
    cr_assert_str_eq(acio_agen_error_message(gen), "never started");
    cr_assert_eq(acio_agen_free(gen), 0);
    return NULL;
}

Test(agen, error_messages_pass_through)
{
    cr_assert_eq(acio_run(agen_messages_main, NULL, NULL), 0);
}
