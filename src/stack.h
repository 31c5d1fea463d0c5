/* Coroutine stacks: mapped in slabs, pooled per thread, never moved, never freed while
 * running. See docs/stacks.md for the trade-off between guard pages and the
 * vm.max_map_count limit. */
#ifndef ACIO_STACK_H
#define ACIO_STACK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct acio_stack_s acio_stack_t;
struct acio_stack_s {
    char *lo; /* lowest usable byte (just above the guard area, if any) */
    char *hi; /* one past the highest usable byte; this struct lives just above */
    acio_stack_t *next_free;
    size_t size;      /* usable size, hi - lo */
    size_t pool_size; /* the rounded size it was asked for: its pool's key */
    bool guarded;     /* ACIO_STACK_GUARD bytes of PROT_NONE lie below lo */
};

#define ACIO_STACK_MIN     (16u * 1024u)
#define ACIO_STACK_DEFAULT (128u * 1024u)
/* The PROT_NONE area below every guarded stack. Address space only (no memory, one
 * mapping split, like a single page), so it is made large enough that a realistic frame
 * (a 64 KiB buffer and its neighbours) cannot jump it into the stack below, even in code
 * built without -fstack-clash-protection. A multiple of every page size Linux uses. */
#define ACIO_STACK_GUARD (256u * 1024u)
/* The largest stack acio maps (1 GiB): larger requests get -EINVAL, so that rounding to
 * pages and multiplying by a slab's stack count cannot overflow. */
#define ACIO_STACK_MAX ((size_t)1 << 30)
/* Bytes below lo that must stay zero on an unguarded stack (checked at every switch). */
#define ACIO_STACK_CANARY_BYTES 64

/* A stack of at least size bytes (0: the default), from this thread's pool. NULL with
 * errno set on failure. */
acio_stack_t *acio__stack_get(size_t size);
/* Give it back to this thread's pool. Never call while running on it. */
void acio__stack_put(acio_stack_t *s);
size_t acio__stack_round(size_t size);

/* For an unguarded stack: true if the canary zone below lo has been written. */
static inline bool acio__stack_canary_damaged(const acio_stack_t *s)
{
    const unsigned long *w = (const unsigned long *)(s->lo - ACIO_STACK_CANARY_BYTES);
    unsigned long acc = 0;
    for (unsigned i = 0; i < ACIO_STACK_CANARY_BYTES / sizeof *w; i++)
        acc |= w[i];
    return acc != 0;
}

/* Install the SIGSEGV reporter (on an alternate signal stack) for this thread, once. */
void acio__stack_thread_init(void);

#endif
