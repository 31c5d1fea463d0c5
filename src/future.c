/* Futures (asyncio.Future): states, results and errors, done callbacks. Callbacks are
 * never run inline: finishing a future schedules each with call_soon, in the order they
 * were added, exactly as asyncio's __schedule_callbacks does. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "future.h"

#include "objpool.h"

static __thread acio_objpool_t pool = ACIO_OBJPOOL_INIT(acio_future_t);

void acio__future_init(acio_future_t *f, acio_loop_t *loop, const acio__future_ops_t *ops,
                       bool is_task)
{
    memset(f, 0, sizeof *f);
    f->loop = loop;
    f->refcnt = 1;
    f->is_task = is_task;
    f->ops = ops;
    loop->refcnt++;
}

int acio_future_new(acio_loop_t *loop, acio_future_t **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    int rc = acio__loop_check(loop);
    if (rc)
        return rc;
    acio_future_t *f = acio__objpool_get(&pool);
    if (!f)
        return -ENOMEM;
    acio__future_init(f, loop, NULL, false);
    f->origin = ACIO_CALLER();
    *out = f;
    return 0;
}

/* A future or task whose count is 0 has had its last unref: its memory sits in a pool
 * (or, in debug mode, in the quarantine below). Touching it again is the C form of a
 * use after free; say which object and where it was made rather than corrupt the pool. */
void acio__future_misuse(const acio_future_t *f, const char *what)
{
    char where[256];
    acio__fatal("%s of a %s%s%s after its last unref (a double unref, or a pointer kept "
                "after releasing it); it was created at %s",
                what, f->is_task ? "task" : "future", f->label ? " labelled " : "",
                f->label ? f->label : "", acio__describe_address(f->origin, where, sizeof where));
}

acio_future_t *acio_future_ref(acio_future_t *f)
{
    if (f) {
        if (ACIO_UNLIKELY(f->refcnt == 0))
            acio__future_misuse(f, "acio_future_ref");
        f->refcnt++;
    }
    return f;
}

/* Debug mode (ACIO_DEBUG=1, acio_loop_set_debug): freed futures and tasks wait in a
 * per-thread quarantine of QUARANTINE objects before going back to their pool, so a late
 * use finds a count of 0 and is reported, instead of landing on a new object that
 * reused the memory. */
#define QUARANTINE 1024
static __thread acio_future_t *quarantine[QUARANTINE];
static __thread unsigned quarantine_next;

static void release_memory(acio_future_t *f)
{
    if (f->ops)
        f->ops->free(f);
    else
        acio__objpool_put(&pool, f);
}

void acio__futures_quarantine_flush(void)
{
    for (unsigned i = 0; i < QUARANTINE; i++) {
        if (quarantine[i]) {
            release_memory(quarantine[i]);
            quarantine[i] = NULL;
        }
    }
}

void acio__future_report_unretrieved(acio_future_t *f)
{
    if (f->state != ACIO_FUTURE_FINISHED || !f->err || f->retrieved)
        return;
    f->retrieved = true;
    char where[256];
    acio_error_context_t ctx = {
        .message = f->is_task ? "Task exception was never retrieved"
                              : "Future exception was never retrieved",
        .code = f->err,
        .error_message = f->message,
        .future = f,
        .origin = acio__describe_address(f->origin, where, sizeof where),
    };
    acio_loop_call_exception_handler(f->loop, &ctx);
}

/* Failed futures are listed on their loop from the moment they fail until they are
 * freed, so a future whose last reference leaked can still be reported when the loop
 * closes: asyncio relies on the garbage collector for that report, C has none. Only the
 * failure path pays (the list is not touched for results or cancellations). If the list
 * cannot grow, the future is simply not listed: it is still reported when freed. */
static void list_failed(acio_future_t *f)
{
    acio_loop_t *loop = f->loop;
    if (f->failed_slot)
        return;
    if (loop->nfailed == loop->failed_cap) {
        uint32_t ncap = loop->failed_cap ? loop->failed_cap * 2 : 16;
        acio_future_t **n = acio__realloc(loop->failed, ncap * sizeof(*n));
        if (!n)
            return;
        loop->failed = n;
        loop->failed_cap = ncap;
    }
    loop->failed[loop->nfailed++] = f;
    f->failed_slot = loop->nfailed;
}

static void unlist_failed(acio_future_t *f)
{
    acio_loop_t *loop = f->loop;
    uint32_t i = f->failed_slot - 1;
    acio_future_t *last = loop->failed[--loop->nfailed];
    loop->failed[i] = last;
    last->failed_slot = i + 1;
    f->failed_slot = 0;
}

