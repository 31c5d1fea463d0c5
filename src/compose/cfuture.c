/* Concurrent futures (concurrent.futures.Future) and the two bridges between threads and
 * a loop: run_coroutine_threadsafe (a thread starts a task on a loop and blocks on the
 * outcome) and wrap_future (a result produced in another thread lands in a loop future).
 *
 * A concurrent future is a mutex, a condition variable and a state; callbacks run in the
 * thread that completes it, outside the lock. Everything that crosses to the loop goes
 * through acio_loop_call_soon_threadsafe(), the only loop entry point other threads may
 * use. The chaining follows CPython's futures._chain_future: outcome copied one way,
 * cancellation the other way. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

enum { CF_PENDING = 0, CF_RUNNING, CF_CANCELLED, CF_FINISHED };

typedef struct cf_cb_s {
    struct cf_cb_s *next;
    acio_cfuture_cb cb;
    void *data;
} cf_cb_t;

struct acio_cfuture_s {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    atomic_uint refs;
    int state;
    int code;
    void *result;
    char *message;
    cf_cb_t *cbs, **cbs_tail;
    /* run_coroutine_threadsafe: the task's side, touched on the loop thread only. */
    acio_loop_t *loop;
    acio_coro_fn fn;
    void *arg;
    acio_task_t *task;
};

int acio_cfuture_new(acio_cfuture_t **out)
{
    acio_cfuture_t *cf;

    if (out == NULL)
        return -EINVAL;
    if ((cf = acio__calloc(1, sizeof(*cf))) == NULL)
        return -ENOMEM;
    pthread_mutex_init(&cf->mu, NULL);
    pthread_cond_init(&cf->cond, NULL);
    atomic_init(&cf->refs, 1);
    cf->cbs_tail = &cf->cbs;
    *out = cf;
    return 0;
}

acio_cfuture_t *acio_cfuture_ref(acio_cfuture_t *cf)
{
    if (cf != NULL)
        atomic_fetch_add(&cf->refs, 1);
    return cf;
}

void acio_cfuture_unref(acio_cfuture_t *cf)
{
    if (cf == NULL || atomic_fetch_sub(&cf->refs, 1) != 1)
        return;
    for (cf_cb_t *c = cf->cbs, *next; c != NULL; c = next) {
        next = c->next;
        acio__free(c);
    }
    acio__free(cf->message);
    pthread_cond_destroy(&cf->cond);
    pthread_mutex_destroy(&cf->mu);
    acio__free(cf);
}

/* Move to a final state (under the lock), then run the callbacks outside it. With
 * pending_only, only from PENDING: cancel() must not end a future that a worker marked
 * running between cancel's look at the state and this call. */
static int cf_finish_from(acio_cfuture_t *cf, bool pending_only, int state, int code, void *result,
                          char *message)
{
    cf_cb_t *cbs;

    pthread_mutex_lock(&cf->mu);
    if (cf->state == CF_CANCELLED || cf->state == CF_FINISHED ||
        (pending_only && cf->state != CF_PENDING)) {
        pthread_mutex_unlock(&cf->mu);
        acio__free(message);
        return ACIO_EINVALSTATE;
    }
    cf->state = state;
    cf->code = code;
    cf->result = result;
    cf->message = message;
    cbs = cf->cbs;
    cf->cbs = NULL;
    cf->cbs_tail = &cf->cbs;
    pthread_cond_broadcast(&cf->cond);
    /* The callbacks may drop the last reference somebody else holds; keep ours. */
    acio_cfuture_ref(cf);
    pthread_mutex_unlock(&cf->mu);
    for (cf_cb_t *c = cbs, *next; c != NULL; c = next) {
        next = c->next;
        c->cb(cf, c->data);
        acio__free(c);
    }
    acio_cfuture_unref(cf);
    return 0;
}

static int cf_finish(acio_cfuture_t *cf, int state, int code, void *result, char *message)
{
    return cf_finish_from(cf, false, state, code, result, message);
}

int acio_cfuture_set_result(acio_cfuture_t *cf, void *result)
{
    if (cf == NULL)
        return -EINVAL;
    return cf_finish(cf, CF_FINISHED, 0, result, NULL);
}

