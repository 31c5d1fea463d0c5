/* The one place acio allocates heap memory. Tests use acio__alloc_fail_after() to make
 * allocations fail one by one and check that every error path is clean. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

long acio__alloc_fail_countdown;

void acio__alloc_fail_after(long n)
{
    acio__alloc_fail_countdown = n;
}

static int should_fail(void)
{
    if (ACIO_LIKELY(acio__alloc_fail_countdown == 0))
        return 0;
    return --acio__alloc_fail_countdown == 0;
}

int acio__alloc_fail_step(void)
{
    return --acio__alloc_fail_countdown == 0;
}

void *acio__malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size);
}
void *acio__calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n, size);
}
void *acio__realloc(void *p, size_t size)
{
    return should_fail() ? NULL : realloc(p, size);
}
void acio__free(void *p)
{
    free(p);
}

char *acio__vformat(const char *fmt, va_list ap)
{
    if (!fmt)
        return NULL;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *s = n >= 0 ? acio__malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *acio__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = acio__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void acio__fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("acio: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

const char *acio__describe_address(void *addr, char *buf, size_t len)
{
    Dl_info info;
    if (addr && dladdr(addr, &info) && info.dli_fname) {
        if (info.dli_sname)
            snprintf(buf, len, "%s+0x%lx (%s)", info.dli_sname,
                     (unsigned long)((char *)addr - (char *)info.dli_saddr), info.dli_fname);
        else
            snprintf(buf, len, "%s+0x%lx", info.dli_fname,
                     (unsigned long)((char *)addr - (char *)info.dli_fbase));
    } else {
        snprintf(buf, len, "%p", addr);
    }
    return buf;
}
