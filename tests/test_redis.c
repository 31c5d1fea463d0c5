/* The Redis client against a real redis-server (Debian's, started per test on a free
 * port with a temporary directory): commands and typed helpers, RESP2 and RESP3,
 * automatic pipelining across tasks, errors, AUTH, Unix sockets, cancellation, command
 * timeouts, blocking commands, a server killed mid-command, pipelines and transactions
 * with WATCH, pub/sub, SCAN, the pool under contention with random cancellation,
 * failing allocations, and a peer that sends garbage. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "acio.h"
#include "internal.h"
#include "support/check.h"
#include "support/redis_server.h"

static redis_server_t srv;

static void start(void)
{
    cr_assert_eq(redis_server_start(&srv, NULL), 0, "redis-server did not start");
}

static void start_with_password(void)
{
    const char *extra[] = {"--requirepass", "s3cret", NULL};
    cr_assert_eq(redis_server_start(&srv, extra), 0, "redis-server did not start");
}

static void stop(void)
{
    redis_server_stop(&srv);
}

static int connect_default(acio_redis_t **c, int protocol)
{
    acio_redis_opts_t o = {.port = srv.port, .protocol = protocol};
    return acio_redis_connect(c, &o);
}

/* ---- basics ---- */

static void *basics(void *arg)
{
    int protocol = *(int *)arg;
    acio_redis_t *c;
    int rc = connect_default(&c, protocol);
    CHECK(rc == 0, "connect: %s (%s)", acio_strerror(rc), acio_redis_connect_error());
    CHECK(acio_redis_protocol(c) == protocol, "protocol %d", acio_redis_protocol(c));
    CHECK(acio_redis_set(c, "greeting", "hello\0world", 11, 0) == 0, "set");
    char *v = NULL;
    size_t len = 0;
    CHECK(acio_redis_get(c, "greeting", &v, &len) == 0, "get");
    CHECK(v && len == 11 && memcmp(v, "hello\0world", 11) == 0, "binary-safe value");
    free(v);
    CHECK(acio_redis_get(c, "missing", &v, &len) == 0 && v == NULL, "missing key is NULL");

    /* Seed 001 §5.1: a hash set, then read back. */
    const char *pairs[] = {"name", "alex", "age", "18", "city", "beijing"};
    long long added = 0;
    CHECK(acio_redis_hset(c, "info", pairs, 3, &added) == 0 && added == 3, "hset %lld", added);
    acio_redis_reply_t *all = NULL;
    CHECK(acio_redis_hgetall(c, "info", &all) == 0, "hgetall");
    CHECK(all->type == (protocol == 3 ? ACIO_REDIS_REPLY_MAP : ACIO_REDIS_REPLY_ARRAY),
          "hgetall type %d", all->type);
    const acio_redis_reply_t *age = acio_redis_reply_map_get(all, "age");
    CHECK(age && strcmp(age->str, "18") == 0, "age");
    acio_redis_reply_free(all);

    long long n = 0;
    CHECK(acio_redis_incrby(c, "counter", 5, &n) == 0 && n == 5, "incrby");
    CHECK(acio_redis_del(c, "counter", &n) == 0 && n == 1, "del");
    bool set = false;
    CHECK(acio_redis_set(c, "temp", "x", 1, 100) == 0, "set ex");
    CHECK(acio_redis_expire(c, "temp", 50, &set) == 0 && set, "expire");
    CHECK(acio_redis_rpush(c, "list", "a", NULL) == 0 &&
              acio_redis_rpush(c, "list", "b", &n) == 0 && n == 2,
          "rpush");
    acio_redis_reply_t *r = NULL;
    CHECK(acio_redis_lrange(c, "list", 0, -1, &r) == 0 && r->elements == 2 &&
              strcmp(r->element[1]->str, "b") == 0,
          "lrange");
    acio_redis_reply_free(r);
    CHECK(acio_redis_zadd(c, "z", 1.5, "m", &n) == 0 && n == 1, "zadd");
    CHECK(acio_redis_zrange_withscores(c, "z", 0, -1, &r) == 0, "zrange");
    acio_redis_reply_free(r);
    CHECK(acio_redis_sadd(c, "s", "m", &n) == 0 && acio_redis_smembers(c, "s", &r) == 0 &&
              r->elements == 1,
          "sets");
    acio_redis_reply_free(r);

    /* A server error is a code and a reply with the text; the connection goes on. */
    rc = acio_redis_command(c, &r, "NOSUCHCOMMAND", "x", NULL);
    CHECK(rc == ACIO_EREDIS_REPLY, "error reply gave %s", acio_err_name(rc));
    CHECK(r && r->type == ACIO_REDIS_REPLY_ERROR && strstr(r->str, "unknown command"), "text");
    CHECK(strstr(acio_redis_last_error(c), "unknown command"), "last_error");
    acio_redis_reply_free(r);
    /* A typed helper on the wrong type. */
    rc = acio_redis_get(c, "list", &v, NULL);
    CHECK(rc == ACIO_EREDIS_REPLY, "GET on a list: %s", acio_err_name(rc));
    CHECK(acio_redis_command(c, &r, "PING", NULL) == 0 && r->type == ACIO_REDIS_REPLY_STATUS,
          "still usable");
    acio_redis_reply_free(r);
    acio_redis_close(c);
    return NULL;
}

