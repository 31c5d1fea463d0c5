/* PostgreSQL binary formats of the common built-in types (acio/pg.h): the encoders
 * behind the typed parameters (acio_pg_arg_*) and the decoders behind the typed result
 * accessors for dates, timestamps, UUIDs, JSON and numeric. Times are microseconds and
 * dates days since 1970-01-01 (the wire counts from 2000-01-01). numeric goes out as
 * text and its binary form is turned into text, so no precision is ever lost. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define PG_EPOCH_DAYS 10957 /* 2000-01-01 - 1970-01-01 */
#define PG_EPOCH_USEC (PG_EPOCH_DAYS * 86400LL * 1000000LL)

static void put_be(unsigned char *p, uint64_t x, int n)
{
    for (int i = n - 1; i >= 0; i--, x >>= 8)
        p[i] = (unsigned char)x;
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = (x << 8) | p[i];
    return x;
}

/* ---- parameters ---- */

static acio_pg_arg_t inline_arg(unsigned type, uint64_t x, int n)
{
    acio_pg_arg_t a = {.type = type, .format = 1, .len = n, .is_inline = true};
    put_be(a.buf, x, n);
    return a;
}

acio_pg_arg_t acio_pg_arg_null(unsigned type)
{
    return (acio_pg_arg_t){.type = type};
}

acio_pg_arg_t acio_pg_arg_bool(bool v)
{
    return inline_arg(ACIO_PG_BOOL, v ? 1 : 0, 1);
}

acio_pg_arg_t acio_pg_arg_int2(int16_t v)
{
    return inline_arg(ACIO_PG_INT2, (uint16_t)v, 2);
}

acio_pg_arg_t acio_pg_arg_int4(int32_t v)
{
    return inline_arg(ACIO_PG_INT4, (uint32_t)v, 4);
}

acio_pg_arg_t acio_pg_arg_int8(int64_t v)
{
    return inline_arg(ACIO_PG_INT8, (uint64_t)v, 8);
}

acio_pg_arg_t acio_pg_arg_float4(float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return inline_arg(ACIO_PG_FLOAT4, bits, 4);
}

acio_pg_arg_t acio_pg_arg_float8(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return inline_arg(ACIO_PG_FLOAT8, bits, 8);
}

acio_pg_arg_t acio_pg_arg_timestamp(int64_t usec)
{
    return inline_arg(ACIO_PG_TIMESTAMP, (uint64_t)(usec - PG_EPOCH_USEC), 8);
}

acio_pg_arg_t acio_pg_arg_timestamptz(int64_t usec)
{
    return inline_arg(ACIO_PG_TIMESTAMPTZ, (uint64_t)(usec - PG_EPOCH_USEC), 8);
}

acio_pg_arg_t acio_pg_arg_date(int32_t days)
{
    return inline_arg(ACIO_PG_DATE, (uint32_t)(days - PG_EPOCH_DAYS), 4);
}

acio_pg_arg_t acio_pg_arg_uuid(const unsigned char uuid[16])
{
    acio_pg_arg_t a = {.type = ACIO_PG_UUID, .format = 1, .len = 16, .is_inline = true};
    memcpy(a.buf, uuid, 16);
    return a;
}

static acio_pg_arg_t bytes_arg(unsigned type, int format, const void *p, size_t n)
{
    if (!p)
        return acio_pg_arg_null(type);
    return (acio_pg_arg_t){.type = type, .format = format, .len = (int)n, .ptr = p};
}

acio_pg_arg_t acio_pg_arg_text(const char *s)
{
    return bytes_arg(ACIO_PG_TEXT, 1, s, s ? strlen(s) : 0);
}

acio_pg_arg_t acio_pg_arg_bytea(const void *p, size_t n)
{
    return bytes_arg(ACIO_PG_BYTEA, 1, p ? p : "", n);
}

/* These three go in the text format: numeric's binary form is base-10000 digits (text is
 * exact and as short), json's is the text, jsonb's a version byte plus the text. */
acio_pg_arg_t acio_pg_arg_numeric(const char *s)
{
    return bytes_arg(ACIO_PG_NUMERIC, 0, s, 0);
}

acio_pg_arg_t acio_pg_arg_json(const char *s)
{
    return bytes_arg(ACIO_PG_JSON, 0, s, 0);
}

acio_pg_arg_t acio_pg_arg_jsonb(const char *s)
{
    return bytes_arg(ACIO_PG_JSONB, 0, s, 0);
}

