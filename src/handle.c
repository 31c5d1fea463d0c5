/* Handles: a scheduled callback (asyncio.Handle / TimerHandle). They come from a
 * per-thread free list so call_soon allocates nothing in steady state; a reference count
 * lets the loop and the user each hold one. */
#include <errno.h>

#include "loop.h"

#include "objpool.h"

static __thread acio_objpool_t pool = ACIO_OBJPOOL_INIT(acio_handle_t);

acio_handle_t *acio__handle_new(acio_loop_t *loop, acio_handle_cb cb, void *data)
{
    acio_handle_t *h = acio__objpool_get(&pool);
    if (ACIO_UNLIKELY(!h))
        return NULL;
    h->next = NULL;
    h->cb = cb;
    h->data = data;
    h->fut_cb = NULL;
    h->fut = NULL;
    h->when = -1;
    h->loop = loop;
    h->refcnt = 1;
    h->flags = ACIO_UNLIKELY(loop->debug) ? HANDLE_DEBUG : 0;
    return h;
}

/* Debug mode holds freed handles back from reuse (as future.c does for futures), so a
 * late acio_handle_unref/cancel finds a count of 0 and is reported. */
#define QUARANTINE 1024
static __thread acio_handle_t *quarantine[QUARANTINE];
static __thread unsigned quarantine_next;

void acio__handles_quarantine_flush(void)
{
    for (unsigned i = 0; i < QUARANTINE; i++) {
        if (quarantine[i]) {
            acio__objpool_put(&pool, quarantine[i]);
            quarantine[i] = NULL;
        }
    }
}

static _Noreturn void handle_misuse(const acio_handle_t *h, const char *what)
{
    char cb[256];
    acio__fatal("%s of a handle after its last unref (a double unref, or a handle kept after "
                "releasing it); its callback is %s",
                what, acio__describe_address((void *)(uintptr_t)h->cb, cb, sizeof cb));
}

void acio__handle_release(acio_handle_t *h)
{
    if (h->flags & HANDLE_EMBEDDED)
        return;
    if (--h->refcnt)
        return;
    /* A future's done callback dropped unrun (the loop closed first) still holds the
     * future it was for. */
    if (ACIO_UNLIKELY(h->fut != NULL)) {
        acio_future_unref(h->fut);
        h->fut = NULL;
    }
    if (ACIO_UNLIKELY(h->flags & HANDLE_DEBUG)) {
        unsigned i = quarantine_next++ % QUARANTINE;
        if (quarantine[i])
            acio__objpool_put(&pool, quarantine[i]);
        quarantine[i] = h;
        return;
    }
    acio__objpool_put(&pool, h);
}

void acio_handle_cancel(acio_handle_t *h)
{
    if (h && ACIO_UNLIKELY(h->refcnt == 0) && !(h->flags & HANDLE_EMBEDDED))
        handle_misuse(h, "acio_handle_cancel");
    if (!h || (h->flags & HANDLE_CANCELLED))
        return;
    h->flags |= HANDLE_CANCELLED;
    /* Count cancelled timers still in the heap, so the loop knows when to compact; the
     * wheel unlinks them at once. */
    if (h->flags & HANDLE_IN_HEAP)
        h->loop->timers_cancelled++;
    else if (h->flags & HANDLE_IN_WHEEL)
        acio__timer_wheel_remove(h);
}

bool acio_handle_cancelled(const acio_handle_t *h)
{
    return h && (h->flags & HANDLE_CANCELLED);
}

double acio_handle_when(const acio_handle_t *h)
{
    if (!h || !(h->flags & HANDLE_TIMER))
        return -1.0;
    return (double)h->when / 1e9;
}

void acio_handle_unref(acio_handle_t *h)
{
    if (h && ACIO_UNLIKELY(h->refcnt == 0) && !(h->flags & HANDLE_EMBEDDED))
        handle_misuse(h, "acio_handle_unref");
    if (h)
        acio__handle_release(h);
}
