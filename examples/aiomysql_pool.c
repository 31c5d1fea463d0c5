/* Seed 001 §5.2, example 2: the same query against two servers at once; while one task
 * waits for its server the other runs. The seed connects directly; this port takes each
 * connection from a pool (aiomysql.create_pool, then pool.acquire() / release()), the
 * form a program that queries more than once uses.
 *
 *     async def execute(host, password):
 *         print("开始", host)                                  # "start", host
 *         conn = await aiomysql.connect(host=host, port=3306, user='root',
 *                                       password=password, db='mysql')
 *         cur = await conn.cursor()
 *         await cur.execute("SELECT Host,User FROM user")
 *         result = await cur.fetchall()
 *         print(result)
 *         await cur.close()
 *         conn.close()
 *         print("结束", host)                                  # "done", host
 *
 *     task_list = [execute('47.93.41.197', "root!2345"),
 *                  execute('47.93.40.197', "root!2345")]
 *     asyncio.run(asyncio.wait(task_list))
 *
 * The two servers' URLs come from ACIO_MYSQL_URL1 and ACIO_MYSQL_URL2 (the test starts
 * two local mariadbd with the seed's password). The port prints "server N" instead of
 * the address so the output does not depend on the ports. Both tasks start before either
 * finishes, so the output is: start 1, start 2, then each one's result and end, in
 * whichever order the servers answer (the test compares those lines as a set). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

typedef struct {
    int n;
    const char *url;
} server_t;

static void print_rows(const acio_mysql_result_t *r)
{
    size_t n = acio_mysql_result_nrows(r);
    printf("(");
    for (size_t i = 0; i < n; i++)
        printf("%s('%s', '%s')", i ? ", " : "", acio_mysql_result_text(r, i, 0, NULL),
               acio_mysql_result_text(r, i, 1, NULL));
    printf(n == 1 ? ",)\n" : ")\n");
}

static void *execute(void *arg)
{
    server_t *s = arg;
    printf("开始 server %d\n", s->n);
    acio_mysql_pool_opts_t popts = {.minsize = 1, .maxsize = 2};
    acio_mysql_pool_t *pool;
    int rc = acio_mysql_pool_new_url(&pool, s->url, NULL, &popts);
    if (rc < 0)
        return acio_raise(rc, "pool for server %d: %s", s->n, acio_mysql_connect_error());
    acio_mysql_t *conn;
    acio_mysql_result_t *result = NULL;
    rc = acio_mysql_pool_acquire(pool, &conn);
    if (rc == 0) {
        rc = acio_mysql_query(conn, "SELECT Host,User FROM user", &result);
        acio_mysql_pool_release(pool, conn);
    }
    acio_mysql_pool_close(pool);
    if (rc < 0)
        return acio_raise(rc, "server %d: %s", s->n, acio_strerror(rc));
    print_rows(result);
    acio_mysql_result_free(result);
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
    int failed = 0;
    for (int i = 0; i < 2; i++) {
        if (rc == 0 && acio_future_error(tasks[i])) {
            fprintf(stderr, "server %d: %s\n", i + 1, acio_future_error_message(tasks[i]));
            failed = 1;
        }
        acio_future_unref(tasks[i]);
    }
    return failed ? acio_raise(-EIO, "a server failed") : NULL;
}

int main(void)
{
    const char *u1 = getenv("ACIO_MYSQL_URL1"), *u2 = getenv("ACIO_MYSQL_URL2");
    server_t servers[2] = {{1, u1 ? u1 : "mysql://root:root!2345@127.0.0.1:3306/mysql"},
                           {2, u2 ? u2 : "mysql://root:root!2345@127.0.0.1:3307/mysql"}};
    return acio_run(run_both, servers, NULL) < 0;
}
