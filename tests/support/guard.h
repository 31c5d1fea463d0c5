/* Inputs that end right before an unmapped page (picohttpparser's test habit): a parser
 * that reads one byte past its input crashes instead of passing by luck. */
#ifndef ACIO_TEST_GUARD_H
#define ACIO_TEST_GUARD_H

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    char *base;
    size_t size; /* readable bytes before the guard page */
} guard_buf_t;

/* Map room for `cap` bytes followed by a PROT_NONE page. */
static inline int guard_init(guard_buf_t *g, size_t cap)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    g->size = (cap + page - 1) / page * page;
    g->base =
        mmap(NULL, g->size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED)
        return -1;
    return mprotect(g->base + g->size, page, PROT_NONE);
}

/* Copy len bytes so they end at the guard page; returns their address. */
static inline const char *guard_place(guard_buf_t *g, const char *data, size_t len)
{
    char *p = g->base + g->size - len;
    memcpy(p, data, len);
    return p;
}

static inline void guard_close(guard_buf_t *g)
{
    munmap(g->base, g->size + (size_t)sysconf(_SC_PAGESIZE));
}

#endif
