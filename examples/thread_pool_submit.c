/* Seed 001 §3.5 "concurrent.futures.Future对象": a thread pool used without asyncio;
 * submit() returns a concurrent future at once, the work runs on the pool's threads:
 *
 *     def func(value):
 *         time.sleep(1)
 *         print(value)
 *         return 123
 *
 *     # 创建线程池 (create a thread pool)
 *     pool = ThreadPoolExecutor(max_workers=5)
 *
 *     for i in range(10):
 *         fut = pool.submit(func, i)
 *         print(fut)
 *
 * Five jobs run at a time: the values 0-4 are printed after about 1 s, 5-9 after 2 s, in
 * whatever order the threads finish (so this example has no expected output file).
 * Python prints each future's repr, <Future at 0x... state=running> for the five a thread
 * has taken, state=pending for the others; acio's concurrent futures do not say whether
 * a job has started, so this prints pending for all ten. Python waits for the pool's
 * threads when the program ends; here acio_executor_free() does, like leaving a
 * `with pool:` block. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <acio.h>

static void *func(void *arg, acio_job_t *job)
{
    (void)job;
    nanosleep(&(struct timespec){1, 0}, NULL); /* time.sleep(1) */
    printf("%ld\n", (long)(intptr_t)arg);
    fflush(stdout);
    return (void *)(intptr_t)123;
}

int main(void)
{
    acio_executor_t *pool;
    const acio_executor_opts_t opts = {.max_workers = 5};
    int rc = acio_executor_new(&pool, &opts);
    if (rc < 0) {
        fprintf(stderr, "thread_pool_submit: %s\n", acio_strerror(rc));
        return 1;
    }
    acio_cfuture_t *futs[10];
    size_t n = 0;
    for (intptr_t i = 0; i < 10; i++) {
        rc = acio_executor_submit(pool, func, (void *)i, &futs[n]);
        if (rc < 0)
            break;
        printf("<Future state=%s>\n", acio_cfuture_done(futs[n]) ? "finished" : "pending");
        fflush(stdout);
        n++;
    }
    if (rc < 0)
        fprintf(stderr, "thread_pool_submit: submit: %s\n", acio_strerror(rc));
    acio_executor_free(pool); /* waits for the jobs, as Python does at exit */
    for (size_t i = 0; i < n; i++) {
        void *r = NULL;
        if (acio_cfuture_result(futs[i], 0, &r) != 0 || (intptr_t)r != 123)
            rc = -EIO;
        acio_cfuture_unref(futs[i]);
    }
    return rc < 0;
}
