/* The timer heap: call_later / call_at. A 4-ary min-heap whose entries carry their
 * deadline and sequence number inline, so sifting compares without touching the handles
 * (libuv's pointer heap chases a pointer per comparison). Ties on the deadline break by
 * sequence: equal deadlines fire in the order they were scheduled.
 *
 * Cancellation is lazy, as in asyncio: a cancelled timer stays in the heap until it
 * reaches the top, unless more than half the heap is cancelled (and the heap holds over
 * 100 timers), in which case the heap is rebuilt without them. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "loop.h"

#define ARITY               4
#define MIN_HEAP_TO_COMPACT 100

/* (deadline, sequence) as one 128-bit number: one compare instead of two branches. The
 * deadline's sign bit is flipped so negative deadlines still order first. */
static inline unsigned __int128 key(const acio_timer_entry_t *e)
{
    return ((unsigned __int128)((uint64_t)e->when ^ (UINT64_C(1) << 63)) << 64) | e->seq;
}

static inline bool less(const acio_timer_entry_t *a, const acio_timer_entry_t *b)
{
    return key(a) < key(b);
}

static void sift_up(acio_timer_entry_t *heap, size_t i)
{
    acio_timer_entry_t e = heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!less(&e, &heap[parent]))
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = e;
}

/* The smallest of node i's children, or 0 if it has none (0 is never a child). */
static inline size_t min_child(const acio_timer_entry_t *heap, size_t len, size_t i)
{
    size_t first = i * ARITY + 1;
    if (first >= len)
        return 0;
    size_t best = first;
    size_t end = first + ARITY < len ? first + ARITY : len;
    for (size_t c = first + 1; c < end; c++)
        if (less(&heap[c], &heap[best]))
            best = c;
    return best;
}

static void sift_down(acio_timer_entry_t *heap, size_t len, size_t i)
{
    acio_timer_entry_t e = heap[i];
    for (;;) {
        size_t best = min_child(heap, len, i);
        if (best == 0)
            break;
        if (!less(&heap[best], &e))
            break;
        heap[i] = heap[best];
        i = best;
    }
    heap[i] = e;
}

int acio__timer_push(acio_loop_t *loop, acio_handle_t *h)
{
    if (loop->heap_len == loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        acio_timer_entry_t *n = acio__realloc(loop->heap, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        loop->heap = n;
        loop->heap_cap = cap;
    }
    h->flags |= HANDLE_TIMER | HANDLE_IN_HEAP;
    h->refcnt++;
    acio_timer_entry_t *e = &loop->heap[loop->heap_len];
    e->when = h->when;
    e->seq = loop->timer_seq++;
    e->h = h;
    sift_up(loop->heap, loop->heap_len++);
    return 0;
}

/* Remove the root Floyd's way: walk the hole down to a leaf along the smallest children
 * (no comparison with the moved element on the way), then sift the last element up from
 * there. It usually belongs near the bottom, so this saves a comparison per level. */
static void pop_top(acio_loop_t *loop)
{
    acio_timer_entry_t *heap = loop->heap;
    size_t len = --loop->heap_len;
    if (len == 0)
        return;
    acio_timer_entry_t last = heap[len];
    size_t i = 0;
    for (;;) {
        size_t best = min_child(heap, len, i);
        if (best == 0)
            break;
        heap[i] = heap[best];
        i = best;
    }
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!less(&last, &heap[parent]))
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = last;
}

static void compact(acio_loop_t *loop)
{
    size_t j = 0;
    for (size_t i = 0; i < loop->heap_len; i++) {
        acio_handle_t *h = loop->heap[i].h;
        if (h->flags & HANDLE_CANCELLED) {
            h->flags &= ~HANDLE_IN_HEAP;
            acio__handle_release(h);
        } else {
            loop->heap[j++] = loop->heap[i];
        }
    }
    loop->heap_len = j;
    loop->timers_cancelled = 0;
    for (size_t i = j / ARITY + 1; i-- > 0;)
        if (i < j)
            sift_down(loop->heap, j, i);
}

