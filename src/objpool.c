/* Fixed-size object pools; see objpool.h for why chunks are pre-populated. */
#include <sys/mman.h>

#include "internal.h"
#include "objpool.h"

#define CHUNK_MIN (64u * 1024u)
#define CHUNK_MAX (4u * 1024u * 1024u)

void *acio__objpool_get(acio_objpool_t *p)
{
#ifdef ACIO_ASAN
    return acio__malloc(p->size);
#else
    if (ACIO_UNLIKELY(acio__alloc_injected_failure()))
        return NULL;
    void *o = p->free;
    if (ACIO_LIKELY(o != NULL)) {
        p->free = *(void **)o;
        return o;
    }
    if (ACIO_UNLIKELY(p->cur + p->size > p->end)) {
        size_t bytes = p->chunk_bytes ? p->chunk_bytes : CHUNK_MIN;
        char *c = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c == MAP_FAILED)
            return NULL;
        /* Large chunks on huge pages: fewer TLB misses when a million objects are
         * touched once each (the spawn pattern). Then populate, ignoring kernels that
         * lack MADV_POPULATE_WRITE (the pages then fault in on first use). */
        if (bytes >= 2u * 1024u * 1024u)
            madvise(c, bytes, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
        madvise(c, bytes, MADV_POPULATE_WRITE);
#endif
        p->cur = c;
        p->end = c + bytes;
        p->chunk_bytes = bytes < CHUNK_MAX ? bytes * 2 : CHUNK_MAX;
    }
    o = p->cur;
    p->cur += p->size;
    return o;
#endif
}

void acio__objpool_put(acio_objpool_t *p, void *obj)
{
#ifdef ACIO_ASAN
    (void)p;
    acio__free(obj);
#else
    *(void **)obj = p->free;
    p->free = obj;
#endif
}
