/* Async generators: the body is a coroutine nested in its consumer's task.
 *
 * Each request (anext, asend, athrow, aclose) resumes the body's coroutine from the
 * requesting task, as a Python async generator's frame runs inside whichever task
 * awaits it; acio_agen_yield() hands a value back by yielding to that task. When the
 * body awaits something instead, the task is suspended on its behalf
 * (acio__task_resume_nested), so the body's waits are the consumer's: a value that needs
 * no waiting is handed over without passing through the loop, the task's cancellation
 * reaches the body's await, acio_current_task() in the body is the consumer, and
 * between two requests the body stays suspended at its yield.
 *
 * Like asyncio's loop, which remembers the generators first iterated on it
 * (sys.set_asyncgen_hooks) so that shutdown_asyncgens() can close them, every started
 * and unfinished generator is on a per-thread list with its loop: acio_run closes those
 * of its loop in its closing round, each from a task of its own, concurrently. */
#include <errno.h>
#include <stdarg.h>

#include "loop.h"
#include "task.h"

struct acio_agen_s {
    acio_aiter_t it; /* first: the protocol view */
    acio_agen_fn fn;
    void *arg;
    size_t stack_size;
    acio_coro_t *co;   /* the body, from the first request until it ends */
    acio_loop_t *loop; /* of the first request; later ones must be on it */
    acio_agen_t *prev; /* the live list (started, not finished) */
    acio_agen_t *next;
    void *out;       /* the value yielded */
    void *sent;      /* for the pending yield: what asend sent */
    int resume_code; /* for the pending yield: 0, athrow's code, ACIO_EGENERATOREXIT */
    int result;      /* the body's return value */
    char *message;   /* acio_agen_error_message() */
    bool running;    /* a request is in progress */
    bool ended;      /* the body has returned */
    bool finished;   /* no more values: ended, failed or closed */
};

/* In the order they started, so shutdown closes them in that order. */
static __thread acio_agen_t *live, *live_tail;

static void live_add(acio_agen_t *gen)
{
    gen->next = NULL;
    gen->prev = live_tail;
    if (live_tail != NULL)
        live_tail->next = gen;
    else
        live = gen;
    live_tail = gen;
}

static void live_remove(acio_agen_t *gen)
{
    if (gen->prev != NULL)
        gen->prev->next = gen->next;
    else
        live = gen->next;
    if (gen->next != NULL)
        gen->next->prev = gen->prev;
    else
        live_tail = gen->prev;
    gen->prev = gen->next = NULL;
}

/* The body is gone (ended) or abandoned: give its stack back. */
static void agen_drop_body(acio_agen_t *gen)
{
    if (gen->co == NULL)
        return;
    acio__coro_release(gen->co);
    gen->co = NULL;
    gen->finished = true;
    live_remove(gen);
}

