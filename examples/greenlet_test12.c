/* greenlet's own introductory example (the one seed 001 §1.1 paraphrases):
 *
 *     def test1():
 *         print(12)
 *         gr2.switch()
 *         print(34)
 *
 *     def test2():
 *         print(56)
 *         gr1.switch()
 *         print(78)
 *
 *     gr1 = greenlet(test1)
 *     gr2 = greenlet(test2)
 *     gr1.switch()
 *
 * prints 12, 56, 34. When test1 returns, control goes to its parent (the main context),
 * so 78 is never printed: gr2 stays suspended until it is freed. */
#include <stdio.h>

#include <acio.h>

static acio_coro_t *gr1, *gr2;

static void *test1(void *arg)
{
    (void)arg;
    printf("12\n");
    acio_coro_switch(gr2, NULL, NULL);
    printf("34\n");
    return NULL;
}

static void *test2(void *arg)
{
    (void)arg;
    printf("56\n");
    acio_coro_switch(gr1, NULL, NULL);
    printf("78\n");
    return NULL;
}

int main(void)
{
    int rc;
    if ((rc = acio_coro_new(&gr1, test1, NULL, 0)) < 0 ||
        (rc = acio_coro_new(&gr2, test2, NULL, 0)) < 0) {
        fprintf(stderr, "greenlet_test12: %s\n", acio_strerror(rc));
        return 1;
    }
    acio_coro_switch(gr1, NULL, &rc);
    if (rc < 0)
        fprintf(stderr, "greenlet_test12: %s\n", acio_strerror(rc));
    /* gr1 is dead; gr2 is suspended inside test2 and is discarded without printing 78. */
    acio_coro_free(gr1);
    acio_coro_free(gr2);
    return rc < 0;
}