int acio_cfuture_set_error(acio_cfuture_t *cf, int code, const char *fmt, ...)
{
    char *msg = NULL;

    if (cf == NULL || code >= 0 || code == -ECANCELED)
        return -EINVAL;
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        int len = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (len >= 0 && (msg = acio__malloc((size_t)len + 1)) != NULL) {
            va_start(ap, fmt);
            vsnprintf(msg, (size_t)len + 1, fmt, ap);
            va_end(ap);
        }
    }
    return cf_finish(cf, CF_FINISHED, code, NULL, msg);
}

/* Finish cf with code and message (-ECANCELED: cancelled, even once running, as a
 * CancelledError raised by the work itself does). */
int acio__cfuture_set_message_error(acio_cfuture_t *cf, int code, const char *msg)
{
    if (code == -ECANCELED) {
        char *m = msg != NULL ? acio__strdup(msg) : NULL;
        return cf_finish(cf, CF_CANCELLED, -ECANCELED, NULL, m);
    }
    return msg != NULL ? acio_cfuture_set_error(cf, code, "%s", msg)
                       : acio_cfuture_set_error(cf, code, NULL);
}

bool acio_cfuture_set_running_or_notify_cancel(acio_cfuture_t *cf)
{
    bool ok;

    if (cf == NULL)
        return false;
    pthread_mutex_lock(&cf->mu);
    ok = cf->state == CF_PENDING || cf->state == CF_RUNNING;
    if (cf->state == CF_PENDING)
        cf->state = CF_RUNNING;
    pthread_mutex_unlock(&cf->mu);
    return ok;
}

int acio_cfuture_cancel(acio_cfuture_t *cf)
{
    int state;

    if (cf == NULL)
        return 0;
    pthread_mutex_lock(&cf->mu);
    state = cf->state;
    pthread_mutex_unlock(&cf->mu);
    if (state == CF_CANCELLED)
        return 1;
    if (state != CF_PENDING)
        return 0;
    /* Lost a race with a completion or set_running: report what happened. */
    if (cf_finish_from(cf, true, CF_CANCELLED, -ECANCELED, NULL, NULL) < 0)
        return acio_cfuture_cancelled(cf) ? 1 : 0;
    return 1;
}

static int cf_state(const acio_cfuture_t *cf)
{
    int s;
    pthread_mutex_lock((pthread_mutex_t *)&cf->mu);
    s = cf->state;
    pthread_mutex_unlock((pthread_mutex_t *)&cf->mu);
    return s;
}

bool acio_cfuture_done(const acio_cfuture_t *cf)
{
    int s = cf != NULL ? cf_state(cf) : CF_PENDING;
    return s == CF_CANCELLED || s == CF_FINISHED;
}

bool acio_cfuture_cancelled(const acio_cfuture_t *cf)
{
    return cf != NULL && cf_state(cf) == CF_CANCELLED;
}

int acio_cfuture_result(acio_cfuture_t *cf, double timeout, void **result)
{
    struct timespec deadline;
    int rc;

    if (result != NULL)
        *result = NULL;
    if (cf == NULL || isnan(timeout))
        return -EINVAL;
    if (!isinf(timeout)) {
        double t = timeout > 0 ? timeout : 0;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += (time_t)t;
        deadline.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&cf->mu);
    while (cf->state != CF_CANCELLED && cf->state != CF_FINISHED) {
        if (isinf(timeout)) {
            pthread_cond_wait(&cf->cond, &cf->mu);
        } else if (pthread_cond_timedwait(&cf->cond, &cf->mu, &deadline) == ETIMEDOUT) {
            if (cf->state != CF_CANCELLED && cf->state != CF_FINISHED) {
                pthread_mutex_unlock(&cf->mu);
                return -ETIMEDOUT;
            }
        }
    }
    rc = cf->code;
    if (rc == 0 && result != NULL)
        *result = cf->result;
    pthread_mutex_unlock(&cf->mu);
    return rc;
}