Test(redis, basics_resp2, .init = start, .fini = stop)
{
    int p = 2;
    run_ok(basics, &p);
}

Test(redis, basics_resp3, .init = start, .fini = stop)
{
    int p = 3;
    run_ok(basics, &p);
}

/* ---- automatic pipelining ---- */

typedef struct {
    acio_redis_t *c;
    int i;
    int ok;
} worker_t;

static void *setget_worker(void *arg)
{
    worker_t *w = arg;
    char key[32], val[32];
    snprintf(key, sizeof(key), "key:%d", w->i);
    snprintf(val, sizeof(val), "value-%d", w->i * 7);
    for (int round = 0; round < 5; round++) {
        CHECK(acio_redis_set(w->c, key, val, strlen(val), 0) == 0, "set");
        char *got = NULL;
        CHECK(acio_redis_get(w->c, key, &got, NULL) == 0 && got && strcmp(got, val) == 0, "get %s",
              got ? got : "(nil)");
        free(got);
    }
    w->ok = 1;
    return NULL;
}

static void *many_tasks_one_connection(void *arg)
{
    (void)arg;
    acio_redis_t *c;
    CHECK(connect_default(&c, 2) == 0, "connect");
    enum { N = 200 };
    static worker_t w[N];
    acio_task_t *t[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker_t){c, i, 0};
        CHECK(acio_create_task(&t[i], setget_worker, &w[i], NULL) == 0, "task");
    }
    /* One iteration later every task has queued its SET: all are in flight at once. */
    size_t most = 0;
    for (int k = 0; k < 3; k++) {
        CHECK(acio_sleep(0) == 0, "sleep");
        if (acio_redis_pending(c) > most)
            most = acio_redis_pending(c);
    }
    CHECK(most == N, "in flight together: %zu of %d", most, N);
    for (int i = 0; i < N; i++) {
        CHECK(acio_await(t[i], NULL) == 0, "worker %d: %s", i, acio_future_error_message(t[i]));
        acio_future_unref(t[i]);
        CHECK(w[i].ok, "worker %d", i);
    }
    acio_redis_close(c);
    return NULL;
}

Test(redis, automatic_pipelining_across_tasks, .init = start, .fini = stop)
{
    run_ok(many_tasks_one_connection, NULL);
}

/* ---- connecting ---- */