void acio__futures_report_failed_at_close(acio_loop_t *loop)
{
    char where[256], msg[200];
    /* Reporting may run user code (the exception handler), which may release futures:
     * take them one at a time from the end, each kept alive while it is reported. */
    while (loop->nfailed > 0) {
        acio_future_t *f = loop->failed[loop->nfailed - 1];
        unlist_failed(f);
        if (f->retrieved)
            continue;
        f->retrieved = true;
        snprintf(msg, sizeof msg,
                 "%s exception was never retrieved, and the %s is still referenced at loop "
                 "close (a reference was never released)",
                 f->is_task ? "Task" : "Future", f->is_task ? "task" : "future");
        f->refcnt++;
        acio_error_context_t ctx = {
            .message = msg,
            .code = f->err,
            .error_message = f->message,
            .future = f,
            .origin = acio__describe_address(f->origin, where, sizeof where),
        };
        acio_loop_call_exception_handler(loop, &ctx);
        acio_future_unref(f);
    }
    acio__free(loop->failed);
    loop->failed = NULL;
    loop->failed_cap = 0;
}

void acio_future_unref(acio_future_t *f)
{
    if (!f)
        return;
    if (ACIO_UNLIKELY(f->refcnt == 0))
        acio__future_misuse(f, "acio_future_unref");
    if (--f->refcnt)
        return;
    if (ACIO_UNLIKELY(f->err && !f->retrieved)) {
        /* Keep it alive while the handler looks at it. */
        f->refcnt = 1;
        acio__future_report_unretrieved(f);
        if (--f->refcnt)
            return;
    }
    acio_loop_t *loop = f->loop;
    if (ACIO_UNLIKELY(f->failed_slot))
        unlist_failed(f);
    if (f->message)
        acio__free(f->message);
    if (f->cbs)
        acio__free(f->cbs);
    f->message = NULL;
    f->cbs = NULL;
    if (ACIO_UNLIKELY(loop->debug)) {
        unsigned i = quarantine_next++ % QUARANTINE;
        if (quarantine[i])
            release_memory(quarantine[i]);
        quarantine[i] = f;
    } else {
        release_memory(f);
    }
    acio__loop_unref(loop);
}

static void fut_trampoline(void *data);

static int schedule_slow(acio_future_t *f, acio_future_cb cb, void *data);

static inline int schedule_one(acio_future_t *f, acio_future_cb cb, void *data)
{
    if (ACIO_LIKELY(cb == acio__task_wakeup)) {
        acio__task_schedule_wakeup(data);
        return 0;
    }
    return schedule_slow(f, cb, data);
}

static int schedule_slow(acio_future_t *f, acio_future_cb cb, void *data)
{
    acio_handle_t *h = acio__handle_new(f->loop, fut_trampoline, NULL);
    if (!h)
        return -ENOMEM;
    h->data = h;
    h->fut_cb = cb;
    h->fut = acio_future_ref(f);
    h->fut_data = data;
    acio__loop_schedule(f->loop, h);
    acio__handle_release(h);
    return 0;
}

static void fut_trampoline(void *data)
{
    acio_handle_t *h = data;
    acio_future_t *f = h->fut;
    h->fut = NULL;
    h->fut_cb(f, h->fut_data);
    acio_future_unref(f);
}

void acio__future_schedule_callbacks(acio_future_t *f)
{
    uint32_t n = f->ncbs;
    if (n == 0)
        return;
    f->ncbs = 0;
    for (uint32_t i = 0; i < n; i++) {
        acio_cb_entry_t e = i == 0 ? f->cb0 : f->cbs[i - 1];
        if (schedule_one(f, e.cb, e.data) < 0) {
            /* Out of memory: run it now rather than lose it (the only inline call). */
            e.cb(f, e.data);
        }
    }
}

