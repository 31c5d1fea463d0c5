/* MariaDB/MySQL results (acio/mysql.h): a stored result set copied out of the connector
 * (text protocol: MYSQL_RES rows; prepared statements: rows fetched with every column
 * bound as a string, so both protocols give the same bytes) into one block of values
 * with a cell table, plus the typed accessors that parse those bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>

#include "mysql_int.h"

void acio_mysql_result_free(acio_mysql_result_t *r)
{
    while (r) {
        acio_mysql_result_t *next = r->next;
        acio__free(r->cols);
        acio__free(r->cells);
        acio__free(r->names);
        acio__free(r->data);
        acio__free(r);
        r = next;
    }
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* Copy the columns' metadata (names and tables into r->names). */
static int set_columns(acio_mysql_result_t *r, const MYSQL_FIELD *f, int n)
{
    size_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += strlen(str_or_empty(f[i].name)) + strlen(str_or_empty(f[i].table)) + 2;
    r->cols = acio__calloc((size_t)n, sizeof(*r->cols));
    r->names = acio__malloc(bytes + 1);
    if (!r->cols || !r->names)
        return -ENOMEM;
    char *pos = r->names;
    for (int i = 0; i < n; i++) {
        acio_mysql_column_t *col = &r->cols[i];
        size_t l = strlen(str_or_empty(f[i].name)) + 1;
        memcpy(pos, str_or_empty(f[i].name), l);
        col->name = pos;
        pos += l;
        l = strlen(str_or_empty(f[i].table)) + 1;
        memcpy(pos, str_or_empty(f[i].table), l);
        col->table = pos;
        pos += l;
        col->type = (int)f[i].type;
        col->flags = f[i].flags;
        col->charsetnr = f[i].charsetnr;
        col->decimals = f[i].decimals;
        col->length = f[i].length;
    }
    r->ncols = n;
    return 0;
}

int acio__mysql_result_from_res(MYSQL *my, MYSQL_RES *res, acio_mysql_result_t **out)
{
    acio_mysql_result_t *r = acio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->affected = mysql_affected_rows(my);
    r->insert_id = mysql_insert_id(my);
    r->warnings = mysql_warning_count(my);
    if (res) {
        int n = (int)mysql_num_fields(res);
        if (set_columns(r, mysql_fetch_fields(res), n) < 0)
            goto nomem;
        r->nrows = (size_t)mysql_num_rows(res);
        size_t bytes = 1;
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res))) {
            unsigned long *lens = mysql_fetch_lengths(res);
            for (int i = 0; i < n; i++)
                if (row[i])
                    bytes += lens[i] + 1;
        }
        r->data = acio__malloc(bytes);
        r->cells = acio__calloc(r->nrows * (size_t)n + 1, sizeof(*r->cells));
        if (!r->data || !r->cells)
            goto nomem;
        mysql_data_seek(res, 0);
        char *pos = r->data;
        acio__mysql_cell_t *cell = r->cells;
        while ((row = mysql_fetch_row(res))) {
            unsigned long *lens = mysql_fetch_lengths(res);
            for (int i = 0; i < n; i++, cell++) {
                if (!row[i])
                    continue;
                memcpy(pos, row[i], lens[i]);
                pos[lens[i]] = '\0';
                cell->p = pos;
                cell->len = lens[i];
                pos += lens[i] + 1;
            }
        }
    }
    *out = r;
    return 0;
nomem:
    acio_mysql_result_free(r);
    return -ENOMEM;
}

enum { SCRATCH = 64 };