static void *auth_and_urls(void *arg)
{
    (void)arg;
    acio_redis_t *c = NULL;
    char url[256];
    snprintf(url, sizeof(url), "redis://:wrong@127.0.0.1:%d/0", srv.port);
    int rc = acio_redis_connect_url(&c, url);
    CHECK(rc == ACIO_EREDIS_AUTH, "wrong password: %s", acio_err_name(rc));
    CHECK(strlen(acio_redis_connect_error()) > 0, "a message");
    for (int proto = 2; proto <= 3; proto++) {
        snprintf(url, sizeof(url), "redis://:s3cret@127.0.0.1:%d/3?protocol=%d&name=tester",
                 srv.port, proto);
        rc = acio_redis_connect_url(&c, url);
        CHECK(rc == 0, "right password: %s (%s)", acio_err_name(rc), acio_redis_connect_error());
        acio_redis_reply_t *r = NULL;
        CHECK(acio_redis_command(c, &r, "CLIENT", "GETNAME", NULL) == 0 && r->str &&
                  strcmp(r->str, "tester") == 0,
              "client name");
        acio_redis_reply_free(r);
        CHECK(acio_redis_command(c, &r, "CLIENT", "INFO", NULL) == 0 && strstr(r->str, " db=3 "),
              "db 3: %s", r ? r->str : "");
        acio_redis_reply_free(r);
        acio_redis_close(c);
    }
    /* Unix socket. */
    snprintf(url, sizeof(url), "unix://:s3cret@%s?db=1", srv.sock);
    rc = acio_redis_connect_url(&c, url);
    CHECK(rc == 0, "unix: %s (%s)", acio_err_name(rc), acio_redis_connect_error());
    CHECK(acio_redis_set(c, "u", "1", 1, 0) == 0, "set over unix");
    acio_redis_close(c);
    /* Nothing listening. */
    acio_redis_opts_t o = {.port = redis_server_free_port(), .connect_timeout = 2};
    rc = acio_redis_connect(&c, &o);
    CHECK(rc == -ECONNREFUSED, "refused: %s", acio_err_name(rc));
    return NULL;
}

Test(redis, auth_db_name_unix_refused, .init = start_with_password, .fini = stop)
{
    run_ok(auth_and_urls, NULL);
}

/* ---- cancellation, timeouts, blocking commands, a dying server ---- */

static void *slow_command(void *arg)
{
    acio_redis_t *c = arg;
    acio_redis_reply_t *r = NULL;
    int rc = acio_redis_command(c, &r, "DEBUG", "SLEEP", "0.2", NULL);
    acio_redis_reply_free(r);
    return rc == -ECANCELED ? "cancelled" : "not cancelled";
}

static void *cancel_keeps_connection(void *arg)
{
    (void)arg;
    acio_redis_t *c;
    CHECK(connect_default(&c, 2) == 0, "connect");
    acio_task_t *t;
    CHECK(acio_create_task(&t, slow_command, c, NULL) == 0, "task");
    CHECK(acio_sleep(0.05) == 0, "sleep");
    acio_task_cancel(t, "enough");
    void *res = NULL;
    int rc = acio_await(t, &res);
    CHECK(rc == 0 || rc == -ECANCELED, "await: %s", acio_err_name(rc));
    bool cancelled = acio_future_cancelled(t) || (res && strcmp(res, "cancelled") == 0);
    acio_future_unref(t);
    CHECK(cancelled, "was cancelled");
    /* The next command gets its own reply, not the abandoned one. */
    CHECK(acio_redis_set(c, "after", "yes", 3, 0) == 0, "set after cancel");
    char *v = NULL;
    CHECK(acio_redis_get(c, "after", &v, NULL) == 0 && v && strcmp(v, "yes") == 0, "get after");
    free(v);
    CHECK(acio_redis_is_connected(c), "still connected");
    acio_redis_close(c);
    return NULL;
}

