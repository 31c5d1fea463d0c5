/* Ring, stack and heap storage for the queues (see store.h). */
#include <errno.h>
#include <string.h>

#include "queue/store.h"

void acio__store_init(acio__store_t *s, acio__store_kind_t kind, acio_queue_cmp cmp, void *cmp_arg)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->cmp = cmp;
    s->cmp_arg = cmp_arg;
}

void acio__store_close(acio__store_t *s)
{
    if (s->kind == ACIO__STORE_PRIORITY)
        acio__free(s->u.entries);
    else
        acio__free(s->u.items);
    s->u.items = NULL;
    s->cap = s->len = s->head = 0;
}

static int grow(acio__store_t *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 16;
    size_t esize = s->kind == ACIO__STORE_PRIORITY ? sizeof(acio__store_entry_t) : sizeof(void *);
    void *n;

    if (ncap < s->cap || ncap > SIZE_MAX / esize)
        return -ENOMEM;
    /* realloc keeps large blocks in place or remaps them without copying. */
    n = acio__realloc(s->u.items, ncap * esize);
    if (n == NULL)
        return -ENOMEM;
    s->u.items = n;
    if (s->kind == ACIO__STORE_FIFO && s->head + s->len > s->cap) {
        /* The ring wrapped: its first part sits at [head, cap) and the rest at
         * [0, head + len - cap). Move the rest after the first part, into the new half,
         * so the entries are contiguous from head again. */
        memcpy(s->u.items + s->cap, s->u.items, (s->head + s->len - s->cap) * esize);
    }
    s->cap = ncap;
    return 0;
}

static bool entry_less(const acio__store_t *s, const acio__store_entry_t *a,
                       const acio__store_entry_t *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority;
    if (s->cmp != NULL) {
        int c = s->cmp(a->item, b->item, s->cmp_arg);
        if (c != 0)
            return c < 0;
    }
    return a->seq < b->seq;
}

static void heap_push(acio__store_t *s, acio__store_entry_t e)
{
    acio__store_entry_t *h = s->u.entries;
    size_t i = s->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!entry_less(s, &e, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static void *heap_pop(acio__store_t *s)
{
    acio__store_entry_t *h = s->u.entries;
    void *top = h[0].item;
    acio__store_entry_t last = h[--s->len];
    size_t i = 0, n = s->len;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && entry_less(s, &h[child + 1], &h[child]))
            child++;
        if (!entry_less(s, &h[child], &last))
            break;
        h[i] = h[child];
        i = child;
    }
    if (n > 0)
        h[i] = last;
    return top;
}

int acio__store_push(acio__store_t *s, void *item, int64_t priority)
{
    int rc;
    if (s->len == s->cap && (rc = grow(s)) < 0)
        return rc;
    switch (s->kind) {
    case ACIO__STORE_FIFO:
        s->u.items[(s->head + s->len) & (s->cap - 1)] = item;
        s->len++;
        break;
    case ACIO__STORE_LIFO:
        s->u.items[s->len++] = item;
        break;
    case ACIO__STORE_PRIORITY: {
        acio__store_entry_t e = {priority, s->next_seq++, item};
        heap_push(s, e);
        break;
    }
    }
    return 0;
}

void *acio__store_pop(acio__store_t *s)
{
    void *item;
    switch (s->kind) {
    case ACIO__STORE_FIFO:
        item = s->u.items[s->head];
        s->head = (s->head + 1) & (s->cap - 1);
        s->len--;
        return item;
    case ACIO__STORE_LIFO:
        return s->u.items[--s->len];
    case ACIO__STORE_PRIORITY:
        return heap_pop(s);
    }
    return NULL;
}
