/* redis_get_set: 50 tasks doing SET then GET on their own keys against a redis-server,
 * through one connection (automatic pipelining) or a pool of 10, one command at a time
 * per task or in explicit pipelines of 16. The same workload as bench/redis/redis_py.py
 * and redis-benchmark -c 50 [-P 16] -t set,get.
 *
 * Usage: bench_redis_get_set PORT OPS conn1|pool10 DEPTH
 * Prints ops_per_s, cpu_ns_per_op (the client's user + sys CPU per command) and wall. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acio.h>

#include "bench_util.h"

#define TASKS 50

typedef struct {
    int port;
    long ops_per_task;
    int depth;
    bool pooled;
    acio_redis_t *conn;
    acio_redis_pool_t *pool;
    int id;
} job_t;

static void *worker(void *arg)
{
    job_t *j = arg;
    char key[32], val[8] = "xxx";
    snprintf(key, sizeof(key), "key:%06d", j->id);
    for (long done = 0; done < j->ops_per_task;) {
        acio_redis_t *c = j->conn;
        int rc = 0;
        if (j->pooled && (rc = acio_redis_pool_acquire(j->pool, &c)) < 0)
            return acio_raise(rc, "acquire");
        if (j->depth <= 1) {
            rc = acio_redis_set(c, key, val, 3, 0);
            char *v = NULL;
            if (rc == 0)
                rc = acio_redis_get(c, key, &v, NULL);
            free(v);
            done += 2;
        } else {
            acio_redis_pipeline_t *p;
            rc = acio_redis_pipeline_new(&p, c, false);
            for (int i = 0; rc == 0 && i < j->depth; i += 2) {
                rc = acio_redis_pipeline_add(p, "SET", key, val, NULL);
                if (rc == 0)
                    rc = acio_redis_pipeline_add(p, "GET", key, NULL);
            }
            if (rc == 0)
                rc = acio_redis_pipeline_execute(p, NULL);
            acio_redis_pipeline_free(p);
            done += j->depth;
        }
        if (j->pooled)
            acio_redis_pool_release(j->pool, c);
        if (rc < 0)
            return acio_raise(rc, "command: %s", acio_strerror(rc));
    }
    return NULL;
}

static void *bench(void *arg)
{
    job_t *cfg = arg;
    acio_redis_opts_t o = {.port = cfg->port};
    int rc = cfg->pooled
                 ? acio_redis_pool_new(&cfg->pool, &o,
                                       &(acio_redis_pool_opts_t){.minsize = 10, .maxsize = 10})
                 : acio_redis_connect(&cfg->conn, &o);
    if (rc < 0)
        return acio_raise(rc, "connect: %s", acio_redis_connect_error());
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
    long ops = cfg->ops_per_task * TASKS;
    printf("ops_per_s=%.0f cpu_ns_per_op=%.1f wall_s=%.3f\n", (double)ops / wall_s,
           cpu_ms * 1e6 / (double)ops, wall_s);
    if (cfg->pooled)
        acio_redis_pool_close(cfg->pool);
    else
        acio_redis_close(cfg->conn);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT OPS conn1|pool10 DEPTH\n", argv[0]);
        return 2;
    }
    job_t cfg = {
        .port = atoi(argv[1]), .depth = atoi(argv[4]), .pooled = strcmp(argv[3], "pool10") == 0};
    long ops = atol(argv[2]);
    long per = cfg.depth > 1 ? cfg.depth : 2;
    cfg.ops_per_task = (ops / TASKS + per - 1) / per * per;
    char *msg = NULL;
    int rc = acio_run_ex(bench, &cfg, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "bench_redis_get_set: %s\n", msg ? msg : acio_strerror(rc));
        return 1;
    }
    return 0;
}
