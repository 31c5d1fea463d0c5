/* Stackful coroutines: the switch protocol above src/arch, Python-generator and greenlet
 * semantics (include/acio/coro.h), overflow detection, and the hooks that tell
 * AddressSanitizer, ThreadSanitizer and Valgrind that the stack changed.
 *
 * Each coroutine's struct lives at the top of its own stack. The thread's original stack
 * is the "main" context, represented by NULL. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef ACIO_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef ACIO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#include "coro.h"

__thread acio_coro_t *acio__coro_running;
static __thread acio_ctx_t tls_main_ctx;
static __thread void *tls_main_transfer;
static __thread bool tls_thread_ready;
#ifdef ACIO_ASAN
static __thread void *tls_main_fake;
static __thread const void *tls_main_bottom;
static __thread size_t tls_main_size;
#endif

#ifndef ACIO_CONTEXT_ucontext
void acio__ctx_entry(void);
void acio__ctx_make(acio_ctx_t *ctx, void *lo, void *hi, acio_ctx_entry_fn entry, void *arg)
{
    (void)lo;
    memset(ctx, 0, sizeof *ctx);
    uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;
#if defined(__x86_64__)
    ctx->rip = (void *)acio__ctx_entry;
    ctx->rsp = (void *)top;
    ctx->r12 = arg;
    ctx->r13 = (void *)entry;
    __asm__ volatile("stmxcsr %0" : "=m"(ctx->mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(ctx->fpucw));
#elif defined(__aarch64__)
    ctx->lr = (void *)acio__ctx_entry;
    ctx->sp = (void *)top;
    ctx->x[0] = arg;
    ctx->x[1] = (void *)entry;
#endif
}
#endif

void acio__ctx_returned(void)
{
    acio__fatal("a coroutine's entry function returned");
}

/* ---- overflow detection ---- */

static size_t page_size_cached;
static pthread_once_t page_size_once = PTHREAD_ONCE_INIT;
static void init_page_size(void)
{
    page_size_cached = (size_t)sysconf(_SC_PAGESIZE);
}

static void write_str(const char *s)
{
    (void)!write(2, s, strlen(s));
}