const char *acio_cfuture_error_message(const acio_cfuture_t *cf)
{
    const char *m;
    if (cf == NULL)
        return NULL;
    pthread_mutex_lock((pthread_mutex_t *)&cf->mu);
    m = cf->message;
    pthread_mutex_unlock((pthread_mutex_t *)&cf->mu);
    return m;
}

int acio_cfuture_add_done_callback(acio_cfuture_t *cf, acio_cfuture_cb cb, void *data)
{
    cf_cb_t *c;

    if (cf == NULL || cb == NULL)
        return -EINVAL;
    if ((c = acio__malloc(sizeof(*c))) == NULL)
        return -ENOMEM;
    c->next = NULL;
    c->cb = cb;
    c->data = data;
    pthread_mutex_lock(&cf->mu);
    if (cf->state != CF_CANCELLED && cf->state != CF_FINISHED) {
        *cf->cbs_tail = c;
        cf->cbs_tail = &c->next;
        pthread_mutex_unlock(&cf->mu);
        return 0;
    }
    pthread_mutex_unlock(&cf->mu);
    cb(cf, data);
    acio__free(c);
    return 0;
}

/* ---- run_coroutine_threadsafe ---- */

/* On the loop: the task finished; copy its outcome into the concurrent future. */
static void rct_task_done(acio_future_t *task, void *data)
{
    acio_cfuture_t *cf = data;
    void *res = NULL;
    int code = acio_future_result(task, &res);

    if (code == 0) {
        if (acio_cfuture_set_running_or_notify_cancel(cf))
            (void)acio_cfuture_set_result(cf, res);
    } else if (code == -ECANCELED) {
        (void)acio__cfuture_set_message_error(cf, code, acio_future_error_message(task));
    } else if (acio_cfuture_set_running_or_notify_cancel(cf)) {
        (void)acio__cfuture_set_message_error(cf, code, acio_future_error_message(task));
    }
    /* Task references are loop-thread business: drop ours here, not in unref. */
    cf->task = NULL;
    acio_future_unref(task);
    acio_cfuture_unref(cf);
}

/* On the loop: the concurrent future was cancelled from some thread. */
static void rct_cancel_on_loop(void *data)
{
    acio_cfuture_t *cf = data;
    if (cf->task != NULL && !acio_future_done(cf->task))
        (void)acio_task_cancel(cf->task, "run_coroutine_threadsafe: future cancelled");
    acio_cfuture_unref(cf);
}

/* In whatever thread finished cf: pass a cancellation on to the loop. */
static void rct_cf_done(acio_cfuture_t *cf, void *data)
{
    acio_loop_t *loop = data;
    if (!acio_cfuture_cancelled(cf))
        return;
    acio_cfuture_ref(cf);
    if (acio_loop_call_soon_threadsafe(loop, rct_cancel_on_loop, cf) < 0)
        acio_cfuture_unref(cf);
}

/* On the loop: start the task, unless the future was cancelled before it could. */
static void rct_start(void *data)
{
    acio_cfuture_t *cf = data;
    acio_task_t *task;
    int rc;

    if (acio_cfuture_done(cf)) {
        acio_cfuture_unref(cf);
        return;
    }
    if ((rc = acio_loop_create_task(cf->loop, &task, cf->fn, cf->arg, NULL)) < 0) {
        if (acio_cfuture_set_running_or_notify_cancel(cf))
            (void)acio_cfuture_set_error(cf, rc, "run_coroutine_threadsafe: %s", acio_strerror(rc));
        acio_cfuture_unref(cf);
        return;
    }
    cf->task = task; /* the loop-side reference, dropped with cf */
    if (acio_future_add_done_callback(task, rct_task_done, cf) < 0) {
        (void)acio_task_cancel(task, "run_coroutine_threadsafe: out of memory");
        if (acio_cfuture_set_running_or_notify_cancel(cf))
            (void)acio_cfuture_set_error(cf, -ENOMEM, NULL);
        cf->task = NULL;
        acio_future_unref(task);
        acio_cfuture_unref(cf);
    }
    /* The reference taken for this callback now belongs to rct_task_done. */
}

