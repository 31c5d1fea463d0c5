/* Timers: call_later / call_at. Two structures, one order.
 *
 * The heap: a 4-ary min-heap whose entries carry their deadline and sequence number
 * inline, so sifting compares without touching the handles (libuv's pointer heap chases
 * a pointer per comparison). Ties on the deadline break by sequence: equal deadlines
 * fire in the order they were scheduled. Every timer fires from the heap.
 *
 * The wheel: with many timers a big heap is slow (each pop walks ~log4(n) levels of an
 * array far larger than the cache). Once the heap holds WHEEL_FROM timers, a timer due
 * within the next WHEEL_SLOTS slots of 2^WHEEL_SHIFT ns (about 1 ms each) waits instead
 * in a per-slot list, in O(1); a slot's timers move into the heap when the loop's time
 * reaches the slot. The heap then only holds the timers of the current millisecond or so
 * (plus far ones), and the handles are touched while still in cache. The order is
 * unchanged: every timer whose deadline has come is in the heap before the heap is
 * popped, keyed as it would have been.
 *
 * Invariant: a timer in the wheel is due at or after slot `base` (its start); slots
 * before base are empty. run_due moves every slot up to the one holding now into the
 * heap, so anything due now is in the heap.
 *
 * Cancellation: lazy in the heap, as in asyncio (a cancelled timer stays until it
 * reaches the top, unless more than half the heap is cancelled and the heap holds over
 * 100 timers: then the heap is rebuilt without them); immediate in the wheel (its lists
 * are doubly linked), so the common pattern of timeouts that are set and then cancelled
 * does not keep dead handles around. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "loop.h"

#define ARITY               4
#define MIN_HEAP_TO_COMPACT 100

#define WHEEL_SHIFT 20   /* slot width 2^20 ns, about 1 ms */
#define WHEEL_SLOTS 4096 /* a span of about 4.3 s; a multiple of 64 */
#define WHEEL_MASK  (WHEEL_SLOTS - 1)
#define WHEEL_FROM  256 /* heap size at which the wheel starts taking timers */

typedef struct acio_timer_wheel_s {
    acio_handle_t *slot[WHEEL_SLOTS]; /* linked by next / wheel_prev */
    uint64_t busy[WHEEL_SLOTS / 64];  /* bit per non-empty slot */
    int64_t base;                     /* absolute slot number of the first one not moved */
} acio_timer_wheel_t;

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

static void heap_insert(acio_loop_t *loop, acio_handle_t *h, uint64_t seq)
{
    h->flags |= HANDLE_IN_HEAP;
    acio_timer_entry_t *e = &loop->heap[loop->heap_len];
    e->when = h->when;
    e->seq = seq;
    e->h = h;
    sift_up(loop->heap, loop->heap_len++);
}

/* ---- the wheel ---- */

static inline size_t slot_of(int64_t when)
{
    return (size_t)(when >> WHEEL_SHIFT) & WHEEL_MASK;
}

/* The first non-empty slot at or after slot `from` (absolute) within the wheel's span,
 * or -1. */
static int64_t wheel_first(const acio_timer_wheel_t *w, int64_t from)
{
    int64_t end = w->base + WHEEL_SLOTS;
    while (from < end) {
        size_t idx = (size_t)from & WHEEL_MASK;
        uint64_t m = w->busy[idx >> 6] >> (idx & 63);
        if (m != 0) {
            int64_t s = from + __builtin_ctzll(m);
            return s < end ? s : -1;
        }
        from += 64 - (int64_t)(idx & 63);
    }
    return -1;
}

void acio__timer_wheel_remove(acio_handle_t *h)
{
    acio_loop_t *loop = h->loop;
    acio_timer_wheel_t *w = loop->wheel;
    size_t idx = slot_of(h->when);
    if (h->wheel_prev != NULL)
        h->wheel_prev->next = h->next;
    else
        w->slot[idx] = h->next;
    if (h->next != NULL)
        h->next->wheel_prev = h->wheel_prev;
    if (w->slot[idx] == NULL)
        w->busy[idx >> 6] &= ~(UINT64_C(1) << (idx & 63));
    h->wheel_prev = NULL;
    h->next = NULL;
    h->flags &= ~HANDLE_IN_WHEEL;
    loop->wheel_count--;
    acio__handle_release(h);
}

