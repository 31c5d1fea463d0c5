/* Seed 002, a generator that receives values with send():
 *
 *     def consumer():
 *         r = ''
 *         while True:
 *             n = yield r
 *             if not n:
 *                 return
 *             print('[CONSUMER] Consuming %s...' % n)
 *             r = '200 OK'
 *
 *     c = consumer()   # make a generator
 *     c.send(None)     # start it: returns ''
 *     c.send(12)       # prints the consuming line, returns '200 OK'
 *
 * The interactive session's echoed results are printed here as Python's repr() shows
 * them, and the generator is closed at the end: acio_coro_close() makes the pending
 * yield return NULL, which consumer takes as "no more" and returns. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

static void *consumer(void *arg)
{
    (void)arg;
    const char *r = "";
    for (;;) {
        intptr_t n = (intptr_t)acio_coro_yield((void *)r);
        if (!n)
            return NULL;
        printf("[CONSUMER] Consuming %ld...\n", (long)n);
        r = "200 OK";
    }
}

int main(void)
{
    acio_coro_t *c;
    int rc = acio_coro_new(&c, consumer, NULL, 0);
    if (rc < 0) {
        fprintf(stderr, "consumer: %s\n", acio_strerror(rc));
        return 1;
    }
    void *r;
    if ((rc = acio_coro_resume(c, NULL, &r)) == 0) {
        printf("'%s'\n", (const char *)r);
        if ((rc = acio_coro_resume(c, (void *)(intptr_t)12, &r)) == 0)
            printf("'%s'\n", (const char *)r);
    }
    if (rc == 0)
        rc = acio_coro_close(c);
    if (rc < 0)
        fprintf(stderr, "consumer: %s\n", acio_strerror(rc));
    acio_coro_free(c);
    return rc < 0;
}