int acio__mysql_result_from_stmt(acio_mysql_t *c, MYSQL_STMT *st, acio_mysql_result_t **out)
{
    acio_mysql_result_t *r = acio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->affected = mysql_stmt_affected_rows(st);
    r->insert_id = mysql_stmt_insert_id(st);
    r->warnings = mysql_warning_count(c->my);
    int n = (int)mysql_stmt_field_count(st);
    if (n == 0) {
        *out = r;
        return 0;
    }
    int rc = -ENOMEM;
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    size_t un = (size_t)n;
    /* One block: the bindings, their lengths, NULL and truncation flags, and a small
     * buffer per column; longer values are fetched again into the result's data. */
    MYSQL_BIND *b =
        acio__calloc(un, sizeof(*b) + sizeof(unsigned long) + 2 * sizeof(my_bool) + SCRATCH);
    if (!meta || !b)
        goto out;
    if (set_columns(r, mysql_fetch_fields(meta), n) < 0)
        goto out;
    unsigned long *lens = (unsigned long *)(b + un);
    my_bool *nulls = (my_bool *)(lens + un);
    my_bool *errs = nulls + un;
    char *scratch = (char *)(errs + un);
    for (int i = 0; i < n; i++) {
        b[i].buffer_type = MYSQL_TYPE_STRING;
        b[i].buffer = scratch + (size_t)i * SCRATCH;
        b[i].buffer_length = SCRATCH;
        b[i].length = &lens[i];
        b[i].is_null = &nulls[i];
        b[i].error = &errs[i];
    }
    if (mysql_stmt_bind_result(st, b)) {
        rc = mysql_stmt_errno(st) == CR_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        goto out;
    }
    r->nrows = (size_t)mysql_stmt_num_rows(st);
    r->cells = acio__calloc(r->nrows * un + 1, sizeof(*r->cells));
    size_t cap = r->nrows * un * 8 + 64, used = 0;
    r->data = acio__malloc(cap);
    if (!r->cells || !r->data)
        goto out;
    /* Cells hold offset + 1 into data while it may move; 0 is NULL. */
    size_t row = 0;
    for (;;) {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA)
            break;
        if (f == 1 || row >= r->nrows) {
            rc = f == 1 && mysql_stmt_errno(st) == CR_OUT_OF_MEMORY ? -ENOMEM : ACIO_EMYSQL_SERVER;
            goto out;
        }
        for (int i = 0; i < n; i++) {
            acio__mysql_cell_t *cell = &r->cells[row * un + (size_t)i];
            if (nulls[i])
                continue;
            size_t len = lens[i];
            if (used + len + 1 > cap) {
                size_t ncap = cap * 2 > used + len + 1 ? cap * 2 : used + len + 1;
                char *nd = acio__realloc(r->data, ncap);
                if (!nd)
                    goto out;
                r->data = nd;
                cap = ncap;
            }
            char *dst = r->data + used;
            if (len <= SCRATCH) {
                memcpy(dst, scratch + (size_t)i * SCRATCH, len);
            } else {
                MYSQL_BIND big = {.buffer_type = MYSQL_TYPE_STRING,
                                  .buffer = dst,
                                  .buffer_length = len + 1,
                                  .length = &lens[i],
                                  .is_null = &nulls[i],
                                  .error = &errs[i]};
                if (mysql_stmt_fetch_column(st, &big, (unsigned)i, 0)) {
                    rc = ACIO_EMYSQL_SERVER;
                    goto out;
                }
            }
            dst[len] = '\0';
            cell->p = (const char *)(uintptr_t)(used + 1);
            cell->len = len;
            used += len + 1;
        }
        row++;
    }
    r->nrows = row;
    for (size_t i = 0; i < r->nrows * un; i++)
        if (r->cells[i].p)
            r->cells[i].p = r->data + ((uintptr_t)r->cells[i].p - 1);
    rc = 0;
out:
    acio__free(b);
    if (meta)
        mysql_free_result(meta);
    if (rc < 0) {
        acio_mysql_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* ---- accessors ---- */

acio_mysql_result_t *acio_mysql_result_next(const acio_mysql_result_t *r)
{
    return r ? r->next : NULL;
}

size_t acio_mysql_result_nrows(const acio_mysql_result_t *r)
{
    return r ? r->nrows : 0;
}

int acio_mysql_result_ncols(const acio_mysql_result_t *r)
{
    return r ? r->ncols : 0;
}

const acio_mysql_column_t *acio_mysql_result_column(const acio_mysql_result_t *r, int col)
{
    return r && col >= 0 && col < r->ncols ? &r->cols[col] : NULL;
}

int acio_mysql_result_column_index(const acio_mysql_result_t *r, const char *name)
{
    if (!r || !name)
        return -1;
    for (int i = 0; i < r->ncols; i++)
        if (strcmp(r->cols[i].name, name) == 0)
            return i;
    return -1;
}

uint64_t acio_mysql_result_affected(const acio_mysql_result_t *r)
{
    return r ? r->affected : 0;
}

uint64_t acio_mysql_result_insert_id(const acio_mysql_result_t *r)
{
    return r ? r->insert_id : 0;
}

unsigned acio_mysql_result_warnings(const acio_mysql_result_t *r)
{
    return r ? r->warnings : 0;
}

static const acio__mysql_cell_t *cell_at(const acio_mysql_result_t *r, size_t row, int col)
{
    if (!r || row >= r->nrows || col < 0 || col >= r->ncols)
        return NULL;
    return &r->cells[row * (size_t)r->ncols + (size_t)col];
}

bool acio_mysql_result_is_null(const acio_mysql_result_t *r, size_t row, int col)
{
    const acio__mysql_cell_t *c = cell_at(r, row, col);
    return c && !c->p;
}

const char *acio_mysql_result_text(const acio_mysql_result_t *r, size_t row, int col, size_t *len)
{
    const acio__mysql_cell_t *c = cell_at(r, row, col);
    if (len)
        *len = c && c->p ? c->len : 0;
    return c ? c->p : NULL;
}

/* The cell, or the accessor's error. */
static int value(const acio_mysql_result_t *r, size_t row, int col, const acio__mysql_cell_t **out)
{
    const acio__mysql_cell_t *c = cell_at(r, row, col);
    if (!c)
        return -EINVAL;
    if (!c->p)
        return ACIO_EMYSQL_NULL;
    *out = c;
    return 0;
}

/* BIT(n) comes as n/8 rounded up raw bytes, most significant first. */
static bool bits(const acio_mysql_result_t *r, int col, const acio__mysql_cell_t *c, uint64_t *out)
{
    if (r->cols[col].type != ACIO_MYSQL_TYPE_BIT || c->len > 8)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < c->len; i++)
        v = v << 8 | (unsigned char)c->p[i];
    *out = v;
    return true;
}

