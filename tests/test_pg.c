/* The PostgreSQL client against a real server (Debian's postgresql 15, started per test
 * on a free port with a temporary directory): connecting over TCP and a Unix socket,
 * parameters (text, binary, NULL), typed results in text and binary format, errors with
 * their SQLSTATE, one query at a time, query and connect timeouts, cancellation mid-query,
 * a backend killed mid-query, failing allocations, and the pool under contention with
 * random cancellation. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>

#include "acio.h"
#include "internal.h"
#include "support/check.h"
#include "support/pg_server.h"

static pg_server_t srv;

static void start(void)
{
    cr_assert_eq(pg_server_start(&srv), 0, "postgres did not start");
}

static void stop(void)
{
    pg_server_stop(&srv);
}

/* ---- connecting, parameters, typed results ---- */

static void *basics(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    int rc = acio_pg_connect(&c, srv.conninfo, NULL);
    CHECK(rc == 0, "connect: %s (%s)", acio_err_name(rc), acio_pg_connect_error());
    CHECK(acio_pg_is_connected(c) && acio_pg_server_version(c) >= 150000, "version %d",
          acio_pg_server_version(c));
    CHECK(acio_pg_backend_pid(c) > 0, "pid");

    rc = acio_pg_execute(c, "CREATE TABLE t (id int PRIMARY KEY, name text, score float8, "
                            "ok bool, blob bytea, big int8); "
                            "CREATE TABLE empty (x int)");
    CHECK(rc == 0, "create: %s %s", acio_err_name(rc), acio_pg_error_message(c));

    /* Text parameters, one of them NULL. */
    const char *row1[] = {"1", "alice", "2.5", "true", NULL, "9000000000"};
    acio_pg_result_t *r = NULL;
    rc = acio_pg_query(c, "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6)", 6, row1, &r);
    CHECK(rc == 0, "insert: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    CHECK(acio_pg_result_affected(r) == 1, "affected %lld", acio_pg_result_affected(r));
    CHECK(strcmp(acio_pg_result_status(r), "INSERT 0 1") == 0, "status %s",
          acio_pg_result_status(r));
    acio_pg_result_free(r);

    /* A binary bytea parameter with NUL bytes in it. */
    static const char blob[] = {'a', 0, 'b', (char)0xff, 0};
    const char *vals[] = {"2", "bob", blob};
    int lens[] = {0, 0, (int)sizeof(blob)};
    int fmts[] = {0, 0, 1};
    unsigned types[] = {0, 0, ACIO_PG_BYTEA};
    acio_pg_params_t p = {
        .nparams = 3, .values = vals, .lengths = lens, .formats = fmts, .types = types};
    rc = acio_pg_query_params(c, "INSERT INTO t (id, name, blob, ok) VALUES ($1, $2, $3, false)",
                              &p, NULL);
    CHECK(rc == 0, "insert binary: %s %s", acio_err_name(rc), acio_pg_error_message(c));

    /* Text results. */
    rc = acio_pg_query(c, "SELECT id, name, score, ok, blob, big FROM t ORDER BY id", 0, NULL, &r);
    CHECK(rc == 0, "select: %s", acio_err_name(rc));
    CHECK(acio_pg_result_nrows(r) == 2 && acio_pg_result_ncols(r) == 6, "shape %d x %d",
          acio_pg_result_nrows(r), acio_pg_result_ncols(r));
    CHECK(strcmp(acio_pg_result_column_name(r, 1), "name") == 0, "column name");
    CHECK(acio_pg_result_column_index(r, "score") == 2, "column index");
    CHECK(acio_pg_result_column_type(r, 0) == ACIO_PG_INT4 &&
              acio_pg_result_column_type(r, 2) == ACIO_PG_FLOAT8 &&
              acio_pg_result_column_type(r, 4) == ACIO_PG_BYTEA,
          "column types");
    int64_t i = 0;
    double d = 0;
    bool b = false;
    CHECK(acio_pg_result_int(r, 0, 0, &i) == 0 && i == 1, "int");
    CHECK(acio_pg_result_int(r, 0, 5, &i) == 0 && i == 9000000000LL, "int8 %lld", (long long)i);
    CHECK(acio_pg_result_float(r, 0, 2, &d) == 0 && d == 2.5, "float");
    CHECK(acio_pg_result_bool(r, 0, 3, &b) == 0 && b, "bool");
    CHECK(acio_pg_result_bool(r, 1, 3, &b) == 0 && !b, "bool false");
    size_t len = 0;
    CHECK(strcmp(acio_pg_result_text(r, 0, 1, &len), "alice") == 0 && len == 5, "text");
    CHECK(acio_pg_result_is_null(r, 0, 4) && acio_pg_result_text(r, 0, 4, NULL) == NULL, "null");
    CHECK(acio_pg_result_int(r, 1, 2, &i) == ACIO_EPG_NULL, "NULL is reported");
    CHECK(acio_pg_result_int(r, 0, 1, &i) == ACIO_EPG_TYPE, "text is not an int");
    CHECK(acio_pg_result_int(r, 5, 0, &i) == -EINVAL, "row out of range");
    unsigned char *bytes = NULL;
    CHECK(acio_pg_result_bytea(r, 1, 4, &bytes, &len) == 0 && len == sizeof(blob) &&
              memcmp(bytes, blob, len) == 0,
          "bytea (text format) %zu", len);
    free(bytes);
    acio_pg_result_free(r);

    /* Binary results. */
    acio_pg_params_t bin = {.result_format = 1};
    rc = acio_pg_query_params(c,
                              "SELECT 7::int2, -8::int4, big, 1.5::float4, score, ok, blob, "
                              "name FROM t ORDER BY id",
                              &bin, &r);
    CHECK(rc == 0, "binary select: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    CHECK(acio_pg_result_int(r, 0, 0, &i) == 0 && i == 7, "int2");
    CHECK(acio_pg_result_int(r, 0, 1, &i) == 0 && i == -8, "int4 %lld", (long long)i);
    CHECK(acio_pg_result_int(r, 0, 2, &i) == 0 && i == 9000000000LL, "int8");
    CHECK(acio_pg_result_float(r, 0, 3, &d) == 0 && d == 1.5, "float4");
    CHECK(acio_pg_result_float(r, 0, 4, &d) == 0 && d == 2.5, "float8");
    CHECK(acio_pg_result_bool(r, 0, 5, &b) == 0 && b, "binary bool");
    CHECK(acio_pg_result_int(r, 0, 7, &i) == ACIO_EPG_TYPE, "binary text is not an int");
    CHECK(acio_pg_result_bytea(r, 1, 6, &bytes, &len) == 0 && len == sizeof(blob) &&
              memcmp(bytes, blob, len) == 0,
          "bytea (binary format)");
    free(bytes);
    acio_pg_result_free(r);

    /* Transactions are plain statements; the connection knows whether it is in one. */
    CHECK(acio_pg_execute(c, "BEGIN") == 0 && acio_pg_in_transaction(c), "begin");
    CHECK(acio_pg_execute(c, "DELETE FROM t") == 0, "delete");
    CHECK(acio_pg_execute(c, "ROLLBACK") == 0 && !acio_pg_in_transaction(c), "rollback");
    rc = acio_pg_query(c, "UPDATE t SET score = 1", 0, NULL, &r);
    CHECK(rc == 0 && acio_pg_result_affected(r) == 2, "rollback kept the rows");
    acio_pg_result_free(r);
    rc = acio_pg_query(c, "SELECT * FROM empty", 0, NULL, &r);
    CHECK(rc == 0 && acio_pg_result_nrows(r) == 0 && acio_pg_result_affected(r) == 0, "empty");
    acio_pg_result_free(r);
    acio_pg_close(c);

    /* The Unix socket, and a URL. */
    rc = acio_pg_connect(&c, srv.unix_conninfo, NULL);
    CHECK(rc == 0, "unix: %s (%s)", acio_err_name(rc), acio_pg_connect_error());
    acio_pg_close(c);
    char url[128];
    snprintf(url, sizeof(url), "postgresql://postgres@127.0.0.1:%d/postgres", srv.port);
    rc = acio_pg_connect(&c, url, NULL);
    CHECK(rc == 0, "url: %s (%s)", acio_err_name(rc), acio_pg_connect_error());
    acio_pg_close(c);

    /* A database that does not exist, a port nobody listens on, a bad conninfo. */
    rc = acio_pg_connect(&c, "host=127.0.0.1 port=1 user=postgres", NULL);
    CHECK(rc == ACIO_EPG_CONNECT && strstr(acio_pg_connect_error(), "refused"), "refused: %s %s",
          acio_err_name(rc), acio_pg_connect_error());
    snprintf(url, sizeof(url), "postgresql://postgres@127.0.0.1:%d/nosuchdb", srv.port);
    rc = acio_pg_connect(&c, url, NULL);
    CHECK(rc == ACIO_EPG_CONNECT && strstr(acio_pg_connect_error(), "nosuchdb"), "no db: %s",
          acio_pg_connect_error());
    rc = acio_pg_connect(&c, "nonsense=1", NULL);
    CHECK(rc == ACIO_EPG_CONNECT && acio_pg_connect_error()[0], "bad conninfo");
    return NULL;
}

Test(pg, connect_parameters_and_typed_results, .init = start, .fini = stop)
{
    run_ok(basics, NULL);
}

/* ---- errors ---- */

static void *busy_task(void *arg)
{
    acio_pg_t *c = arg;
    return (void *)(intptr_t)acio_pg_execute(c, "SELECT pg_sleep(0.2)");
}

static void *errors(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    int rc = acio_pg_connect(&c, srv.conninfo, NULL);
    CHECK(rc == 0, "connect: %s", acio_pg_connect_error());
    acio_pg_result_t *r = (acio_pg_result_t *)1;
    rc = acio_pg_query(c, "SELEC 1", 0, NULL, &r);
    CHECK(rc == ACIO_EPG_SERVER && r == NULL, "syntax error: %s", acio_err_name(rc));
    CHECK(strcmp(acio_pg_error_sqlstate(c), "42601") == 0, "sqlstate %s",
          acio_pg_error_sqlstate(c));
    CHECK(strstr(acio_pg_error_message(c), "syntax error"), "message %s", acio_pg_error_message(c));
    /* Still usable. */
    rc = acio_pg_query(c, "SELECT 1", 0, NULL, &r);
    CHECK(rc == 0 && strcmp(acio_pg_result_text(r, 0, 0, NULL), "1") == 0, "usable");
    CHECK(acio_pg_error_sqlstate(c)[0] == '\0', "a success clears the error");
    acio_pg_result_free(r);

    /* A constraint violation with a detail; an error in a script stops it. */
    CHECK(acio_pg_execute(c, "CREATE TABLE u (k int PRIMARY KEY); INSERT INTO u VALUES (1)") == 0,
          "create");
    rc = acio_pg_execute(c, "INSERT INTO u VALUES (2); INSERT INTO u VALUES (1); "
                            "INSERT INTO u VALUES (3)");
    CHECK(rc == ACIO_EPG_SERVER && strcmp(acio_pg_error_sqlstate(c), "23505") == 0,
          "unique violation: %s %s", acio_err_name(rc), acio_pg_error_sqlstate(c));
    CHECK(strstr(acio_pg_error_detail(c), "(k)=(1)"), "detail %s", acio_pg_error_detail(c));
    rc = acio_pg_query(c, "SELECT count(*) FROM u", 0, NULL, &r);
    int64_t n = 0;
    CHECK(rc == 0 && acio_pg_result_int(r, 0, 0, &n) == 0 && n == 1, "script was atomic %lld",
          (long long)n);
    acio_pg_result_free(r);

    /* An error inside a transaction leaves it failed until ROLLBACK. */
    CHECK(acio_pg_execute(c, "BEGIN") == 0, "begin");
    CHECK(acio_pg_execute(c, "SELECT 1/0") == ACIO_EPG_SERVER &&
              strcmp(acio_pg_error_sqlstate(c), "22012") == 0,
          "division by zero");
    CHECK(acio_pg_execute(c, "SELECT 1") == ACIO_EPG_SERVER &&
              strcmp(acio_pg_error_sqlstate(c), "25P02") == 0,
          "in failed transaction");
    CHECK(acio_pg_in_transaction(c), "still in the transaction");
    CHECK(acio_pg_execute(c, "ROLLBACK") == 0 && !acio_pg_in_transaction(c), "rollback");

    /* One query at a time. */
    acio_task_t *t;
    CHECK(acio_create_task(&t, busy_task, c, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(c));
    CHECK(acio_pg_execute(c, "SELECT 1") == ACIO_EPG_BUSY, "busy");
    void *res = NULL;
    CHECK(acio_await(t, &res) == 0 && res == NULL, "the first query finished");
    acio_future_unref(t);

    /* Bad arguments. */
    CHECK(acio_pg_query(c, NULL, 0, NULL, NULL) == -EINVAL, "NULL sql");
    CHECK(acio_pg_query(c, "SELECT $1", 1, NULL, NULL) == -EINVAL, "NULL values");
    /* The server can refuse parameters too. */
    const char *bad[] = {"not a number"};
    CHECK(acio_pg_query(c, "SELECT $1::int", 1, bad, NULL) == ACIO_EPG_SERVER &&
              strcmp(acio_pg_error_sqlstate(c), "22P02") == 0,
          "invalid input");
    /* COPY is refused and the connection closed. */
    CHECK(acio_pg_execute(c, "COPY u TO STDOUT") == ACIO_EPG_UNSUPPORTED, "copy");
    CHECK(!acio_pg_is_connected(c), "closed after COPY");
    CHECK(acio_pg_execute(c, "SELECT 1") == ACIO_EPG_CONNECTION, "closed");
    acio_pg_close(c);
    return NULL;
}

Test(pg, server_errors_sqlstate_and_busy, .init = start, .fini = stop)
{
    run_ok(errors, NULL);
}

/* ---- timeouts and cancellation ---- */

static void *sleeper(void *arg)
{
    acio_pg_t *c = arg;
    int rc = acio_pg_execute(c, "SELECT pg_sleep(30)");
    return rc == -ECANCELED ? NULL : acio_raise(-EPROTO, "sleeper: %s", acio_err_name(rc));
}

static int check_usable(acio_pg_t *c)
{
    acio_pg_result_t *r = NULL;
    int rc = acio_pg_query(c, "SELECT 41 + 1", 0, NULL, &r);
    int64_t v = 0;
    CHECK_INT(rc == 0, "after: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    CHECK_INT(acio_pg_result_int(r, 0, 0, &v) == 0 && v == 42, "after: value %lld", (long long)v);
    acio_pg_result_free(r);
    return 0;
}

static void *timeouts(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    acio_pg_opts_t o = {.query_timeout = 0.2};
    int rc = acio_pg_connect(&c, srv.conninfo, &o);
    CHECK(rc == 0, "connect: %s", acio_pg_connect_error());
    rc = acio_pg_execute(c, "SELECT pg_sleep(30)");
    CHECK(rc == -ETIMEDOUT, "timeout: %s", acio_err_name(rc));
    CHECK(acio_pg_is_connected(c) && !acio_pg_is_busy(c), "still connected");
    CHECK(strcmp(acio_pg_error_sqlstate(c), "57014") == 0, "the server cancelled it: %s",
          acio_pg_error_sqlstate(c));
    if (check_usable(c) < 0)
        return NULL;
    /* Inside a transaction: the transaction is failed, not half-read. */
    acio_pg_set_query_timeout(c, 0);
    CHECK(acio_pg_execute(c, "BEGIN") == 0, "begin");
    acio_pg_set_query_timeout(c, 0.1);
    CHECK(acio_pg_execute(c, "SELECT pg_sleep(30)") == -ETIMEDOUT, "timeout in transaction");
    CHECK(acio_pg_execute(c, "ROLLBACK") == 0 && !acio_pg_in_transaction(c), "rollback");

    /* Cancellation of the waiting task. */
    acio_pg_set_query_timeout(c, 0);
    acio_task_t *t;
    CHECK(acio_create_task(&t, sleeper, c, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(c));
    CHECK(acio_sleep(0.05) == 0, "sleep");
    acio_task_cancel(t, NULL);
    rc = acio_await(t, NULL);
    CHECK(rc == -ECANCELED, "task: %s", acio_err_name(rc));
    acio_future_unref(t);
    CHECK(acio_pg_is_connected(c) && !acio_pg_is_busy(c), "connected after cancel");
    if (check_usable(c) < 0)
        return NULL;
    acio_pg_close(c);
    return NULL;
}

Test(pg, query_timeout_and_cancellation_keep_connection, .init = start, .fini = stop)
{
    run_ok(timeouts, NULL);
}

static void *connect_timeout(void *arg)
{
    int port = *(int *)arg;
    char ci[96];
    snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d user=x", port);
    acio_pg_t *c = NULL;
    acio_pg_opts_t o = {.connect_timeout = 0.1};
    int rc = acio_pg_connect(&c, ci, &o);
    CHECK(rc == -ETIMEDOUT && c == NULL, "connect: %s", acio_err_name(rc));
    CHECK(strstr(acio_pg_connect_error(), "timeout"), "message %s", acio_pg_connect_error());
    return NULL;
}

Test(pg, connect_timeout_on_a_silent_server)
{
    /* A listening socket that accepts nothing: the startup packet is never answered. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    cr_assert(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 4) == 0);
    cr_assert(getsockname(lfd, (struct sockaddr *)&a, &al) == 0);
    int port = ntohs(a.sin_port);
    run_ok(connect_timeout, &port);
    close(lfd);
}

/* ---- the backend killed mid-query ---- */

static void *killed(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    int rc = acio_pg_connect(&c, srv.conninfo, NULL);
    CHECK(rc == 0, "connect: %s", acio_pg_connect_error());
    acio_task_t *t;
    CHECK(acio_create_task(&t, busy_task, c, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(c));
    CHECK(kill(acio_pg_backend_pid(c), SIGKILL) == 0, "kill the backend");
    void *res = NULL;
    CHECK(acio_await(t, &res) == 0, "task");
    acio_future_unref(t);
    CHECK((int)(intptr_t)res == ACIO_EPG_CONNECTION, "query: %s",
          acio_err_name((int)(intptr_t)res));
    CHECK(!acio_pg_is_connected(c), "not connected");
    CHECK(acio_pg_error_message(c)[0], "a message says why");
    CHECK(acio_pg_execute(c, "SELECT 1") == ACIO_EPG_CONNECTION, "closed");
    acio_pg_close(c);
    return NULL;
}

Test(pg, backend_killed_mid_query, .init = start, .fini = stop)
{
    run_ok(killed, NULL);
}

/* ---- failing allocations ---- */

static void *alloc_body(void *arg)
{
    long n = *(long *)arg;
    acio_pg_t *c = NULL;
    acio__alloc_fail_after(n);
    int rc = acio_pg_connect(&c, srv.conninfo, NULL);
    if (rc == 0) {
        acio_pg_result_t *r = NULL;
        const char *v[] = {"5"};
        rc = acio_pg_query(c, "SELECT $1::int * 2", 1, v, &r);
        acio_pg_result_free(r);
        acio_pg_close(c);
    }
    acio__alloc_fail_after(0);
    return (void *)(intptr_t)rc;
}

Test(pg, every_allocation_failure_is_clean, .init = start, .fini = stop)
{
    bool succeeded = false;
    for (long n = 1; n < 60 && !succeeded; n++) {
        void *res = NULL;
        int rc = acio_run(alloc_body, &n, &res);
        cr_assert(rc == 0 || rc == -ENOMEM, "step %ld: %s", n, acio_err_name(rc));
        int qrc = (int)(intptr_t)res;
        cr_assert(rc != 0 || qrc == 0 || qrc == -ENOMEM || qrc == ACIO_EPG_CONNECTION,
                  "step %ld: query %s", n, acio_err_name(qrc));
        succeeded = rc == 0 && qrc == 0;
    }
    cr_assert(succeeded, "never got through");
}

/* ---- the pool ---- */

typedef struct {
    acio_pg_pool_t *pool;
    int i;
} pool_job_t;

static void *pool_worker(void *arg)
{
    pool_job_t *j = arg;
    acio_pg_t *c;
    int rc = acio_pg_pool_acquire(j->pool, &c);
    if (rc < 0)
        return rc == -ECANCELED ? NULL : acio_raise(rc, "acquire %d", j->i);
    /* Some leave their connection dirty: in a transaction, a session setting changed. */
    if (j->i % 3 == 0)
        rc = acio_pg_execute(c, "BEGIN");
    if (rc == 0 && j->i % 2 == 0)
        rc = acio_pg_execute(c, "SET application_name = 'dirty'");
    if (rc == 0) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SELECT pg_sleep(%g)", 0.002 * (j->i % 5));
        rc = acio_pg_execute(c, sql);
    }
    acio_pg_pool_release(j->pool, c);
    return rc == 0 || rc == -ECANCELED ? NULL : acio_raise(rc, "worker %d", j->i);
}

static void *pool_contention(void *arg)
{
    (void)arg;
    acio_pg_pool_opts_t po = {.min_size = 1, .max_size = 3};
    acio_pg_pool_t *pool;
    int rc = acio_pg_pool_new(&pool, srv.conninfo, NULL, &po);
    CHECK(rc == 0, "pool: %s (%s)", acio_err_name(rc), acio_pg_connect_error());
    CHECK(acio_pg_pool_size(pool) == 1 && acio_pg_pool_freesize(pool) == 1, "min_size");
    enum { N = 30 };
    static pool_job_t jobs[N];
    acio_task_t *t[N];
    unsigned seed = 11;
    for (int i = 0; i < N; i++) {
        jobs[i] = (pool_job_t){pool, i};
        CHECK(acio_create_task(&t[i], pool_worker, &jobs[i], NULL) == 0, "task");
    }
    for (int round = 0; round < 12; round++) {
        CHECK(acio_sleep(0.003) == 0, "sleep");
        CHECK(acio_pg_pool_size(pool) <= 3, "size %zu", acio_pg_pool_size(pool));
        acio_task_cancel(t[rand_r(&seed) % N], NULL);
    }
    for (int i = 0; i < N; i++) {
        rc = acio_await(t[i], NULL);
        CHECK(rc == 0 || rc == -ECANCELED, "worker %d: %s", i, acio_err_name(rc));
        acio_future_unref(t[i]);
    }
    size_t size = acio_pg_pool_size(pool);
    CHECK(size >= 1 && size <= 3, "size %zu", size);
    CHECK(acio_pg_pool_freesize(pool) == size, "all back: %zu of %zu", acio_pg_pool_freesize(pool),
          size);
    /* Every connection is clean: not in a transaction, its session reset. */
    acio_pg_t *held[3];
    for (size_t i = 0; i < size; i++) {
        CHECK(acio_pg_pool_acquire(pool, &held[i]) == 0, "acquire");
        CHECK(!acio_pg_in_transaction(held[i]), "not in a transaction");
        acio_pg_result_t *r = NULL;
        CHECK(acio_pg_query(held[i], "SHOW application_name", 0, NULL, &r) == 0, "show");
        CHECK(strcmp(acio_pg_result_text(r, 0, 0, NULL), "dirty") != 0, "session reset");
        acio_pg_result_free(r);
    }
    CHECK(acio_pg_pool_size(pool) == size, "no new connection was needed");
    for (size_t i = 0; i < size; i++)
        acio_pg_pool_release(pool, held[i]);
    /* The server sees no more connections than the pool has (none leaked). A closed
     * connection's backend exits a moment after the close: ask again until it is gone. */
    acio_pg_t *c;
    CHECK(acio_pg_pool_acquire(pool, &c) == 0, "acquire");
    int64_t n = -1;
    for (int tries = 0; tries < 200 && n != (int64_t)acio_pg_pool_size(pool); tries++) {
        acio_pg_result_t *r = NULL;
        CHECK(acio_pg_query(c,
                            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                            "'client backend'",
                            0, NULL, &r) == 0,
              "count");
        CHECK(acio_pg_result_int(r, 0, 0, &n) == 0, "count value");
        acio_pg_result_free(r);
        if (n != (int64_t)acio_pg_pool_size(pool))
            CHECK(acio_sleep(0.01) == 0, "sleep");
    }
    CHECK(n == (int64_t)acio_pg_pool_size(pool), "server has %lld connections, pool %zu",
          (long long)n, acio_pg_pool_size(pool));
    acio_pg_pool_release(pool, c);

    /* An acquire that cannot be served in time; a broken connection is not reused. */
    acio_pg_pool_opts_t po1 = {.min_size = 1, .max_size = 1, .acquire_timeout = 0.05};
    acio_pg_pool_t *small;
    CHECK(acio_pg_pool_new(&small, srv.conninfo, NULL, &po1) == 0, "small pool");
    acio_pg_t *first, *second;
    CHECK(acio_pg_pool_acquire(small, &first) == 0, "first");
    CHECK(acio_pg_pool_acquire(small, &second) == -ETIMEDOUT, "second times out");
    int pid = acio_pg_backend_pid(first);
    CHECK(acio_pg_execute(first, "COPY (SELECT 1) TO STDOUT") == ACIO_EPG_UNSUPPORTED, "broken");
    acio_pg_pool_release(small, first);
    CHECK(acio_pg_pool_size(small) == 0, "the broken one was closed");
    CHECK(acio_pg_pool_acquire(small, &second) == 0 && acio_pg_backend_pid(second) != pid,
          "a new one");
    acio_pg_pool_release(small, second);
    acio_pg_pool_close(small);
    acio_pg_pool_close(pool);
    return NULL;
}

Test(pg, pool_under_contention_with_cancellation, .init = start, .fini = stop)
{
    run_ok(pool_contention, NULL);
}

/* ---- the shared pool's hand-off race ---- */

static void *waiting_acquirer(void *arg)
{
    acio_pg_pool_t *pool = arg;
    acio_pg_t *c;
    int rc = acio_pg_pool_acquire(pool, &c);
    if (rc == 0)
        acio_pg_pool_release(pool, c);
    return (void *)(intptr_t)rc;
}

static void *handoff_race(void *arg)
{
    (void)arg;
    acio_pg_pool_opts_t po = {.min_size = 1, .max_size = 1};
    acio_pg_pool_t *pool;
    CHECK(acio_pg_pool_new(&pool, srv.conninfo, NULL, &po) == 0, "pool");
    acio_pg_t *c;
    CHECK(acio_pg_pool_acquire(pool, &c) == 0, "acquire");
    int pid = acio_pg_backend_pid(c);
    acio_task_t *a, *b;
    CHECK(acio_create_task(&a, waiting_acquirer, pool, NULL) == 0, "task a");
    CHECK(acio_create_task(&b, waiting_acquirer, pool, NULL) == 0, "task b");
    CHECK(acio_sleep(0.01) == 0, "both wait");
    /* The release hands the connection to a; a is cancelled in the same iteration,
     * before it runs: the connection must go on to b, not be lost with a. */
    acio_pg_pool_release(pool, c);
    acio_task_cancel(a, NULL);
    void *res = NULL;
    CHECK(acio_await(a, &res) == -ECANCELED, "a was cancelled");
    CHECK(acio_await(b, &res) == 0 && res == NULL, "b got the connection: %s",
          acio_err_name((int)(intptr_t)res));
    acio_future_unref(a);
    acio_future_unref(b);
    CHECK(acio_pg_pool_size(pool) == 1 && acio_pg_pool_freesize(pool) == 1, "size %zu free %zu",
          acio_pg_pool_size(pool), acio_pg_pool_freesize(pool));
    CHECK(acio_pg_pool_acquire(pool, &c) == 0 && acio_pg_backend_pid(c) == pid,
          "the same connection, never dropped");
    /* Same race with a slot: the held connection is broken, its slot goes to a waiter. */
    CHECK(acio_create_task(&a, waiting_acquirer, pool, NULL) == 0, "task a");
    CHECK(acio_create_task(&b, waiting_acquirer, pool, NULL) == 0, "task b");
    CHECK(acio_sleep(0.01) == 0, "both wait");
    CHECK(acio_pg_execute(c, "COPY (SELECT 1) TO STDOUT") != 0 && !acio_pg_is_connected(c),
          "broken");
    acio_pg_pool_release(pool, c);
    acio_task_cancel(a, NULL);
    CHECK(acio_await(a, &res) == -ECANCELED, "a was cancelled");
    CHECK(acio_await(b, &res) == 0 && res == NULL, "b opened a connection in the slot: %s",
          acio_err_name((int)(intptr_t)res));
    acio_future_unref(a);
    acio_future_unref(b);
    CHECK(acio_pg_pool_size(pool) == 1 && acio_pg_pool_freesize(pool) == 1, "size %zu free %zu",
          acio_pg_pool_size(pool), acio_pg_pool_freesize(pool));
    acio_pg_pool_close(pool);
    return NULL;
}

Test(pg, pool_waiter_cancelled_as_it_is_handed_a_connection, .init = start, .fini = stop,
     .timeout = 30)
{
    run_ok(handoff_race, NULL);
}
