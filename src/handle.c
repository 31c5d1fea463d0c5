/* Handles: a scheduled callback (asyncio.Handle / TimerHandle). They come from a
 * per-thread free list so call_soon allocates nothing in steady state; a reference count
 * lets the loop and the user each hold one. */
#include <errno.h>

#include "loop.h"

#define HANDLE_CACHE_MAX 4096

#ifndef ACIO_ASAN
static __thread acio_handle_t *cache;
static __thread size_t cache_len;
#endif

acio_handle_t *acio__handle_new(acio_loop_t *loop, acio_handle_cb cb, void *data)
{
    acio_handle_t *h;
#ifndef ACIO_ASAN
    if (ACIO_LIKELY(cache != NULL)) {
        h = cache;
        cache = h->next;
        cache_len--;
    } else
#endif
    {
        h = acio__malloc(sizeof *h);
        if (!h)
            return NULL;
    }
    h->next = NULL;
    h->cb = cb;
    h->data = data;
    h->fut_cb = NULL;
    h->fut = NULL;
    h->when = -1;
    h->loop = loop;
    h->refcnt = 1;
    h->flags = 0;
    return h;
}

void acio__handle_release(acio_handle_t *h)
{
    if (h->flags & HANDLE_EMBEDDED)
        return;
    if (--h->refcnt)
        return;
#ifndef ACIO_ASAN
    if (cache_len < HANDLE_CACHE_MAX) {
        h->next = cache;
        cache = h;
        cache_len++;
        return;
    }
#endif
    acio__free(h);
}

void acio_handle_cancel(acio_handle_t *h)
{
    if (!h || (h->flags & HANDLE_CANCELLED))
        return;
    h->flags |= HANDLE_CANCELLED;
    /* Count cancelled timers still in the heap, so the loop knows when to compact. */
    if (h->flags & HANDLE_IN_HEAP)
        h->loop->timers_cancelled++;
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
    if (h)
        acio__handle_release(h);
}
