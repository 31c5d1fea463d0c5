/* The PostgreSQL prepared-statement cache against a real server: statements prepared
 * once per query text (Prepare and Execute in one round trip), reused, evicted least
 * recently used first and DEALLOCATEd on the server, re-prepared when the server says a
 * plan went stale or a statement is gone, forgotten after DISCARD ALL, turned off for
 * pgbouncer; a timeout and a killed backend while a statement is being prepared. */
#include <criterion/criterion.h>
#include <string.h>

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

/* The statements the server holds for this session, as "stmt|stmt|..." in text order
 * (the checking query is itself cached, so it appears too). */
static int server_statements(acio_pg_t *c, char *out, size_t cap)
{
    acio_pg_result_t *r = NULL;
    int rc = acio_pg_query(c, "SELECT statement FROM pg_prepared_statements ORDER BY statement", 0,
                           NULL, &r);
    CHECK_INT(rc == 0, "pg_prepared_statements: %s %s", acio_err_name(rc),
              acio_pg_error_message(c));
    out[0] = '\0';
    for (int i = 0; i < acio_pg_result_nrows(r); i++) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", i ? "|" : "", acio_pg_result_text(r, i, 0, NULL));
    }
    acio_pg_result_free(r);
    return 0;
}

#define STMTS "SELECT statement FROM pg_prepared_statements ORDER BY statement"

static int query_int(acio_pg_t *c, const char *sql, const char *arg, int64_t *v)
{
    acio_pg_result_t *r = NULL;
    const char *args[] = {arg};
    int rc = acio_pg_query(c, sql, arg ? 1 : 0, args, &r);
    if (rc == 0)
        rc = acio_pg_result_int(r, 0, 0, v);
    acio_pg_result_free(r);
    return rc;
}