/* Take h (the timers' reference already counted) if it is due within the wheel's span;
 * false if it belongs in the heap. */
static bool wheel_take(acio_loop_t *loop, acio_handle_t *h, uint64_t seq)
{
    acio_timer_wheel_t *w = loop->wheel;
    if (w == NULL) {
        if (loop->heap_len < WHEEL_FROM || (w = acio__calloc(1, sizeof *w)) == NULL)
            return false;
        w->base = (acio__loop_now(loop) >> WHEEL_SHIFT) + 1;
        loop->wheel = w;
    }
    int64_t s = h->when >> WHEEL_SHIFT;
    if (h->when < 0 || s < w->base || s >= w->base + WHEEL_SLOTS)
        return false;
    size_t idx = (size_t)s & WHEEL_MASK;
    h->timer_seq = seq;
    h->wheel_prev = NULL;
    h->next = w->slot[idx];
    if (h->next != NULL)
        h->next->wheel_prev = h;
    w->slot[idx] = h;
    w->busy[idx >> 6] |= UINT64_C(1) << (idx & 63);
    h->flags |= HANDLE_IN_WHEEL;
    loop->wheel_count++;
    return true;
}

/* Move every slot up to the one holding now into the heap (whose room was reserved). */
static void wheel_advance(acio_loop_t *loop, int64_t now)
{
    acio_timer_wheel_t *w = loop->wheel;
    int64_t target = (now >> WHEEL_SHIFT) + 1;
    while (loop->wheel_count > 0 && w->base < target) {
        int64_t s = wheel_first(w, w->base);
        if (s < 0 || s >= target)
            break;
        size_t idx = (size_t)s & WHEEL_MASK;
        acio_handle_t *h = w->slot[idx];
        w->slot[idx] = NULL;
        w->busy[idx >> 6] &= ~(UINT64_C(1) << (idx & 63));
        while (h != NULL) {
            acio_handle_t *next = h->next;
            h->flags &= ~HANDLE_IN_WHEEL;
            h->wheel_prev = NULL;
            h->next = NULL;
            loop->wheel_count--;
            heap_insert(loop, h, h->timer_seq);
            h = next;
        }
        w->base = s + 1;
    }
    if (w->base < target)
        w->base = target;
}

int acio__timer_push(acio_loop_t *loop, acio_handle_t *h)
{
    /* Room in the heap for every timer, those in the wheel included, so moving a slot
     * into the heap never needs memory. */
    if (loop->heap_len + loop->wheel_count >= loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        acio_timer_entry_t *n = acio__realloc(loop->heap, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        loop->heap = n;
        loop->heap_cap = cap;
    }
    h->flags |= HANDLE_TIMER;
    h->refcnt++;
    uint64_t seq = loop->timer_seq++;
    if (!wheel_take(loop, h, seq))
        heap_insert(loop, h, seq);
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
    int64_t next = loop->heap_len ? loop->heap[0].when : INT64_MAX;
    if (loop->wheel_count > 0) {
        /* Wake at the start of the first busy slot: its timers go to the heap then. */
        int64_t s = wheel_first(loop->wheel, loop->wheel->base);
        if (s >= 0 && (s << WHEEL_SHIFT) < next)
            next = s << WHEEL_SHIFT;
    }
    if (next == INT64_MAX)
        return -1;
    int64_t d = next - acio__loop_now(loop);
    return d > 0 ? d : 0;
}

void acio__timers_run_due(acio_loop_t *loop)
{
    int64_t now = acio__loop_now(loop);
    if (loop->wheel_count > 0)
        wheel_advance(loop, now);
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
        acio__loop_count_append(loop);
    }
}

void acio__timers_clear(acio_loop_t *loop)
{
    if (loop->wheel != NULL) {
        for (size_t i = 0; i < WHEEL_SLOTS; i++)
            while (loop->wheel->slot[i] != NULL)
                acio__timer_wheel_remove(loop->wheel->slot[i]);
        acio__free(loop->wheel);
        loop->wheel = NULL;
    }
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
