/* Seed 001 (and 004) "run_in_executor": a blocking function made awaitable, in the
 * default thread pool, a custom thread pool and a custom process pool:
 *
 *     def func1():
 *         time.sleep(2)  # 某个耗时操作 (a slow operation)
 *         return "SB"
 *
 *     async def main():
 *         loop = asyncio.get_running_loop()
 *         fut = loop.run_in_executor(None, func1)
 *         result = await fut
 *         print('default thread pool', result)
 *         with concurrent.futures.ThreadPoolExecutor() as pool:
 *             result = await loop.run_in_executor(pool, func1)
 *             print('custom thread pool', result)
 *         with concurrent.futures.ProcessPoolExecutor() as pool:
 *             result = await loop.run_in_executor(pool, func1)
 *             print('custom process pool', result)
 *
 *     asyncio.run( main() )
 *
 * The seed leaves variants 2 and 3 commented out; seed 004 runs all three, as here. The
 * sleep is 0.2 s instead of 2 s to keep the test short. `with pool:` becomes
 * acio_executor_free(), which, like leaving the with block, waits for the pool's jobs.
 * A process pool cannot read the caller's memory, so its function takes and returns
 * bytes (Python pickles them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <acio.h>

static void slow_operation(void)
{
    struct timespec d = {0, 200 * 1000 * 1000};
    nanosleep(&d, NULL); /* time.sleep: fine here, we are on a pool thread */
}

/* For thread pools. */
static void *func1(void *arg, acio_job_t *job)
{
    (void)arg;
    (void)job;
    slow_operation();
    return "SB";
}

/* For the process pool: the result travels back as bytes. */
static void *func1_bytes(const void *in, size_t in_len, size_t *out_len, acio_job_t *job)
{
    (void)in;
    (void)in_len;
    (void)job;
    slow_operation();
    *out_len = 2;
    char *out = malloc(2);
    if (out)
        memcpy(out, "SB", 2);
    return out;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    void *result;

    /* 1. Run in the default loop's executor (a thread pool). */
    acio_future_t *fut;
    int rc = acio_loop_run_in_executor(loop, NULL, func1, NULL, &fut);
    if (rc < 0)
        return acio_raise(rc, "run_in_executor");
    rc = acio_await(fut, &result);
    acio_future_unref(fut);
    if (rc < 0)
        return acio_raise(rc, "func1 failed");
    printf("default thread pool %s\n", (char *)result);

    /* 2. Run in a custom thread pool. */
    acio_executor_t *pool;
    if ((rc = acio_executor_new(&pool, NULL)) < 0)
        return acio_raise(rc, "ThreadPoolExecutor()");
    rc = acio_loop_run_in_executor(loop, pool, func1, NULL, &fut);
    if (rc == 0) {
        rc = acio_await(fut, &result);
        acio_future_unref(fut);
    }
    acio_executor_free(pool);
    if (rc < 0)
        return acio_raise(rc, "custom thread pool");
    printf("custom thread pool %s\n", (char *)result);

    /* 3. Run in a custom process pool. */
    if ((rc = acio_process_pool_new(&pool, NULL)) < 0)
        return acio_raise(rc, "ProcessPoolExecutor()");
    rc = acio_loop_run_in_process_pool(loop, pool, func1_bytes, NULL, 0, &fut);
    if (rc == 0) {
        rc = acio_await(fut, &result);
        acio_future_unref(fut);
    }
    acio_executor_free(pool);
    if (rc < 0)
        return acio_raise(rc, "custom process pool");
    acio_bytes_t *bytes = result;
    printf("custom process pool %s\n", (char *)bytes->data);
    free(bytes);
    return NULL;
}

int main(void)
{
    char *msg = NULL;
    int rc = acio_run_ex(main_task, NULL, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "run_in_executor: %s: %s\n", msg ? msg : "", acio_strerror(rc));
        free(msg);
        return 1;
    }
    return 0;
}
