/* pg_select: 10 tasks on a pool of 10 PostgreSQL connections, each query taking a
 * connection from the pool and giving it back (asyncpg's `async with pool.acquire()`):
 * either a prepared SELECT of one row by primary key (shape "one") or a fetch of 1,000
 * rows (shape "rows1000"), every value read through the typed accessors (the Python
 * twins turn every value into an object). Parameters and results in the binary format,
 * statements from the per-connection cache, as asyncpg does. The same workload as
 * bench/pg/asyncpg_select.py and bench/pg/psycopg_select.py.
 *
 * Usage: bench_pg_select CONNINFO QUERIES one|rows1000
 * Prints ops_per_s (queries per second), cpu_ns_per_op (the client's user + sys CPU per
 * query) and wall. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acio.h>

#include "bench_util.h"

#define TASKS 10
#define ROWS  10000

typedef struct {
    const char *conninfo;
    long per_task;
    bool many;
    acio_pg_pool_t *pool;
    int id;
} job_t;

static int read_rows(acio_pg_result_t *r, int64_t *sum)
{
    int n = acio_pg_result_nrows(r);
    for (int i = 0; i < n; i++) {
        int64_t id = 0;
        double score = 0;
        size_t len = 0;
        if (acio_pg_result_int(r, i, 0, &id) < 0 || !acio_pg_result_text(r, i, 1, &len) ||
            acio_pg_result_float(r, i, 2, &score) < 0)
            return -1;
        *sum += id + (int64_t)len + (int64_t)score;
    }
    return n;
}

static void *worker(void *arg)
{
    job_t *j = arg;
    int64_t sum = 0;
    unsigned seed = (unsigned)j->id * 7919u + 1;
    for (long q = 0; q < j->per_task; q++) {
        acio_pg_t *c;
        int rc = acio_pg_pool_acquire(j->pool, &c);
        if (rc < 0)
            return acio_raise(rc, "acquire: %s", acio_strerror(rc));
        acio_pg_result_t *r = NULL;
        if (j->many) {
            rc = acio_pg_query_args(
                c,
                "SELECT id, name, score FROM bench_t WHERE id > $1 "
                "ORDER BY id LIMIT 1000",
                1, (acio_pg_arg_t[]){acio_pg_arg_int4((int32_t)(rand_r(&seed) % 100))}, 1, &r);
        } else {
            rc = acio_pg_query_args(
                c, "SELECT id, name, score FROM bench_t WHERE id = $1", 1,
                (acio_pg_arg_t[]){acio_pg_arg_int4(1 + (int32_t)(rand_r(&seed) % ROWS))}, 1, &r);
        }
        acio_pg_pool_release(j->pool, c);
        if (rc < 0)
            return acio_raise(rc, "query: %s", acio_strerror(rc));
        int n = read_rows(r, &sum);
        acio_pg_result_free(r);
        if (n != (j->many ? 1000 : 1))
            return acio_raise(-EPROTO, "query: %d rows", n);
    }
    return sum == 0 ? acio_raise(-EPROTO, "nothing read") : NULL;
}

static void *bench(void *arg)
{
    job_t *cfg = arg;
    acio_pg_pool_opts_t po = {.min_size = TASKS, .max_size = TASKS};
    int rc = acio_pg_pool_new(&cfg->pool, cfg->conninfo, NULL, &po);
    if (rc < 0)
        return acio_raise(rc, "pool: %s", acio_pg_connect_error());
    static job_t jobs[TASKS];
    acio_task_t *t[TASKS];
    double c0 = bench_cpu_ms();
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < TASKS; i++) {
        jobs[i] = *cfg;
        jobs[i].id = i;
        if ((rc = acio_create_task(&t[i], worker, &jobs[i], NULL)) < 0)
            return acio_raise(rc, "create_task");
    }
    for (int i = 0; i < TASKS; i++) {
        rc = acio_await(t[i], NULL);
        if (rc < 0)
            return acio_raise(rc, "worker: %s", acio_future_error_message(t[i]));
        acio_future_unref(t[i]);
    }
    double cpu_ms = bench_cpu_ms() - c0;
    double wall_s = (double)(bench_now_ns() - t0) / 1e9;
    long q = cfg->per_task * TASKS;
    printf("ops_per_s=%.0f cpu_ns_per_op=%.1f wall_s=%.3f\n", (double)q / wall_s,
           cpu_ms * 1e6 / (double)q, wall_s);
    acio_pg_pool_close(cfg->pool);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s CONNINFO QUERIES one|rows1000\n", argv[0]);
        return 2;
    }
    job_t cfg = {.conninfo = argv[1],
                 .per_task = (atol(argv[2]) + TASKS - 1) / TASKS,
                 .many = strcmp(argv[3], "rows1000") == 0};
    char *msg = NULL;
    int rc = acio_run_ex(bench, &cfg, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "bench_pg_select: %s\n", msg ? msg : acio_strerror(rc));
        return 1;
    }
    return 0;
}