int acio_pg_query_args(acio_pg_t *c, const char *sql, int n, const acio_pg_arg_t *args,
                       int result_format, acio_pg_result_t **out)
{
    if (out)
        *out = NULL;
    if (n < 0 || (n > 0 && !args))
        return -EINVAL;
    enum { SMALL = 16 };
    const char *sv[SMALL];
    int sl[SMALL], sf[SMALL];
    unsigned st[SMALL];
    const char **values = sv;
    int *lengths = sl, *formats = sf;
    unsigned *types = st;
    void *heap = NULL;
    if (n > SMALL) {
        size_t each = sizeof(*values) + 2 * sizeof(int) + sizeof(unsigned);
        heap = acio__malloc((size_t)n * each);
        if (!heap)
            return -ENOMEM;
        values = heap;
        lengths = (int *)(values + n);
        formats = lengths + n;
        types = (unsigned *)(formats + n);
    }
    for (int i = 0; i < n; i++) {
        const acio_pg_arg_t *a = &args[i];
        values[i] = a->is_inline ? (const char *)a->buf : a->ptr;
        lengths[i] = a->len;
        formats[i] = a->format;
        types[i] = a->type;
    }
    acio_pg_params_t p = {.nparams = n,
                          .values = values,
                          .lengths = lengths,
                          .formats = formats,
                          .types = types,
                          .result_format = result_format};
    int rc = acio_pg_query_params(c, sql, &p, out);
    acio__free(heap);
    return rc;
}

/* ---- results ---- */

/* A binary numeric as text: ndigits base-10000 digits, the first one weight powers of
 * 10000 from the point, dscale digits after the point. */
static int numeric_text(const unsigned char *v, int len, char *buf, size_t cap)
{
    if (len < 8)
        return ACIO_EPG_TYPE;
    int ndigits = (int16_t)get_be(v, 2), weight = (int16_t)get_be(v + 2, 2);
    unsigned sign = (unsigned)get_be(v + 4, 2);
    int dscale = (int16_t)get_be(v + 6, 2);
    if (ndigits < 0 || dscale < 0 || len != 8 + 2 * ndigits)
        return ACIO_EPG_TYPE;
    const char *special = sign == 0xC000   ? "NaN"
                          : sign == 0xD000 ? "Infinity"
                          : sign == 0xF000 ? "-Infinity"
                                           : NULL;
    if (special) {
        if (snprintf(buf, cap, "%s", special) >= (int)cap)
            return -ERANGE;
        return 0;
    }
    size_t o = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (o + 1 >= cap)                                                                          \
            return -ERANGE;                                                                        \
        buf[o++] = (ch);                                                                           \
    } while (0)
    if (sign == 0x4000)
        PUT('-');
    /* The integer part: digit groups with weight >= 0. */
    if (weight < 0 || ndigits == 0) {
        PUT('0');
    } else {
        for (int d = 0; d <= weight; d++) {
            int g = d < ndigits ? (int)get_be(v + 8 + 2 * d, 2) : 0;
            char tmp[8];
            snprintf(tmp, sizeof(tmp), d == 0 ? "%d" : "%04d", g);
            for (char *t = tmp; *t; t++)
                PUT(*t);
        }
    }
    if (dscale > 0) {
        PUT('.');
        for (int k = 0; k < dscale; k++) {
            /* Decimal digit k after the point lives in group weight + 1 + k / 4. */
            int d = weight + 1 + k / 4;
            int g = d >= 0 && d < ndigits ? (int)get_be(v + 8 + 2 * d, 2) : 0;
            static const int div[4] = {1000, 100, 10, 1};
            PUT((char)('0' + (g / div[k % 4]) % 10));
        }
    }
#undef PUT
    buf[o] = '\0';
    return 0;
}

int acio__pg_numeric_to_double(const unsigned char *v, int len, double *out)
{
    char buf[512];
    int rc = numeric_text(v, len, buf, sizeof(buf));
    if (rc < 0)
        return rc == -ERANGE ? ACIO_EPG_TYPE : rc;
    *out = strtod(buf, NULL);
    return 0;
}

/* The value at (row, col), checked: its bytes, length and whether it is binary. */
static int cell(const acio_pg_result_t *r, int row, int col, const char **v, int *len, bool *bin)
{
    if (!r || !r->res || row < 0 || col < 0 || row >= PQntuples(r->res) || col >= PQnfields(r->res))
        return -EINVAL;
    if (PQgetisnull(r->res, row, col))
        return ACIO_EPG_NULL;
    *v = PQgetvalue(r->res, row, col);
    *len = PQgetlength(r->res, row, col);
    *bin = PQfformat(r->res, col) == 1;
    return 0;
}

int acio_pg_result_numeric(const acio_pg_result_t *r, int row, int col, char *buf, size_t cap)
{
    const char *v;
    int len;
    bool bin;
    int rc = cell(r, row, col, &v, &len, &bin);
    if (rc < 0)
        return rc;
    if (!buf || cap == 0)
        return -EINVAL;
    if (bin) {
        if (PQftype(r->res, col) != ACIO_PG_NUMERIC)
            return ACIO_EPG_TYPE;
        return numeric_text((const unsigned char *)v, len, buf, cap);
    }
    if ((size_t)len >= cap)
        return -ERANGE;
    memcpy(buf, v, (size_t)len + 1);
    return 0;
}

