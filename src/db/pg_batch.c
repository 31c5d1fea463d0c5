/* PostgreSQL pipeline batches (acio/pg.h): queries queued on the caller's side, then sent
 * together in libpq's pipeline mode with one sync point, so the whole batch costs one
 * round trip; each query's result or error is kept apart. The engine (acio__pg_run in
 * pg.c) flushes, collects per command, and recovers from cancellation (cancel, drain to
 * the sync, leave pipeline mode). */
#include <errno.h>
#include <string.h>

#include "pg_int.h"

typedef struct {
    const char *sql;
    acio_pg_params_t p;
} item_t;

struct acio_pg_batch_s {
    item_t *items;
    int n, cap;
    PGresult **res;
    int *codes;
    acio__pg_err_t *errors;
    bool ran;
};

int acio_pg_batch_new(acio_pg_batch_t **out)
{
    if (!out)
        return -EINVAL;
    *out = acio__calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

/* Drop the outcome of a previous run. */
static void reset_outcome(acio_pg_batch_t *b)
{
    for (int i = 0; b->res && i < b->n; i++) {
        PQclear(b->res[i]);
        b->res[i] = NULL;
    }
    acio__free(b->res);
    acio__free(b->codes);
    acio__free(b->errors);
    b->res = NULL;
    b->codes = NULL;
    b->errors = NULL;
    b->ran = false;
}

void acio_pg_batch_free(acio_pg_batch_t *b)
{
    if (!b)
        return;
    reset_outcome(b);
    acio__free(b->items);
    acio__free(b);
}

int acio_pg_batch_add(acio_pg_batch_t *b, const char *sql, const acio_pg_params_t *p)
{
    if (!b || !sql || (p && (p->nparams < 0 || (p->nparams > 0 && !p->values))))
        return -EINVAL;
    if (b->ran)
        reset_outcome(b);
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 8;
        item_t *v = acio__realloc(b->items, (size_t)cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        b->items = v;
        b->cap = cap;
    }
    b->items[b->n++] = (item_t){.sql = sql, .p = p ? *p : (acio_pg_params_t){0}};
    return 0;
}

int acio_pg_batch_count(const acio_pg_batch_t *b)
{
    return b ? b->n : 0;
}

int acio_pg_batch_run(acio_pg_t *c, acio_pg_batch_t *b)
{
    if (!b)
        return -EINVAL;
    int rc = acio__pg_begin(c);
    if (rc < 0)
        return rc;
    reset_outcome(b);
    if (b->n == 0)
        return 0;
    b->res = acio__calloc((size_t)b->n, sizeof(*b->res));
    b->codes = acio__calloc((size_t)b->n, sizeof(*b->codes));
    b->errors = acio__calloc((size_t)b->n, sizeof(*b->errors));
    if (!b->res || !b->codes || !b->errors) {
        reset_outcome(b);
        return -ENOMEM;
    }
    if (!PQenterPipelineMode(c->conn))
        return acio__pg_send_failed(c);
    bool ok = true;
    for (int i = 0; ok && i < b->n; i++) {
        const acio_pg_params_t *p = &b->items[i].p;
        ok = PQsendQueryParams(c->conn, b->items[i].sql, p->nparams, (const Oid *)p->types,
                               p->values, p->lengths, p->formats, p->result_format);
    }
    if (ok)
        ok = PQpipelineSync(c->conn);
    if (!ok) {
        /* Half a batch is queued in libpq: the link cannot be used sanely any more. */
        int err = acio__pg_send_failed(c);
        acio__pg_lose(c);
        reset_outcome(b);
        return err == -ENOMEM ? err : ACIO_EPG_CONNECTION;
    }
    acio__pg_sink_t s = {.nsync = 1,
                         .ncmd = b->n,
                         .res = b->res,
                         .codes = b->codes,
                         .errors = b->errors,
                         .nreport = b->n};
    rc = acio__pg_run(c, &s);
    b->ran = true;
    if (rc != 0 && rc != ACIO_EPG_SERVER) {
        /* Cancelled, timed out or lost: no query's outcome is known for sure. */
        for (int i = 0; i < b->n; i++) {
            PQclear(b->res[i]);
            b->res[i] = NULL;
            if (b->codes[i] == 0)
                b->codes[i] = rc;
        }
    }
    return rc;
}

int acio_pg_batch_status(const acio_pg_batch_t *b, int i)
{
    if (!b || i < 0 || i >= b->n || !b->ran)
        return -EINVAL;
    return b->codes[i];
}

const char *acio_pg_batch_error_sqlstate(const acio_pg_batch_t *b, int i)
{
    if (!b || i < 0 || i >= b->n || !b->ran)
        return "";
    return b->errors[i].sqlstate;
}

const char *acio_pg_batch_error_message(const acio_pg_batch_t *b, int i)
{
    if (!b || i < 0 || i >= b->n || !b->ran)
        return "";
    return b->errors[i].message;
}

int acio_pg_batch_result(acio_pg_batch_t *b, int i, acio_pg_result_t **out)
{
    if (!b || !out || i < 0 || i >= b->n || !b->ran)
        return -EINVAL;
    *out = NULL;
    if (b->codes[i] != 0)
        return b->codes[i];
    acio_pg_result_t *r = acio__malloc(sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->res = b->res[i]; /* may be NULL for a result-less statement: an empty result */
    b->res[i] = NULL;
    *out = r;
    return 0;
}