int acio_mysql_result_int(const acio_mysql_result_t *r, size_t row, int col, int64_t *out)
{
    const acio__mysql_cell_t *c;
    int rc = value(r, row, col, &c);
    if (rc < 0)
        return rc;
    uint64_t u;
    if (bits(r, col, c, &u)) {
        if (u > INT64_MAX)
            return ACIO_EMYSQL_TYPE;
        *out = (int64_t)u;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(c->p, &end, 10);
    if (c->len == 0 || end != c->p + c->len || errno == ERANGE)
        return ACIO_EMYSQL_TYPE;
    *out = v;
    return 0;
}

int acio_mysql_result_uint(const acio_mysql_result_t *r, size_t row, int col, uint64_t *out)
{
    const acio__mysql_cell_t *c;
    int rc = value(r, row, col, &c);
    if (rc < 0)
        return rc;
    if (bits(r, col, c, out))
        return 0;
    char *end = NULL;
    errno = 0;
    if (c->len == 0 || c->p[0] == '-')
        return ACIO_EMYSQL_TYPE;
    unsigned long long v = strtoull(c->p, &end, 10);
    if (end != c->p + c->len || errno == ERANGE)
        return ACIO_EMYSQL_TYPE;
    *out = v;
    return 0;
}

int acio_mysql_result_double(const acio_mysql_result_t *r, size_t row, int col, double *out)
{
    const acio__mysql_cell_t *c;
    int rc = value(r, row, col, &c);
    if (rc < 0)
        return rc;
    char *end = NULL;
    double v = strtod(c->p, &end);
    if (c->len == 0 || end != c->p + c->len)
        return ACIO_EMYSQL_TYPE;
    *out = v;
    return 0;
}

/* Read n digits (n > 0) at *s into *v. */
static bool digits(const char **s, const char *end, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (*s >= end || **s < '0' || **s > '9')
            return false;
        x = x * 10 + (*(*s)++ - '0');
    }
    *v = x;
    return true;
}

/* "HH:MM:SS[.ffffff]" with an hour of 1-3 digits and an optional sign. */
static bool parse_clock(const char *s, const char *end, acio_mysql_time_t *t)
{
    if (s < end && *s == '-') {
        t->negative = true;
        s++;
    }
    int h = 0, nd = 0;
    while (s < end && *s >= '0' && *s <= '9' && nd < 3) {
        h = h * 10 + (*s++ - '0');
        nd++;
    }
    if (nd == 0 || s >= end || *s++ != ':' || !digits(&s, end, 2, &t->minute) || s >= end ||
        *s++ != ':' || !digits(&s, end, 2, &t->second))
        return false;
    t->hour = h;
    if (s < end && *s == '.') {
        s++;
        int us = 0, n = 0;
        while (s < end && *s >= '0' && *s <= '9' && n < 6) {
            us = us * 10 + (*s++ - '0');
            n++;
        }
        for (; n < 6; n++)
            us *= 10;
        t->microsecond = us;
    }
    return s == end;
}

int acio_mysql_result_time(const acio_mysql_result_t *r, size_t row, int col,
                           acio_mysql_time_t *out)
{
    const acio__mysql_cell_t *c;
    int rc = value(r, row, col, &c);
    if (rc < 0)
        return rc;
    acio_mysql_time_t t = {0};
    const char *s = c->p, *end = c->p + c->len;
    bool ok;
    if (c->len >= 10 && s[4] == '-') {
        ok = digits(&s, end, 4, &t.year) && *s++ == '-' && digits(&s, end, 2, &t.month) &&
             *s++ == '-' && digits(&s, end, 2, &t.day);
        if (ok && s < end)
            ok = (*s == ' ' || *s == 'T') && parse_clock(s + 1, end, &t);
    } else {
        ok = parse_clock(s, end, &t);
    }
    if (!ok)
        return ACIO_EMYSQL_TYPE;
    *out = t;
    return 0;
}
