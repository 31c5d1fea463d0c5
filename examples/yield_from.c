/* Seed 001 §1.2, generators with yield and yield from:
 *
 *     def func1():
 *         yield 1
 *         yield from func2()
 *         yield 2
 *
 *     def func2():
 *         yield 3
 *         yield 4
 *
 *     f1 = func1()
 *     for item in f1:
 *         print(item)
 *
 * acio's coroutines are stackful: func2 can yield on func1's behalf from a plain
 * function call, which is exactly what `yield from` delegates. The for loop is a resume
 * loop that ends on ACIO_ESTOPITERATION (StopIteration). */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

static void func2(void)
{
    acio_coro_yield((void *)(intptr_t)3);
    acio_coro_yield((void *)(intptr_t)4);
}

static void *func1(void *arg)
{
    (void)arg;
    acio_coro_yield((void *)(intptr_t)1);
    func2(); /* yield from func2() */
    acio_coro_yield((void *)(intptr_t)2);
    return NULL;
}

int main(void)
{
    acio_coro_t *f1;
    int rc = acio_coro_new(&f1, func1, NULL, 0);
    if (rc < 0) {
        fprintf(stderr, "yield_from: %s\n", acio_strerror(rc));
        return 1;
    }
    void *item;
    while ((rc = acio_coro_resume(f1, NULL, &item)) == 0)
        printf("%ld\n", (long)(intptr_t)item);
    acio_coro_free(f1);
    if (rc != ACIO_ESTOPITERATION) {
        fprintf(stderr, "yield_from: %s\n", acio_strerror(rc));
        return 1;
    }
    return 0;
}
