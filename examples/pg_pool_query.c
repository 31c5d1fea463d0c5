/* PostgreSQL with acio: what asyncpg users write first, ported.
 *
 *     async def main():
 *         conn = await asyncpg.connect(dsn)
 *         await conn.execute("CREATE TABLE users (id int PRIMARY KEY, name text, score float8)")
 *         await conn.executemany("INSERT INTO users VALUES ($1, $2, $3)", rows)
 *         row = await conn.fetchrow("SELECT name, score FROM users WHERE id = $1", 2)
 *         print(row["name"], row["score"])
 *         await conn.close()
 *
 *         pool = await asyncpg.create_pool(dsn, min_size=2, max_size=3)
 *         async def lookup(i):
 *             async with pool.acquire() as c:
 *                 return await c.fetchval("SELECT name FROM users WHERE id = $1", i)
 *         print(await asyncio.gather(*(lookup(i) for i in (1, 2, 3, 1, 2, 3))))
 *         await pool.close()
 *
 * The server comes from the environment (ACIO_PG_CONNINFO, default
 * "host=127.0.0.1 user=postgres dbname=postgres"); the test runs it against a local
 * PostgreSQL started by tests/run_with_pg.sh. */
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

#define NTASKS 6

static const char *conninfo(void)
{
    const char *ci = getenv("ACIO_PG_CONNINFO");
    return ci ? ci : "host=127.0.0.1 user=postgres dbname=postgres";
}

typedef struct {
    acio_pg_pool_t *pool;
    int id;
    char name[32];
} lookup_t;

static void *lookup(void *arg)
{
    lookup_t *l = arg;
    acio_pg_t *c;
    int rc = acio_pg_pool_acquire(l->pool, &c);
    if (rc < 0)
        return acio_raise(rc, "acquire");
    acio_pg_result_t *r = NULL;
    rc = acio_pg_query_args(c, "SELECT name FROM users WHERE id = $1", 1,
                            (acio_pg_arg_t[]){acio_pg_arg_int4(l->id)}, 1, &r);
    acio_pg_pool_release(l->pool, c);
    if (rc < 0)
        return acio_raise(rc, "lookup %d", l->id);
    snprintf(l->name, sizeof(l->name), "%s", acio_pg_result_text(r, 0, 0, NULL));
    acio_pg_result_free(r);
    return NULL;
}

static void *amain(void *arg)
{
    (void)arg;
    acio_pg_t *conn;
    int rc = acio_pg_connect(&conn, conninfo(), NULL);
    if (rc < 0)
        return acio_raise(rc, "connect: %s", acio_pg_connect_error());
    rc = acio_pg_execute(conn, "CREATE TABLE users (id int PRIMARY KEY, name text, score float8)");
    /* executemany: one pipeline, one round trip. */
    static const char *rows[3][3] = {
        {"1", "alice", "9.5"}, {"2", "bob", "7.25"}, {"3", "carol", "8"}};
    acio_pg_params_t p[3];
    acio_pg_batch_t *b = NULL;
    if (rc == 0)
        rc = acio_pg_batch_new(&b);
    for (int i = 0; rc == 0 && i < 3; i++) {
        p[i] = (acio_pg_params_t){.nparams = 3, .values = rows[i]};
        rc = acio_pg_batch_add(b, "INSERT INTO users VALUES ($1, $2, $3)", &p[i]);
    }
    if (rc == 0)
        rc = acio_pg_batch_run(conn, b);
    acio_pg_batch_free(b);
    acio_pg_result_t *r = NULL;
    if (rc == 0)
        rc = acio_pg_query_args(conn, "SELECT name, score FROM users WHERE id = $1", 1,
                                (acio_pg_arg_t[]){acio_pg_arg_int4(2)}, 1, &r);
    double score = 0;
    if (rc == 0)
        rc = acio_pg_result_float(r, 0, acio_pg_result_column_index(r, "score"), &score);
    if (rc < 0) {
        acio_pg_result_free(r);
        acio_pg_close(conn);
        return acio_raise(rc, "%s", acio_pg_error_message(conn));
    }
    printf("%s %g\n", acio_pg_result_text(r, 0, acio_pg_result_column_index(r, "name"), NULL),
           score);
    acio_pg_result_free(r);
    acio_pg_close(conn);

    acio_pg_pool_t *pool;
    acio_pg_pool_opts_t po = {.min_size = 2, .max_size = 3};
    rc = acio_pg_pool_new(&pool, conninfo(), NULL, &po);
    if (rc < 0)
        return acio_raise(rc, "pool: %s", acio_pg_connect_error());
    static lookup_t jobs[NTASKS];
    acio_task_t *t[NTASKS];
    for (int i = 0; i < NTASKS; i++) {
        jobs[i] = (lookup_t){.pool = pool, .id = 1 + i % 3};
        if (acio_create_task(&t[i], lookup, &jobs[i], NULL) < 0)
            return acio_raise(-ENOMEM, "create_task");
    }
    printf("[");
    for (int i = 0; i < NTASKS; i++) {
        rc = acio_await(t[i], NULL);
        acio_future_unref(t[i]);
        printf("%s'%s'", i ? ", " : "", rc == 0 ? jobs[i].name : acio_err_name(rc));
    }
    printf("]\n");
    printf("pool size %zu, idle %zu\n", acio_pg_pool_size(pool), acio_pg_pool_freesize(pool));
    acio_pg_pool_close(pool);
    return NULL;
}

int main(void)
{
    char *msg = NULL;
    int rc = acio_run_ex(amain, NULL, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "pg_pool_query: %s\n", msg ? msg : acio_strerror(rc));
        return 1;
    }
    return 0;
}