static void drop_cancelled_top(acio_loop_t *loop)
{
    if (loop->timers_cancelled > loop->heap_len / 2 && loop->heap_len > MIN_HEAP_TO_COMPACT) {
        compact(loop);
        return;
    }
    while (loop->heap_len && (loop->heap[0].h->flags & HANDLE_CANCELLED)) {
        acio_handle_t *h = loop->heap[0].h;
        pop_top(loop);
        loop->timers_cancelled--;
        h->flags &= ~HANDLE_IN_HEAP;
        acio__handle_release(h);
    }
}

int64_t acio__timers_next_timeout(acio_loop_t *loop)
{
    drop_cancelled_top(loop);
    if (!loop->heap_len)
        return -1;
    int64_t d = loop->heap[0].when - acio__loop_now(loop);
    return d > 0 ? d : 0;
}

void acio__timers_run_due(acio_loop_t *loop)
{
    if (!loop->heap_len)
        return;
    int64_t now = acio__loop_now(loop);
    while (loop->heap_len) {
        acio_timer_entry_t *top = &loop->heap[0];
        acio_handle_t *h = top->h;
        if (h->flags & HANDLE_CANCELLED) {
            pop_top(loop);
            loop->timers_cancelled--;
            h->flags &= ~HANDLE_IN_HEAP;
            acio__handle_release(h);
            continue;
        }
        if (top->when > now)
            break;
        pop_top(loop);
        /* The heap's reference moves to the ready FIFO. */
        h->flags = (uint8_t)((h->flags & ~HANDLE_IN_HEAP) | HANDLE_QUEUED);
        h->next = NULL;
        *loop->ready_tail = h;
        loop->ready_tail = &h->next;
        loop->nready++;
    }
}

void acio__timers_clear(acio_loop_t *loop)
{
    for (size_t i = 0; i < loop->heap_len; i++)
        acio__handle_release(loop->heap[i].h);
    loop->heap_len = 0;
    loop->timers_cancelled = 0;
    acio__free(loop->heap);
    loop->heap = NULL;
    loop->heap_cap = 0;
}

static int schedule_at(acio_loop_t *loop, int64_t when, acio_handle_cb cb, void *data,
                       acio_handle_t **handle)
{
    if (handle)
        *handle = NULL;
    int rc = acio__loop_check(loop);
    if (rc)
        return rc;
    if (!cb)
        return -EINVAL;
    acio_handle_t *h = acio__handle_new(loop, cb, data);
    if (!h)
        return -ENOMEM;
    h->when = when;
    rc = acio__timer_push(loop, h);
    if (rc) {
        acio__handle_release(h);
        return rc;
    }
    if (handle)
        *handle = h;
    else
        acio__handle_release(h);
    return 0;
}

static int64_t seconds_to_ns(double s)
{
    if (s > 9.2e9)
        return INT64_MAX / 2;
    if (s < -9.2e9)
        return -(INT64_MAX / 2);
    double ns = s * 1e9;
    return (int64_t)(ns < 0 ? ns - 0.5 : ns + 0.5);
}

int acio_loop_call_later(acio_loop_t *loop, double delay, acio_handle_cb cb, void *data,
                         acio_handle_t **handle)
{
    if (!loop || delay != delay)
        return -EINVAL;
    /* A negative delay keeps its past deadline, as in asyncio: it sorts before timers
     * due now. */
    return schedule_at(loop, acio__loop_now(loop) + seconds_to_ns(delay), cb, data, handle);
}

int acio_loop_call_at(acio_loop_t *loop, double when, acio_handle_cb cb, void *data,
                      acio_handle_t **handle)
{
    if (!loop || when != when)
        return -EINVAL;
    return schedule_at(loop, seconds_to_ns(when), cb, data, handle);
}
