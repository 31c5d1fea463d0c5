/* Timeout scopes: asyncio.timeout() / timeout_at() and the Timeout object (3.11's
 * timeouts.py), as enter/exit calls around a block of a task function.
 *
 * The mechanism is CPython's, step for step, because wait_for is built on it and its
 * correctness rests on the counting: at entry the scope remembers the task's
 * cancelling() count; when the deadline fires it cancels the task (state EXPIRING); at
 * exit it calls uncancel(), and only if the count is back at or below the one seen at
 * entry and the block ended with -ECANCELED does it turn that into -ETIMEDOUT. Any other
 * cancellation (an outer scope, a caller) keeps the count above and passes through.
 *
 * Beyond asyncio, the cancellation carries a reason ("timeout 0.5s expired (timeout
 * scope at file.c:12)") through acio_task_cancel's message, so whoever sees the task
 * cancelled can tell which timeout fired. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

enum { T_CREATED = 0, T_ENTERED, T_EXPIRING, T_EXPIRED, T_EXITED };

/* The private layout behind acio_timeout_t.private_. */
typedef struct {
    int state;
    int cancelling; /* the task's cancelling() at entry */
    acio_task_t *task;
    acio_loop_t *loop;
    acio_handle_t *handle; /* the pending deadline, or NULL */
    double when;           /* INFINITY for none */
    double delay;          /* for the reason message */
    const char *file;
    int line;
} timeout_priv_t;

_Static_assert(sizeof(timeout_priv_t) <= sizeof(((acio_timeout_t *)0)->private_),
               "acio_timeout_t.private_ is too small");

static timeout_priv_t *priv(acio_timeout_t *t)
{
    return (timeout_priv_t *)(void *)t->private_;
}

static const timeout_priv_t *cpriv(const acio_timeout_t *t)
{
    return (const timeout_priv_t *)(const void *)t->private_;
}

static void timeout_fire(void *data)
{
    timeout_priv_t *p = data;
    char msg[256];

    acio_handle_unref(p->handle);
    p->handle = NULL;
    snprintf(msg, sizeof msg, "timeout %gs expired (timeout scope at %s:%d)", p->delay,
             p->file != NULL ? p->file : "?", p->line);
    (void)acio_task_cancel(p->task, msg);
    p->state = T_EXPIRING;
}

static void timeout_disarm(timeout_priv_t *p)
{
    if (p->handle != NULL) {
        acio_handle_cancel(p->handle);
        acio_handle_unref(p->handle);
        p->handle = NULL;
    }
}

static int timeout_arm(timeout_priv_t *p, double when)
{
    double now = acio_loop_time(p->loop);
    acio_handle_t *h = NULL;
    int rc = 0;

    if (isinf(when) && when > 0) {
        /* No deadline. */
    } else if (when <= now) {
        rc = acio_loop_call_soon(p->loop, timeout_fire, p, &h);
    } else {
        rc = acio_loop_call_at(p->loop, when, timeout_fire, p, &h);
    }
    if (rc < 0)
        return rc;
    timeout_disarm(p);
    p->handle = h;
    p->when = when;
    p->delay = isinf(when) ? when : when - now;
    return 0;
}

static int timeout_enter(acio_timeout_t *t, double when, double delay, const char *file, int line)
{
    timeout_priv_t *p;
    acio_task_t *task;
    int rc;

    if (t == NULL)
        return -EINVAL;
    p = priv(t);
    if (isnan(when) || isnan(delay))
        return -EINVAL;
    if ((task = acio_current_task()) == NULL)
        return ACIO_ENOTASK;
    p->task = task;
    p->loop = acio_future_get_loop(task);
    p->file = file;
    p->line = line;
    p->cancelling = acio_task_cancelling(task);
    if ((rc = timeout_arm(p, when)) < 0)
        return rc;
    if (!isinf(delay))
        p->delay = delay;
    p->state = T_ENTERED;
    return 0;
}

int acio_timeout_enter_loc(acio_timeout_t *t, double delay, const char *file, int line)
{
    acio_loop_t *loop = acio_get_running_loop();
    double when;

    /* A scope that failed to enter must still be safe to exit. */
    if (t != NULL)
        memset(t->private_, 0, sizeof(t->private_));
    if (isnan(delay))
        return -EINVAL;
    if (loop == NULL)
        return ACIO_ENOTASK;
    when = (isinf(delay) && delay > 0) ? delay : acio_loop_time(loop) + delay;
    return timeout_enter(t, when, delay, file, line);
}

int acio_timeout_enter_at_loc(acio_timeout_t *t, double when, const char *file, int line)
{
    if (t != NULL)
        memset(t->private_, 0, sizeof(t->private_));
    return timeout_enter(t, when, __builtin_inf(), file, line);
}

int acio_timeout_exit(acio_timeout_t *t, int rc)
{
    timeout_priv_t *p;

    if (t == NULL)
        return rc;
    p = priv(t);
    timeout_disarm(p);
    if (p->state == T_EXPIRING) {
        p->state = T_EXPIRED;
        /* timeouts.py: "Since there are no new cancel requests, we're handling this." */
        if (acio_task_uncancel(p->task) <= p->cancelling && rc == -ECANCELED)
            return -ETIMEDOUT;
    } else if (p->state == T_ENTERED) {
        p->state = T_EXITED;
    }
    return rc;
}

double acio_timeout_when(const acio_timeout_t *t)
{
    if (t == NULL || cpriv(t)->state == T_CREATED)
        return __builtin_inf();
    return cpriv(t)->when;
}

int acio_timeout_reschedule(acio_timeout_t *t, double when)
{
    timeout_priv_t *p;

    if (t == NULL || isnan(when))
        return -EINVAL;
    p = priv(t);
    if (p->state != T_ENTERED)
        return ACIO_EINVALSTATE;
    return timeout_arm(p, when);
}

bool acio_timeout_expired(const acio_timeout_t *t)
{
    return t != NULL && (cpriv(t)->state == T_EXPIRING || cpriv(t)->state == T_EXPIRED);
}
