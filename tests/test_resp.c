/* The RESP reader and command encoder, without a server: every reply type of RESP2 and
 * RESP3, every split of the input, limits, and malformed input (a protocol error, never
 * a crash). Inputs are fed from the end of a page followed by an unmapped one, so any
 * over-read faults. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acio.h"
#include "internal.h"

/* Copy s to the end of a readable page that an unmapped page follows. */
static const char *guarded(const char *s, size_t n)
{
    static char *base;
    static size_t mapped;
    long page = sysconf(_SC_PAGESIZE);
    size_t span = ((n + (size_t)page - 1) / (size_t)page + 1) * (size_t)page;
    if (base)
        munmap(base, mapped);
    mapped = span + (size_t)page;
    base =
        mmap(NULL, span + (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(base != MAP_FAILED);
    cr_assert(mprotect(base + span, (size_t)page, PROT_NONE) == 0);
    char *p = base + span - n;
    memcpy(p, s, n);
    return p;
}

/* Parse all of s fed in pieces of step bytes; expect exactly one reply. */
static acio_redis_reply_t *parse_split(const char *s, size_t n, size_t step)
{
    acio_resp_reader_t *r;
    cr_assert_eq(acio_resp_reader_new(&r, NULL), 0);
    const char *g = guarded(s, n);
    acio_redis_reply_t *out = NULL;
    for (size_t off = 0; off < n; off += step) {
        size_t k = n - off < step ? n - off : step;
        cr_assert_eq(acio_resp_reader_feed(r, g + off, k), 0);
        int rc = acio_resp_reader_get(r, &out);
        cr_assert(rc >= 0, "rc %d: %s", rc, acio_resp_reader_error(r));
        if (rc == 1) {
            cr_assert_eq(off + k, n, "a reply before the input ended (at %zu of %zu)", off + k, n);
            break;
        }
    }
    cr_assert_not_null(out, "no reply for %.*s", (int)n, s);
    acio_redis_reply_t *extra = NULL;
    cr_assert_eq(acio_resp_reader_get(r, &extra), 0);
    acio_resp_reader_free(r);
    return out;
}

static acio_redis_reply_t *parse_all_ways(const char *s)
{
    size_t n = strlen(s);
    acio_redis_reply_t *first = parse_split(s, n, n);
    for (size_t step = 1; step < n; step++)
        acio_redis_reply_free(parse_split(s, n, step));
    return first;
}

Test(resp, scalars)
{
    acio_redis_reply_t *r = parse_all_ways("+OK\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_STATUS);
    cr_assert_str_eq(r->str, "OK");
    acio_redis_reply_free(r);

    r = parse_all_ways("-ERR unknown command 'FOO'\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_ERROR);
    cr_assert_str_eq(r->str, "ERR unknown command 'FOO'");
    acio_redis_reply_free(r);

    r = parse_all_ways(":-9223372036854775808\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_INTEGER);
    cr_assert_eq(r->integer, INT64_MIN);
    acio_redis_reply_free(r);

    r = parse_all_ways("$5\r\nhe\r\no\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_STRING);
    cr_assert_eq(r->len, 5);
    cr_assert(memcmp(r->str, "he\r\no", 5) == 0);
    acio_redis_reply_free(r);

    r = parse_all_ways("$0\r\n\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_STRING);
    cr_assert_eq(r->len, 0);
    acio_redis_reply_free(r);

    r = parse_all_ways("$-1\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_NIL);
    acio_redis_reply_free(r);
    r = parse_all_ways("*-1\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_NIL);
    acio_redis_reply_free(r);
}

Test(resp, resp3_types)
{
    acio_redis_reply_t *r = parse_all_ways("_\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_NIL);
    acio_redis_reply_free(r);
    r = parse_all_ways("#t\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_BOOL);
    cr_assert_eq(r->integer, 1);
    acio_redis_reply_free(r);
    r = parse_all_ways(",3.25\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_DOUBLE);
    cr_assert_float_eq(r->dval, 3.25, 1e-12);
    acio_redis_reply_free(r);
    r = parse_all_ways(",-inf\r\n");
    cr_assert(r->dval < -1e308);
    acio_redis_reply_free(r);
    r = parse_all_ways("(3492890328409238509324850943850943825024385\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_BIGNUM);
    acio_redis_reply_free(r);
    r = parse_all_ways("!21\r\nSYNTAX invalid syntax\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_ERROR);
    cr_assert_str_eq(r->str, "SYNTAX invalid syntax");
    acio_redis_reply_free(r);
    r = parse_all_ways("=15\r\ntxt:Some string\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_VERB);
    cr_assert_str_eq(r->format, "txt");
    cr_assert_str_eq(r->str, "Some string");
    acio_redis_reply_free(r);
    r = parse_all_ways("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_MAP);
    cr_assert_eq(r->elements, 4);
    cr_assert_eq(acio_redis_reply_map_get(r, "second")->integer, 2);
    cr_assert_null(acio_redis_reply_map_get(r, "third"));
    acio_redis_reply_free(r);
    r = parse_all_ways("~3\r\n+a\r\n+b\r\n+c\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_SET);
    cr_assert_eq(r->elements, 3);
    acio_redis_reply_free(r);
    r = parse_all_ways(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_PUSH);
    acio_redis_reply_free(r);
    /* An attribute is parsed and dropped; the reply after it is what counts. */
    r = parse_all_ways(
        "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_assert_eq(r->element[1]->integer, 9543892);
    acio_redis_reply_free(r);
}

Test(resp, nested_aggregates)
{
    acio_redis_reply_t *r =
        parse_all_ways("*3\r\n*2\r\n:1\r\n*0\r\n$3\r\nfoo\r\n*1\r\n*1\r\n*1\r\n+deep\r\n");
    cr_assert_eq(r->type, ACIO_REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 3);
    cr_assert_eq(r->element[0]->elements, 2);
    cr_assert_eq(r->element[0]->element[1]->type, ACIO_REDIS_REPLY_ARRAY);
    cr_assert_eq(r->element[0]->element[1]->elements, 0);
    cr_assert_str_eq(r->element[1]->str, "foo");
    cr_assert_str_eq(r->element[2]->element[0]->element[0]->element[0]->str, "deep");
    acio_redis_reply_free(r);
}

Test(resp, many_replies_in_one_feed)
{
    acio_resp_reader_t *r;
    cr_assert_eq(acio_resp_reader_new(&r, NULL), 0);
    const char *in = "+OK\r\n:1\r\n$1\r\nx\r\n*1\r\n:2\r\n+PART";
    cr_assert_eq(acio_resp_reader_feed(r, in, strlen(in)), 0);
    int types[] = {ACIO_REDIS_REPLY_STATUS, ACIO_REDIS_REPLY_INTEGER, ACIO_REDIS_REPLY_STRING,
                   ACIO_REDIS_REPLY_ARRAY};
    for (int i = 0; i < 4; i++) {
        acio_redis_reply_t *x;
        cr_assert_eq(acio_resp_reader_get(r, &x), 1);
        cr_assert_eq(x->type, types[i]);
        acio_redis_reply_free(x);
    }
    acio_redis_reply_t *x = NULL;
    cr_assert_eq(acio_resp_reader_get(r, &x), 0);
    cr_assert_eq(acio_resp_reader_feed(r, "IAL\r\n", 5), 0);
    cr_assert_eq(acio_resp_reader_get(r, &x), 1);
    cr_assert_str_eq(x->str, "PARTIAL");
    acio_redis_reply_free(x);
    acio_resp_reader_free(r);
}

static void expect_protocol_error(const char *in, size_t n, const acio_resp_limits_t *lim)
{
    acio_resp_reader_t *r;
    cr_assert_eq(acio_resp_reader_new(&r, lim), 0);
    cr_assert_eq(acio_resp_reader_feed(r, guarded(in, n), n), 0);
    acio_redis_reply_t *x = NULL;
    int rc;
    while ((rc = acio_resp_reader_get(r, &x)) == 1)
        acio_redis_reply_free(x);
    cr_assert_eq(rc, ACIO_EREDIS_PROTOCOL, "input %.*s gave %d", (int)n, in, rc);
    cr_assert(strlen(acio_resp_reader_error(r)) > 0);
    /* A failed reader stays failed. */
    cr_assert_eq(acio_resp_reader_feed(r, "+OK\r\n", 5), ACIO_EREDIS_PROTOCOL);
    cr_assert_eq(acio_resp_reader_get(r, &x), ACIO_EREDIS_PROTOCOL);
    acio_resp_reader_free(r);
}

Test(resp, malformed_input_is_a_protocol_error)
{
    const char *bad[] = {
        "?what\r\n",                 /* unknown type byte */
        "\r\n",                      /* empty line */
        "+OK\rX",                    /* bare CR */
        ":12a\r\n",                  /* bad integer */
        ":\r\n",                     /* empty integer */
        ":-\r\n",                    /* sign only */
        ":99999999999999999999\r\n", /* overflow */
        "$-2\r\n",                   /* negative length */
        "$3\r\nabcd\r\n",            /* body longer than announced */
        "$x\r\n",                    /* bad length */
        "*-5\r\n",                   /* bad count */
        "#x\r\n",                    /* bad boolean */
        ",1.5z\r\n",                 /* bad double */
        "(12a\r\n",                  /* bad big number */
        "_x\r\n",                    /* null with payload */
        "=3\r\ntxt\r\n",             /* verbatim too short */
        "%-1\r\n",                   /* null map */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_protocol_error(bad[i], strlen(bad[i]), NULL);
}

Test(resp, limits)
{
    acio_resp_limits_t lim = {.max_bulk = 10, .max_elements = 4, .max_depth = 3};
    expect_protocol_error("$11\r\n", 5, &lim);
    expect_protocol_error("*5\r\n", 4, &lim);
    expect_protocol_error("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 20, &lim);
    /* Within the limits, fine. */
    acio_resp_reader_t *r;
    cr_assert_eq(acio_resp_reader_new(&r, &lim), 0);
    const char *ok = "*1\r\n*1\r\n*1\r\n$10\r\n0123456789\r\n";
    cr_assert_eq(acio_resp_reader_feed(r, ok, strlen(ok)), 0);
    acio_redis_reply_t *x;
    cr_assert_eq(acio_resp_reader_get(r, &x), 1);
    acio_redis_reply_free(x);
    acio_resp_reader_free(r);
}

Test(resp, huge_announced_aggregate_costs_nothing_up_front)
{
    acio_resp_reader_t *r;
    cr_assert_eq(acio_resp_reader_new(&r, NULL), 0);
    const char *in = "*4294967295\r\n:1\r\n:2\r\n";
    cr_assert_eq(acio_resp_reader_feed(r, in, strlen(in)), 0);
    acio_redis_reply_t *x = NULL;
    cr_assert_eq(acio_resp_reader_get(r, &x), 0);
    acio_resp_reader_free(r); /* frees the partial tree */
}

Test(resp, garbage_never_crashes)
{
    /* Bounded pseudo-random inputs made of RESP-ish bytes. */
    const char alphabet[] = "+-:$*%~>|_#,(!=0123456789\r\n-abc";
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        char in[64];
        size_t n = 1 + (size_t)(rand_r(&seed) % 63);
        for (size_t i = 0; i < n; i++)
            in[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
        acio_resp_reader_t *r;
        cr_assert_eq(acio_resp_reader_new(&r, NULL), 0);
        const char *g = guarded(in, n);
        size_t step = 1 + (size_t)(rand_r(&seed) % 8);
        for (size_t off = 0; off < n; off += step) {
            size_t k = n - off < step ? n - off : step;
            if (acio_resp_reader_feed(r, g + off, k) < 0)
                break;
            acio_redis_reply_t *x;
            int rc;
            while ((rc = acio_resp_reader_get(r, &x)) == 1)
                acio_redis_reply_free(x);
            if (rc < 0) {
                cr_assert_eq(rc, ACIO_EREDIS_PROTOCOL);
                break;
            }
        }
        acio_resp_reader_free(r);
    }
}

Test(resp, encode_command)
{
    const char *argv[] = {"SET", "k", "a\r\nb"};
    char buf[64];
    size_t n = acio_resp_encode_command(buf, sizeof(buf), 3, argv, NULL);
    const char *want = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n";
    cr_assert_eq(n, strlen(want));
    cr_assert(memcmp(buf, want, n) == 0);
    cr_assert_eq(acio_resp_encode_command(buf, 4, 3, argv, NULL), strlen(want));
    size_t lens[] = {3, 1, 0};
    n = acio_resp_encode_command(buf, sizeof(buf), 3, argv, lens);
    cr_assert(memcmp(buf, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", n) == 0);
}

Test(resp, allocation_failures_are_reported)
{
    /* Every allocation the reader makes for a nested reply fails in turn: -ENOMEM,
     * never a crash or a leak (ASan build). */
    const char *in = "*2\r\n%1\r\n+k\r\n$3\r\nval\r\n*1\r\n:5\r\n";
    for (long n = 1; n < 20; n++) {
        acio_resp_reader_t *r = NULL;
        acio__alloc_fail_after(n);
        int rc = acio_resp_reader_new(&r, NULL);
        if (rc == 0) {
            rc = acio_resp_reader_feed(r, in, strlen(in));
            acio_redis_reply_t *x = NULL;
            if (rc == 0)
                rc = acio_resp_reader_get(r, &x);
            if (rc == 1)
                acio_redis_reply_free(x);
            else
                cr_assert(rc == -ENOMEM, "rc %d", rc);
            acio_resp_reader_free(r);
        } else {
            cr_assert_eq(rc, -ENOMEM);
        }
        acio__alloc_fail_after(0);
    }
}

Test(resp, redis_url)
{
    acio_redis_opts_t o;
    char *store;
    cr_assert_eq(
        acio_redis_opts_from_url(&o, "redis://user:p%40ss@example.com:6380/2?protocol=3", &store),
        0);
    cr_assert_str_eq(o.host, "example.com");
    cr_assert_eq(o.port, 6380);
    cr_assert_str_eq(o.username, "user");
    cr_assert_str_eq(o.password, "p@ss");
    cr_assert_eq(o.db, 2);
    cr_assert_eq(o.protocol, 3);
    free(store);
    cr_assert_eq(acio_redis_opts_from_url(&o, "redis://:secret@[::1]", &store), 0);
    cr_assert_str_eq(o.host, "::1");
    cr_assert_null(o.username);
    cr_assert_str_eq(o.password, "secret");
    cr_assert_eq(o.port, 0);
    free(store);
    cr_assert_eq(acio_redis_opts_from_url(&o, "unix:///tmp/r.sock?db=3&client_name=me", &store), 0);
    cr_assert_str_eq(o.unix_path, "/tmp/r.sock");
    cr_assert_eq(o.db, 3);
    cr_assert_str_eq(o.client_name, "me");
    free(store);
    const char *bad[] = {"http://x",    "redis://h:0",       "redis://h:70000",
                         "redis://h/x", "redis://h?bogus=1", "redis://h?protocol=4",
                         "unix://rel",  "redis://%zz@h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(acio_redis_opts_from_url(&o, bad[i], &store), -EINVAL, "%s", bad[i]);
}
