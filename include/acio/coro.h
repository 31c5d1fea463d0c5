/* Stackful coroutines usable without an event loop: Python's generators (send / yield /
 * StopIteration / close) and greenlet's symmetric switch. Tasks run on the same
 * coroutines, but users normally meet them only through this header when they want a
 * generator.
 *
 * A coroutine owns a stack from acio's stack pool. Its function runs on that stack; it
 * may call acio_coro_yield() at any depth. Pointers to variables on its stack stay valid
 * while it is suspended: stacks are never moved. */
#ifndef ACIO_CORO_H
#define ACIO_CORO_H

#include "common.h"

typedef enum {
    ACIO_CORO_CREATED = 0, /* never resumed (GEN_CREATED) */
    ACIO_CORO_RUNNING,     /* currently executing (GEN_RUNNING) */
    ACIO_CORO_SUSPENDED,   /* stopped at a yield or switch (GEN_SUSPENDED) */
    ACIO_CORO_DEAD,        /* returned or closed (GEN_CLOSED) */
} acio_coro_state_t;

/* Create a coroutine that will run fn(arg) on its own stack. stack_size 0 takes the
 * default (acio_coro_default_stack_size()); other values are rounded up to whole pages.
 * Its parent (where control goes when it finishes after acio_coro_switch) is the
 * coroutine that is running now, or the thread's main context.
 * Ownership: *out belongs to the caller, released with acio_coro_free().
 * Errors: -EINVAL (NULL out or fn, stack_size above 1 GiB), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_coro_new(acio_coro_t **out, acio_coro_fn fn, void *arg,
                                             size_t stack_size);

/* Python's gen.send(value): run co until it yields or returns.
 * Returns 0 when it yielded (*out = the yielded value), ACIO_ESTOPITERATION when it
 * returned (*out = its return value; later resumes also return ACIO_ESTOPITERATION with
 * *out = NULL). Like Python, the first resume must send NULL.
 * Errors: -EINVAL (NULL co, or a non-NULL value sent to a just-created coroutine),
 * ACIO_ERUNNING (co is running: "generator already executing"). out may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_coro_resume(acio_coro_t *co, void *send, void **out);

/* Inside a coroutine: hand value to whoever resumed it and suspend; returns the value
 * sent by the next resume (NULL for next()). Called outside a coroutine it returns NULL
 * and does nothing (check acio_coro_current() first if that matters). */
ACIO_EXTERN void *acio_coro_yield(void *value);

/* Python's gen.close(): if co is suspended at a yield, resume it with a close request:
 * its acio_coro_yield() returns NULL and acio_coro_closing() becomes true; it should clean
 * up and return. Returns 0 once co is dead, ACIO_EGENERATOREXIT if it yielded again
 * instead (it is then left suspended, as Python raises RuntimeError), ACIO_ERUNNING if
 * co is running. Closing a created or dead coroutine just marks it dead. */
ACIO_EXTERN int acio_coro_close(acio_coro_t *co);
/* True inside a coroutine that is being closed by acio_coro_close(). */
ACIO_EXTERN bool acio_coro_closing(void);

/* greenlet's switch(): transfer control from the running coroutine (or the thread's main
 * context) to co, which receives value as the return of its own pending switch/yield (or
 * nothing, on its first run). Returns the value passed by whoever switches back here.
 * When co's function returns, control goes to co's parent with its return value.
 * Errors are reported through *err when err is non-NULL: -EINVAL, ACIO_ESTOPITERATION
 * (co is dead), ACIO_ERUNNING (co is the running coroutine). */
ACIO_EXTERN void *acio_coro_switch(acio_coro_t *co, void *value, int *err);

ACIO_EXTERN acio_coro_state_t acio_coro_state(const acio_coro_t *co);
/* The running coroutine, or NULL in the thread's main context. */
ACIO_EXTERN acio_coro_t *acio_coro_current(void);
/* Free a coroutine that is not running. A suspended coroutine's stack is discarded
 * without running any more of its code (call acio_coro_close() first for cleanup).
 * Returns ACIO_ERUNNING (and frees nothing) if co is running; NULL is a no-op. */
ACIO_EXTERN int acio_coro_free(acio_coro_t *co);

/* Default stack size for new coroutines and tasks (process-wide); 0 restores the
 * built-in default. Returns -EINVAL if size is too small (< 16 KiB) or too large (> 1 GiB). */
ACIO_EXTERN ACIO_NODISCARD int acio_coro_set_default_stack_size(size_t size);
ACIO_EXTERN size_t acio_coro_default_stack_size(void);

/* What the stack pool holds, for tests and tuning. guarded counts stacks protected by a
 * 256 KiB PROT_NONE guard area; the rest are checked at every switch (docs/stacks.md). */
typedef struct {
    size_t stacks_total;   /* stacks mapped */
    size_t stacks_free;    /* of those, in the pool ready for reuse */
    size_t stacks_guarded; /* of those, with a PROT_NONE guard area */
    size_t guard_budget;   /* guard areas acio may still create (vm.max_map_count) */
} acio_stack_stats_t;
ACIO_EXTERN void acio_stack_stats(acio_stack_stats_t *out);
/* Cap the number of guard areas (for tests; default from vm.max_map_count). */
ACIO_EXTERN void acio_stack_set_guard_budget(size_t areas);

#endif
