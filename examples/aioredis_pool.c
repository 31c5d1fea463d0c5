/* Seed 001 §5.1, example 2: the same work against two servers at once, each through a
 * connection pool; while one waits for its server the other runs.
 *
 *     async def execute(address, password):
 *         print("开始执行", address)                      # "start", address
 *         redis = await aioredis.create_redis_pool(address, password=password)
 *         await redis.hmset_dict('car', key1=1, key2=2, key3=3)
 *         result = await redis.hgetall('car', encoding='utf-8')
 *         print(result)
 *         redis.close()
 *         await redis.wait_closed()
 *         print("结束", address)                          # "done", address
 *
 *     task_list = [execute('redis://47.93.4.197:6379', "root!2345"),
 *                  execute('redis://47.93.4.198:6379', "root!2345")]
 *     asyncio.run(asyncio.wait(task_list))
 *
 * The two servers' URLs come from ACIO_REDIS_URL1 and ACIO_REDIS_URL2 (the test starts
 * two local redis-servers with a password). Both tasks start before either finishes,
 * so the output is: start 1, start 2, then each one's result and end, in whichever order
 * the servers answer (the test compares those lines as a set). */
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

typedef struct {
    int n;
    const char *url;
} server_t;

static void *execute(void *arg)
{
    server_t *s = arg;
    printf("开始执行 server %d\n", s->n);
    acio_redis_opts_t opts;
    char *store;
    int rc = acio_redis_opts_from_url(&opts, s->url, &store);
    if (rc < 0)
        return acio_raise(rc, "bad URL %s", s->url);
    acio_redis_pool_t *pool;
    rc = acio_redis_pool_new(&pool, &opts, NULL);
    free(store);
    if (rc < 0)
        return acio_raise(rc, "pool for server %d: %s", s->n, acio_redis_connect_error());

    const char *fields[] = {"key1", "1", "key2", "2", "key3", "3"};
    acio_redis_t *redis;
    acio_redis_reply_t *result = NULL;
    rc = acio_redis_pool_acquire(pool, &redis);
    if (rc == 0) {
        rc = acio_redis_hset(redis, "car", fields, 3, NULL);
        if (rc == 0)
            rc = acio_redis_hgetall(redis, "car", &result);
        acio_redis_pool_release(pool, redis);
    }
    acio_redis_pool_close(pool);
    if (rc < 0)
        return acio_raise(rc, "server %d: %s", s->n, acio_strerror(rc));
    printf("{");
    for (size_t i = 0; i + 1 < result->elements; i += 2)
        printf("%s'%s': '%s'", i ? ", " : "", result->element[i]->str, result->element[i + 1]->str);
    printf("}\n");
    acio_redis_reply_free(result);
    printf("结束 server %d\n", s->n);
    return NULL;
}

static void *run_both(void *arg)
{
    server_t *servers = arg;
    acio_task_t *tasks[2];
    for (int i = 0; i < 2; i++) {
        int rc = acio_create_task(&tasks[i], execute, &servers[i], NULL);
        if (rc < 0)
            return acio_raise(rc, "create_task");
    }
    /* asyncio.wait(task_list): wait for both, whatever happens to either */
    acio_future_t *futs[2] = {tasks[0], tasks[1]};
    int rc = acio_wait(futs, 2, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, NULL, NULL, NULL, NULL);
    for (int i = 0; i < 2; i++) {
        if (rc == 0 && acio_future_error(tasks[i]))
            fprintf(stderr, "server %d: %s\n", i + 1, acio_future_error_message(tasks[i]));
        acio_future_unref(tasks[i]);
    }
    return NULL;
}

int main(void)
{
    const char *u1 = getenv("ACIO_REDIS_URL1"), *u2 = getenv("ACIO_REDIS_URL2");
    server_t servers[2] = {{1, u1 ? u1 : "redis://127.0.0.1:6379"},
                           {2, u2 ? u2 : "redis://127.0.0.1:6380"}};
    return acio_run(run_both, servers, NULL) < 0;
}