/* "YYYY-MM-DD" at s: days since 1970-01-01 (proleptic Gregorian, as PostgreSQL). */
static bool parse_date(const char *s, int64_t *days, const char **end)
{
    int y, m, d, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || m < 1 || m > 12 || d < 1 ||
        d > 31)
        return false;
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    *end = s + n;
    return true;
}

int acio_pg_result_date(const acio_pg_result_t *r, int row, int col, int32_t *days)
{
    const char *v;
    int len;
    bool bin;
    int rc = cell(r, row, col, &v, &len, &bin);
    if (rc < 0)
        return rc;
    if (PQftype(r->res, col) != ACIO_PG_DATE)
        return ACIO_EPG_TYPE;
    if (bin) {
        if (len != 4)
            return ACIO_EPG_TYPE;
        *days = (int32_t)get_be((const unsigned char *)v, 4) + PG_EPOCH_DAYS;
        return 0;
    }
    int64_t d;
    const char *end;
    if (!parse_date(v, &d, &end) || *end)
        return ACIO_EPG_TYPE; /* infinity, BC dates, a DateStyle other than ISO */
    *days = (int32_t)d;
    return 0;
}

int acio_pg_result_timestamp(const acio_pg_result_t *r, int row, int col, int64_t *usec)
{
    const char *v;
    int len;
    bool bin;
    int rc = cell(r, row, col, &v, &len, &bin);
    if (rc < 0)
        return rc;
    unsigned t = PQftype(r->res, col);
    if (t != ACIO_PG_TIMESTAMP && t != ACIO_PG_TIMESTAMPTZ)
        return ACIO_EPG_TYPE;
    if (bin) {
        if (len != 8)
            return ACIO_EPG_TYPE;
        int64_t x = (int64_t)get_be((const unsigned char *)v, 8);
        if (x == INT64_MAX || x == INT64_MIN) /* infinity */
            return ACIO_EPG_TYPE;
        *usec = x + PG_EPOCH_USEC;
        return 0;
    }
    /* ISO DateStyle: "2024-05-06 07:08:09[.123456][+02[:30]]". */
    int64_t days;
    const char *p;
    int hh, mi, ss, n = 0;
    if (!parse_date(v, &days, &p) || sscanf(p, " %2d:%2d:%2d%n", &hh, &mi, &ss, &n) != 3)
        return ACIO_EPG_TYPE;
    p += n;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 6)
                frac = frac * 10 + (*p - '0');
        for (; digits < 6; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh = 0, om = 0, os = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d", &oh, &om, &os) < 1)
            return ACIO_EPG_TYPE;
        offset = sign * (oh * 3600 + om * 60 + os);
        while (*++p && ((*p >= '0' && *p <= '9') || *p == ':'))
            ;
    }
    if (*p)
        return ACIO_EPG_TYPE;
    *usec = ((days * 86400 + hh * 3600 + mi * 60 + ss) - offset) * 1000000LL + frac;
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int acio_pg_result_uuid(const acio_pg_result_t *r, int row, int col, unsigned char out[16])
{
    const char *v;
    int len;
    bool bin;
    int rc = cell(r, row, col, &v, &len, &bin);
    if (rc < 0)
        return rc;
    if (PQftype(r->res, col) != ACIO_PG_UUID)
        return ACIO_EPG_TYPE;
    if (bin) {
        if (len != 16)
            return ACIO_EPG_TYPE;
        memcpy(out, v, 16);
        return 0;
    }
    unsigned char u[16];
    int k = 0;
    for (const char *p = v; *p; p++) {
        if (*p == '-')
            continue;
        int hi = hexval(p[0]), lo = p[1] ? hexval(p[1]) : -1;
        if (hi < 0 || lo < 0 || k == 16)
            return ACIO_EPG_TYPE;
        u[k++] = (unsigned char)(hi << 4 | lo);
        p++;
    }
    if (k != 16)
        return ACIO_EPG_TYPE;
    memcpy(out, u, 16);
    return 0;
}

int acio_pg_result_json(const acio_pg_result_t *r, int row, int col, const char **text, size_t *len)
{
    const char *v;
    int n;
    bool bin;
    int rc = cell(r, row, col, &v, &n, &bin);
    if (rc < 0)
        return rc;
    unsigned t = PQftype(r->res, col);
    if (t != ACIO_PG_JSON && t != ACIO_PG_JSONB)
        return ACIO_EPG_TYPE;
    if (bin && t == ACIO_PG_JSONB) {
        if (n < 1 || v[0] != 1) /* jsonb's binary format version */
            return ACIO_EPG_TYPE;
        v++;
        n--;
    }
    *text = v;
    if (len)
        *len = (size_t)n;
    return 0;
}
