/* PostgreSQL's binary formats for the common types against a real server: every typed
 * parameter (acio_pg_arg_*) goes out in its format and comes back through the typed
 * accessors in both the text and the binary result formats, with the same value;
 * NULLs, type mismatches, a too-small numeric buffer and edge values (negative
 * numerics, dates before 2000, time zones) give clear errors or exact values. */
#include <criterion/criterion.h>
#include <math.h>
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

static const unsigned char uuid[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                       0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
/* 2024-02-29 13:14:15.123456 UTC */
#define TS    1709212455123456LL
#define DAYS  19782   /* 2024-02-29 */
#define OLD_D (-3653) /* 1960-01-01 */

static int check_row(acio_pg_result_t *r, int fmt)
{
    int64_t i = 0;
    double d = 0;
    bool b = false;
    CHECK_INT(acio_pg_result_bool(r, 0, 0, &b) == 0 && b, "bool fmt %d", fmt);
    CHECK_INT(acio_pg_result_int(r, 0, 1, &i) == 0 && i == -12, "int2 fmt %d: %lld", fmt,
              (long long)i);
    CHECK_INT(acio_pg_result_int(r, 0, 2, &i) == 0 && i == 123456789, "int4 fmt %d", fmt);
    CHECK_INT(acio_pg_result_int(r, 0, 3, &i) == 0 && i == -9000000000123LL, "int8 fmt %d", fmt);
    CHECK_INT(acio_pg_result_float(r, 0, 4, &d) == 0 && d == 0.25, "float4 fmt %d: %g", fmt, d);
    CHECK_INT(acio_pg_result_float(r, 0, 5, &d) == 0 && d == -1e300, "float8 fmt %d", fmt);
    char num[64];
    int rc = acio_pg_result_numeric(r, 0, 6, num, sizeof(num));
    CHECK_INT(rc == 0 && strcmp(num, "-12345678901234567890.000123") == 0, "numeric fmt %d: %s %s",
              fmt, acio_err_name(rc), num);
    CHECK_INT(acio_pg_result_float(r, 0, 6, &d) == 0 && fabs(d + 1.2345678901234567e19) < 1e5,
              "numeric as float fmt %d", fmt);
    CHECK_INT(acio_pg_result_numeric(r, 0, 6, num, 8) == -ERANGE, "numeric too small fmt %d", fmt);
    size_t len = 0;
    const char *t = acio_pg_result_text(r, 0, 7, &len);
    CHECK_INT(t && strcmp(t, "héllo") == 0 && len == strlen("héllo"), "text fmt %d", fmt);
    unsigned char *bytes = NULL;
    CHECK_INT(acio_pg_result_bytea(r, 0, 8, &bytes, &len) == 0 && len == 3 &&
                  memcmp(bytes, "a\0b", 3) == 0,
              "bytea fmt %d", fmt);
    free(bytes);
    int64_t ts = 0;
    CHECK_INT(acio_pg_result_timestamp(r, 0, 9, &ts) == 0 && ts == TS, "timestamp fmt %d: %lld",
              fmt, (long long)ts);
    CHECK_INT(acio_pg_result_timestamp(r, 0, 10, &ts) == 0 && ts == TS, "timestamptz fmt %d: %lld",
              fmt, (long long)ts);
    int32_t days = 0;
    CHECK_INT(acio_pg_result_date(r, 0, 11, &days) == 0 && days == DAYS, "date fmt %d: %d", fmt,
              days);
    CHECK_INT(acio_pg_result_date(r, 0, 12, &days) == 0 && days == OLD_D, "old date fmt %d: %d",
              fmt, days);
    unsigned char u[16];
    CHECK_INT(acio_pg_result_uuid(r, 0, 13, u) == 0 && memcmp(u, uuid, 16) == 0, "uuid fmt %d",
              fmt);
    const char *j = NULL;
    CHECK_INT(acio_pg_result_json(r, 0, 14, &j, &len) == 0 && strcmp(j, "{\"a\": [1, 2]}") == 0,
              "json fmt %d: %s", fmt, j ? j : "");
    CHECK_INT(acio_pg_result_json(r, 0, 15, &j, &len) == 0 && strcmp(j, "{\"a\": [1, 2]}") == 0 &&
                  len == strlen(j),
              "jsonb fmt %d: %s", fmt, j ? j : "");
    /* NULL and mismatches. */
    CHECK_INT(acio_pg_result_timestamp(r, 0, 16, &ts) == ACIO_EPG_NULL, "NULL fmt %d", fmt);
    CHECK_INT(acio_pg_result_uuid(r, 0, 7, u) == ACIO_EPG_TYPE, "text is no uuid fmt %d", fmt);
    CHECK_INT(acio_pg_result_timestamp(r, 0, 2, &ts) == ACIO_EPG_TYPE, "int is no time fmt %d",
              fmt);
    CHECK_INT(acio_pg_result_date(r, 0, 9, &days) == ACIO_EPG_TYPE, "timestamp is no date fmt %d",
              fmt);
    CHECK_INT(acio_pg_result_json(r, 0, 7, &j, NULL) == ACIO_EPG_TYPE, "text is no json fmt %d",
              fmt);
    CHECK_INT(acio_pg_result_bool(r, 0, 2, &b) == ACIO_EPG_TYPE, "int is no bool fmt %d", fmt);
    CHECK_INT(acio_pg_result_int(r, 0, 5, &i) == ACIO_EPG_TYPE, "float is no int fmt %d", fmt);
    CHECK_INT(acio_pg_result_uuid(r, 0, 99, u) == -EINVAL, "column out of range fmt %d", fmt);
    return 0;
}

static void *roundtrip(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    int rc = acio_pg_connect(&c, srv.conninfo, NULL);
    CHECK(rc == 0, "connect: %s", acio_pg_connect_error());
    /* The session's zone is not UTC: timestamptz must still come back as the instant. */
    CHECK(acio_pg_execute(c, "SET TIME ZONE 'Asia/Kolkata'") == 0, "time zone");
    static const char blob[] = {'a', 0, 'b'};
    acio_pg_arg_t args[] = {
        acio_pg_arg_bool(true),
        acio_pg_arg_int2(-12),
        acio_pg_arg_int4(123456789),
        acio_pg_arg_int8(-9000000000123LL),
        acio_pg_arg_float4(0.25f),
        acio_pg_arg_float8(-1e300),
        acio_pg_arg_numeric("-12345678901234567890.000123"),
        acio_pg_arg_text("héllo"),
        acio_pg_arg_bytea(blob, sizeof(blob)),
        acio_pg_arg_timestamp(TS),
        acio_pg_arg_timestamptz(TS),
        acio_pg_arg_date(DAYS),
        acio_pg_arg_date(OLD_D),
        acio_pg_arg_uuid(uuid),
        acio_pg_arg_json("{\"a\": [1, 2]}"),
        acio_pg_arg_jsonb("{\"a\": [1, 2]}"),
        acio_pg_arg_null(ACIO_PG_TIMESTAMP),
    };
    enum { N = sizeof(args) / sizeof(args[0]) };
    const char *sql = "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
                      "$16, $17";
    for (int fmt = 0; fmt <= 1; fmt++) {
        acio_pg_result_t *r = NULL;
        rc = acio_pg_query_args(c, sql, N, args, fmt, &r);
        CHECK(rc == 0, "query fmt %d: %s %s", fmt, acio_err_name(rc), acio_pg_error_message(c));
        CHECK(acio_pg_result_column_type(r, 9) == ACIO_PG_TIMESTAMP &&
                  acio_pg_result_column_type(r, 13) == ACIO_PG_UUID &&
                  acio_pg_result_column_type(r, 15) == ACIO_PG_JSONB,
              "types");
        int bad = check_row(r, fmt);
        acio_pg_result_free(r);
        if (bad < 0)
            return NULL;
    }
    /* The server reads them as the values they are. */
    acio_pg_result_t *r = NULL;
    rc = acio_pg_query_args(c,
                            "SELECT $1::text = '2024-02-29 13:14:15.123456', $2::text, "
                            "$3 = '12345678-9abc-def0-0123-456789abcdef'::uuid, $4->'a'->>1",
                            4,
                            (acio_pg_arg_t[]){acio_pg_arg_timestamp(TS), acio_pg_arg_date(DAYS),
                                              acio_pg_arg_uuid(uuid),
                                              acio_pg_arg_jsonb("{\"a\": [1, 2]}")},
                            0, &r);
    CHECK(rc == 0, "server view: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    CHECK(strcmp(acio_pg_result_text(r, 0, 0, NULL), "t") == 0, "timestamp as text");
    CHECK(strcmp(acio_pg_result_text(r, 0, 1, NULL), "2024-02-29") == 0, "date as text %s",
          acio_pg_result_text(r, 0, 1, NULL));
    CHECK(strcmp(acio_pg_result_text(r, 0, 2, NULL), "t") == 0, "uuid");
    CHECK(strcmp(acio_pg_result_text(r, 0, 3, NULL), "2") == 0, "jsonb");
    acio_pg_result_free(r);
    /* Numeric edge cases through the binary decoder. */
    rc = acio_pg_query_args(c,
                            "SELECT 0::numeric, 0.5::numeric, 10000::numeric, 'NaN'::numeric, "
                            "1e-7::numeric, 123.4500::numeric, -0.001::numeric",
                            0, NULL, 1, &r);
    CHECK(rc == 0, "numerics: %s", acio_pg_error_message(c));
    const char *want[] = {"0", "0.5", "10000", "NaN", "0.0000001", "123.4500", "-0.001"};
    for (int i = 0; i < 7; i++) {
        char num[32];
        CHECK(acio_pg_result_numeric(r, 0, i, num, sizeof(num)) == 0 && strcmp(num, want[i]) == 0,
              "numeric %d: %s, want %s", i, num, want[i]);
    }
    acio_pg_result_free(r);
    /* More arguments than fit on the stack. */
    acio_pg_arg_t many[40];
    char msql[512] = "SELECT 0";
    for (int i = 0; i < 40; i++) {
        many[i] = acio_pg_arg_int4(i);
        size_t n = strlen(msql);
        snprintf(msql + n, sizeof(msql) - n, " + $%d", i + 1);
    }
    rc = acio_pg_query_args(c, msql, 40, many, 1, &r);
    int64_t sum = 0;
    CHECK(rc == 0 && acio_pg_result_int(r, 0, 0, &sum) == 0 && sum == 780, "40 args: %lld",
          (long long)sum);
    acio_pg_result_free(r);
    CHECK(acio_pg_query_args(c, "SELECT 1", 1, NULL, 0, NULL) == -EINVAL, "NULL args");
    /* A binary argument of the wrong type is the server's error. */
    rc = acio_pg_query_args(c, "SELECT $1::int4", 1, (acio_pg_arg_t[]){acio_pg_arg_int8(1)}, 0,
                            NULL);
    CHECK(rc == 0, "int8 cast to int4: %s", acio_pg_error_message(c));
    acio_pg_arg_t wrong = acio_pg_arg_int2(1);
    wrong.type = ACIO_PG_INT8; /* two bytes labelled int8 */
    rc = acio_pg_query_args(c, "SELECT $1", 1, &wrong, 0, NULL);
    CHECK(rc == ACIO_EPG_SERVER && strcmp(acio_pg_error_sqlstate(c), "08P01") == 0,
          "bad binary: %s %s", acio_err_name(rc), acio_pg_error_sqlstate(c));
    rc = acio_pg_query_args(c, "SELECT $1", 1, (acio_pg_arg_t[]){acio_pg_arg_int8(5)}, 1, &r);
    int64_t five = 0;
    CHECK(rc == 0 && acio_pg_result_int(r, 0, 0, &five) == 0 && five == 5, "usable after: %s %s",
          acio_err_name(rc), acio_pg_error_message(c));
    acio_pg_result_free(r);
    acio_pg_close(c);
    return NULL;
}

Test(pg_types, binary_parameters_and_typed_results, .init = start, .fini = stop)
{
    run_ok(roundtrip, NULL);
}
