/* Seed 001 §5.1, example 1: one Redis connection, a hash set, read back.
 *
 *     async def execute(address, password):
 *         print("开始执行", address)                      # "start", address
 *         redis = await aioredis.create_redis(address, password=password)
 *         await redis.hmset_dict('car', key1=1, key2=2, key3=3)
 *         result = await redis.hgetall('car', encoding='utf-8')
 *         print(result)
 *         redis.close()
 *         await redis.wait_closed()
 *         print("结束", address)                          # "done", address
 *
 *     asyncio.run(execute('redis://47.93.4.198:6379', "root!2345"))
 *
 * The server's URL comes from the environment (ACIO_REDIS_URL, default
 * redis://127.0.0.1:6379); the test runs it against a local redis-server. The seed
 * prints the address; this port prints "server 1" so the expected output does not
 * depend on the port the test picked. */
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

static void *execute(void *arg)
{
    const char *address = arg;
    printf("开始执行 server 1\n");
    acio_redis_t *redis;
    int rc = acio_redis_connect_url(&redis, address);
    if (rc < 0)
        return acio_raise(rc, "connecting to %s: %s", address, acio_redis_connect_error());

    const char *fields[] = {"key1", "1", "key2", "2", "key3", "3"};
    rc = acio_redis_hset(redis, "car", fields, 3, NULL);
    acio_redis_reply_t *result = NULL;
    if (rc == 0)
        rc = acio_redis_hgetall(redis, "car", &result);
    if (rc < 0) {
        acio_redis_close(redis);
        return acio_raise(rc, "%s", acio_redis_last_error(redis));
    }
    /* print(result): a dict, as aioredis returns it */
    printf("{");
    for (size_t i = 0; i + 1 < result->elements; i += 2)
        printf("%s'%s': '%s'", i ? ", " : "", result->element[i]->str, result->element[i + 1]->str);
    printf("}\n");
    acio_redis_reply_free(result);

    acio_redis_close(redis);
    printf("结束 server 1\n");
    return NULL;
}

int main(void)
{
    const char *url = getenv("ACIO_REDIS_URL");
    char *msg = NULL;
    int rc = acio_run_ex(execute, (void *)(url ? url : "redis://127.0.0.1:6379"), NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "aioredis_hash: %s\n", msg ? msg : acio_strerror(rc));
        free(msg);
        return 1;
    }
    return 0;
}
