/* Coroutines without a loop: generator send/yield/return/close, greenlet switch,
 * stacks pooled and reused, deep recursion within the stack, and overflow detection
 * (guarded and unguarded stacks both stop the process with a message). */
#include <criterion/criterion.h>
#include <fenv.h>
#include <signal.h>
#include <string.h>

#include "acio.h"
#include "support/rc.h"

static void *counter(void *arg)
{
    long n = (long)arg;
    for (long i = 0; i < n; i++) {
        void *sent = acio_coro_yield((void *)i);
        if (acio_coro_closing())
            return (void *)-1L;
        cr_assert_eq((long)sent, i * 10, "sent %ld, expected %ld", (long)sent, i * 10);
    }
    return (void *)1000L;
}

Test(coro, send_yield_return)
{
    acio_coro_t *co;
    cr_assert_eq(acio_coro_new(&co, counter, (void *)3L, 0), 0);
    cr_assert_eq(acio_coro_state(co), ACIO_CORO_CREATED);
    void *v;
    cr_assert_eq(acio_coro_resume(co, (void *)5, &v), -EINVAL, "first send must be NULL");
    cr_assert_eq(acio_coro_resume(co, NULL, &v), 0);
    cr_assert_eq((long)v, 0);
    cr_assert_eq(acio_coro_state(co), ACIO_CORO_SUSPENDED);
    cr_assert_eq(acio_coro_resume(co, (void *)0L, &v), 0);
    cr_assert_eq((long)v, 1);
    cr_assert_eq(acio_coro_resume(co, (void *)10L, &v), 0);
    cr_assert_eq((long)v, 2);
    cr_assert_eq(acio_coro_resume(co, (void *)20L, &v), ACIO_ESTOPITERATION);
    cr_assert_eq((long)v, 1000, "return value %ld", (long)v);
    cr_assert_eq(acio_coro_state(co), ACIO_CORO_DEAD);
    cr_assert_eq(acio_coro_resume(co, NULL, &v), ACIO_ESTOPITERATION);
    cr_assert_null(v);
    cr_assert_eq(acio_coro_free(co), 0);
}

Test(coro, close_runs_cleanup)
{
    acio_coro_t *co;
    cr_assert_eq(acio_coro_new(&co, counter, (void *)10L, 0), 0);
    void *v;
    cr_assert_eq(acio_coro_resume(co, NULL, &v), 0);
    cr_assert_eq(acio_coro_close(co), 0);
    cr_assert_eq(acio_coro_state(co), ACIO_CORO_DEAD);
    cr_assert_eq(acio_coro_close(co), 0, "closing twice is fine");
    acio_coro_free(co);
}

static void *stubborn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        acio_coro_yield(NULL);
    return NULL;
}

Test(coro, close_ignored_is_an_error)
{
    acio_coro_t *co;
    cr_assert_eq(acio_coro_new(&co, stubborn, NULL, 0), 0);
    OK(acio_coro_resume(co, NULL, NULL));
    cr_assert_eq(acio_coro_close(co), ACIO_EGENERATOREXIT);
    acio_coro_free(co);
}

static void *self_resume(void *arg)
{
    acio_coro_t **me = arg;
    return (void *)(long)acio_coro_resume(*me, NULL, NULL);
}

