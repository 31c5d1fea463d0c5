/* Fixed-size object pools; see objpool.h for why chunks are pre-populated.
 *
 * Under Valgrind (builds with ACIO_HAVE_VALGRIND; the client requests cost a few
 * instructions and do nothing outside Valgrind), an object sitting in a pool, or not yet
 * cut from its chunk, is marked inaccessible: a use after the last unref, or a second
 * unref, is then an "Invalid read/write" naming the object's allocation and free, as it
 * would be for malloc'd memory, instead of a silent access to a recycled object. */
#include <sys/mman.h>

#ifdef ACIO_HAVE_VALGRIND
#include <valgrind/memcheck.h>
#define POOLED(p, n)     VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define HANDED(p, n)     VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define LINK_READABLE(p) VALGRIND_MAKE_MEM_DEFINED((p), sizeof(void *))
#else
#define POOLED(p, n)     ((void)0)
#define HANDED(p, n)     ((void)0)
#define LINK_READABLE(p) ((void)0)
#endif

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
        LINK_READABLE(o);
        p->free = *(void **)o;
        HANDED(o, p->size);
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
        POOLED(c, bytes);
        p->cur = c;
        p->end = c + bytes;
        p->chunk_bytes = bytes < CHUNK_MAX ? bytes * 2 : CHUNK_MAX;
    }
    o = p->cur;
    p->cur += p->size;
    HANDED(o, p->size);
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
    POOLED(obj, p->size);
#endif
}
