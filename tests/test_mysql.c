/* The MariaDB/MySQL client against a real server (Debian's mariadb-server, started per
 * test on a free port with a temporary directory): connecting over TCP, a Unix socket
 * and TLS, from parameters and URLs; prepared statements with typed parameters and NULLs,
 * typed results over both protocols, column metadata, affected rows and insert ids,
 * multiple result sets, transactions; server errors with errno and SQLSTATE,
 * authentication failure, one query at a time; query and connect timeouts, cancellation
 * at every await; the server killed mid-query; failing allocations; and the pool under
 * contention with random cancellation, recycle and acquire timeouts. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>

#include "acio.h"
#include "internal.h"
#include "support/certs.h"
#include "support/check.h"
#include "support/mysql_server.h"

static mysql_server_t srv;

static void start(void)
{
    cr_assert_eq(mysql_server_start(&srv), 0, "mariadbd did not start");
}

static void stop(void)
{
    mysql_server_stop(&srv);
}

static int connect_url(acio_mysql_t **c, const acio_mysql_opts_t *o)
{
    return acio_mysql_connect_url(c, srv.url, o);
}

/* ---- connecting, parameters, typed results ---- */

static void *basics(void *arg)
{
    (void)arg;
    acio_mysql_t *c;
    int rc = connect_url(&c, NULL);
    CHECK(rc == 0, "connect: %s (%s)", acio_err_name(rc), acio_mysql_connect_error());
    CHECK(acio_mysql_is_connected(c) && strstr(acio_mysql_server_info(c), "MariaDB"), "info %s",
          acio_mysql_server_info(c));
    CHECK(acio_mysql_thread_id(c) > 0 && !acio_mysql_is_tls(c), "thread id, no TLS");

    rc = acio_mysql_query(c,
                          "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name "
                          "VARCHAR(40), score DOUBLE, price DECIMAL(10,2), big BIGINT "
                          "UNSIGNED, data BLOB, at DATETIME(6), d DATE, tm TIME, flags "
                          "BIT(12)) ENGINE=InnoDB",
                          NULL);
    CHECK(rc == 0, "create: %s %s", acio_err_name(rc), acio_mysql_error_message(c));

    /* Typed parameters, one of them NULL, a BLOB with NUL bytes. */
    static const char blob[] = {'a', 0, 'b', (char)0xff, 0};
    acio_mysql_time_t at = {2024, 1, 31, 12, 34, 56, 250000, false};
    acio_mysql_param_t p[] = {acio_mysql_text("alice"),
                              acio_mysql_double(2.5),
                              acio_mysql_text("12.34"),
                              acio_mysql_uint(18446744073709551615ULL),
                              acio_mysql_blob(blob, sizeof(blob)),
                              acio_mysql_datetime(at),
                              acio_mysql_null()};
    acio_mysql_result_t *r = NULL;
    rc = acio_mysql_execute(c,
                            "INSERT INTO t (name, score, price, big, data, at, d, tm, flags) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, '-01:02:03.5', b'101')",
                            p, 7, &r);
    CHECK(rc == 0, "insert: %s %s", acio_err_name(rc), acio_mysql_error_message(c));
    CHECK(acio_mysql_result_affected(r) == 1 && acio_mysql_result_insert_id(r) == 1,
          "affected %llu id %llu", (unsigned long long)acio_mysql_result_affected(r),
          (unsigned long long)acio_mysql_result_insert_id(r));
    CHECK(acio_mysql_result_ncols(r) == 0 && acio_mysql_result_nrows(r) == 0, "no rows");
    acio_mysql_result_free(r);
    /* The same statement again (from the cache), SQL injection stays data. */
    p[0] = acio_mysql_text("bob'); DROP TABLE t; --");
    p[3] = acio_mysql_int(7);
    p[4] = acio_mysql_null();
    rc = acio_mysql_execute(c,
                            "INSERT INTO t (name, score, price, big, data, at, d, tm, flags) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, '-01:02:03.5', b'101')",
                            p, 7, &r);
    CHECK(rc == 0 && acio_mysql_result_insert_id(r) == 2, "second insert: %s %s", acio_err_name(rc),
          acio_mysql_error_message(c));
    acio_mysql_result_free(r);
    CHECK(acio_mysql_execute(c, "SELECT ?", p, 2, NULL) == -EINVAL, "parameter count");

    /* Both protocols give the same values. */
    const char *sel = "SELECT id, name, score, price, big, data, at, d, tm, flags, NULL AS nothing "
                      "FROM t ORDER BY id";
    for (int proto = 0; proto < 2; proto++) {
        rc = proto ? acio_mysql_query(c, sel, &r) : acio_mysql_execute(c, sel, NULL, 0, &r);
        CHECK(rc == 0, "select %d: %s %s", proto, acio_err_name(rc), acio_mysql_error_message(c));
        CHECK(acio_mysql_result_nrows(r) == 2 && acio_mysql_result_ncols(r) == 11, "shape %zu x %d",
              acio_mysql_result_nrows(r), acio_mysql_result_ncols(r));
        const acio_mysql_column_t *col = acio_mysql_result_column(r, 1);
        CHECK(col && strcmp(col->name, "name") == 0 && strcmp(col->table, "t") == 0 &&
                  col->type == ACIO_MYSQL_TYPE_VAR_STRING,
              "column 1: %s %s %d", col ? col->name : "", col ? col->table : "",
              col ? col->type : -1);
        CHECK(acio_mysql_result_column(r, 0)->flags & ACIO_MYSQL_PRIMARY_KEY, "primary key flag");
        CHECK(acio_mysql_result_column(r, 3)->type == ACIO_MYSQL_TYPE_NEWDECIMAL, "decimal type");
        CHECK(acio_mysql_result_column(r, 5)->type == ACIO_MYSQL_TYPE_BLOB &&
                  acio_mysql_result_column(r, 5)->charsetnr == 63,
              "blob type");
        CHECK(acio_mysql_result_column_index(r, "score") == 2, "column index");
        CHECK(acio_mysql_result_column(r, 11) == NULL, "column out of range");
        int64_t i = 0;
        uint64_t u = 0;
        double d = 0;
        size_t len = 0;
        CHECK(acio_mysql_result_int(r, 0, 0, &i) == 0 && i == 1, "id");
        CHECK(strcmp(acio_mysql_result_text(r, 0, 1, &len), "alice") == 0 && len == 5, "name");
        CHECK(strcmp(acio_mysql_result_text(r, 1, 1, NULL), "bob'); DROP TABLE t; --") == 0,
              "the injection is data");
        CHECK(acio_mysql_result_double(r, 0, 2, &d) == 0 && d == 2.5, "double");
        CHECK(strcmp(acio_mysql_result_text(r, 0, 3, NULL), "12.34") == 0, "decimal as text");
        CHECK(acio_mysql_result_uint(r, 0, 4, &u) == 0 && u == 18446744073709551615ULL, "uint");
        CHECK(acio_mysql_result_int(r, 0, 4, &i) == ACIO_EMYSQL_TYPE, "uint above INT64_MAX");
        CHECK(acio_mysql_result_int(r, 1, 4, &i) == 0 && i == 7, "big 7");
        const char *b = acio_mysql_result_text(r, 0, 5, &len);
        CHECK(b && len == sizeof(blob) && memcmp(b, blob, len) == 0, "blob, %d: %zu", proto, len);
        CHECK(acio_mysql_result_is_null(r, 1, 5) && !acio_mysql_result_text(r, 1, 5, NULL),
              "NULL blob");
        CHECK(acio_mysql_result_int(r, 1, 5, &i) == ACIO_EMYSQL_NULL, "NULL is reported");
        acio_mysql_time_t t = {0};
        CHECK(acio_mysql_result_time(r, 0, 6, &t) == 0 && t.year == 2024 && t.month == 1 &&
                  t.day == 31 && t.hour == 12 && t.minute == 34 && t.second == 56 &&
                  t.microsecond == 250000,
              "datetime %s", acio_mysql_result_text(r, 0, 6, NULL));
        CHECK(acio_mysql_result_is_null(r, 0, 7), "NULL date");
        CHECK(acio_mysql_result_time(r, 0, 8, &t) == 0 && t.negative && t.hour == 1 &&
                  t.minute == 2 && t.second == 3 && t.microsecond == 0,
              "time %s", acio_mysql_result_text(r, 0, 8, NULL));
        CHECK(acio_mysql_result_int(r, 0, 9, &i) == 0 && i == 5, "bit %lld", (long long)i);
        CHECK(acio_mysql_result_is_null(r, 0, 10), "NULL literal");
        CHECK(acio_mysql_result_int(r, 0, 1, &i) == ACIO_EMYSQL_TYPE, "text is not an int");
        CHECK(acio_mysql_result_int(r, 5, 0, &i) == -EINVAL, "row out of range");
        acio_mysql_result_free(r);
    }

    /* A parameter selects by primary key; a long value goes past the fetch buffer. */
    char longs[3000];
    memset(longs, 'x', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    acio_mysql_param_t q[] = {acio_mysql_text(longs), acio_mysql_int(2)};
    rc = acio_mysql_execute(c, "SELECT ?, name FROM t WHERE id = ?", q, 2, &r);
    size_t len = 0;
    CHECK(rc == 0 && acio_mysql_result_nrows(r) == 1 &&
              strcmp(acio_mysql_result_text(r, 0, 0, &len), longs) == 0 && len == 2999,
          "long value: %s %zu", acio_err_name(rc), len);
    acio_mysql_result_free(r);

    /* Multiple result sets; the UPDATE's affected rows. */
    rc = acio_mysql_query(c, "SELECT 1; SELECT 'a', 'b'; UPDATE t SET score = 3", &r);
    CHECK(rc == 0, "multi: %s %s", acio_err_name(rc), acio_mysql_error_message(c));
    acio_mysql_result_t *r2 = acio_mysql_result_next(r), *r3 = acio_mysql_result_next(r2);
    CHECK(acio_mysql_result_ncols(r) == 1 && acio_mysql_result_ncols(r2) == 2 && r3 &&
              acio_mysql_result_affected(r3) == 2 && !acio_mysql_result_next(r3),
          "three result sets");
    CHECK(strcmp(acio_mysql_result_text(r2, 0, 1, NULL), "b") == 0, "second set");
    acio_mysql_result_free(r);

    /* Transactions. */
    CHECK(acio_mysql_begin(c) == 0 && acio_mysql_in_transaction(c), "begin");
    CHECK(acio_mysql_query(c, "DELETE FROM t", NULL) == 0, "delete");
    CHECK(acio_mysql_rollback(c) == 0 && !acio_mysql_in_transaction(c), "rollback");
    CHECK(acio_mysql_begin(c) == 0, "begin");
    CHECK(acio_mysql_execute(c, "DELETE FROM t WHERE id = ?", q + 1, 1, &r) == 0 &&
              acio_mysql_result_affected(r) == 1,
          "delete one");
    acio_mysql_result_free(r);
    CHECK(acio_mysql_commit(c) == 0 && !acio_mysql_in_transaction(c), "commit");
    rc = acio_mysql_query(c, "SELECT COUNT(*) FROM t", &r);
    int64_t n = 0;
    CHECK(rc == 0 && acio_mysql_result_int(r, 0, 0, &n) == 0 && n == 1, "count %lld", (long long)n);
    acio_mysql_result_free(r);
    CHECK(acio_mysql_ping(c) == 0, "ping");
    acio_mysql_close(c);

    /* Parameters instead of a URL; the Unix socket, by URL and by parameters. */
    acio_mysql_config_t cfg = {.host = "127.0.0.1",
                               .port = (unsigned)srv.port,
                               .user = MYSQL_SERVER_USER,
                               .password = MYSQL_SERVER_PASSWORD,
                               .database = MYSQL_SERVER_DB};
    rc = acio_mysql_connect(&c, &cfg, NULL);
    CHECK(rc == 0, "params: %s (%s)", acio_err_name(rc), acio_mysql_connect_error());
    acio_mysql_close(c);
    rc = acio_mysql_connect_url(&c, srv.unix_url, NULL);
    CHECK(rc == 0, "unix url: %s (%s)", acio_err_name(rc), acio_mysql_connect_error());
    acio_mysql_close(c);
    cfg.host = NULL;
    cfg.unix_socket = srv.socket;
    rc = acio_mysql_connect(&c, &cfg, NULL);
    CHECK(rc == 0, "unix: %s (%s)", acio_err_name(rc), acio_mysql_connect_error());
    acio_mysql_close(c);

    return NULL;
}

Test(mysql, connect_parameters_and_typed_results, .init = start, .fini = stop)
{
    run_ok(basics, NULL);
}

/* ---- the statement cache ---- */

/* The server's count of prepared statements once it settles at want (a closed
 * connection's statements go a moment after the close). */
static int64_t prepared_count(acio_mysql_t *c, int64_t want)
{
    int64_t n = -1;
    for (int tries = 0; tries < 300 && n != want; tries++) {
        acio_mysql_result_t *r = NULL;
        if (acio_mysql_query(c, "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'", &r) != 0 ||
            acio_mysql_result_int(r, 0, 1, &n) != 0)
            n = -2;
        acio_mysql_result_free(r);
        if (n != want && acio_sleep(0.01) < 0)
            break;
    }
    return n;
}

static void *stmt_cache(void *arg)
{
    (void)arg;
    /* At most stmt_cache_size statements stay on the server (the least recently used are
     * closed), and none when the cache is off; a cached one is reused. */
    for (int size = 2; size >= -1; size -= 3) {
        acio_mysql_t *c;
        acio_mysql_opts_t o = {.stmt_cache_size = size};
        CHECK(connect_url(&c, &o) == 0, "connect");
        for (int k = 1; k <= 4; k++) {
            char sql[32];
            snprintf(sql, sizeof(sql), "SELECT %d + ?", k % 3);
            acio_mysql_param_t one = acio_mysql_int(1);
            acio_mysql_result_t *r = NULL;
            int64_t v = 0;
            CHECK(acio_mysql_execute(c, sql, &one, 1, &r) == 0 &&
                      acio_mysql_result_int(r, 0, 0, &v) == 0 && v == k % 3 + 1,
                  "execute %d", k);
            acio_mysql_result_free(r);
        }
        int64_t want = size > 0 ? size : 0;
        int64_t n = prepared_count(c, want);
        CHECK(n == want, "cache %d keeps %lld", size, (long long)n);
        acio_mysql_close(c);
    }
    return NULL;
}

Test(mysql, statement_cache_is_bounded, .init = start, .fini = stop)
{
    run_ok(stmt_cache, NULL);
}

/* ---- errors ---- */

static void *busy_task(void *arg)
{
    acio_mysql_t *c = arg;
    return (void *)(intptr_t)acio_mysql_query(c, "SELECT SLEEP(0.3)", NULL);
}

static void *errors(void *arg)
{
    (void)arg;
    acio_mysql_t *c;
    int rc = connect_url(&c, NULL);
    CHECK(rc == 0, "connect: %s", acio_mysql_connect_error());
    acio_mysql_result_t *r = (acio_mysql_result_t *)1;
    rc = acio_mysql_query(c, "SELEC 1", &r);
    CHECK(rc == ACIO_EMYSQL_SERVER && r == NULL, "syntax error: %s", acio_err_name(rc));
    CHECK(acio_mysql_error_errno(c) == 1064 && strcmp(acio_mysql_error_sqlstate(c), "42000") == 0,
          "errno %u sqlstate %s", acio_mysql_error_errno(c), acio_mysql_error_sqlstate(c));
    CHECK(strstr(acio_mysql_error_message(c), "syntax"), "message %s", acio_mysql_error_message(c));
    rc = acio_mysql_execute(c, "SELEC ?", NULL, 0, &r);
    CHECK(rc == ACIO_EMYSQL_SERVER && acio_mysql_error_errno(c) == 1064, "prepare error");
    /* Still usable; a success clears the error. */
    rc = acio_mysql_query(c, "SELECT 1", &r);
    CHECK(rc == 0 && strcmp(acio_mysql_result_text(r, 0, 0, NULL), "1") == 0, "usable");
    CHECK(acio_mysql_error_errno(c) == 0 && acio_mysql_error_sqlstate(c)[0] == '\0', "cleared");
    acio_mysql_result_free(r);

    /* A duplicate key; an error in a batch stops it. */
    CHECK(acio_mysql_query(c, "CREATE TABLE u (k INT PRIMARY KEY); INSERT INTO u VALUES (1)",
                           NULL) == 0,
          "create: %s", acio_mysql_error_message(c));
    rc = acio_mysql_query(c,
                          "INSERT INTO u VALUES (2); INSERT INTO u VALUES (1); "
                          "INSERT INTO u VALUES (3)",
                          NULL);
    CHECK(rc == ACIO_EMYSQL_SERVER && acio_mysql_error_errno(c) == 1062 &&
              strcmp(acio_mysql_error_sqlstate(c), "23000") == 0,
          "duplicate: %s %u", acio_err_name(rc), acio_mysql_error_errno(c));
    acio_mysql_param_t one = acio_mysql_int(1);
    rc = acio_mysql_execute(c, "INSERT INTO u VALUES (?)", &one, 1, NULL);
    CHECK(rc == ACIO_EMYSQL_SERVER && acio_mysql_error_errno(c) == 1062, "duplicate (prepared)");
    rc = acio_mysql_query(c, "SELECT COUNT(*) FROM u", &r);
    int64_t n = 0;
    CHECK(rc == 0 && acio_mysql_result_int(r, 0, 0, &n) == 0 && n == 2, "the batch stopped %lld",
          (long long)n);
    acio_mysql_result_free(r);

    /* One query at a time. */
    acio_task_t *t;
    CHECK(acio_create_task(&t, busy_task, c, NULL) == 0, "task");
    WAIT_UNTIL(acio_mysql_is_busy(c));
    CHECK(acio_mysql_query(c, "SELECT 1", NULL) == ACIO_EMYSQL_BUSY, "busy");
    CHECK(acio_mysql_execute(c, "SELECT 1", NULL, 0, NULL) == ACIO_EMYSQL_BUSY, "busy (prepared)");
    void *res = NULL;
    CHECK(acio_await(t, &res) == 0 && res == NULL, "the first query finished");
    acio_future_unref(t);
    CHECK(acio_mysql_query(c, NULL, NULL) == -EINVAL, "NULL sql");
    acio_mysql_close(c);

    /* Authentication failure, unknown database, nobody listening, bad URLs. */
    char url[256];
    snprintf(url, sizeof(url), "mysql://" MYSQL_SERVER_USER ":wrong@127.0.0.1:%d/", srv.port);
    rc = acio_mysql_connect_url(&c, url, NULL);
    CHECK(rc == ACIO_EMYSQL_CONNECT && acio_mysql_connect_errno() == 1045 && c == NULL,
          "access denied: %s %u %s", acio_err_name(rc), acio_mysql_connect_errno(),
          acio_mysql_connect_error());
    CHECK(strstr(acio_mysql_connect_error(), "denied"), "message %s", acio_mysql_connect_error());
    acio_mysql_config_t cfg = {.port = (unsigned)srv.port,
                               .user = MYSQL_SERVER_USER,
                               .password = MYSQL_SERVER_PASSWORD,
                               .database = "nosuchdb"};
    rc = acio_mysql_connect(&c, &cfg, NULL);
    CHECK(rc == ACIO_EMYSQL_CONNECT && acio_mysql_connect_errno() == 1049, "unknown db: %u %s",
          acio_mysql_connect_errno(), acio_mysql_connect_error());
    rc = acio_mysql_connect_url(&c, "mysql://x@127.0.0.1:1/", NULL);
    CHECK(rc == ACIO_EMYSQL_CONNECT && acio_mysql_connect_errno() >= 2000, "refused: %u %s",
          acio_mysql_connect_errno(), acio_mysql_connect_error());
    CHECK(acio_mysql_connect_url(&c, "postgresql://x@h/", NULL) == -EINVAL, "scheme");
    CHECK(acio_mysql_connect_url(&c, "mysql://h:99999/", NULL) == -EINVAL, "port");
    CHECK(acio_mysql_connect_url(&c, "mysql://h/?nonsense=1", NULL) == -EINVAL, "option");
    return NULL;
}

Test(mysql, server_errors_auth_and_busy, .init = start, .fini = stop)
{
    run_ok(errors, NULL);
}

/* ---- timeouts and cancellation ---- */

static int check_usable(acio_mysql_t *c)
{
    acio_mysql_result_t *r = NULL;
    acio_mysql_param_t p = acio_mysql_int(41);
    int rc = acio_mysql_execute(c, "SELECT ? + 1", &p, 1, &r);
    int64_t v = 0;
    CHECK_INT(rc == 0, "after: %s %s", acio_err_name(rc), acio_mysql_error_message(c));
    CHECK_INT(acio_mysql_result_int(r, 0, 0, &v) == 0 && v == 42, "after: value %lld",
              (long long)v);
    acio_mysql_result_free(r);
    rc = acio_mysql_query(c, "SELECT 'ok'", &r);
    CHECK_INT(rc == 0 && strcmp(acio_mysql_result_text(r, 0, 0, NULL), "ok") == 0, "text after");
    acio_mysql_result_free(r);
    return 0;
}

static void *sleeper(void *arg)
{
    acio_mysql_t *c = arg;
    acio_mysql_param_t p = acio_mysql_int(30);
    int rc = acio_mysql_execute(c, "SELECT SLEEP(?)", &p, 1, NULL);
    return rc == -ECANCELED ? NULL : acio_raise(-EPROTO, "sleeper: %s", acio_err_name(rc));
}

static void *timeouts(void *arg)
{
    (void)arg;
    acio_mysql_t *c;
    acio_mysql_opts_t o = {.query_timeout = 0.2};
    int rc = connect_url(&c, &o);
    CHECK(rc == 0, "connect: %s", acio_mysql_connect_error());
    rc = acio_mysql_query(c, "SELECT SLEEP(30)", NULL);
    CHECK(rc == -ETIMEDOUT, "timeout: %s", acio_err_name(rc));
    CHECK(acio_mysql_is_connected(c) && !acio_mysql_is_busy(c), "still connected");
    if (check_usable(c) < 0)
        return NULL;
    /* A long row-producing query, killed while running. */
    rc = acio_mysql_query(c,
                          "SELECT COUNT(*) FROM information_schema.columns a, "
                          "information_schema.columns b, information_schema.columns c",
                          NULL);
    CHECK(rc == -ETIMEDOUT, "timeout (busy query): %s", acio_err_name(rc));
    if (check_usable(c) < 0)
        return NULL;
    /* Inside a transaction: the transaction is still there, not half-read. */
    acio_mysql_set_query_timeout(c, 0);
    CHECK(acio_mysql_begin(c) == 0, "begin");
    acio_mysql_set_query_timeout(c, 0.1);
    CHECK(acio_mysql_query(c, "SELECT SLEEP(30)", NULL) == -ETIMEDOUT, "timeout in transaction");
    CHECK(acio_mysql_rollback(c) == 0 && !acio_mysql_in_transaction(c), "rollback");

    /* Cancellation of the waiting task. */
    acio_mysql_set_query_timeout(c, 0);
    acio_task_t *t;
    CHECK(acio_create_task(&t, sleeper, c, NULL) == 0, "task");
    WAIT_UNTIL(acio_mysql_is_busy(c));
    CHECK(acio_sleep(0.05) == 0, "sleep");
    acio_task_cancel(t, NULL);
    rc = acio_await(t, NULL);
    CHECK(rc == -ECANCELED, "task: %s", acio_err_name(rc));
    acio_future_unref(t);
    CHECK(acio_mysql_is_connected(c) && !acio_mysql_is_busy(c), "connected after cancel");
    if (check_usable(c) < 0)
        return NULL;
    acio_mysql_close(c);
    return NULL;
}

Test(mysql, query_timeout_and_cancellation_keep_connection, .init = start, .fini = stop)
{
    run_ok(timeouts, NULL);
}

/* Cancel a task running a sequence of operations after k steps of 0.1 ms, for every k
 * until the sequence completes twice: the cancellation lands at each of its awaits in
 * turn (connecting, preparing, executing, storing, the next result set, commit, ping). Afterwards
 * the connection is either usable or closed, never busy or half-read. */
static void *sequence(void *arg)
{
    acio_mysql_t *c = arg;
    acio_mysql_param_t p = acio_mysql_int(3);
    acio_mysql_result_t *r = NULL;
    int rc = acio_mysql_execute(c, "SELECT seq FROM seq_1_to_1000 WHERE seq > ?", &p, 1, &r);
    acio_mysql_result_free(r);
    r = NULL;
    if (rc == 0)
        rc = acio_mysql_begin(c);
    if (rc == 0)
        rc = acio_mysql_query(c, "SELECT SLEEP(0.002); SELECT seq FROM seq_1_to_500", &r);
    acio_mysql_result_free(r);
    if (rc == 0)
        rc = acio_mysql_commit(c);
    if (rc == 0)
        rc = acio_mysql_ping(c);
    return (void *)(intptr_t)rc;
}

static void *connector(void *arg)
{
    acio_mysql_t *c = NULL;
    int rc = connect_url(&c, NULL);
    *(acio_mysql_t **)arg = c;
    return (void *)(intptr_t)rc;
}

static void *cancel_every_await(void *arg)
{
    (void)arg;
    acio_mysql_t *c = NULL;
    int completed = 0, cancelled = 0, closed = 0;
    for (int k = 0; k < 2000 && completed < 2; k++) {
        if (!c || !acio_mysql_is_connected(c)) {
            acio_mysql_close(c);
            c = NULL;
            /* Cancel a connect after k yields too. */
            acio_mysql_t *got = NULL;
            acio_task_t *ct;
            CHECK(acio_create_task(&ct, connector, &got, NULL) == 0, "connect task");
            for (int y = 0; y < k % 7; y++)
                CHECK(acio_sleep(0) == 0, "yield");
            acio_task_cancel(ct, NULL);
            void *res = NULL;
            int rc = acio_await(ct, &res);
            acio_future_unref(ct);
            if (rc == 0 && res == NULL) {
                c = got;
            } else {
                CHECK(got == NULL, "a failed connect gives nothing");
                int rc2 = connect_url(&c, NULL);
                CHECK(rc2 == 0, "reconnect: %s", acio_mysql_connect_error());
            }
        }
        acio_task_t *t;
        CHECK(acio_create_task(&t, sequence, c, NULL) == 0, "task");
        CHECK(acio_sleep(0.0001 * k) == 0, "wait");
        acio_task_cancel(t, NULL);
        void *res = NULL;
        int rc = acio_await(t, &res);
        acio_future_unref(t);
        CHECK(!acio_mysql_is_busy(c), "not busy after k=%d", k);
        if (rc == 0 && res == NULL) {
            completed++;
        } else {
            int why = rc == 0 ? (int)(intptr_t)res : rc;
            CHECK(why == -ECANCELED || why == ACIO_EMYSQL_CONNECTION, "k=%d: %s", k,
                  acio_err_name(why));
            cancelled++;
        }
        if (acio_mysql_is_connected(c)) {
            if (acio_mysql_in_transaction(c))
                CHECK(acio_mysql_rollback(c) == 0, "rollback");
            if (check_usable(c) < 0)
                return NULL;
        } else {
            closed++;
        }
    }
    if (getenv("ACIO_TEST_VERBOSE"))
        fprintf(stderr, "completed %d cancelled %d closed %d\n", completed, cancelled, closed);
    CHECK(completed > 0 && cancelled > 0, "completed %d cancelled %d closed %d", completed,
          cancelled, closed);
    acio_mysql_close(c);
    return NULL;
}

Test(mysql, cancellation_at_every_await, .init = start, .fini = stop, .timeout = 240)
{
    run_ok(cancel_every_await, NULL);
}

static void *connect_timeout(void *arg)
{
    int port = *(int *)arg;
    char url[96];
    snprintf(url, sizeof(url), "mysql://x@127.0.0.1:%d/", port);
    acio_mysql_t *c = NULL;
    acio_mysql_opts_t o = {.connect_timeout = 0.1};
    int rc = acio_mysql_connect_url(&c, url, &o);
    CHECK(rc == -ETIMEDOUT && c == NULL, "connect: %s", acio_err_name(rc));
    CHECK(strstr(acio_mysql_connect_error(), "timeout"), "message %s", acio_mysql_connect_error());
    return NULL;
}

Test(mysql, connect_timeout_on_a_silent_server)
{
    /* A listening socket that accepts nothing: the server greeting never comes. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    cr_assert(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 4) == 0);
    cr_assert(getsockname(lfd, (struct sockaddr *)&a, &al) == 0);
    int port = ntohs(a.sin_port);
    run_ok(connect_timeout, &port);
    close(lfd);
}

/* ---- the server killed mid-query ---- */

static void *killed(void *arg)
{
    (void)arg;
    acio_mysql_t *c;
    int rc = connect_url(&c, NULL);
    CHECK(rc == 0, "connect: %s", acio_mysql_connect_error());
    acio_task_t *t;
    CHECK(acio_create_task(&t, busy_task, c, NULL) == 0, "task");
    WAIT_UNTIL(acio_mysql_is_busy(c));
    CHECK(acio_sleep(0.05) == 0, "sleep");
    CHECK(kill(srv.pid, SIGKILL) == 0, "kill the server");
    void *res = NULL;
    CHECK(acio_await(t, &res) == 0, "task");
    acio_future_unref(t);
    CHECK((int)(intptr_t)res == ACIO_EMYSQL_CONNECTION, "query: %s",
          acio_err_name((int)(intptr_t)res));
    CHECK(!acio_mysql_is_connected(c), "not connected");
    CHECK(acio_mysql_error_message(c)[0], "a message says why");
    CHECK(acio_mysql_query(c, "SELECT 1", NULL) == ACIO_EMYSQL_CONNECTION, "closed");
    CHECK(acio_mysql_execute(c, "SELECT 1", NULL, 0, NULL) == ACIO_EMYSQL_CONNECTION, "closed");
    acio_mysql_close(c);
    return NULL;
}

Test(mysql, server_killed_mid_query, .init = start, .fini = stop)
{
    run_ok(killed, NULL);
}

/* ---- failing allocations ---- */

static void *alloc_body(void *arg)
{
    long n = *(long *)arg;
    acio_mysql_t *c = NULL;
    acio__alloc_fail_after(n);
    int rc = connect_url(&c, NULL);
    if (rc == 0) {
        acio_mysql_result_t *r = NULL;
        acio_mysql_param_t p = acio_mysql_int(5);
        rc = acio_mysql_execute(c, "SELECT ? * 2, 'x'", &p, 1, &r);
        acio_mysql_result_free(r);
        if (rc == 0) {
            rc = acio_mysql_query(c, "SELECT 1; SELECT 2", &r);
            acio_mysql_result_free(r);
        }
        if (rc == 0 || rc == -ENOMEM) {
            /* Whatever failed, the connection is in step, or closed (an allocation failed
             * while waiting on its socket). */
            acio__alloc_fail_after(0);
            int rc2 = acio_mysql_query(c, "SELECT 3", NULL);
            if (rc2 != 0 && (rc2 != ACIO_EMYSQL_CONNECTION || rc == 0))
                rc = rc2;
        }
        acio_mysql_close(c);
    }
    acio__alloc_fail_after(0);
    return (void *)(intptr_t)rc;
}

Test(mysql, every_allocation_failure_is_clean, .init = start, .fini = stop)
{
    bool succeeded = false;
    for (long n = 1; n < 80 && !succeeded; n++) {
        void *res = NULL;
        int rc = acio_run(alloc_body, &n, &res);
        cr_assert(rc == 0 || rc == -ENOMEM, "step %ld: %s", n, acio_err_name(rc));
        int qrc = (int)(intptr_t)res;
        cr_assert(rc != 0 || qrc == 0 || qrc == -ENOMEM, "step %ld: query %s", n,
                  acio_err_name(qrc));
        succeeded = rc == 0 && qrc == 0;
    }
    cr_assert(succeeded, "never got through");
}

/* ---- TLS ---- */

static void *tls_body(void *arg)
{
    (void)arg;
    char url[512];
    snprintf(url, sizeof(url), "%s?ssl=verify&ssl_ca=%s", srv.url, certs.ca);
    acio_mysql_t *c;
    int rc = acio_mysql_connect_url(&c, url, NULL);
    CHECK(rc == 0, "tls: %s (%s)", acio_err_name(rc), acio_mysql_connect_error());
    CHECK(acio_mysql_is_tls(c), "encrypted");
    acio_mysql_result_t *r = NULL;
    rc = acio_mysql_query(c, "SHOW SESSION STATUS LIKE 'Ssl_version'", &r);
    CHECK(rc == 0 && acio_mysql_result_nrows(r) == 1 &&
              strncmp(acio_mysql_result_text(r, 0, 1, NULL), "TLS", 3) == 0,
          "the server sees TLS: %s", rc == 0 ? acio_mysql_result_text(r, 0, 1, NULL) : "");
    acio_mysql_result_free(r);
    if (check_usable(c) < 0)
        return NULL;
    acio_mysql_close(c);
    /* A CA that did not sign the server's certificate fails verification. */
    snprintf(url, sizeof(url), "%s?ssl=verify&ssl_ca=%s", srv.url, certs.cert);
    rc = acio_mysql_connect_url(&c, url, NULL);
    CHECK(rc == ACIO_EMYSQL_CONNECT, "wrong CA: %s", acio_err_name(rc));
    return NULL;
}

Test(mysql, tls_with_a_verified_certificate)
{
    certs_make("mysql-tls");
    cr_assert_eq(mysql_server_start_tls(&srv, certs.ca, certs.cert, certs.key), 0,
                 "mariadbd with TLS did not start");
    run_ok(tls_body, NULL);
    mysql_server_stop(&srv);
    certs_cleanup();
}

/* ---- the pool ---- */

typedef struct {
    acio_mysql_pool_t *pool;
    int i;
} pool_job_t;

static void *pool_worker(void *arg)
{
    pool_job_t *j = arg;
    acio_mysql_t *c;
    int rc = acio_mysql_pool_acquire(j->pool, &c);
    if (rc < 0)
        return rc == -ECANCELED ? NULL : acio_raise(rc, "acquire %d", j->i);
    /* Some leave their connection dirty: inside a transaction. */
    if (j->i % 3 == 0)
        rc = acio_mysql_begin(c);
    if (rc == 0) {
        acio_mysql_param_t p = acio_mysql_double(0.002 * (j->i % 5));
        rc = acio_mysql_execute(c, "SELECT SLEEP(?)", &p, 1, NULL);
    }
    acio_mysql_pool_release(j->pool, c);
    return rc == 0 || rc == -ECANCELED ? NULL : acio_raise(rc, "worker %d", j->i);
}

static int64_t server_connections(acio_mysql_t *c)
{
    acio_mysql_result_t *r = NULL;
    int64_t n = -1;
    if (acio_mysql_query(c,
                         "SELECT COUNT(*) FROM information_schema.processlist WHERE user = "
                         "'" MYSQL_SERVER_USER "'",
                         &r) == 0 &&
        acio_mysql_result_int(r, 0, 0, &n) == 0) {
    }
    acio_mysql_result_free(r);
    return n;
}

static void *pool_contention(void *arg)
{
    (void)arg;
    acio_mysql_pool_opts_t po = {.minsize = 1, .maxsize = 3};
    acio_mysql_pool_t *pool;
    int rc = acio_mysql_pool_new_url(&pool, srv.url, NULL, &po);
    CHECK(rc == 0, "pool: %s (%s)", acio_err_name(rc), acio_mysql_connect_error());
    CHECK(acio_mysql_pool_size(pool) == 1 && acio_mysql_pool_freesize(pool) == 1, "minsize");
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
        CHECK(acio_mysql_pool_size(pool) <= 3, "size %zu", acio_mysql_pool_size(pool));
        acio_task_cancel(t[rand_r(&seed) % N], NULL);
    }
    for (int i = 0; i < N; i++) {
        rc = acio_await(t[i], NULL);
        CHECK(rc == 0 || rc == -ECANCELED, "worker %d: %s", i, acio_err_name(rc));
        acio_future_unref(t[i]);
    }
    size_t size = acio_mysql_pool_size(pool);
    CHECK(size >= 1 && size <= 3, "size %zu", size);
    CHECK(acio_mysql_pool_freesize(pool) == size, "all back: %zu of %zu",
          acio_mysql_pool_freesize(pool), size);
    /* Every connection is clean: not busy, not in a transaction. */
    acio_mysql_t *held[3];
    for (size_t i = 0; i < size; i++) {
        CHECK(acio_mysql_pool_acquire(pool, &held[i]) == 0, "acquire");
        CHECK(!acio_mysql_in_transaction(held[i]) && !acio_mysql_is_busy(held[i]), "clean");
        if (check_usable(held[i]) < 0)
            return NULL;
    }
    CHECK(acio_mysql_pool_size(pool) == size, "no new connection was needed");
    for (size_t i = 0; i < size; i++)
        acio_mysql_pool_release(pool, held[i]);
    /* The server sees no more connections than the pool has (none leaked). A closed
     * connection's thread ends a moment after the close: ask again until it is gone. */
    acio_mysql_t *c;
    CHECK(acio_mysql_pool_acquire(pool, &c) == 0, "acquire");
    int64_t n = -1;
    for (int tries = 0; tries < 300 && n != (int64_t)acio_mysql_pool_size(pool); tries++) {
        n = server_connections(c);
        if (n != (int64_t)acio_mysql_pool_size(pool))
            CHECK(acio_sleep(0.01) == 0, "sleep");
    }
    CHECK(n == (int64_t)acio_mysql_pool_size(pool), "server has %lld connections, pool %zu",
          (long long)n, acio_mysql_pool_size(pool));
    acio_mysql_pool_release(pool, c);
    acio_mysql_pool_close(pool);

    /* An acquire that cannot be served in time; a broken connection is not reused;
     * recycle replaces an idle connection. */
    acio_mysql_pool_opts_t po1 = {
        .minsize = 1, .maxsize = 1, .acquire_timeout = 0.05, .recycle = 0.2};
    acio_mysql_pool_t *small;
    CHECK(acio_mysql_pool_new_url(&small, srv.url, NULL, &po1) == 0, "small pool");
    acio_mysql_t *first, *second;
    CHECK(acio_mysql_pool_acquire(small, &first) == 0, "first");
    CHECK(acio_mysql_pool_acquire(small, &second) == -ETIMEDOUT, "second times out");
    unsigned long id = acio_mysql_thread_id(first);
    CHECK(acio_mysql_query(first, "SET @dirty = 1", NULL) == 0, "session variable");
    acio_mysql_pool_release(small, first);
    CHECK(acio_mysql_pool_acquire(small, &second) == 0 && acio_mysql_thread_id(second) == id,
          "the same one");
    /* Broken: killed from the server side. */
    acio_mysql_t *k;
    CHECK(connect_url(&k, NULL) == 0, "killer");
    char sql[48];
    snprintf(sql, sizeof(sql), "KILL %lu", id);
    CHECK(acio_mysql_query(k, sql, NULL) == 0, "kill");
    CHECK(acio_mysql_query(second, "SELECT 1", NULL) == ACIO_EMYSQL_CONNECTION, "broken: %s",
          acio_mysql_error_message(second));
    acio_mysql_pool_release(small, second);
    CHECK(acio_mysql_pool_size(small) == 0, "the broken one was closed");
    CHECK(acio_mysql_pool_acquire(small, &second) == 0 && acio_mysql_thread_id(second) != id,
          "a new one");
    id = acio_mysql_thread_id(second);
    acio_mysql_pool_release(small, second);
    CHECK(acio_sleep(0.3) == 0, "idle past recycle");
    CHECK(acio_mysql_pool_acquire(small, &second) == 0 && acio_mysql_thread_id(second) != id,
          "recycled");
    acio_mysql_pool_release(small, second);
    acio_mysql_pool_close(small);

    /* reset_session: session state does not survive a release. */
    acio_mysql_pool_opts_t po2 = {.minsize = 1, .maxsize = 1, .reset_session = true};
    CHECK(acio_mysql_pool_new_url(&small, srv.url, NULL, &po2) == 0, "reset pool");
    CHECK(acio_mysql_pool_acquire(small, &first) == 0, "acquire");
    acio_mysql_param_t p = acio_mysql_int(1);
    CHECK(acio_mysql_execute(first, "SET @dirty = ?", &p, 1, NULL) == 0, "dirty");
    acio_mysql_pool_release(small, first);
    CHECK(acio_mysql_pool_acquire(small, &first) == 0, "acquire");
    acio_mysql_result_t *r = NULL;
    CHECK(acio_mysql_execute(first, "SELECT @dirty", NULL, 0, &r) == 0 &&
              acio_mysql_result_is_null(r, 0, 0),
          "reset: %s", acio_mysql_error_message(first));
    acio_mysql_result_free(r);
    CHECK(acio_mysql_execute(first, "SET @dirty = ?", &p, 1, NULL) == 0,
          "the statement cache was dropped with the session");
    acio_mysql_pool_release(small, first);
    acio_mysql_pool_close(small);
    acio_mysql_close(k);
    return NULL;
}

Test(mysql, pool_under_contention_with_cancellation, .init = start, .fini = stop)
{
    run_ok(pool_contention, NULL);
}