static void *lru(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    acio_pg_opts_t o = {.statement_cache_size = 3};
    int rc = acio_pg_connect(&c, srv.conninfo, &o);
    CHECK(rc == 0, "connect: %s", acio_pg_connect_error());
    int64_t v = 0;
    CHECK(query_int(c, "SELECT $1::int + 1", "41", &v) == 0 && v == 42, "A");
    CHECK(acio_pg_statement_cache_count(c) == 1, "cached: %zu", acio_pg_statement_cache_count(c));
    char s[1024];
    if (server_statements(c, s, sizeof(s)) < 0)
        return NULL;
    CHECK(strcmp(s, "SELECT $1::int + 1|" STMTS) == 0, "on the server: %s", s);
    for (int i = 0; i < 5; i++) {
        rc = query_int(c, "SELECT $1::int + 1", "1", &v);
        CHECK(rc == 0 && v == 2, "A again: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    }
    CHECK(acio_pg_statement_cache_count(c) == 2, "reused: %zu", acio_pg_statement_cache_count(c));
    /* B, then C evicts the least recently used (the checking query). */
    CHECK(query_int(c, "SELECT 2", NULL, &v) == 0 && v == 2, "B");
    CHECK(query_int(c, "SELECT 3", NULL, &v) == 0 && v == 3, "C");
    CHECK(acio_pg_statement_cache_count(c) == 3, "full: %zu", acio_pg_statement_cache_count(c));
    /* The check is prepared again (evicting A); the old check was DEALLOCATEd with C. */
    if (server_statements(c, s, sizeof(s)) < 0)
        return NULL;
    CHECK(strcmp(s, "SELECT $1::int + 1|SELECT 2|SELECT 3|" STMTS) == 0, "after C: %s", s);
    if (server_statements(c, s, sizeof(s)) < 0)
        return NULL;
    CHECK(strcmp(s, "SELECT 2|SELECT 3|" STMTS) == 0, "A was deallocated: %s", s);
    /* Parameter types are part of the key. */
    const char *one[] = {"7"};
    unsigned t8[] = {ACIO_PG_INT8};
    acio_pg_params_t p = {.nparams = 1, .values = one, .types = t8};
    acio_pg_result_t *r = NULL;
    CHECK(acio_pg_query_params(c, "SELECT $1", &p, &r) == 0 &&
              acio_pg_result_column_type(r, 0) == ACIO_PG_INT8,
          "typed");
    acio_pg_result_free(r);
    unsigned t4[] = {ACIO_PG_INT4};
    p.types = t4;
    CHECK(acio_pg_query_params(c, "SELECT $1", &p, &r) == 0 &&
              acio_pg_result_column_type(r, 0) == ACIO_PG_INT4,
          "another type, another statement");
    acio_pg_result_free(r);

    /* A failed Prepare leaves nothing cached and the connection usable. */
    size_t before = acio_pg_statement_cache_count(c);
    CHECK(acio_pg_query(c, "SELEC 1", 0, NULL, NULL) == ACIO_EPG_SERVER &&
              strcmp(acio_pg_error_sqlstate(c), "42601") == 0,
          "syntax error");
    CHECK(acio_pg_statement_cache_count(c) <= before, "not cached");
    CHECK(query_int(c, "SELECT 3", NULL, &v) == 0 && v == 3, "usable");

    /* DISCARD ALL forgets everything, on both sides. */
    CHECK(acio_pg_execute(c, "DISCARD ALL") == 0, "discard");
    CHECK(acio_pg_statement_cache_count(c) == 0, "forgotten");
    CHECK(query_int(c, "SELECT 3", NULL, &v) == 0 && v == 3, "prepared again");
    acio_pg_close(c);
    return NULL;
}

Test(pg_cache, lru_eviction_and_deallocate, .init = start, .fini = stop)
{
    run_ok(lru, NULL);
}

static void *stale(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    int rc = acio_pg_connect(&c, srv.conninfo, NULL);
    CHECK(rc == 0, "connect: %s", acio_pg_connect_error());
    CHECK(acio_pg_execute(c, "CREATE TABLE s (a int); INSERT INTO s VALUES (1)") == 0, "create");
    acio_pg_result_t *r = NULL;
    CHECK(acio_pg_query(c, "SELECT * FROM s", 0, NULL, &r) == 0 && acio_pg_result_ncols(r) == 1,
          "one column");
    acio_pg_result_free(r);
    /* The table changes under the cached plan: the statement is prepared again. */
    CHECK(acio_pg_execute(c, "ALTER TABLE s ADD COLUMN b int DEFAULT 2") == 0, "alter");
    rc = acio_pg_query(c, "SELECT * FROM s", 0, NULL, &r);
    CHECK(rc == 0 && acio_pg_result_ncols(r) == 2, "re-prepared: %s %s", acio_err_name(rc),
          acio_pg_error_message(c));
    acio_pg_result_free(r);
    /* Inside a transaction the error has already failed it: it is returned. */
    CHECK(acio_pg_execute(c, "BEGIN") == 0, "begin");
    CHECK(acio_pg_execute(c, "ALTER TABLE s ADD COLUMN c int") == 0, "alter");
    rc = acio_pg_query(c, "SELECT * FROM s", 0, NULL, &r);
    CHECK(rc == ACIO_EPG_SERVER && strcmp(acio_pg_error_sqlstate(c), "0A000") == 0,
          "stale in a transaction: %s %s", acio_err_name(rc), acio_pg_error_sqlstate(c));
    CHECK(acio_pg_execute(c, "ROLLBACK") == 0, "rollback");
    rc = acio_pg_query(c, "SELECT * FROM s", 0, NULL, &r);
    CHECK(rc == 0 && acio_pg_result_ncols(r) == 2, "after rollback: %s", acio_err_name(rc));
    acio_pg_result_free(r);
    /* Statements dropped behind the cache's back (later in a script): 26000, prepared
     * again. */
    CHECK(acio_pg_execute(c, "SELECT 1; DEALLOCATE ALL") == 0, "deallocate all");
    CHECK(acio_pg_statement_cache_count(c) > 0, "the cache did not notice");
    rc = acio_pg_query(c, "SELECT * FROM s", 0, NULL, &r);
    CHECK(rc == 0 && acio_pg_result_ncols(r) == 2, "gone, prepared again: %s %s", acio_err_name(rc),
          acio_pg_error_message(c));
    acio_pg_result_free(r);
    acio_pg_close(c);

    /* pgbouncer's transaction mode: no named statements at all. */
    acio_pg_opts_t off = {.statement_cache_size = -1};
    CHECK(acio_pg_connect(&c, srv.conninfo, &off) == 0, "connect");
    for (int i = 0; i < 3; i++) {
        CHECK(acio_pg_query(c, "SELECT count(*) FROM pg_prepared_statements", 0, NULL, &r) == 0,
              "count");
        int64_t n = -1;
        CHECK(acio_pg_result_int(r, 0, 0, &n) == 0 && n == 0, "none prepared: %lld %s",
              (long long)n, acio_pg_result_text(r, 0, 0, NULL));
        acio_pg_result_free(r);
    }
    CHECK(acio_pg_statement_cache_count(c) == 0, "off");
    acio_pg_close(c);
    return NULL;
}

Test(pg_cache, stale_plans_and_dropped_statements, .init = start, .fini = stop)
{
    run_ok(stale, NULL);
}

static void *busy(void *arg)
{
    acio_pg_t *c = arg;
    const char *secs[] = {"5"};
    return (void *)(intptr_t)acio_pg_query(c, "SELECT pg_sleep($1::float8)", 1, secs, NULL);
}

static void *faults(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    acio_pg_opts_t o = {.query_timeout = 0.2};
    CHECK(acio_pg_connect(&c, srv.conninfo, &o) == 0, "connect");
    /* A timeout while the statement is prepared and run in one pipeline. */
    int rc = acio_pg_query(c, "SELECT pg_sleep(5)", 0, NULL, NULL);
    CHECK(rc == -ETIMEDOUT, "timeout: %s", acio_err_name(rc));
    CHECK(acio_pg_is_connected(c) && !acio_pg_is_busy(c), "usable");
    int64_t v = 0;
    CHECK(query_int(c, "SELECT $1::int * 2", "21", &v) == 0 && v == 42, "after: %s",
          acio_pg_error_message(c));
    char s[1024];
    if (server_statements(c, s, sizeof(s)) < 0)
        return NULL;
    CHECK(!strstr(s, "pg_sleep"), "the interrupted statement was deallocated: %s", s);
    /* Cancelled twice while waiting for a cached statement's results. */
    acio_pg_set_query_timeout(c, 0);
    const char *zero[] = {"0"};
    CHECK(acio_pg_query(c, "SELECT pg_sleep($1::float8)", 1, zero, NULL) == 0, "cached");
    for (int i = 0; i < 2; i++) {
        acio_task_t *t;
        CHECK(acio_create_task(&t, busy, c, NULL) == 0, "task");
        WAIT_UNTIL(acio_pg_is_busy(c));
        CHECK(acio_sleep(0.05) == 0, "sleep");
        acio_task_cancel(t, NULL);
        CHECK(acio_await(t, NULL) == -ECANCELED, "cancelled");
        acio_future_unref(t);
        CHECK(query_int(c, "SELECT $1::int * 2", "4", &v) == 0 && v == 8, "after cancel");
    }
    /* The backend killed while preparing. */
    acio_task_t *t;
    CHECK(acio_create_task(&t, busy, c, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(c));
    CHECK(acio_sleep(0.05) == 0, "sleep");
    CHECK(kill(acio_pg_backend_pid(c), SIGKILL) == 0, "kill");
    void *res = NULL;
    CHECK(acio_await(t, &res) == 0 && (int)(intptr_t)res == ACIO_EPG_CONNECTION, "lost: %s",
          acio_err_name((int)(intptr_t)res));
    acio_future_unref(t);
    acio_pg_close(c);
    return NULL;
}

Test(pg_cache, timeout_cancel_and_kill_while_preparing, .init = start, .fini = stop)
{
    run_ok(faults, NULL);
}
