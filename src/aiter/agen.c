/* Async generators, each body running as its own task.
 *
 * acio_await() suspends only the coroutine of the running task itself (a coroutine
 * resumed from inside a task cannot await), so a body that awaits needs a task of its
 * own. The consumer and the body then take turns through two futures:
 *   - item: created by each request (anext/asend/athrow/aclose) and awaited by the
 *     consumer; the body finishes it when it yields a value or returns;
 *   - req: created by the body at each acio_agen_yield() and awaited there; the next
 *     request finishes it, with what to return from the yield.
 * Only one side runs at a time, as in Python. The difference is time: each value
 * costs two loop iterations (the body's wake-up, then the consumer's), where a Python
 * async generator that does not await hands values over without yielding to the loop.
 * docs/aiter.md lists this deviation.
 *
 * Cancelling the consumer while it waits for a value cancels the body's task, so the
 * body's pending await returns -ECANCELED as the CancelledError would reach it in
 * Python; the consumer then waits for the body to hand over (usually by returning
 * -ECANCELED) and returns that.
 *
 * Lifetime: the body's task points at the generator, so the generator's memory is
 * released only once the body has finished. acio_agen_free() on a generator whose body
 * is still suspended closes it when it can (inside a task of the same loop), and
 * otherwise cancels the body's task and leaves the release to the body's end. */
#include <errno.h>

#include "internal.h"

struct acio_agen_s {
    acio_aiter_t it; /* first: the protocol view */
    acio_agen_fn fn;
    void *arg;
    size_t stack_size;
    acio_task_t *task;   /* the body's task (our reference), from the first request */
    acio_future_t *item; /* the pending request's future (the requester's reference) */
    acio_future_t *req;  /* the body's pending yield (our reference) */
    void *out;           /* the value yielded */
    void *sent;          /* for the pending yield: what asend sent */
    int resume_code;     /* for the pending yield: 0, athrow's code, ACIO_EGENERATOREXIT */
    int result;          /* the body's return value */
    bool started;
    bool running;  /* a request is in progress */
    bool ended;    /* the body has returned */
    bool finished; /* no more values: ended, failed or closed */
    bool freed;    /* acio_agen_free() was called while the body was still alive */
};

static void agen_release(acio_agen_t *gen)
{
    if (gen->task != NULL) {
        acio_future_error(gen->task); /* its outcome was delivered through item */
        acio_future_unref(gen->task);
    }
    acio_future_unref(gen->req);
    acio__free(gen);
}

static void *agen_task(void *arg)
{
    acio_agen_t *gen = arg;
    gen->result = gen->fn(gen, gen->arg);
    gen->ended = true;
    if (gen->item != NULL && !acio_future_done(gen->item))
        acio_future_set_result(gen->item, NULL);
    if (gen->freed) {
        /* Nobody can reach the generator any more; the loop still holds the task. */
        agen_release(gen);
    }
    return NULL;
}

static int it_anext(acio_aiter_t *it, void **value)
{
    return acio_agen_anext((acio_agen_t *)it, value);
}

static int it_aclose(acio_aiter_t *it)
{
    return acio_agen_aclose((acio_agen_t *)it);
}

int acio_agen_new(acio_agen_t **out, acio_agen_fn fn, void *arg, size_t stack_size)
{
    acio_agen_t *gen;
    if (out == NULL || fn == NULL)
        return -EINVAL;
    gen = acio__calloc(1, sizeof(*gen));
    if (gen == NULL)
        return -ENOMEM;
    gen->fn = fn;
    gen->arg = arg;
    gen->stack_size = stack_size;
    gen->it.anext = it_anext;
    gen->it.aclose = it_aclose;
    gen->it.data = gen;
    *out = gen;
    return 0;
}

acio_aiter_t *acio_agen_aiter(acio_agen_t *gen)
{
    return gen ? &gen->it : NULL;
}
bool acio_agen_finished(const acio_agen_t *gen)
{
    return gen == NULL || gen->finished;
}

/* One request: start or resume the body and wait until it yields or returns.
 * Returns 0 (*value set), ACIO_ESTOPASYNCITERATION, or the body's error. */
