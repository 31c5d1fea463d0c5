/* PostgreSQL results (acio/pg.h): a PGresult behind typed accessors that read both the
 * text and the binary wire formats of the common built-in types. */
#include <errno.h>
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

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = (x << 8) | p[i];
    return x;
}

/* What an accessor asks for. */
typedef enum { WANT_INT, WANT_FLOAT, WANT_BOOL } want_t;

typedef union {
    int64_t i;
    double f;
    bool b;
} number_t;

/* A binary value of a number-like type, read as want. */
static int from_binary(unsigned type, const unsigned char *v, int len, want_t want, number_t *out)
{
    int64_t i;
    switch (type) {
    case ACIO_PG_INT2:
        if (len != 2)
            return ACIO_EPG_TYPE;
        i = (int16_t)be(v, 2);
        break;
    case ACIO_PG_INT4:
        if (len != 4)
            return ACIO_EPG_TYPE;
        i = (int32_t)be(v, 4);
        break;
    case ACIO_PG_INT8:
        if (len != 8)
            return ACIO_EPG_TYPE;
        i = (int64_t)be(v, 8);
        break;
    case ACIO_PG_OID:
        if (len != 4)
            return ACIO_EPG_TYPE;
        i = (uint32_t)be(v, 4);
        break;
    case ACIO_PG_FLOAT4:
    case ACIO_PG_FLOAT8: {
        if (want != WANT_FLOAT || len != (type == ACIO_PG_FLOAT4 ? 4 : 8))
            return ACIO_EPG_TYPE;
        if (len == 4) {
            uint32_t bits = (uint32_t)be(v, 4);
            float f;
            memcpy(&f, &bits, sizeof(f));
            out->f = f;
        } else {
            uint64_t bits = be(v, 8);
            memcpy(&out->f, &bits, sizeof(out->f));
        }
        return 0;
    }
    case ACIO_PG_NUMERIC:
        if (want != WANT_FLOAT)
            return ACIO_EPG_TYPE;
        return acio__pg_numeric_to_double(v, len, &out->f);
    case ACIO_PG_BOOL:
        if (want != WANT_BOOL || len != 1)
            return ACIO_EPG_TYPE;
        out->b = v[0] != 0;
        return 0;
    default:
        return ACIO_EPG_TYPE;
    }
    if (want == WANT_BOOL)
        return ACIO_EPG_TYPE;
    if (want == WANT_FLOAT)
        out->f = (double)i;
    else
        out->i = i;
    return 0;
}

/* A text value read as want. */
static int from_text(const char *v, int len, want_t want, number_t *out)
{
    char *end;
    switch (want) {
    case WANT_INT:
        errno = 0;
        out->i = strtoll(v, &end, 10);
        return errno || end == v || *end ? ACIO_EPG_TYPE : 0;
    case WANT_FLOAT:
        out->f = strtod(v, &end);
        return end == v || *end ? ACIO_EPG_TYPE : 0;
    case WANT_BOOL:
        if (len != 1 || (v[0] != 't' && v[0] != 'f'))
            return ACIO_EPG_TYPE;
        out->b = v[0] == 't';
        return 0;
    }
    return ACIO_EPG_TYPE;
}

/* The one reader behind the number-like accessors: range, NULL, format, type. */
static int read_number(const acio_pg_result_t *r, int row, int col, want_t want, number_t *out)
{
    if (!in_range(r, row, col))
        return -EINVAL;
    if (PQgetisnull(r->res, row, col))
        return ACIO_EPG_NULL;
    const char *v = PQgetvalue(r->res, row, col);
    int len = PQgetlength(r->res, row, col);
    if (PQfformat(r->res, col) == 1)
        return from_binary(PQftype(r->res, col), (const unsigned char *)v, len, want, out);
    return from_text(v, len, want, out);
}

int acio_pg_result_int(const acio_pg_result_t *r, int row, int col, int64_t *out)
{
    number_t n;
    int rc = read_number(r, row, col, WANT_INT, &n);
    if (rc == 0)
        *out = n.i;
    return rc;
}

int acio_pg_result_float(const acio_pg_result_t *r, int row, int col, double *out)
{
    number_t n;
    int rc = read_number(r, row, col, WANT_FLOAT, &n);
    if (rc == 0)
        *out = n.f;
    return rc;
}

int acio_pg_result_bool(const acio_pg_result_t *r, int row, int col, bool *out)
{
    number_t n;
    int rc = read_number(r, row, col, WANT_BOOL, &n);
    if (rc == 0)
        *out = n.b;
    return rc;
}

/* A copy of n bytes plus a NUL in a buffer the caller frees with free(). */
static int give_bytes(const void *src, size_t n, unsigned char **out, size_t *len)
{
    unsigned char *b = malloc(n + 1);
    if (!b)
        return -ENOMEM;
    memcpy(b, src, n);
    b[n] = 0;
    *out = b;
    *len = n;
    return 0;
}

int acio_pg_result_bytea(const acio_pg_result_t *r, int row, int col, unsigned char **out,
                         size_t *len)
{
    if (!in_range(r, row, col))
        return -EINVAL;
    if (PQgetisnull(r->res, row, col))
        return ACIO_EPG_NULL;
    const unsigned char *v = (const unsigned char *)PQgetvalue(r->res, row, col);
    if (PQfformat(r->res, col) == 1)
        return give_bytes(v, (size_t)PQgetlength(r->res, row, col), out, len);
    if (PQftype(r->res, col) != ACIO_PG_BYTEA)
        return ACIO_EPG_TYPE;
    size_t m = 0;
    unsigned char *u = PQunescapeBytea(v, &m);
    if (!u)
        return -ENOMEM;
    int rc = give_bytes(u, m, out, len);
    PQfreemem(u);
    return rc;
}