Test(redis, cancelled_command_leaves_connection_usable, .init = start, .fini = stop)
{
    run_ok(cancel_keeps_connection, NULL);
}

static void *blpop_task(void *arg)
{
    acio_redis_reply_t *r = NULL;
    int rc = acio_redis_blpop(arg, "queue", 5, &r);
    acio_redis_reply_free(r);
    return (void *)(intptr_t)rc;
}

static void *timeouts_and_blocking(void *arg)
{
    (void)arg;
    acio_redis_t *c;
    acio_redis_opts_t o = {.port = srv.port, .command_timeout = 0.1};
    CHECK(acio_redis_connect(&c, &o) == 0, "connect");
    acio_redis_reply_t *r = NULL;
    int rc = acio_redis_command(c, &r, "DEBUG", "SLEEP", "0.5", NULL);
    CHECK(rc == -ETIMEDOUT, "timeout: %s", acio_err_name(rc));
    CHECK(!acio_redis_is_connected(c), "a timed-out connection is closed");
    /* The next command reconnects by itself (once the server, which DEBUG SLEEP
     * blocks as a whole, answers again). */
    CHECK(acio_sleep(0.5) == 0, "sleep");
    rc = acio_redis_command(c, &r, "PING", NULL);
    CHECK(rc == 0, "reconnected: %s", acio_err_name(rc));
    acio_redis_reply_free(r);
    acio_redis_close(c);

    /* A blocking command cancelled: the connection is closed, then reopened. */
    CHECK(connect_default(&c, 2) == 0, "connect");
    acio_task_t *t;
    CHECK(acio_create_task(&t, blpop_task, c, NULL) == 0, "task");
    CHECK(acio_sleep(0.05) == 0, "sleep");
    acio_task_cancel(t, NULL);
    rc = acio_await(t, NULL);
    CHECK(rc == -ECANCELED || rc == 0, "blpop task: %s", acio_err_name(rc));
    acio_future_unref(t);
    CHECK(!acio_redis_is_connected(c), "closed after a cancelled BLPOP");
    CHECK(acio_redis_rpush(c, "queue", "job", NULL) == 0, "reconnects");
    CHECK(acio_redis_blpop(c, "queue", 1, &r) == 0 && r && r->elements == 2 &&
              strcmp(r->element[1]->str, "job") == 0,
          "blpop gets the job");
    acio_redis_reply_free(r);
    CHECK(acio_redis_blpop(c, "queue", 0.1, &r) == 0 && r == NULL, "blpop times out with NULL");
    acio_redis_close(c);
    return NULL;
}

Test(redis, command_timeout_and_blocking_commands, .init = start, .fini = stop)
{
    run_ok(timeouts_and_blocking, NULL);
}

static void *server_dies(void *arg)
{
    (void)arg;
    acio_redis_t *c;
    acio_redis_opts_t o = {.port = srv.port, .reconnect_attempts = 2, .reconnect_backoff = 0.01};
    CHECK(acio_redis_connect(&c, &o) == 0, "connect");
    acio_task_t *t;
    CHECK(acio_create_task(&t, slow_command, c, NULL) == 0, "task");
    CHECK(acio_sleep(0.05) == 0, "sleep");
    kill(srv.pid, SIGKILL);
    waitpid(srv.pid, NULL, 0);
    srv.pid = 0;
    void *res = NULL;
    CHECK(acio_await(t, &res) == 0 && strcmp(res, "not cancelled") == 0, "slow command ended");
    acio_future_unref(t);
    CHECK(strstr(acio_redis_last_error(c), "lost"), "last error: %s", acio_redis_last_error(c));
    acio_redis_reply_t *r = NULL;
    int rc = acio_redis_command(c, &r, "PING", NULL);
    CHECK(rc == -ECONNREFUSED, "no server: %s", acio_err_name(rc));
    acio_redis_close(c);
    return NULL;
}

Test(redis, server_killed_mid_command, .init = start, .fini = stop)
{
    run_ok(server_dies, NULL);
}

