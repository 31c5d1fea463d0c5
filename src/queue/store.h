/* The item storage behind acio_queue_t: what asyncio's Queue subclasses override as
 * _init / _put / _get. One growable array serves as a ring (FIFO), a stack (LIFO) or a
 * binary min-heap (priority); it doubles when full and never shrinks, so a queue that
 * has reached its working size allocates nothing per item. */
#ifndef ACIO_QUEUE_STORE_H
#define ACIO_QUEUE_STORE_H

#include "internal.h"

typedef enum {
    ACIO__STORE_FIFO,
    ACIO__STORE_LIFO,
    ACIO__STORE_PRIORITY,
} acio__store_kind_t;

/* A heap entry: priority, then the comparator, then arrival order decide. */
typedef struct {
    int64_t priority;
    uint64_t seq;
    void *item;
} acio__store_entry_t;

typedef struct {
    acio__store_kind_t kind;
    size_t cap;  /* slots; a power of two for the ring */
    size_t head; /* ring only */
    size_t len;
    union {
        void **items;                 /* FIFO ring, LIFO stack */
        acio__store_entry_t *entries; /* priority heap */
    } u;
    uint64_t next_seq;
    acio_queue_cmp cmp;
    void *cmp_arg;
} acio__store_t;

void acio__store_init(acio__store_t *s, acio__store_kind_t kind, acio_queue_cmp cmp, void *cmp_arg);
void acio__store_close(acio__store_t *s);
/* Add item (priority is used by the heap only). -ENOMEM if it had to grow and could
 * not; nothing changed then. */
int acio__store_push(acio__store_t *s, void *item, int64_t priority);
/* Remove the next item; the store must not be empty. */
void *acio__store_pop(acio__store_t *s);

#endif