Test(coro, errors)
{
    cr_assert_eq(acio_coro_new(NULL, counter, NULL, 0), -EINVAL);
    acio_coro_t *co;
    cr_assert_eq(acio_coro_new(&co, NULL, NULL, 0), -EINVAL);
    cr_assert_eq(acio_coro_resume(NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_coro_free(NULL), 0);
    cr_assert_null(acio_coro_yield((void *)1), "yield outside a coroutine is a no-op");
    cr_assert_null(acio_coro_current());
    cr_assert_eq(acio_coro_new(&co, self_resume, &co, 0), 0);
    void *v;
    cr_assert_eq(acio_coro_resume(co, NULL, &v), ACIO_ESTOPITERATION);
    cr_assert_eq((long)v, ACIO_ERUNNING, "resuming itself: %ld", (long)v);
    acio_coro_free(co);
    cr_assert_eq(acio_coro_set_default_stack_size(1000), -EINVAL);
}

/* greenlet: test1 prints 12, switches to test2 (56), which switches back (34); test1
 * ends and control returns to main; test2's 78 never prints. */
static acio_coro_t *gr1, *gr2;
static char out[64];
static void *test1(void *arg)
{
    (void)arg;
    strcat(out, "12 ");
    acio_coro_switch(gr2, NULL, NULL);
    strcat(out, "34 ");
    return (void *)7L;
}
static void *test2(void *arg)
{
    (void)arg;
    strcat(out, "56 ");
    acio_coro_switch(gr1, NULL, NULL);
    strcat(out, "78 ");
    return NULL;
}

Test(coro, greenlet_switch)
{
    cr_assert_eq(acio_coro_new(&gr1, test1, NULL, 0), 0);
    cr_assert_eq(acio_coro_new(&gr2, test2, NULL, 0), 0);
    int err;
    void *r = acio_coro_switch(gr1, NULL, &err);
    cr_assert_eq(err, 0);
    cr_assert_eq((long)r, 7, "test1's return value reaches its parent: %ld", (long)r);
    cr_assert_str_eq(out, "12 56 34 ");
    cr_assert_eq(acio_coro_state(gr1), ACIO_CORO_DEAD);
    cr_assert_eq(acio_coro_state(gr2), ACIO_CORO_SUSPENDED);
    acio_coro_switch(gr1, NULL, &err);
    cr_assert_eq(err, ACIO_ESTOPITERATION);
    acio_coro_free(gr1);
    acio_coro_free(gr2);
}

static void *nested_inner(void *arg)
{
    long base = (long)arg;
    acio_coro_yield((void *)(base + 1));
    return (void *)(base + 2);
}

static void *nested_outer(void *arg)
{
    (void)arg;
    acio_coro_t *inner;
    cr_assert_eq(acio_coro_new(&inner, nested_inner, (void *)100L, 0), 0);
    void *v;
    cr_assert_eq(acio_coro_resume(inner, NULL, &v), 0);
    acio_coro_yield(v); /* 101 to main */
    cr_assert_eq(acio_coro_resume(inner, NULL, &v), ACIO_ESTOPITERATION);
    acio_coro_free(inner);
    return v; /* 102 */
}

Test(coro, nested_generators)
{
    acio_coro_t *co;
    void *v;
    cr_assert_eq(acio_coro_new(&co, nested_outer, NULL, 0), 0);
    cr_assert_eq(acio_coro_resume(co, NULL, &v), 0);
    cr_assert_eq((long)v, 101);
    cr_assert_eq(acio_coro_resume(co, NULL, &v), ACIO_ESTOPITERATION);
    cr_assert_eq((long)v, 102);
    acio_coro_free(co);
}

static void *fp_work(void *arg)
{
    double x = *(double *)arg;
    for (int i = 0; i < 5; i++) {
        x = x * 1.5 + 0.25;
        acio_coro_yield(NULL);
    }
    *(double *)arg = x;
    return NULL;
}

Test(coro, registers_survive_switches)
{
    double a = 1.0, b = 2.0, local = 3.25;
    acio_coro_t *c1, *c2;
    OK(acio_coro_new(&c1, fp_work, &a, 0));
    OK(acio_coro_new(&c2, fp_work, &b, 0));
    for (;;) {
        int r1 = acio_coro_resume(c1, NULL, NULL);
        int r2 = acio_coro_resume(c2, NULL, NULL);
        if (r1 != 0 && r2 != 0)
            break;
        local += 1.0;
    }
    double ea = 1.0, eb = 2.0;
    for (int i = 0; i < 5; i++) {
        ea = ea * 1.5 + 0.25;
        eb = eb * 1.5 + 0.25;
    }
    cr_assert_float_eq(a, ea, 1e-12);
    cr_assert_float_eq(b, eb, 1e-12);
    cr_assert_float_eq(local, 3.25 + 5, 1e-12);
    acio_coro_free(c1);
    acio_coro_free(c2);
}

Test(coro, stacks_are_pooled)
{
    acio_stack_stats_t before, after;
    acio_coro_t *co;
    OK(acio_coro_new(&co, counter, (void *)1L, 0));
    acio_coro_free(co);
    acio_stack_stats(&before);
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(acio_coro_new(&co, counter, (void *)1L, 0), 0);
        OK(acio_coro_resume(co, NULL, NULL));
        acio_coro_free(co);
    }
    acio_stack_stats(&after);
    cr_assert_eq(after.stacks_total, before.stacks_total, "no new stacks: %zu -> %zu",
                 before.stacks_total, after.stacks_total);
}

static long depth_reached;
static long recurse(long n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    depth_reached = n;
    if (n == 0)
        return pad[0];
    return recurse(n - 1) + pad[0];
}

static void *deep(void *arg)
{
    return (void *)recurse((long)arg);
}

