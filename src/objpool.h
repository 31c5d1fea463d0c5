/* Per-thread pools of fixed-size objects (tasks, futures, handles).
 *
 * The hot paths allocate nothing in steady state: a freed object goes on its pool's
 * free list and the next allocation pops it. New objects are cut from chunks mapped
 * with MAP_POPULATE: on this kind of VM a first-touch page fault costs 10-50 us, and
 * populating a chunk in one system call costs a small fraction of that per page, which
 * is what makes spawning a million tasks cheap. Memory is kept for reuse, never
 * returned (like Go's heap); docs/memory.md says so. Under AddressSanitizer the pools
 * are bypassed so every object is a separate malloc and use-after-free is caught; under
 * Valgrind a pooled object is marked inaccessible (objpool.c). */
#ifndef ACIO_OBJPOOL_H
#define ACIO_OBJPOOL_H

#include <stddef.h>

typedef struct acio_objpool_s {
    size_t size; /* object size, a multiple of 16 */
    void *free;
    char *cur, *end;    /* the unused tail of the newest chunk */
    size_t chunk_bytes; /* the next chunk's size (doubles up to a cap) */
} acio_objpool_t;

#define ACIO_OBJPOOL_INIT(type)                                                                    \
    {                                                                                              \
        .size = (sizeof(type) + 15) & ~(size_t)15                                                  \
    }

void *acio__objpool_get(acio_objpool_t *p);
void acio__objpool_put(acio_objpool_t *p, void *obj);

#endif