/* ---- pipelines and transactions ---- */

static void *pipelines(void *arg)
{
    (void)arg;
    acio_redis_t *c, *other;
    CHECK(connect_default(&c, 2) == 0 && connect_default(&other, 2) == 0, "connect");
    acio_redis_pipeline_t *p;
    CHECK(acio_redis_pipeline_new(&p, c, false) == 0, "new");
    for (int i = 0; i < 16; i++) {
        char k[16];
        snprintf(k, sizeof(k), "p%d", i);
        CHECK(acio_redis_pipeline_add(p, "SET", k, "v", NULL) == 0, "add");
    }
    CHECK(acio_redis_pipeline_add(p, "INCR", "p0", NULL) == 0, "add bad");
    acio_redis_reply_t *r = NULL;
    CHECK(acio_redis_pipeline_execute(p, &r) == 0, "execute");
    CHECK(r->elements == 17 && r->element[16]->type == ACIO_REDIS_REPLY_ERROR,
          "17 replies, last an error");
    acio_redis_reply_free(r);
    acio_redis_pipeline_free(p);

    /* MULTI/EXEC. */
    CHECK(acio_redis_pipeline_new(&p, c, true) == 0, "new tx");
    CHECK(acio_redis_pipeline_add(p, "SET", "balance", "10", NULL) == 0, "pipeline add");
    CHECK(acio_redis_pipeline_add(p, "INCRBY", "balance", "5", NULL) == 0, "pipeline add");
    CHECK(acio_redis_pipeline_execute(p, &r) == 0, "exec");
    CHECK(r->elements == 2 && r->element[1]->integer == 15, "exec results");
    acio_redis_reply_free(r);

    /* WATCH on its own connection, a concurrent change, EXEC refused. */
    CHECK(acio_redis_command(c, NULL, "WATCH", "balance", NULL) == 0, "watch");
    CHECK(acio_redis_set(other, "balance", "99", 2, 0) == 0, "concurrent change");
    CHECK(acio_redis_pipeline_add(p, "INCRBY", "balance", "1", NULL) == 0, "pipeline add");
    int rc = acio_redis_pipeline_execute(p, &r);
    CHECK(rc == ACIO_EREDIS_WATCH, "watch conflict: %s", acio_err_name(rc));
    CHECK(r == NULL, "no replies");
    /* A command rejected while queuing: EXECABORT. */
    CHECK(acio_redis_pipeline_add(p, "SET", "onlykey", NULL) == 0, "pipeline add");
    rc = acio_redis_pipeline_execute(p, &r);
    CHECK(rc == ACIO_EREDIS_REPLY && r && strstr(r->str, "EXECABORT"), "execabort: %s",
          acio_err_name(rc));
    acio_redis_reply_free(r);
    acio_redis_pipeline_free(p);
    CHECK(acio_redis_command(c, &r, "PING", NULL) == 0, "usable");
    acio_redis_reply_free(r);
    acio_redis_close(c);
    acio_redis_close(other);
    return NULL;
}

Test(redis, pipelines_and_transactions, .init = start, .fini = stop)
{
    run_ok(pipelines, NULL);
}

/* ---- pub/sub ---- */

static void *publisher(void *arg)
{
    acio_redis_t *c;
    if (connect_default(&c, 2) != 0 || acio_sleep(0.05) < 0)
        return acio_raise(-EIO, "publisher connect");
    long long n = 0;
    if (acio_redis_publish(c, "news", "one", 3, &n) < 0)
        return acio_raise(-EIO, "publish");
    if (acio_redis_publish(c, "sports", "two", 3, NULL) < 0)
        return acio_raise(-EIO, "publish");
    if (acio_redis_publish(c, "weather.today", "three", 5, NULL) < 0)
        return acio_raise(-EIO, "publish");
    acio_redis_close(c);
    *(long long *)arg = n;
    return NULL;
}