static int request(acio_agen_t *gen, int code, void *send, void **value)
{
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *item, *req;
    int rc;

    if (acio_current_task() == NULL || loop == NULL)
        return ACIO_ENOTASK;
    if (gen->task != NULL && acio_future_get_loop(gen->task) != loop)
        return -EINVAL;
    if ((rc = acio_future_new(loop, &item)) < 0)
        return rc;
    acio_future_set_label(item, "agen.anext");
    if (!gen->started) {
        acio_task_opts_t opts = {.name = NULL, .stack_size = gen->stack_size, .eager = false};
        if ((rc = acio_loop_create_task(loop, &gen->task, agen_task, gen, &opts)) < 0) {
            acio_future_unref(item);
            return rc;
        }
        gen->started = true;
    } else {
        gen->resume_code = code;
        gen->sent = send;
        req = gen->req;
        gen->req = NULL;
        acio_future_set_result(req, NULL);
        acio_future_unref(req);
    }
    gen->item = item;
    gen->running = true;

    rc = acio_await(item, NULL);
    if (rc < 0) {
        /* We were cancelled while the body runs: deliver the cancellation to the body
         * and wait for it to hand over (yield or return). Our future was cancelled with
         * us, so the hand-over comes through a fresh one. Each round needs the body to
         * make progress: a body that ignores cancellation blocks its consumer, as in
         * Python; each further cancellation of ours is passed on too. */
        acio_task_cancel(gen->task, NULL);
        while (!gen->ended && gen->req == NULL) {
            int r;
            if (acio_future_done(gen->item)) {
                acio_future_t *fresh;
                if (acio_future_new(loop, &fresh) < 0)
                    break;
                acio_future_set_label(fresh, "agen.anext");
                acio_future_unref(gen->item);
                gen->item = fresh;
            }
            r = acio_await(gen->item, NULL);
            if (r == -ECANCELED)
                acio_task_cancel(gen->task, NULL);
            else if (r < 0)
                break;
        }
        item = gen->item;
    }
    gen->item = NULL;
    gen->running = false;
    acio_future_unref(item);

    if (gen->ended) {
        gen->finished = true;
        return gen->result == 0 ? ACIO_ESTOPASYNCITERATION : gen->result;
    }
    if (gen->req == NULL) {
        /* Neither yielded nor ended: only possible if the wait above was abandoned. */
        return rc < 0 ? rc : -EINVAL;
    }
    if (value != NULL)
        *value = gen->out;
    return 0;
}

int acio_agen_asend(acio_agen_t *gen, void *send, void **value)
{
    if (gen == NULL)
        return -EINVAL;
    if (gen->running)
        return ACIO_ERUNNING;
    if (gen->finished)
        return ACIO_ESTOPASYNCITERATION;
    if (!gen->started && send != NULL)
        return -EINVAL; /* "can't send non-None value to a just-started async generator" */
    return request(gen, 0, send, value);
}

int acio_agen_anext(acio_agen_t *gen, void **value)
{
    return acio_agen_asend(gen, NULL, value);
}

int acio_agen_athrow(acio_agen_t *gen, int code, void **value)
{
    if (gen == NULL || code >= 0)
        return -EINVAL;
    if (gen->running)
        return ACIO_ERUNNING;
    if (gen->finished)
        return ACIO_ESTOPASYNCITERATION;
    if (!gen->started) {
        /* Python raises the exception at once; the body never runs. */
        gen->finished = true;
        return code;
    }
    return request(gen, code, NULL, value);
}

int acio_agen_aclose(acio_agen_t *gen)
{
    int rc;
    if (gen == NULL)
        return -EINVAL;
    if (gen->running)
        return ACIO_ERUNNING;
    if (gen->finished || !gen->started) {
        gen->finished = true;
        return 0;
    }
    rc = request(gen, ACIO_EGENERATOREXIT, NULL, NULL);
    if (rc == 0)
        return ACIO_EGENERATOREXIT; /* it yielded instead of finishing */
    gen->finished = true;
    if (rc == ACIO_ESTOPASYNCITERATION || rc == ACIO_EGENERATOREXIT)
        return 0;
    return rc;
}

int acio_agen_yield(acio_agen_t *gen, void *value, void **sent)
{
    acio_future_t *req;
    int rc;

    if (sent != NULL)
        *sent = NULL;
    if (gen == NULL || gen->task == NULL || acio_current_task() != gen->task)
        return -EINVAL;
    if ((rc = acio_future_new(acio_future_get_loop(gen->task), &req)) < 0)
        return rc;
    acio_future_set_label(req, "agen.yield");
    gen->req = acio_future_ref(req);
    gen->out = value;
    if (gen->item != NULL && !acio_future_done(gen->item))
        acio_future_set_result(gen->item, NULL);
    rc = acio_await(req, NULL);
    acio_future_unref(req);
    if (rc < 0) {
        /* Cancelled at the yield (the loop is shutting down, or the generator was freed
         * from outside a task): no request is coming. */
        if (gen->req == req) {
            gen->req = NULL;
            acio_future_unref(req);
        }
        return rc;
    }
    rc = gen->resume_code;
    if (sent != NULL)
        *sent = gen->sent;
    gen->resume_code = 0;
    gen->sent = NULL;
    return rc;
}

int acio_agen_free(acio_agen_t *gen)
{
    int rc = 0;
    if (gen == NULL)
        return 0;
    if (gen->running)
        return ACIO_ERUNNING;
    if (gen->task != NULL && !acio_future_done(gen->task)) {
        acio_loop_t *loop = acio_future_get_loop(gen->task);
        if (acio_current_task() != NULL && acio_get_running_loop() == loop)
            rc = acio_agen_aclose(gen);
        if (!acio_future_done(gen->task)) {
            /* Still alive (it yielded again, or we are not in a task): cancel it and
             * let it release the generator when it ends. */
            gen->freed = true;
            gen->finished = true;
            acio_task_cancel(gen->task, NULL);
            return rc;
        }
    }
    agen_release(gen);
    return rc;
}
