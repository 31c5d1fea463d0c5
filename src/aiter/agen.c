/* Async generators on stackful coroutines.
 *
 * The body runs on its own coroutine, resumed from inside the consumer's anext call, so
 * it runs in the consumer's task exactly as a Python async generator runs in the task
 * that awaits __anext__(). A body can leave its coroutine in two ways:
 *   - acio_agen_yield(): it sets gen->yielded and suspends; anext returns the value;
 *   - an await (acio_await, acio_sleep, a lock...): the task layer suspends the running
 *     coroutine with a yield, which lands in our resume call without gen->yielded.
 * In the second case we pass that suspension on unchanged, yielding the same value from
 * the consumer's coroutine to the task's driver, and when the task is resumed we hand
 * what it was resumed with back down to the body: Python's `yield from` delegation,
 * one level deep per generator. The task layer never needs to know a generator is
 * involved. */
#include <errno.h>

#include "internal.h"

struct acio_agen_s {
    acio_aiter_t it; /* first: the protocol view */
    acio_coro_t *co;
    acio_agen_fn fn;
    void *arg;
    void *out;       /* the value being yielded */
    void *sent;      /* what asend sent, for the pending acio_agen_yield */
    int resume_code; /* what the pending acio_agen_yield returns: 0, athrow's, close */
    int result;      /* the body's return value */
    bool yielded;    /* the body left through acio_agen_yield (not an await) */
    bool started;
    bool running; /* a consumer is inside anext/asend/athrow/aclose */
    bool finished;
};

static void *agen_entry(void *arg)
{
    acio_agen_t *gen = arg;
    gen->result = gen->fn(gen, gen->arg);
    return NULL;
}

static int it_anext(acio_aiter_t *it, void **value)
{
    return acio_agen_anext((acio_agen_t *)it, value);
}

static int it_aclose(acio_aiter_t *it) { return acio_agen_aclose((acio_agen_t *)it); }

int acio_agen_new(acio_agen_t **out, acio_agen_fn fn, void *arg, size_t stack_size)
{
    acio_agen_t *gen;
    int rc;
    if (out == NULL || fn == NULL)
        return -EINVAL;
    gen = acio__calloc(1, sizeof(*gen));
    if (gen == NULL)
        return -ENOMEM;
    if ((rc = acio_coro_new(&gen->co, agen_entry, gen, stack_size)) < 0) {
        acio__free(gen);
        return rc;
    }
    gen->fn = fn;
    gen->arg = arg;
    gen->it.anext = it_anext;
    gen->it.aclose = it_aclose;
    gen->it.data = gen;
    *out = gen;
    return 0;
}

acio_aiter_t *acio_agen_aiter(acio_agen_t *gen) { return gen ? &gen->it : NULL; }
bool acio_agen_finished(const acio_agen_t *gen) { return gen == NULL || gen->finished; }

/* Resume the body until it yields a value or returns, relaying its awaits through the
 * consumer's task. Returns 0 (yielded), ACIO_ESTOPASYNCITERATION or the body's error. */
static int drive(acio_agen_t *gen, void **value)
{
    void *down = NULL, *up = NULL;
    int rc;

    gen->running = true;
    gen->started = true;
    for (;;) {
        gen->yielded = false;
        rc = acio_coro_resume(gen->co, down, &up);
        if (rc == ACIO_ESTOPITERATION) {
            gen->finished = true;
            rc = gen->result == 0 ? ACIO_ESTOPASYNCITERATION : gen->result;
            break;
        }
        if (rc < 0)
            break;
        if (gen->yielded) {
            if (value != NULL)
                *value = gen->out;
            break;
        }
        /* The body awaits: suspend our own coroutine the same way. Outside a coroutine
         * the task layer could not have suspended the body, so this cannot happen
         * unless the body switched coroutines on its own. */
        if (acio_coro_current() == NULL) {
            rc = ACIO_ENOTASK;
            break;
        }
        down = acio_coro_yield(up);
    }
    gen->running = false;
    return rc;
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
    gen->sent = send;
    gen->resume_code = 0;
    return drive(gen, value);
}

int acio_agen_anext(acio_agen_t *gen, void **value) { return acio_agen_asend(gen, NULL, value); }

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
    gen->sent = NULL;
    gen->resume_code = code;
    return drive(gen, value);
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
    gen->sent = NULL;
    gen->resume_code = ACIO_EGENERATOREXIT;
    rc = drive(gen, NULL);
    if (rc == 0)
        return ACIO_EGENERATOREXIT; /* it yielded instead of finishing */
    if (rc == ACIO_ESTOPASYNCITERATION || rc == ACIO_EGENERATOREXIT)
        return 0;
    return rc;
}

int acio_agen_yield(acio_agen_t *gen, void *value, void **sent)
{
    int rc;
    if (gen == NULL || acio_coro_current() != gen->co)
        return -EINVAL;
    gen->out = value;
    gen->yielded = true;
    acio_coro_yield(value);
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
    if (gen->started && !gen->finished)
        rc = acio_agen_aclose(gen);
    acio_coro_free(gen->co);
    acio__free(gen);
    return rc;
}
