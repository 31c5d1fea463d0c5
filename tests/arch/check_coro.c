/* A check of the coroutine layer alone (generators, greenlet switch, callee-saved FP
 * registers across switches, deep recursion), built for the context switches the host
 * does not use: the ucontext fallback, and AArch64 under qemu-user. */
#include <acio.h>
#include <stdio.h>
#include <string.h>
/* A call that must succeed; the check stops at the first that does not. */
#define MUST(call)                                                                                 \
    do {                                                                                           \
        int must_rc_ = (call);                                                                     \
        if (must_rc_ < 0) {                                                                        \
            printf("%s failed: %s\n", #call, acio_strerror(must_rc_));                             \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)
static void *counter(void *arg)
{
    long n = (long)arg;
    for (long i = 0; i < n; i++) {
        void *s = acio_coro_yield((void *)i);
        if ((long)s != i * 10) {
            printf("bad send\n");
            return (void *)-1;
        }
    }
    return (void *)1000L;
}
static acio_coro_t *g1, *g2;
static char out[64];
static void *t1(void *a)
{
    (void)a;
    strcat(out, "12 ");
    acio_coro_switch(g2, NULL, NULL);
    strcat(out, "34 ");
    return (void *)7L;
}
static void *t2(void *a)
{
    (void)a;
    strcat(out, "56 ");
    acio_coro_switch(g1, NULL, NULL);
    strcat(out, "78 ");
    return NULL;
}
static void *fp(void *arg)
{
    double x = *(double *)arg;
    for (int i = 0; i < 5; i++) {
        x = x * 1.5 + 0.25;
        acio_coro_yield(NULL);
    }
    *(double *)arg = x;
    return NULL;
}
static long rec(long n)
{
    volatile char pad[256];
    pad[0] = (char)n;
    return n ? rec(n - 1) + pad[0] : 0;
}
static void *deep(void *a)
{
    return (void *)rec((long)a);
}
int main(void)
{
    int fails = 0;
    acio_coro_t *co;
    void *v;
    MUST(acio_coro_new(&co, counter, (void *)3L, 0));
    MUST(acio_coro_resume(co, NULL, &v));
    long got = (long)v;
    for (long i = 1; i <= 3; i++) {
        int rc = acio_coro_resume(co, (void *)((i - 1) * 10), &v);
        if (i < 3 && (rc != 0 || (long)v != i))
            fails++;
        if (i == 3 && (rc != ACIO_ESTOPITERATION || (long)v != 1000))
            fails++;
    }
    if (got != 0)
        fails++;
    acio_coro_free(co);
    MUST(acio_coro_new(&g1, t1, NULL, 0));
    MUST(acio_coro_new(&g2, t2, NULL, 0));
    int err;
    v = acio_coro_switch(g1, NULL, &err);
    if (strcmp(out, "12 56 34 ") || (long)v != 7)
        fails++;
    acio_coro_free(g1);
    acio_coro_free(g2);
    double a = 1, b = 2;
    register double keep = 3.25;
    acio_coro_t *c1, *c2;
    MUST(acio_coro_new(&c1, fp, &a, 0));
    MUST(acio_coro_new(&c2, fp, &b, 0));
    for (;;) {
        int r1 = acio_coro_resume(c1, NULL, NULL), r2 = acio_coro_resume(c2, NULL, NULL);
        if (r1 && r2)
            break;
        keep += 1.0;
    }
    double ea = 1, eb = 2;
    for (int i = 0; i < 5; i++) {
        ea = ea * 1.5 + 0.25;
        eb = eb * 1.5 + 0.25;
    }
    if (a != ea || b != eb || keep != 3.25 + 5)
        fails++;
    acio_coro_free(c1);
    acio_coro_free(c2);
    MUST(acio_coro_new(&co, deep, (void *)200L, 0));
    if (acio_coro_resume(co, NULL, &v) != ACIO_ESTOPITERATION)
        fails++;
    acio_coro_free(co);
    printf("aarch64 coro checks: %s (%s)\n", fails ? "FAILED" : "ok", out);
    return fails != 0;
}