/* The interrupted context's stack pointer, or NULL where we do not know how to read it. */
static __attribute__((unused)) char *fault_sp(void *uc)
{
#if defined(__x86_64__)
    return (char *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (char *)((ucontext_t *)uc)->uc_mcontext.sp;
#else
    (void)uc;
    return NULL;
#endif
}

/* How far below its stack a stack pointer may be and still be that stack's overflow (a
 * single frame of this size is already absurd; beyond, the fault is someone else's). */
#define OVERFLOW_SP_REACH ((size_t)64 << 20)

static __attribute__((unused)) void segv_handler(int sig, siginfo_t *si, void *uc)
{
    acio_coro_t *co = acio__coro_running;
    char *addr = si->si_addr;
    /* While a coroutine runs, a fault is its overflow if it hit the guard area below its
     * stack (or, unguarded, the first pages below it), or if the stack pointer itself has
     * left the stack downwards: a frame too large for the guard (allocated in code built
     * without -fstack-clash-protection) that reached unmapped memory. */
    char *lo = co ? co->stack->lo : NULL;
    size_t below = co && co->stack->guarded ? ACIO_STACK_GUARD : 16 * page_size_cached;
    char *sp = co ? fault_sp(uc) : NULL;
    if (co && ((addr < lo && (size_t)(lo - addr) <= below) ||
               (sp && sp < lo && (size_t)(lo - sp) <= OVERFLOW_SP_REACH))) {
        write_str("acio: stack overflow in task '");
        if (co->name) {
            write_str(co->name);
        } else if (co->num) {
            char num[24], *p = num + sizeof num;
            *--p = 0;
            for (uint64_t n = co->num; n; n /= 10)
                *--p = (char)('0' + n % 10);
            write_str("Task-");
            write_str(p);
        } else {
            write_str("(coroutine)");
        }
        write_str("': its stack is too small. Give it a larger one with acio_task_opts_t."
                  "stack_size or acio_loop_set_task_stack_size().\n");
        signal(SIGABRT, SIG_DFL);
        abort();
    }
    /* Not ours: fall back to the default action, which re-faults and dumps core. */
    signal(sig, SIG_DFL);
}

static void thread_init(void)
{
    tls_thread_ready = true;
    pthread_once(&page_size_once, init_page_size);
#ifndef ACIO_ASAN
    /* The handler must run on another stack: the faulting one is exhausted. */
    static __thread char *alt;
    if (!alt) {
        size_t sz = 64 * 1024;
        alt = acio__malloc(sz);
        if (alt) {
            stack_t ss = {.ss_sp = alt, .ss_size = sz, .ss_flags = 0};
            stack_t old;
            if (sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE))
                sigaltstack(&ss, NULL);
        }
    }
    struct sigaction cur;
    if (sigaction(SIGSEGV, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = segv_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
    }
#endif
}

static void check_stack(acio_coro_t *co)
{
    char here;
    acio_stack_t *s = co->stack;
    if (ACIO_UNLIKELY(&here < s->lo || &here >= s->hi))
        acio__fatal("stack overflow in task '%s': the stack pointer left its %zu-byte stack. "
                    "Give it a larger stack (acio_task_opts_t.stack_size).",
                    co->name ? co->name : "(coroutine)", s->size);
    if (ACIO_UNLIKELY(acio__stack_canary_damaged(s)))
        acio__fatal("stack overflow in task '%s': it wrote below its %zu-byte stack. "
                    "Give it a larger stack (acio_task_opts_t.stack_size).",
                    co->name ? co->name : "(coroutine)", s->size);
}

/* ---- the switch ---- */

static inline acio_ctx_t *ctx_of(acio_coro_t *co)
{
    return co ? &co->ctx : &tls_main_ctx;
}

#ifdef ACIO_ASAN
static __thread acio_coro_t *tls_switch_from;
static void asan_start(acio_coro_t *from, acio_coro_t *to, bool dying)
{
    void **fake = dying ? NULL : (from ? &from->asan_fake : &tls_main_fake);
    if (to)
        __sanitizer_start_switch_fiber(fake, to->stack->lo, to->stack->size);
    else
        __sanitizer_start_switch_fiber(fake, tls_main_bottom, tls_main_size);
    tls_switch_from = from;
}
static void asan_finish(acio_coro_t *self)
{
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(self ? self->asan_fake : tls_main_fake, &bottom, &size);
    if (!tls_switch_from) {
        tls_main_bottom = bottom;
        tls_main_size = size;
    }
}
#else
#define asan_start(from, to, dying) ((void)0)
#define asan_finish(self)           ((void)0)
#endif

#ifdef ACIO_TSAN
/* ThreadSanitizer keeps a shadow call stack and a vector clock per thread; a coroutine
 * switch that it is not told about looks like one function returning into another's
 * frames. Each coroutine gets a fiber context of its own and every switch announces the
 * fiber it goes to, immediately before the switch, as tsan_interface.h asks; flag 0
 * makes the switch a synchronisation point, which it is (one thread, one after the
 * other). The thread's own stack is the fiber TSan gave the thread. */
static __thread void *tls_main_fiber;
static void tsan_switch(acio_coro_t *from, acio_coro_t *to)
{
    if (!from && !tls_main_fiber)
        tls_main_fiber = __tsan_get_current_fiber(); /* leaving the thread's stack */
    __tsan_switch_to_fiber(to ? to->tsan_fiber : tls_main_fiber, 0);
}
#else
#define tsan_switch(from, to) ((void)0)
#endif

static void *transfer(acio_coro_t *to, void *value)
{
    acio_coro_t *from = acio__coro_running;
    if (from) {
        if (ACIO_UNLIKELY(!from->guarded))
            check_stack(from);
        from->state = ACIO_CORO_SUSPENDED;
    }
    if (to) {
        to->transfer = value;
        to->state = ACIO_CORO_RUNNING;
    } else {
        tls_main_transfer = value;
    }
    acio__coro_running = to;
    asan_start(from, to, false);
    tsan_switch(from, to);
    acio__ctx_switch(ctx_of(from), ctx_of(to));
    asan_finish(from);
    return from ? from->transfer : tls_main_transfer;
}

static void coro_entry(void *p)
{
    acio_coro_t *co = p;
    asan_finish(co);
    void *ret = co->fn(co->arg);
    co->state = ACIO_CORO_DEAD;
    acio_coro_t *to = co->return_to_back ? co->back : co->parent;
    /* Switch away for good; the stack stays mapped until someone releases it. */
    if (to) {
        to->transfer = ret;
        to->state = ACIO_CORO_RUNNING;
    } else {
        tls_main_transfer = ret;
    }
    acio__coro_running = to;
    asan_start(co, to, true);
    tsan_switch(co, to);
    acio__ctx_switch(&co->ctx, ctx_of(to));
    acio__fatal("a finished coroutine was resumed");
}

acio_coro_t *acio__coro_new(acio_coro_fn fn, void *arg, size_t stack_size)
{
    if (ACIO_UNLIKELY(!tls_thread_ready))
        thread_init();
    acio_stack_t *s = acio__stack_get(stack_size);
    if (!s)
        return NULL;
    acio_coro_t *co = (acio_coro_t *)(((uintptr_t)s->hi - sizeof(acio_coro_t)) & ~(uintptr_t)63);
    memset(co, 0, sizeof *co);
    co->stack = s;
    co->guarded = s->guarded;
    co->fn = fn;
    co->arg = arg;
    co->parent = acio__coro_running;
    co->back = co->parent;
    co->state = ACIO_CORO_CREATED;
#ifdef ACIO_TSAN
    co->tsan_fiber = __tsan_create_fiber(0);
#endif
    acio__ctx_make(&co->ctx, s->lo, co, coro_entry, co);
    return co;
}

void acio__coro_release(acio_coro_t *co)
{
#ifdef ACIO_TSAN
    __tsan_destroy_fiber(co->tsan_fiber);
#endif
    acio__stack_put(co->stack);
}

void *acio__coro_resume(acio_coro_t *co, void *value)
{
    co->back = acio__coro_running;
    co->return_to_back = true;
    co->started = true;
    return transfer(co, value);
}

void *acio__coro_yield(void *value)
{
    acio_coro_t *co = acio__coro_running;
    return transfer(co->back, value);
}

/* ---- public API ---- */

int acio_coro_new(acio_coro_t **out, acio_coro_fn fn, void *arg, size_t stack_size)
{
    if (!out || !fn || stack_size > ACIO_STACK_MAX)
        return -EINVAL;
    *out = acio__coro_new(fn, arg, stack_size);
    return *out ? 0 : -ENOMEM;
}

int acio_coro_resume(acio_coro_t *co, void *send, void **out)
{
    if (out)
        *out = NULL;
    if (!co)
        return -EINVAL;
    if (co->state == ACIO_CORO_RUNNING)
        return ACIO_ERUNNING;
    if (co->state == ACIO_CORO_DEAD)
        return ACIO_ESTOPITERATION;
    if (co->state == ACIO_CORO_CREATED && send)
        return -EINVAL; /* "can't send non-None value to a just-started generator" */
    void *v = acio__coro_resume(co, send);
    if (out)
        *out = v;
    return co->state == ACIO_CORO_DEAD ? ACIO_ESTOPITERATION : 0;
}

void *acio_coro_yield(void *value)
{
    acio_coro_t *co = acio__coro_running;
    if (!co)
        return NULL;
    void *sent = acio__coro_yield(value);
    return co->closing ? NULL : sent;
}

bool acio_coro_closing(void)
{
    acio_coro_t *co = acio__coro_running;
    return co && co->closing;
}

int acio_coro_close(acio_coro_t *co)
{
    if (!co)
        return -EINVAL;
    if (co->state == ACIO_CORO_RUNNING)
        return ACIO_ERUNNING;
    if (co->state != ACIO_CORO_SUSPENDED) {
        co->state = ACIO_CORO_DEAD;
        return 0;
    }
    co->closing = true;
    acio__coro_resume(co, NULL);
    if (co->state != ACIO_CORO_DEAD)
        return ACIO_EGENERATOREXIT;
    return 0;
}

void *acio_coro_switch(acio_coro_t *co, void *value, int *err)
{
    int rc = 0;
    if (!co)
        rc = -EINVAL;
    else if (co->state == ACIO_CORO_DEAD)
        rc = ACIO_ESTOPITERATION;
    else if (co == acio__coro_running)
        rc = ACIO_ERUNNING;
    if (err)
        *err = rc;
    if (rc)
        return NULL;
    if (co->state == ACIO_CORO_CREATED)
        co->return_to_back = false;
    co->started = true;
    return transfer(co, value);
}

acio_coro_state_t acio_coro_state(const acio_coro_t *co)
{
    return co ? (acio_coro_state_t)co->state : ACIO_CORO_DEAD;
}

acio_coro_t *acio_coro_current(void)
{
    return acio__coro_running;
}

int acio_coro_free(acio_coro_t *co)
{
    if (!co)
        return 0;
    if (co->state == ACIO_CORO_RUNNING)
        return ACIO_ERUNNING;
#ifdef ACIO_ASAN
    /* Its frames will never unwind: clear their poisoned redzones before reuse. */
    __asan_unpoison_memory_region(co->stack->lo, co->stack->size);
#endif
    acio__coro_release(co);
    return 0;
}