static void *pubsub(void *arg)
{
    int protocol = *(int *)arg;
    acio_redis_t *sub;
    CHECK(connect_default(&sub, protocol) == 0, "connect");
    const char *chans[] = {"news", "sports"};
    CHECK(acio_redis_subscribe(sub, chans, 2) == 0, "subscribe");
    const char *pats[] = {"weather.*"};
    CHECK(acio_redis_psubscribe(sub, pats, 1) == 0, "psubscribe");
    if (protocol == 2) {
        int rc = acio_redis_get(sub, "x", &(char *){NULL}, NULL);
        CHECK(rc == ACIO_EREDIS_PUBSUB, "GET while subscribed: %s", acio_err_name(rc));
    }
    long long receivers = 0;
    acio_task_t *t;
    CHECK(acio_create_task(&t, publisher, &receivers, NULL) == 0, "task");
    const char *want[][3] = {{"message", "news", "one"},
                             {"message", "sports", "two"},
                             {"pmessage", "weather.today", "three"}};
    for (int i = 0; i < 3; i++) {
        acio_redis_message_t m;
        int rc = acio_redis_pubsub_next(sub, &m, 5);
        CHECK(rc == 0, "message %d: %s", i, acio_err_name(rc));
        CHECK(strcmp(m.kind, want[i][0]) == 0 && strcmp(m.channel, want[i][1]) == 0 &&
                  m.data_len == strlen(want[i][2]) && memcmp(m.data, want[i][2], m.data_len) == 0,
              "message %d: %s %s %.*s", i, m.kind, m.channel, (int)m.data_len, m.data);
        if (i == 2)
            CHECK(m.pattern && strcmp(m.pattern, "weather.*") == 0, "pattern");
        acio_redis_message_release(&m);
    }
    CHECK(acio_await(t, NULL) == 0 && receivers == 1, "receivers %lld", receivers);
    acio_future_unref(t);
    acio_redis_message_t m;
    CHECK(acio_redis_pubsub_next(sub, &m, 0.05) == -ETIMEDOUT, "nothing more");
    CHECK(acio_redis_unsubscribe(sub, NULL, 0) == 0, "unsubscribe all");
    CHECK(acio_redis_punsubscribe(sub, NULL, 0) == 0, "punsubscribe all");
    int rc = acio_redis_pubsub_next(sub, &m, 1);
    CHECK(rc == ACIO_ESTOPASYNCITERATION, "iteration ends: %s", acio_err_name(rc));
    char *v = NULL;
    CHECK(acio_redis_get(sub, "x", &v, NULL) == 0, "ordinary commands again");
    acio_redis_close(sub);
    return NULL;
}

Test(redis, pubsub_resp2, .init = start, .fini = stop)
{
    int p = 2;
    run_ok(pubsub, &p);
}

Test(redis, pubsub_resp3, .init = start, .fini = stop)
{
    int p = 3;
    run_ok(pubsub, &p);
}

/* ---- SCAN ---- */

static void *scan(void *arg)
{
    (void)arg;
    acio_redis_t *c;
    CHECK(connect_default(&c, 2) == 0, "connect");
    acio_redis_pipeline_t *p;
    CHECK(acio_redis_pipeline_new(&p, c, false) == 0, "pipeline");
    for (int i = 0; i < 250; i++) {
        char k[16];
        snprintf(k, sizeof(k), "scan:%d", i);
        CHECK(acio_redis_pipeline_add(p, "SET", k, "1", NULL) == 0, "pipeline add");
    }
    CHECK(acio_redis_pipeline_add(p, "SET", "other", "1", NULL) == 0, "pipeline add");
    CHECK(acio_redis_pipeline_execute(p, NULL) == 0, "fill");
    acio_redis_pipeline_free(p);
    static bool seen[250];
    int count = 0;
    acio_redis_scan_t *s;
    CHECK(acio_redis_scan_new(&s, c, "scan:*", 10, NULL) == 0, "scan");
    const char *key;
    size_t len;
    int rc;
    while ((rc = acio_redis_scan_next(s, &key, &len)) == 1) {
        int i = atoi(key + 5);
        CHECK(strncmp(key, "scan:", 5) == 0 && i >= 0 && i < 250, "key %s", key);
        if (!seen[i])
            count++;
        seen[i] = true;
    }
    CHECK(rc == 0 && count == 250, "rc %d count %d", rc, count);
    acio_redis_scan_free(s);
    acio_redis_close(c);
    return NULL;
}

