/* Seed 001 §1.1, coroutines with greenlet's switch():
 *
 *     def func1():
 *         print(1)        # step 1: print 1
 *         gr2.switch()    # step 3: switch to func2
 *         print(2)        # step 6: print 2
 *         gr2.switch()    # step 7: switch to func2, resuming where it stopped
 *
 *     def func2():
 *         print(3)        # step 4: print 3
 *         gr1.switch()    # step 5: switch to func1, resuming where it stopped
 *         print(4)        # step 8: print 4
 *
 *     gr1 = greenlet(func1)
 *     gr2 = greenlet(func2)
 *     gr1.switch()        # step 1: run func1
 *
 * acio_coro_switch() is greenlet's switch. When func2 returns, control goes to gr2's
 * parent, the main context that created it, so main's gr1.switch() returns and func1
 * never finishes (freeing it discards its stack, as greenlet's GC would). */
#include <stdio.h>

#include <acio.h>

static acio_coro_t *gr1, *gr2;

static void *func1(void *arg)
{
    (void)arg;
    printf("1\n");
    acio_coro_switch(gr2, NULL, NULL);
    printf("2\n");
    acio_coro_switch(gr2, NULL, NULL);
    return NULL;
}

static void *func2(void *arg)
{
    (void)arg;
    printf("3\n");
    acio_coro_switch(gr1, NULL, NULL);
    printf("4\n");
    return NULL;
}

int main(void)
{
    int rc;
    if ((rc = acio_coro_new(&gr1, func1, NULL, 0)) < 0 ||
        (rc = acio_coro_new(&gr2, func2, NULL, 0)) < 0) {
        fprintf(stderr, "greenlet_switch: %s\n", acio_strerror(rc));
        return 1;
    }
    acio_coro_switch(gr1, NULL, &rc);
    if (rc < 0)
        fprintf(stderr, "greenlet_switch: %s\n", acio_strerror(rc));
    acio_coro_free(gr1);
    acio_coro_free(gr2);
    return rc < 0;
}
