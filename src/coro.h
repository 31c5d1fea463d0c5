/* Internal view of coroutines, shared with the task layer (task.c), which drives a
 * coroutine per task with acio__coro_resume / acio__coro_yield. */
#ifndef ACIO_CORO_INTERNAL_H
#define ACIO_CORO_INTERNAL_H

#include "arch/context.h"
#include "internal.h"
#include "stack.h"

struct acio_coro_s {
    acio_ctx_t ctx;      /* saved registers while not running */
    acio_coro_t *back;   /* who resumed it last: where yield returns (NULL: main) */
    acio_coro_t *parent; /* where control goes when it finishes after a switch */
    acio_stack_t *stack;
    acio_coro_fn fn;
    void *arg;
    void *transfer;   /* the value travelling with the current switch */
    const char *name; /* for overflow reports: the task's name, or NULL */
    uint64_t num;     /* ... or its number, for an unnamed task (Task-N) */
    /* The task it runs for: its own coroutine, or one nested in it (an async
     * generator's body while a consumer runs it). acio_await works there. */
    void *owner;
    unsigned char state;
    bool return_to_back; /* entered by resume (finish goes to back) or switch (parent) */
    bool closing;
    bool started;
    bool guarded; /* copy of stack->guarded: the switch checks it without a miss */
#ifdef ACIO_ASAN
    void *asan_fake;
#endif
#ifdef ACIO_TSAN
    void *tsan_fiber; /* ThreadSanitizer's context for this stack (__tsan_create_fiber) */
#endif
};

/* A coroutine on a fresh pooled stack; its struct lives at the top of that stack, so it
 * costs no extra allocation. NULL on failure (errno set). */
acio_coro_t *acio__coro_new(acio_coro_fn fn, void *arg, size_t stack_size);
/* Return the stack (and so the coroutine) to the pool. Not while it runs. */
void acio__coro_release(acio_coro_t *co);
/* Resume co from the current context; returns what it yields or returns. */
void *acio__coro_resume(acio_coro_t *co, void *value);
/* Yield value from the running coroutine to whoever resumed it. */
void *acio__coro_yield(void *value);

extern __thread acio_coro_t *acio__coro_running;

#endif
