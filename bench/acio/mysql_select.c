/* mysql_select: 10 tasks sharing a pool of 10 connections to a mariadbd, each query
 * acquiring a connection, running a prepared SELECT and releasing it: either one row by
 * primary key (pk) or all 1,000 rows of the table (rows1000). The same workload as
 * bench/mysql/aiomysql_select.py.
 *
 * Usage: bench_mysql_select PORT QUERIES pk|rows1000
 * Prints ops_per_s (queries per second), cpu_ns_per_op (the client's user + sys CPU per
 * query) and wall_s. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acio.h>

#include "bench_util.h"

#define TASKS 10

typedef struct {
    acio_mysql_pool_t *pool;
    long queries;
    bool all_rows;
    int port;
    int id;
} job_t;

static void *worker(void *arg)
{
    job_t *j = arg;
    for (long k = 0; k < j->queries; k++) {
        acio_mysql_t *c;
        int rc = acio_mysql_pool_acquire(j->pool, &c);
        if (rc < 0)
            return acio_raise(rc, "acquire");
        acio_mysql_result_t *r = NULL;
        size_t want = 1;
        if (j->all_rows) {
            rc = acio_mysql_execute(c, "SELECT id, name, value, created FROM t", NULL, 0, &r);
            want = 1000;
        } else {
            acio_mysql_param_t p = acio_mysql_int((j->id * 7919 + k) % 1000 + 1);
            rc = acio_mysql_execute(c, "SELECT id, name, value, created FROM t WHERE id = ?", &p, 1,
                                    &r);
        }
        acio_mysql_pool_release(j->pool, c);
        if (rc < 0)
            return acio_raise(rc, "query: %s", acio_strerror(rc));
        /* Read every value as its type, as aiomysql's rows hold them. */
        int64_t sum = 0;
        for (size_t i = 0; i < acio_mysql_result_nrows(r); i++) {
            int64_t id = 0;
            double v = 0;
            acio_mysql_time_t t;
            size_t len = 0;
            if (acio_mysql_result_int(r, i, 0, &id) < 0 || !acio_mysql_result_text(r, i, 1, &len) ||
                acio_mysql_result_double(r, i, 2, &v) < 0 ||
                acio_mysql_result_time(r, i, 3, &t) < 0)
                return acio_raise(-EPROTO, "bad row");
            sum += id + (int64_t)len;
        }
        size_t got = acio_mysql_result_nrows(r);
        acio_mysql_result_free(r);
        if (got != want || sum == 0)
            return acio_raise(-EPROTO, "%zu rows, wanted %zu", got, want);
    }
    return NULL;
}

static void *bench(void *arg)
{
    job_t *cfg = arg;
    char url[128];
    snprintf(url, sizeof(url), "mysql://bench:bench@127.0.0.1:%d/bench", cfg->port);
    acio_mysql_pool_opts_t po = {.minsize = TASKS, .maxsize = TASKS};
    int rc = acio_mysql_pool_new_url(&cfg->pool, url, NULL, &po);
    if (rc < 0)
        return acio_raise(rc, "connect: %s", acio_mysql_connect_error());
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
    long ops = cfg->queries * TASKS;
    printf("ops_per_s=%.0f cpu_ns_per_op=%.1f wall_s=%.3f\n", (double)ops / wall_s,
           cpu_ms * 1e6 / (double)ops, wall_s);
    acio_mysql_pool_close(cfg->pool);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT QUERIES pk|rows1000\n", argv[0]);
        return 2;
    }
    job_t cfg = {.port = atoi(argv[1]), .all_rows = strcmp(argv[3], "rows1000") == 0};
    cfg.queries = (atol(argv[2]) + TASKS - 1) / TASKS;
    char *msg = NULL;
    int rc = acio_run_ex(bench, &cfg, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "bench_mysql_select: %s\n", msg ? msg : acio_strerror(rc));
        return 1;
    }
    return 0;
}