int acio_run_coroutine_threadsafe(acio_cfuture_t **out, acio_loop_t *loop, acio_coro_fn fn,
                                  void *arg)
{
    acio_cfuture_t *cf;
    int rc;

    if (out == NULL || loop == NULL || fn == NULL)
        return -EINVAL;
    *out = NULL;
    if ((rc = acio_cfuture_new(&cf)) < 0)
        return rc;
    cf->loop = loop;
    cf->fn = fn;
    cf->arg = arg;
    if ((rc = acio_cfuture_add_done_callback(cf, rct_cf_done, loop)) < 0) {
        acio_cfuture_unref(cf);
        return rc;
    }
    acio_cfuture_ref(cf); /* for rct_start, then the task's callback */
    if ((rc = acio_loop_call_soon_threadsafe(loop, rct_start, cf)) < 0) {
        acio_cfuture_unref(cf);
        acio_cfuture_unref(cf);
        return rc;
    }
    *out = cf;
    return 0;
}

/* ---- wrap_future ---- */

typedef struct {
    atomic_int refs; /* the cf callback path and the loop future's callback */
    acio_loop_t *loop;
    acio_future_t *fut;
    acio_cfuture_t *cf;
} wrap_t;

static void wrap_unref(wrap_t *w)
{
    if (atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    acio_future_unref(w->fut);
    acio_cfuture_unref(w->cf);
    acio__free(w);
}

/* On the loop: copy cf's outcome into the loop future. */
static void wrap_copy_on_loop(void *data)
{
    wrap_t *w = data;
    void *res = NULL;
    int code;

    if (!acio_future_done(w->fut)) {
        code = acio_cfuture_result(w->cf, 0, &res);
        if (code == 0)
            (void)acio_future_set_result(w->fut, res);
        else if (code == -ECANCELED)
            (void)acio_future_cancel(w->fut, acio_cfuture_error_message(w->cf));
        else if (acio_cfuture_error_message(w->cf) != NULL)
            (void)acio_future_set_error(w->fut, code, "%s", acio_cfuture_error_message(w->cf));
        else
            (void)acio_future_set_error(w->fut, code, NULL);
    }
    wrap_unref(w);
}

/* In the completing thread. */
static void wrap_cf_done(acio_cfuture_t *cf, void *data)
{
    wrap_t *w = data;
    (void)cf;
    if (acio_loop_call_soon_threadsafe(w->loop, wrap_copy_on_loop, w) < 0)
        wrap_unref(w); /* the loop is gone: nobody is left to tell */
}

/* On the loop: the loop future is done; if it was cancelled, cancel cf. */
static void wrap_fut_done(acio_future_t *fut, void *data)
{
    wrap_t *w = data;
    if (acio_future_cancelled(fut))
        (void)acio_cfuture_cancel(w->cf);
    wrap_unref(w);
}

int acio_wrap_future(acio_future_t **out, acio_cfuture_t *cf, acio_loop_t *loop)
{
    wrap_t *w;
    int rc;

    if (out == NULL || cf == NULL)
        return -EINVAL;
    *out = NULL;
    if (loop == NULL && (rc = acio_get_running_loop_checked(&loop)) < 0)
        return rc;
    if ((w = acio__calloc(1, sizeof(*w))) == NULL)
        return -ENOMEM;
    if ((rc = acio_future_new(loop, &w->fut)) < 0) {
        acio__free(w);
        return rc;
    }
    acio_future_set_label(w->fut, "wrap_future");
    w->loop = loop;
    w->cf = acio_cfuture_ref(cf);
    atomic_init(&w->refs, 2);
    if ((rc = acio_future_add_done_callback(w->fut, wrap_fut_done, w)) < 0) {
        acio_future_unref(w->fut);
        acio_cfuture_unref(w->cf);
        acio__free(w);
        return rc;
    }
    *out = acio_future_ref(w->fut);
    if ((rc = acio_cfuture_add_done_callback(cf, wrap_cf_done, w)) < 0) {
        (void)acio_future_remove_done_callback(w->fut, wrap_fut_done, w);
        acio_future_unref(*out);
        *out = NULL;
        acio_future_unref(w->fut);
        acio_cfuture_unref(w->cf);
        acio__free(w);
        return rc;
    }
    return 0;
}