static void *agen_body(void *arg)
{
    acio_agen_t *gen = arg;
    gen->result = gen->fn(gen, gen->arg);
    gen->ended = true;
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
    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    if (fn == NULL || (stack_size != 0 && stack_size < ACIO_STACK_MIN) ||
        stack_size > ACIO_STACK_MAX)
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

static void set_message(acio_agen_t *gen, char *msg)
{
    acio__free(gen->message);
    gen->message = msg;
}

const char *acio_agen_error_message(const acio_agen_t *gen)
{
    return gen != NULL ? gen->message : NULL;
}

int acio_agen_raise(acio_agen_t *gen, int code, const char *fmt, ...)
{
    if (gen != NULL) {
        va_list ap;
        va_start(ap, fmt);
        set_message(gen, acio__vformat(fmt, ap));
        va_end(ap);
    }
    return code;
}

/* Resume the body with code/send until it yields or returns. Returns 0 (*value set),
 * ACIO_ESTOPASYNCITERATION, or the body's error. */
static int request(acio_agen_t *gen, int code, void *send, void **value)
{
    acio_loop_t *loop = acio_get_running_loop();

    if (acio_current_task() == NULL || loop == NULL)
        return ACIO_ENOTASK;
    if (gen->loop != NULL && gen->loop != loop)
        return -EINVAL;
    if (gen->co == NULL) {
        size_t size = gen->stack_size ? gen->stack_size : loop->task_stack_size;
        if ((gen->co = acio__coro_new(agen_body, gen, size)) == NULL)
            return -ENOMEM;
        gen->loop = loop;
        live_add(gen);
    }
    gen->resume_code = code;
    gen->sent = send;
    gen->running = true;
    if (code == 0 || code == ACIO_EGENERATOREXIT)
        set_message(gen, NULL); /* athrow_msg has set its own */
    (void)acio__task_resume_nested(gen->co, NULL);
    gen->running = false;
    if (gen->ended) {
        agen_drop_body(gen);
        return gen->result == 0 ? ACIO_ESTOPASYNCITERATION : gen->result;
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
    if (gen->co == NULL && send != NULL)
        return -EINVAL; /* "can't send non-None value to a just-started async generator" */
    return request(gen, 0, send, value);
}

int acio_agen_anext(acio_agen_t *gen, void **value)
{
    return acio_agen_asend(gen, NULL, value);
}

int acio_agen_athrow(acio_agen_t *gen, int code, void **value)
{
    return acio_agen_athrow_msg(gen, code, NULL, value);
}

int acio_agen_athrow_msg(acio_agen_t *gen, int code, const char *msg, void **value)
{
    if (gen == NULL || code >= 0)
        return -EINVAL;
    if (gen->running)
        return ACIO_ERUNNING;
    if (gen->finished)
        return ACIO_ESTOPASYNCITERATION;
    set_message(gen, msg ? acio__strdup(msg) : NULL);
    if (gen->co == NULL) {
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
    if (gen->finished || gen->co == NULL) {
        gen->finished = true;
        return 0;
    }
    rc = request(gen, ACIO_EGENERATOREXIT, NULL, NULL);
    if (rc == 0)
        return ACIO_EGENERATOREXIT; /* it yielded instead of finishing */
    if (rc == ACIO_ESTOPASYNCITERATION || rc == ACIO_EGENERATOREXIT)
        return 0;
    return rc;
}

int acio_agen_yield(acio_agen_t *gen, void *value, void **sent)
{
    int rc;
    if (sent != NULL)
        *sent = NULL;
    if (gen == NULL || gen->co == NULL || acio_coro_current() != gen->co)
        return -EINVAL;
    gen->out = value;
    (void)acio__coro_yield(gen);
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
    if (gen->co != NULL && acio_current_task() != NULL && acio_get_running_loop() == gen->loop)
        rc = acio_agen_aclose(gen);
    if (gen->co != NULL) {
        /* Outside a task of its loop (its cleanup's waits then fail with
         * ACIO_ENOTASK), or it yielded again while closing: its pending yield returns
         * -ECANCELED once, then the body is abandoned wherever it stands. */
        gen->resume_code = -ECANCELED;
        gen->running = true;
        (void)acio__task_resume_nested(gen->co, NULL);
        gen->running = false;
        agen_drop_body(gen);
    }
    set_message(gen, NULL);
    acio__free(gen);
    return rc;
}

/* ---- asyncio.run's shutdown_asyncgens() ---- */

static void *aclose_task(void *arg)
{
    acio_agen_t *gen = arg;
    int rc = acio_agen_aclose(gen);
    if (rc < 0 && rc != -ECANCELED) {
        acio_error_context_t ctx = {
            .message = "an error occurred during closing of asynchronous generator",
            .code = rc,
        };
        acio_loop_call_exception_handler(acio_get_running_loop(), &ctx);
    }
    return NULL;
}

/* Runs inside acio_run's "shutdown_asyncgens" task: aclose() every generator of the
 * loop still suspended, concurrently, as asyncio gathers their aclose() coroutines. */
static void shutdown_asyncgens(acio_loop_t *loop)
{
    size_t n = 0, k = 0;
    for (acio_agen_t *g = live; g != NULL; g = g->next)
        if (g->loop == loop && !g->running)
            n++;
    if (n == 0)
        return;
    acio_task_t **tasks = acio__calloc(n, sizeof(*tasks));
    if (tasks == NULL)
        return;
    for (acio_agen_t *g = live; g != NULL && k < n; g = g->next)
        if (g->loop == loop && !g->running &&
            acio_loop_create_task(loop, &tasks[k], aclose_task, g, NULL) == 0)
            k++;
    /* Each aclose() reports its own failure (the task's unretrieved error). If the gather
     * itself fails (no memory, or this shutdown task was cancelled), the tasks it did not
     * wait for are still pending, and loop close reports them as such. */
    int rc = acio_gather_await(tasks, k, ACIO_GATHER_RETURN_EXCEPTIONS, NULL, NULL);
    (void)rc;
    for (size_t i = 0; i < k; i++)
        acio_future_unref(tasks[i]);
    acio__free(tasks);
}

__attribute__((constructor)) static void register_shutdown_hook(void)
{
    acio__loop_register_hook(ACIO__HOOK_RUN_SHUTDOWN_ASYNCGENS, shutdown_asyncgens);
}