Test(coro, deep_recursion_within_the_stack)
{
    acio_coro_t *co;
    /* About 60 KiB of frames in a 256 KiB stack. */
    cr_assert_eq(acio_coro_new(&co, deep, (void *)100L, 256 * 1024), 0);
    cr_assert_eq(acio_coro_resume(co, NULL, NULL), ACIO_ESTOPITERATION);
    acio_coro_free(co);
}

#ifndef ACIO_ASAN
Test(coro, overflow_on_guarded_stack_aborts, .signal = SIGABRT)
{
    acio_coro_t *co;
    cr_assert_eq(acio_coro_new(&co, deep, (void *)100000L, 32 * 1024), 0);
    OK(acio_coro_resume(co, NULL, NULL));
    cr_assert_fail("overflow was not detected (depth %ld)", depth_reached);
}

static void *shallow_then_yield(void *arg)
{
    recurse((long)arg);
    acio_coro_yield(NULL);
    return NULL;
}

Test(coro, overflow_on_unguarded_stack_aborts_at_switch, .signal = SIGABRT)
{
    acio_stack_set_guard_budget(0);
    acio_coro_t *a, *b;
    /* Two stacks from the same slab: a's overflow lands in its canary zone (readable,
     * since no guard page), and the check at its next switch catches it. */
    cr_assert_eq(acio_coro_new(&a, shallow_then_yield, (void *)90L, 32 * 1024 + 4096), 0);
    cr_assert_eq(acio_coro_new(&b, shallow_then_yield, (void *)1L, 32 * 1024 + 4096), 0);
    acio_stack_stats_t st;
    acio_stack_stats(&st);
    OK(acio_coro_resume(a, NULL, NULL));
    cr_assert_fail("overflow was not detected (guarded stacks: %zu)", st.stacks_guarded);
}
#endif

/* The floating-point control state (rounding mode: MXCSR and the x87 control word on
 * x86-64) belongs to each coroutine. */
static void *rounding_up(void *arg)
{
    (void)arg;
    fesetround(FE_UPWARD);
    acio_coro_yield(NULL);
    return (void *)(long)(fegetround() == FE_UPWARD);
}

static unsigned short x87_control_word(void)
{
    unsigned short cw = 0;
#if defined(__x86_64__)
    __asm__ volatile("fnstcw %0" : "=m"(cw));
#endif
    return cw;
}

/* The switch exchanges the x87 word only when MXCSR differs, recording the one in force
 * otherwise: a coroutine that went back to the default rounding mode must not get a
 * stale x87 word later, when it is resumed from a context with another mode. */
static void *rounding_there_and_back(void *arg)
{
    (void)arg;
    unsigned short base = x87_control_word();
    fesetround(FE_UPWARD);
    acio_coro_yield(NULL); /* different MXCSR: full exchange */
    fesetround(FE_TONEAREST);
    acio_coro_yield(NULL); /* same MXCSR as the resumer: nothing exchanged */
    /* Resumed from a context rounding downward: full exchange again. */
    bool ok = fegetround() == FE_TONEAREST && x87_control_word() == base;
    return (void *)(long)ok;
}

Test(coro, x87_control_word_follows_the_coroutine)
{
    fesetround(FE_TONEAREST);
    acio_coro_t *co;
    void *ok;
    OK(acio_coro_new(&co, rounding_there_and_back, NULL, 0));
    OK(acio_coro_resume(co, NULL, NULL));
    cr_assert_eq(fegetround(), FE_TONEAREST);
    OK(acio_coro_resume(co, NULL, NULL));
    unsigned short nearest = x87_control_word();
    fesetround(FE_DOWNWARD);
    cr_assert_eq(acio_coro_resume(co, NULL, &ok), ACIO_ESTOPITERATION);
    cr_assert_eq(fegetround(), FE_DOWNWARD, "the resumer's rounding mode was not restored");
    cr_assert_neq(x87_control_word(), nearest);
    fesetround(FE_TONEAREST);
    cr_assert_eq((long)ok, 1, "the coroutine ran with a stale x87 control word");
    acio_coro_free(co);
}

Test(coro, rounding_mode_is_per_coroutine)
{
    fesetround(FE_TONEAREST);
    acio_coro_t *co;
    OK(acio_coro_new(&co, rounding_up, NULL, 0));
    OK(acio_coro_resume(co, NULL, NULL));
    cr_assert_eq(fegetround(), FE_TONEAREST, "the coroutine's rounding mode leaked out");
    void *ok;
    cr_assert_eq(acio_coro_resume(co, NULL, &ok), ACIO_ESTOPITERATION);
    cr_assert_eq((long)ok, 1, "the coroutine lost its rounding mode across the switch");
    cr_assert_eq(fegetround(), FE_TONEAREST);
    acio_coro_free(co);
}