Test(redis, scan_iterates_every_key, .init = start, .fini = stop)
{
    run_ok(scan, NULL);
}

/* ---- the pool ---- */

typedef struct {
    acio_redis_pool_t *pool;
    int i;
} pool_job_t;

static void *pool_worker(void *arg)
{
    pool_job_t *j = arg;
    acio_redis_t *c;
    int rc = acio_redis_pool_acquire(j->pool, &c);
    if (rc < 0)
        return NULL; /* cancelled while waiting */
    char key[32];
    snprintf(key, sizeof(key), "pool:%d", j->i);
    /* Some leave their connection dirty: mid-transaction, or with a reply in flight. */
    if (j->i % 7 == 0)
        rc = acio_redis_command(c, NULL, "MULTI", NULL);
    if (rc == 0)
        rc = acio_redis_set(c, key, "x", 1, 0);
    if (rc == 0)
        rc = acio_sleep(0.001 * (j->i % 5));
    acio_redis_pool_release(j->pool, c);
    return rc == 0 || rc == -ECANCELED ? NULL : acio_raise(rc, "worker %d", j->i);
}

static void *pool_contention(void *arg)
{
    (void)arg;
    acio_redis_opts_t o = {.port = srv.port};
    acio_redis_pool_opts_t po = {.minsize = 1, .maxsize = 3};
    acio_redis_pool_t *pool;
    CHECK(acio_redis_pool_new(&pool, &o, &po) == 0, "pool");
    CHECK(acio_redis_pool_size(pool) == 1 && acio_redis_pool_freesize(pool) == 1, "minsize");
    enum { N = 60 };
    static pool_job_t jobs[N];
    acio_task_t *t[N];
    unsigned seed = 7;
    for (int i = 0; i < N; i++) {
        jobs[i] = (pool_job_t){pool, i};
        CHECK(acio_create_task(&t[i], pool_worker, &jobs[i], NULL) == 0, "task");
    }
    for (int round = 0; round < 10; round++) {
        CHECK(acio_sleep(0.001) == 0, "sleep");
        CHECK(acio_redis_pool_size(pool) <= 3, "size %zu", acio_redis_pool_size(pool));
        acio_task_cancel(t[rand_r(&seed) % N], NULL);
    }
    for (int i = 0; i < N; i++) {
        int rc = acio_await(t[i], NULL);
        CHECK(rc == 0 || rc == -ECANCELED, "worker %d: %s", i, acio_err_name(rc));
        acio_future_unref(t[i]);
    }
    CHECK(acio_redis_pool_size(pool) <= 3, "size %zu", acio_redis_pool_size(pool));
    CHECK(acio_redis_pool_freesize(pool) == acio_redis_pool_size(pool), "all back: %zu of %zu",
          acio_redis_pool_freesize(pool), acio_redis_pool_size(pool));
    /* Every connection in the pool is clean: a PING answers PONG (not QUEUED). */
    for (int i = 0; i < 3; i++) {
        acio_redis_reply_t *r = NULL;
        CHECK(acio_redis_pool_command(pool, &r, "PING", NULL) == 0 && strcmp(r->str, "PONG") == 0,
              "clean connection");
        acio_redis_reply_free(r);
    }
    /* An acquire that cannot be served in time. */
    acio_redis_pool_opts_t po1 = {.minsize = 1, .maxsize = 1, .acquire_timeout = 0.05};
    acio_redis_pool_t *small;
    CHECK(acio_redis_pool_new(&small, &o, &po1) == 0, "small pool");
    acio_redis_t *held, *second;
    CHECK(acio_redis_pool_acquire(small, &held) == 0, "first");
    CHECK(acio_redis_pool_acquire(small, &second) == -ETIMEDOUT, "second times out");
    acio_redis_pool_release(small, held);
    acio_redis_pool_close(small);
    acio_redis_pool_close(pool);
    return NULL;
}

