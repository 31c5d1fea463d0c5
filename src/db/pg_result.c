/* PostgreSQL results (acio/pg.h): a PGresult behind typed accessors that read both the
 * text and the binary wire formats of the common built-in types. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

void acio_pg_result_free(acio_pg_result_t *r)
{
    if (!r)
        return;
    PQclear(r->res);
    acio__free(r);
}

int acio_pg_result_nrows(const acio_pg_result_t *r)
{
    return r && r->res ? PQntuples(r->res) : 0;
}

int acio_pg_result_ncols(const acio_pg_result_t *r)
{
    return r && r->res ? PQnfields(r->res) : 0;
}

const char *acio_pg_result_column_name(const acio_pg_result_t *r, int col)
{
    return r && r->res ? PQfname(r->res, col) : NULL;
}

int acio_pg_result_column_index(const acio_pg_result_t *r, const char *name)
{
    return r && r->res && name ? PQfnumber(r->res, name) : -1;
}

unsigned acio_pg_result_column_type(const acio_pg_result_t *r, int col)
{
    if (!r || !r->res || col < 0 || col >= PQnfields(r->res))
        return 0;
    return PQftype(r->res, col);
}

long long acio_pg_result_affected(const acio_pg_result_t *r)
{
    if (!r || !r->res)
        return -1;
    const char *t = PQcmdTuples(r->res);
    if (!t || !*t)
        return -1;
    return strtoll(t, NULL, 10);
}

const char *acio_pg_result_status(const acio_pg_result_t *r)
{
    const char *s = r && r->res ? PQcmdStatus(r->res) : NULL;
    return s ? s : "";
}

static bool in_range(const acio_pg_result_t *r, int row, int col)
{
    return r && r->res && row >= 0 && col >= 0 && row < PQntuples(r->res) &&
           col < PQnfields(r->res);
}

bool acio_pg_result_is_null(const acio_pg_result_t *r, int row, int col)
{
    return !in_range(r, row, col) || PQgetisnull(r->res, row, col);
}

const char *acio_pg_result_text(const acio_pg_result_t *r, int row, int col, size_t *len)
{
    if (len)
        *len = 0;
    if (!in_range(r, row, col) || PQgetisnull(r->res, row, col))
        return NULL;
    if (len)
        *len = (size_t)PQgetlength(r->res, row, col);
    return PQgetvalue(r->res, row, col);
}

/* Common checks: the value's bytes and whether they are binary. */
static int value(const acio_pg_result_t *r, int row, int col, const unsigned char **v, int *len,
                 bool *binary)
{
    if (!in_range(r, row, col))
        return -EINVAL;
    if (PQgetisnull(r->res, row, col))
        return ACIO_EPG_NULL;
    *v = (const unsigned char *)PQgetvalue(r->res, row, col);
    *len = PQgetlength(r->res, row, col);
    *binary = PQfformat(r->res, col) == 1;
    return 0;
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = (x << 8) | p[i];
    return x;
}

int acio_pg_result_int(const acio_pg_result_t *r, int row, int col, int64_t *out)
{
    const unsigned char *v;
    int len;
    bool bin;
    int rc = value(r, row, col, &v, &len, &bin);
    if (rc < 0)
        return rc;
    if (bin) {
        unsigned t = PQftype(r->res, col);
        if (t == ACIO_PG_INT2 && len == 2)
            *out = (int16_t)be(v, 2);
        else if (t == ACIO_PG_INT4 && len == 4)
            *out = (int32_t)be(v, 4);
        else if (t == ACIO_PG_INT8 && len == 8)
            *out = (int64_t)be(v, 8);
        else if (t == ACIO_PG_OID && len == 4)
            *out = (uint32_t)be(v, 4);
        else
            return ACIO_EPG_TYPE;
        return 0;
    }
    char *end;
    errno = 0;
    long long x = strtoll((const char *)v, &end, 10);
    if (errno || end == (const char *)v || *end)
        return ACIO_EPG_TYPE;
    *out = x;
    return 0;
}

int acio_pg_result_float(const acio_pg_result_t *r, int row, int col, double *out)
{
    const unsigned char *v;
    int len;
    bool bin;
    int rc = value(r, row, col, &v, &len, &bin);
    if (rc < 0)
        return rc;
    if (bin) {
        unsigned t = PQftype(r->res, col);
        if (t == ACIO_PG_FLOAT8 && len == 8) {
            uint64_t bits = be(v, 8);
            double d;
            memcpy(&d, &bits, sizeof(d));
            *out = d;
            return 0;
        }
        if (t == ACIO_PG_FLOAT4 && len == 4) {
            uint32_t bits = (uint32_t)be(v, 4);
            float f;
            memcpy(&f, &bits, sizeof(f));
            *out = f;
            return 0;
        }
        int64_t i;
        if (acio_pg_result_int(r, row, col, &i) == 0) {
            *out = (double)i;
            return 0;
        }
        return ACIO_EPG_TYPE;
    }
    char *end;
    double d = strtod((const char *)v, &end);
    if (end == (const char *)v || *end)
        return ACIO_EPG_TYPE;
    *out = d;
    return 0;
}

int acio_pg_result_bool(const acio_pg_result_t *r, int row, int col, bool *out)
{
    const unsigned char *v;
    int len;
    bool bin;
    int rc = value(r, row, col, &v, &len, &bin);
    if (rc < 0)
        return rc;
    if (bin) {
        if (PQftype(r->res, col) != ACIO_PG_BOOL || len != 1)
            return ACIO_EPG_TYPE;
        *out = v[0] != 0;
        return 0;
    }
    if (len == 1 && (v[0] == 't' || v[0] == 'f')) {
        *out = v[0] == 't';
        return 0;
    }
    return ACIO_EPG_TYPE;
}

int acio_pg_result_bytea(const acio_pg_result_t *r, int row, int col, unsigned char **out,
                         size_t *len)
{
    const unsigned char *v;
    int n;
    bool bin;
    int rc = value(r, row, col, &v, &n, &bin);
    if (rc < 0)
        return rc;
    if (bin) {
        unsigned char *b = malloc((size_t)n + 1);
        if (!b)
            return -ENOMEM;
        memcpy(b, v, (size_t)n);
        b[n] = 0;
        *out = b;
        *len = (size_t)n;
        return 0;
    }
    if (PQftype(r->res, col) != ACIO_PG_BYTEA)
        return ACIO_EPG_TYPE;
    size_t m = 0;
    unsigned char *u = PQunescapeBytea(v, &m);
    if (!u)
        return -ENOMEM;
    unsigned char *b = malloc(m + 1);
    if (!b) {
        PQfreemem(u);
        return -ENOMEM;
    }
    memcpy(b, u, m);
    b[m] = 0;
    PQfreemem(u);
    *out = b;
    *len = m;
    return 0;
}
