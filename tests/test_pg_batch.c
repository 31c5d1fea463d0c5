/* PostgreSQL pipeline batches against a real server: several queries in one pipeline
 * with their own results, a failing query aborting the rest (and rolling back the ones
 * before it, outside a transaction), a batch inside an explicit transaction, a timeout and
 * a cancellation mid-pipeline that leave the connection usable, a backend killed
 * mid-pipeline, and failing allocations. */
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

static int64_t count_rows(acio_pg_t *c)
{
    acio_pg_result_t *r = NULL;
    int64_t n = -1;
    if (acio_pg_query(c, "SELECT count(*) FROM b", 0, NULL, &r) == 0 &&
        acio_pg_result_int(r, 0, 0, &n) == 0) {
        acio_pg_result_free(r);
        return n;
    }
    acio_pg_result_free(r);
    return -1;
}

static void *batches(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    CHECK(acio_pg_connect(&c, srv.conninfo, NULL) == 0, "connect: %s", acio_pg_connect_error());
    CHECK(acio_pg_execute(c, "CREATE TABLE b (k int PRIMARY KEY, v text)") == 0, "create");
    acio_pg_batch_t *b;
    CHECK(acio_pg_batch_new(&b) == 0, "new");
    const char *v1[] = {"1", "one"}, *v2[] = {"2", "two"};
    acio_pg_params_t p1 = {.nparams = 2, .values = v1}, p2 = {.nparams = 2, .values = v2};
    CHECK(acio_pg_batch_add(b, "INSERT INTO b VALUES ($1, $2)", &p1) == 0 &&
              acio_pg_batch_add(b, "INSERT INTO b VALUES ($1, $2)", &p2) == 0 &&
              acio_pg_batch_add(b, "SELECT k, v FROM b ORDER BY k", NULL) == 0,
          "add");
    CHECK(acio_pg_batch_count(b) == 3, "count");
    CHECK(acio_pg_batch_status(b, 0) == -EINVAL, "no status before a run");
    int rc = acio_pg_batch_run(c, b);
    CHECK(rc == 0, "run: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    acio_pg_result_t *r = NULL;
    CHECK(acio_pg_batch_result(b, 0, &r) == 0 && acio_pg_result_affected(r) == 1, "insert 1");
    acio_pg_result_free(r);
    CHECK(acio_pg_batch_result(b, 2, &r) == 0 && acio_pg_result_nrows(r) == 2 &&
              strcmp(acio_pg_result_text(r, 1, 1, NULL), "two") == 0,
          "the select sees the inserts before it");
    acio_pg_result_free(r);
    acio_pg_batch_free(b);

    /* A failure in the middle: the rest is aborted, the ones before rolled back. */
    CHECK(acio_pg_batch_new(&b) == 0, "new");
    const char *v3[] = {"3", "three"};
    acio_pg_params_t p3 = {.nparams = 2, .values = v3};
    CHECK(acio_pg_batch_add(b, "INSERT INTO b VALUES ($1, $2)", &p3) == 0 &&
              acio_pg_batch_add(b, "INSERT INTO b VALUES ($1, $2)", &p1) == 0 &&
              acio_pg_batch_add(b, "SELECT 1", NULL) == 0,
          "add");
    rc = acio_pg_batch_run(c, b);
    CHECK(rc == ACIO_EPG_SERVER && strcmp(acio_pg_error_sqlstate(c), "23505") == 0,
          "duplicate: %s %s", acio_err_name(rc), acio_pg_error_sqlstate(c));
    CHECK(acio_pg_batch_status(b, 0) == 0, "first ran: %s",
          acio_err_name(acio_pg_batch_status(b, 0)));
    CHECK(acio_pg_batch_status(b, 1) == ACIO_EPG_SERVER &&
              strcmp(acio_pg_batch_error_sqlstate(b, 1), "23505") == 0 &&
              strstr(acio_pg_batch_error_message(b, 1), "duplicate"),
          "second failed: %s", acio_pg_batch_error_message(b, 1));
    CHECK(acio_pg_batch_status(b, 2) == ACIO_EPG_ABORTED, "third aborted: %s",
          acio_err_name(acio_pg_batch_status(b, 2)));
    CHECK(acio_pg_batch_result(b, 2, &r) == ACIO_EPG_ABORTED && r == NULL, "no result");
    CHECK(count_rows(c) == 2, "the first insert was rolled back with the batch");
    CHECK(!acio_pg_in_transaction(c), "no transaction left open");

    /* Inside an explicit transaction the batch is part of it. */
    CHECK(acio_pg_execute(c, "BEGIN") == 0, "begin");
    acio_pg_batch_t *ok;
    CHECK(acio_pg_batch_new(&ok) == 0 &&
              acio_pg_batch_add(ok, "INSERT INTO b VALUES ($1, $2)", &p3) == 0,
          "ok batch");
    CHECK(acio_pg_batch_run(c, ok) == 0 && acio_pg_in_transaction(c), "in the transaction");
    CHECK(acio_pg_execute(c, "ROLLBACK") == 0 && count_rows(c) == 2, "rolled back");
    /* Run again: the same queries, a fresh outcome. */
    CHECK(acio_pg_batch_run(c, ok) == 0 && count_rows(c) == 3, "run again");
    acio_pg_batch_free(ok);
    acio_pg_batch_free(b);

    /* An empty batch costs nothing. */
    CHECK(acio_pg_batch_new(&b) == 0 && acio_pg_batch_run(c, b) == 0, "empty");
    acio_pg_batch_free(b);
    CHECK(acio_pg_batch_add(NULL, "SELECT 1", NULL) == -EINVAL, "NULL batch");
    acio_pg_close(c);
    return NULL;
}

Test(pg_batch, one_pipeline_results_and_errors_per_query, .init = start, .fini = stop)
{
    run_ok(batches, NULL);
}

typedef struct {
    acio_pg_t *c;
    acio_pg_batch_t *b;
} run_arg_t;

static void *run_batch(void *arg)
{
    run_arg_t *a = arg;
    return (void *)(intptr_t)acio_pg_batch_run(a->c, a->b);
}

static void *faults(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    acio_pg_opts_t o = {.query_timeout = 0.2};
    CHECK(acio_pg_connect(&c, srv.conninfo, &o) == 0, "connect");
    acio_pg_batch_t *b;
    CHECK(acio_pg_batch_new(&b) == 0, "new");
    CHECK(acio_pg_batch_add(b, "SELECT 1", NULL) == 0 &&
              acio_pg_batch_add(b, "SELECT pg_sleep(30)", NULL) == 0 &&
              acio_pg_batch_add(b, "SELECT 3", NULL) == 0,
          "add");
    /* A timeout mid-pipeline: cancelled, drained to the sync, usable. */
    int rc = acio_pg_batch_run(c, b);
    CHECK(rc == -ETIMEDOUT, "timeout: %s", acio_err_name(rc));
    CHECK(acio_pg_batch_status(b, 2) == -ETIMEDOUT, "status %s",
          acio_err_name(acio_pg_batch_status(b, 2)));
    CHECK(acio_pg_is_connected(c) && !acio_pg_is_busy(c), "usable");
    acio_pg_result_t *r = NULL;
    int64_t v = 0;
    CHECK(acio_pg_query(c, "SELECT 42", 0, NULL, &r) == 0 && acio_pg_result_int(r, 0, 0, &v) == 0 &&
              v == 42,
          "after the timeout: %s", acio_pg_error_message(c));
    acio_pg_result_free(r);
    /* A cancellation mid-pipeline. */
    acio_pg_set_query_timeout(c, 0);
    run_arg_t a = {c, b};
    acio_task_t *t;
    CHECK(acio_create_task(&t, run_batch, &a, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(c));
    CHECK(acio_sleep(0.05) == 0, "sleep");
    acio_task_cancel(t, NULL);
    CHECK(acio_await(t, NULL) == -ECANCELED, "cancelled");
    acio_future_unref(t);
    CHECK(acio_pg_query(c, "SELECT 43", 0, NULL, &r) == 0 && acio_pg_result_int(r, 0, 0, &v) == 0 &&
              v == 43,
          "after the cancellation: %s", acio_pg_error_message(c));
    acio_pg_result_free(r);
    /* The backend killed mid-pipeline. */
    CHECK(acio_create_task(&t, run_batch, &a, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(c));
    CHECK(acio_sleep(0.05) == 0, "sleep");
    CHECK(kill(acio_pg_backend_pid(c), SIGKILL) == 0, "kill");
    void *res = NULL;
    CHECK(acio_await(t, &res) == 0 && (int)(intptr_t)res == ACIO_EPG_CONNECTION, "lost: %s",
          acio_err_name((int)(intptr_t)res));
    acio_future_unref(t);
    CHECK(acio_pg_batch_run(c, b) == ACIO_EPG_CONNECTION, "closed");
    acio_pg_batch_free(b);
    acio_pg_close(c);
    return NULL;
}

Test(pg_batch, timeout_cancel_and_kill_mid_pipeline, .init = start, .fini = stop)
{
    run_ok(faults, NULL);
}

static void *alloc_body(void *arg)
{
    long n = *(long *)arg;
    acio_pg_t *c = NULL;
    int rc = acio_pg_connect(&c, srv.conninfo, NULL);
    if (rc < 0)
        return (void *)(intptr_t)rc;
    acio_pg_batch_t *b = NULL;
    acio__alloc_fail_after(n);
    rc = acio_pg_batch_new(&b);
    if (rc == 0)
        rc = acio_pg_batch_add(b, "SELECT 1", NULL);
    if (rc == 0)
        rc = acio_pg_batch_add(b, "SELECT 2", NULL);
    if (rc == 0)
        rc = acio_pg_batch_run(c, b);
    acio_pg_result_t *r = NULL;
    if (rc == 0)
        rc = acio_pg_batch_result(b, 1, &r);
    acio__alloc_fail_after(0);
    acio_pg_result_free(r);
    acio_pg_batch_free(b);
    acio_pg_close(c);
    return (void *)(intptr_t)rc;
}

Test(pg_batch, every_allocation_failure_is_clean, .init = start, .fini = stop)
{
    bool succeeded = false;
    for (long n = 1; n < 40 && !succeeded; n++) {
        void *res = NULL;
        int rc = acio_run(alloc_body, &n, &res);
        cr_assert(rc == 0 || rc == -ENOMEM, "step %ld: %s", n, acio_err_name(rc));
        int qrc = (int)(intptr_t)res;
        cr_assert(rc != 0 || qrc == 0 || qrc == -ENOMEM, "step %ld: %s", n, acio_err_name(qrc));
        succeeded = rc == 0 && qrc == 0;
    }
    cr_assert(succeeded, "never got through");
}
