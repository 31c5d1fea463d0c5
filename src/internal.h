/* Internal helpers shared by every source file: the allocator hook, branch hints,
 * container_of, and the internal naming rule (acio__ for non-static internals). */
#ifndef ACIO_INTERNAL_H
#define ACIO_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "acio.h"

#define ACIO_LIKELY(x)                       __builtin_expect(!!(x), 1)
#define ACIO_UNLIKELY(x)                     __builtin_expect(!!(x), 0)
#define ACIO_HIDDEN                          __attribute__((visibility("hidden")))
#define acio_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* All of acio's heap memory goes through these, so a test can fail allocations. */
void *acio__malloc(size_t size);
void *acio__calloc(size_t n, size_t size);
void *acio__realloc(void *p, size_t size);
void acio__free(void *p);
char *acio__strdup(const char *s);
/* vsnprintf into a new acio__malloc'd string; NULL if fmt is NULL or on ENOMEM. */
char *acio__vformat(const char *fmt, va_list ap);

/* Failing allocations on purpose (tests): the nth allocation from now fails, 0 = never. */
void acio__alloc_fail_after(long n);
/* True if the failure set up by acio__alloc_fail_after() is due now (for allocators
 * that do not go through acio__malloc, such as the object pools). */
extern long acio__alloc_fail_countdown;
int acio__alloc_fail_step(void);
static inline int acio__alloc_injected_failure(void)
{
    return ACIO_UNLIKELY(acio__alloc_fail_countdown != 0) && acio__alloc_fail_step();
}

/* Report an impossible state and abort: used only for corrupted internal invariants
 * (a stack overflow, a switch into a dead coroutine), never for user errors. */
/* compose/cfuture.c: finish a concurrent future with an error code and message
 * (-ECANCELED: cancelled, even once running). */
int acio__cfuture_set_message_error(acio_cfuture_t *cf, int code, const char *msg);

_Noreturn void acio__fatal(const char *fmt, ...) ACIO_PRINTF(1, 2);

/* Where the caller of a public function is, for "created at" reports. */
#define ACIO_CALLER() __builtin_return_address(0)
/* Describe a code address as "symbol+0xoff (object)". buf must hold 256 bytes. */
const char *acio__describe_address(void *addr, char *buf, size_t len);

#endif