void acio__future_finish(acio_future_t *f, int err, void *result, char *message)
{
    f->state = err == -ECANCELED ? ACIO_FUTURE_CANCELLED : ACIO_FUTURE_FINISHED;
    f->err = err;
    f->result = result;
    if (ACIO_UNLIKELY(f->message != NULL))
        acio__free(f->message);
    f->message = message;
    f->retrieved = err == 0 || err == -ECANCELED;
    if (ACIO_UNLIKELY(!f->retrieved))
        list_failed(f);
    acio__future_schedule_callbacks(f);
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = acio__malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

int acio_future_set_result(acio_future_t *f, void *result)
{
    if (ACIO_UNLIKELY(f && f->refcnt == 0))
        acio__future_misuse(f, "acio_future_set_result");
    if (!f || f->is_task)
        return -EINVAL;
    if (f->state != ACIO_FUTURE_PENDING)
        return ACIO_EINVALSTATE;
    acio__future_finish(f, 0, result, NULL);
    return 0;
}

int acio_future_set_error(acio_future_t *f, int code, const char *fmt, ...)
{
    if (!f || f->is_task || code >= 0 || code == -ECANCELED)
        return -EINVAL;
    if (f->state != ACIO_FUTURE_PENDING)
        return ACIO_EINVALSTATE;
    char *msg = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        msg = vformat(fmt, ap);
        va_end(ap);
    }
    acio__future_finish(f, code, NULL, msg);
    return 0;
}

int acio_future_cancel(acio_future_t *f, const char *msg)
{
    if (ACIO_UNLIKELY(f && f->refcnt == 0))
        acio__future_misuse(f, "acio_future_cancel");
    if (!f)
        return 0;
    if (f->ops)
        return f->ops->cancel(f, msg);
    if (f->state != ACIO_FUTURE_PENDING)
        return 0;
    acio__future_finish(f, -ECANCELED, NULL, msg ? acio__strdup(msg) : NULL);
    return 1;
}

acio_future_state_t acio_future_state(const acio_future_t *f)
{
    return f ? (acio_future_state_t)f->state : ACIO_FUTURE_PENDING;
}
bool acio_future_done(const acio_future_t *f)
{
    return f && f->state != ACIO_FUTURE_PENDING;
}
bool acio_future_cancelled(const acio_future_t *f)
{
    return f && f->state == ACIO_FUTURE_CANCELLED;
}

int acio_future_result(acio_future_t *f, void **result)
{
    if (result)
        *result = NULL;
    if (!f)
        return -EINVAL;
    if (f->state == ACIO_FUTURE_PENDING)
        return ACIO_EINVALSTATE;
    f->retrieved = true;
    if (f->err)
        return f->err;
    if (result)
        *result = f->result;
    return 0;
}

int acio_future_error(acio_future_t *f)
{
    if (!f)
        return -EINVAL;
    if (f->state == ACIO_FUTURE_PENDING)
        return ACIO_EINVALSTATE;
    f->retrieved = true;
    return f->err;
}

const char *acio_future_error_message(const acio_future_t *f)
{
    return f ? f->message : NULL;
}

int acio_future_add_done_callback(acio_future_t *f, acio_future_cb cb, void *data)
{
    if (!f || !cb)
        return -EINVAL;
    if (f->state != ACIO_FUTURE_PENDING)
        return schedule_one(f, cb, data);
    if (ACIO_LIKELY(f->ncbs == 0)) {
        f->cb0 = (acio_cb_entry_t){cb, data};
    } else {
        if (f->ncbs - 1 == f->cbs_cap) {
            uint32_t cap = f->cbs_cap ? f->cbs_cap * 2 : 4;
            acio_cb_entry_t *n = acio__realloc(f->cbs, cap * sizeof *n);
            if (!n)
                return -ENOMEM;
            f->cbs = n;
            f->cbs_cap = cap;
        }
        f->cbs[f->ncbs - 1] = (acio_cb_entry_t){cb, data};
    }
    f->ncbs++;
    return 0;
}

int acio_future_remove_done_callback(acio_future_t *f, acio_future_cb cb, void *data)
{
    if (!f)
        return 0;
    uint32_t kept = 0, removed = 0;
    for (uint32_t i = 0; i < f->ncbs; i++) {
        acio_cb_entry_t e = i == 0 ? f->cb0 : f->cbs[i - 1];
        if (e.cb == cb && e.data == data) {
            removed++;
            continue;
        }
        if (kept == 0)
            f->cb0 = e;
        else
            f->cbs[kept - 1] = e;
        kept++;
    }
    f->ncbs = kept;
    return (int)removed;
}

acio_loop_t *acio_future_get_loop(const acio_future_t *f)
{
    return f ? f->loop : NULL;
}
void acio_future_set_label(acio_future_t *f, const char *label)
{
    if (f)
        f->label = label;
}
const char *acio_future_get_label(const acio_future_t *f)
{
    return f ? f->label : NULL;
}
void acio_future_set_data(acio_future_t *f, void *data)
{
    if (f)
        f->data = data;
}
void *acio_future_get_data(const acio_future_t *f)
{
    return f ? f->data : NULL;
}