Test(redis, pool_under_contention_with_cancellation, .init = start, .fini = stop)
{
    run_ok(pool_contention, NULL);
}

/* ---- failing allocations ---- */

static void *alloc_sweep_body(void *arg)
{
    long n = *(long *)arg;
    acio_redis_t *c = NULL;
    acio__alloc_fail_after(n);
    int rc = connect_default(&c, 3);
    if (rc == 0) {
        char *v = NULL;
        rc = acio_redis_set(c, "k", "v", 1, 0);
        if (rc == 0)
            rc = acio_redis_get(c, "k", &v, NULL);
        free(v);
        acio_redis_close(c);
    }
    acio__alloc_fail_after(0);
    return (void *)(intptr_t)rc;
}

Test(redis, every_allocation_failure_is_clean, .init = start, .fini = stop)
{
    for (long n = 1; n < 80; n++) {
        /* The loop itself may be what fails: acio_run then reports -ENOMEM. */
        void *res = NULL;
        int rc = acio_run(alloc_sweep_body, &n, &res);
        cr_assert(rc == 0 || rc == -ENOMEM, "step %ld: %s", n, acio_err_name(rc));
    }
}

/* ---- a peer that sends garbage ---- */

static void *garbage_server(void *arg)
{
    int lfd = *(int *)arg;
    int fd = accept(lfd, NULL, NULL);
    char buf[256];
    if (fd >= 0) {
        if (read(fd, buf, sizeof(buf)) > 0 && write(fd, "+OK\r\n?garbage\r\n", 15) < 0)
            perror("write");
        if (read(fd, buf, sizeof(buf)) < 0)
            perror("read");
        close(fd);
    }
    return NULL;
}

static void *garbage(void *arg)
{
    int port = *(int *)arg;
    acio_redis_t *c;
    acio_redis_opts_t o = {.port = port, .reconnect_attempts = -1};
    CHECK(acio_redis_connect(&c, &o) == 0, "connect (no handshake)");
    acio_redis_reply_t *r1 = NULL, *r2 = NULL;
    int rc1 = acio_redis_command(c, &r1, "PING", NULL);
    CHECK(rc1 == 0 && r1->type == ACIO_REDIS_REPLY_STATUS, "first reply fine");
    acio_redis_reply_free(r1);
    int rc2 = acio_redis_command(c, &r2, "PING", NULL);
    CHECK(rc2 == ACIO_EREDIS_PROTOCOL || rc2 == ACIO_EREDIS_CONNECTION, "garbage: %s",
          acio_err_name(rc2));
    CHECK(!acio_redis_is_connected(c), "closed");
    CHECK(strstr(acio_redis_last_error(c), "protocol") || strstr(acio_redis_last_error(c), "lost"),
          "says why: %s", acio_redis_last_error(c));
    acio_redis_close(c);
    return NULL;
}

Test(redis, garbage_from_the_peer_closes_the_connection)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    cr_assert(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 1) == 0);
    getsockname(lfd, (struct sockaddr *)&a, &len);
    int port = ntohs(a.sin_port);
    pthread_t th;
    pthread_create(&th, NULL, garbage_server, &lfd);
    run_ok(garbage, &port);
    pthread_join(th, NULL);
    close(lfd);
}
