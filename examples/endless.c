/* Seed 002, a generator paused by break and resumed later:
 *
 *     def endless():
 *         """Yields 9, 8, 7, 6, 9, 8, 7, 6, ... forever"""
 *         yield from cycle((9, 8, 7, 6))
 *
 *     e = endless()
 *     total = 0
 *     for i in e:
 *         if total < 30:
 *             print(i, end=" ")
 *             total += i
 *         else:
 *             print()
 *             # Pause execution. We can resume later.
 *             break
 *
 *     # Resume
 *     next(e), next(e), next(e)
 *
 * The seed's article shows output from a different threshold; this prints what the
 * program above prints under Python 3.11: "9 8 7 6 " and then (8, 7, 6), because the
 * 9 that ended the for loop was already consumed. The endless generator is never
 * exhausted: acio_coro_free() discards it while it is suspended. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

static void *endless(void *arg)
{
    (void)arg;
    static const int cycle[4] = {9, 8, 7, 6};
    for (unsigned i = 0;; i = (i + 1) % 4)
        acio_coro_yield((void *)(intptr_t)cycle[i]);
    return NULL;
}

/* next(e): 0 and the yielded value, or the code that Python would raise
 * (ACIO_ESTOPITERATION once e has returned; never, for this generator). */
static int next(acio_coro_t *e, long *value)
{
    void *v = NULL;
    int rc = acio_coro_resume(e, NULL, &v);
    *value = (long)(intptr_t)v;
    return rc;
}

int main(void)
{
    acio_coro_t *e;
    int rc = acio_coro_new(&e, endless, NULL, 0);
    if (rc < 0) {
        fprintf(stderr, "endless: %s\n", acio_strerror(rc));
        return 1;
    }
    long total = 0, i;
    while ((rc = next(e, &i)) == 0) {
        if (total < 30) {
            printf("%ld ", i);
            total += i;
        } else {
            printf("\n");
            break; /* pause execution: we can resume later */
        }
    }
    long a = 0, b = 0, c = 0;
    if (rc == 0 && (rc = next(e, &a)) == 0 && (rc = next(e, &b)) == 0 && (rc = next(e, &c)) == 0)
        printf("(%ld, %ld, %ld)\n", a, b, c);
    acio_coro_free(e);
    if (rc < 0) {
        fprintf(stderr, "endless: %s\n", acio_strerror(rc));
        return 1;
    }
    return 0;
}
