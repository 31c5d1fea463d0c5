/* Seed 002, asyncq.py: producers put random items on an asyncio.Queue, consumers take
 * them off, main waits until every item is processed (q.join()) and cancels the
 * consumers.
 *
 *     async def produce(name: int, q: asyncio.Queue) -> None:
 *         n = random.randint(0, 10)
 *         for _ in it.repeat(None, n):
 *             await randsleep(caller=f"Producer {name}")
 *             i = await makeitem()
 *             t = time.perf_counter()
 *             await q.put((i, t))
 *             print(f"Producer {name} add <{i}> to queue.")
 *
 *     async def consume(name: int, q: asyncio.Queue) -> None:
 *         while True:
 *             await randsleep(caller=f"Consumer {name}")
 *             i, t = await q.get()
 *             now = time.perf_counter()
 *             print(f"Consumer {name} got element <{i}> in {now - t:0.5f} seconds")
 *             q.task_done()
 *
 *     async def main(np: int, nc: int):
 *         q = asyncio.Queue()
 *         producers = [asyncio.create_task(produce(n, q)) for n in range(np)]
 *         consumers = [asyncio.create_task(consume(n, q)) for n in range(nc)]
 *         await asyncio.gather(*producers)
 *         await q.join()
 *         for c in consumers:
 *             c.cancel()
 *
 * Made deterministic, identically in tests/diff_sync/examples/asyncq.py (whose output
 * is examples/expected/asyncq.out): random numbers come from a fixed LCG seeded with
 * 666 (the seed's random.seed(666)); a "second" of randsleep is one loop iteration, so
 * the run is instant and its order of events does not depend on the machine; time is a
 * clock task counting loop iterations. np=2, nc=5 as in the seed's sample run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

static uint32_t rng_state = 666;
static long now; /* loop iterations since main started, counted by clock() */

static uint32_t rand31(void)
{
    rng_state = (rng_state * 1103515245u + 12345u) & 0x7fffffffu;
    return rng_state;
}

static int randint(int lo, int hi)
{
    return lo + (int)(rand31() % (uint32_t)(hi - lo + 1));
}

static void *clock_task(void *arg)
{
    (void)arg;
    while (acio_sleep(0) == 0)
        now++;
    return NULL;
}

/* One queue item: the seed's (i, t) tuple. The producer allocates it, the consumer that
 * gets it frees it. */
typedef struct {
    char hex[11];
    long t;
} item_t;

/* makeitem(): os.urandom(5).hex(), from the LCG. */
static void makeitem(char hex[11])
{
    for (int k = 0; k < 5; k++)
        snprintf(hex + 2 * k, 3, "%02x", (unsigned)((rand31() >> 16) & 0xff));
}

static int randsleep(const char *caller, int name)
{
    int i = randint(0, 10);
    if (caller)
        printf("%s %d sleep for %d ticks.\n", caller, name, i);
    for (int k = 0; k < i; k++) {
        int rc = acio_sleep(0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

typedef struct {
    int name;
    acio_queue_t *q;
} worker_t;

static void *produce(void *arg)
{
    worker_t *w = arg;
    int n = randint(0, 10);
    for (int k = 0; k < n; k++) {
        item_t *it;
        int rc = randsleep("Producer", w->name);
        if (rc < 0)
            return acio_raise(rc, "producer %d", w->name);
        if ((it = malloc(sizeof *it)) == NULL)
            return acio_raise(-ENOMEM, "producer %d", w->name);
        makeitem(it->hex);
        it->t = now;
        if ((rc = acio_queue_put(w->q, it)) < 0) {
            free(it);
            return acio_raise(rc, "producer %d", w->name);
        }
        printf("Producer %d add <%s> to queue.\n", w->name, it->hex);
    }
    return NULL;
}

static void *consume(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        void *v;
        item_t *it;
        /* Cancellation (from main) ends the loop: return and let the task end
         * cancelled, as CancelledError would end the seed's `while True`. */
        if (randsleep("Consumer", w->name) < 0 || acio_queue_get(w->q, &v) < 0)
            return NULL;
        it = v;
        printf("Consumer %d got element <%s> in %ld ticks.\n", w->name, it->hex, now - it->t);
        free(it);
        acio_queue_task_done(w->q);
    }
}

enum { NP = 2, NC = 5 };

static void *main_task(void *arg)
{
    (void)arg;
    acio_task_t *clock, *producers[NP], *consumers[NC];
    worker_t pw[NP], cw[NC];
    acio_queue_t *q;
    int rc;

    if ((rc = acio_create_task(&clock, clock_task, NULL, "clock")) < 0)
        return acio_raise(rc, "clock");
    if ((rc = acio_queue_new(&q, 0)) < 0)
        return acio_raise(rc, "queue");
    int np = 0, nc = 0;
    for (; np < NP; np++) {
        pw[np] = (worker_t){np, q};
        if ((rc = acio_create_task(&producers[np], produce, &pw[np], NULL)) < 0)
            break;
    }
    for (; rc == 0 && nc < NC; nc++) {
        cw[nc] = (worker_t){nc, q};
        if ((rc = acio_create_task(&consumers[nc], consume, &cw[nc], NULL)) < 0)
            break;
    }
    if (rc == 0)
        rc = acio_gather_await(producers, NP, 0, NULL, NULL);
    if (rc == 0)
        rc = acio_queue_join(q);
    for (int n = 0; n < np; n++)
        acio_task_cancel(producers[n], NULL); /* no-op unless something failed */
    for (int n = 0; n < nc; n++)
        acio_task_cancel(consumers[n], NULL);
    acio_task_cancel(clock, NULL);
    if (rc == 0)
        printf("Program completed in %ld ticks.\n", now);
    /* Let the cancelled tasks finish before the queue goes away; each should end
     * cancelled (or done), any other outcome is an error of its own. */
    for (int n = 0; n < np + nc; n++) {
        acio_task_t *t = n < np ? producers[n] : consumers[n - np];
        int trc = acio_await(t, NULL);
        if (trc < 0 && trc != -ECANCELED && rc == 0)
            rc = trc;
        acio_future_unref(t);
    }
    int crc = acio_await(clock, NULL);
    if (crc < 0 && crc != -ECANCELED && rc == 0)
        rc = crc;
    acio_future_unref(clock);
    acio_queue_free(q);
    return rc < 0 ? acio_raise(rc, "asyncq") : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "asyncq: %s\n", acio_strerror(rc));
    return rc < 0;
}
