/* The HTTP/1.1 parser (acio/http_parser.h): the corpus in tests/http_corpus/ (valid
 * messages, every error, the request-smuggling shapes), each case run whole, split at
 * every byte and fed one byte at a time, always with the input ending right before an
 * unmapped page; plus the API's own promises (prev_len, in-place decoding, limits). */
#include <acio.h>
#include <criterion/criterion.h>
#include <glob.h>

#include "support/http_corpus.h"

#ifndef ACIO_TESTS_DIR
#error "ACIO_TESTS_DIR must be defined by the build"
#endif

static http_corpus_t corpus;

static void load_corpus(void)
{
    glob_t g;
    cr_assert_eq(glob(ACIO_TESTS_DIR "/http_corpus/*.txt", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        http_corpus_load(&corpus, g.gl_pathv[i]);
    globfree(&g);
    cr_assert_gt(corpus.n, 100, "the corpus has %zu cases", corpus.n);
}

static void free_corpus(void)
{
    http_corpus_free(&corpus);
}

static const char *verdict_name(const http_result_t *r)
{
    if (r->head_incomplete)
        return "incomplete";
    return r->verdict ? acio_err_name(r->verdict) : "ok";
}

static void check_expectations(const http_case_t *c, const http_result_t *r)
{
    cr_expect_str_eq(verdict_name(r), c->expect, "case '%s' (line %d): verdict %s, expected %s",
                     c->name, c->line, verdict_name(r), c->expect);
    if (c->framing[0]) {
        char got[64];
        static const char *kinds[] = {"none", "length", "chunked", "eof"};
        if (r->kind == ACIO_HTTP_BODY_LENGTH)
            snprintf(got, sizeof got, "length %llu", (unsigned long long)r->content_length);
        else
            snprintf(got, sizeof got, "%s", kinds[r->kind]);
        cr_expect_str_eq(got, c->framing, "case '%s': framing %s, expected %s", c->name, got,
                         c->framing);
    }
    if (c->keep_alive >= 0)
        cr_expect_eq(r->keep_alive, c->keep_alive, "case '%s': keep_alive %d", c->name,
                     r->keep_alive);
    if (c->expect_continue >= 0)
        cr_expect_eq(r->expect_continue, c->expect_continue, "case '%s': expect_continue %d",
                     c->name, r->expect_continue);
    if (c->have_body) {
        cr_expect(r->body_len == c->body_len &&
                      (c->body_len == 0 || memcmp(r->body, c->body, c->body_len) == 0),
                  "case '%s': body [%.*s] (%zu bytes), expected [%.*s]", c->name, (int)r->body_len,
                  r->body ? r->body : "", r->body_len, (int)c->body_len, c->body);
    }
    if (c->have_rest)
        cr_expect_eq(c->len - r->consumed, c->rest, "case '%s': %zu bytes left, expected %zu",
                     c->name, c->len - r->consumed, c->rest);
}

Test(http_corpus, every_case_gets_its_verdict, .init = load_corpus, .fini = free_corpus)
{
    guard_t g;
    guard_init(&g, 1 << 17);
    for (size_t i = 0; i < corpus.n; i++) {
        const http_case_t *c = &corpus.cases[i];
        http_result_t r;
        size_t cut = c->len;
        http_run(c, &cut, 1, &g, &r);
        check_expectations(c, &r);
        http_result_free(&r);
    }
    guard_close(&g);
}

/* Whole and split must agree exactly, with one documented exception: an error inside a
 * line that has not ended yet may show only once the line's LF arrives, so a message
 * that stops mid-line may be "incomplete" split but an error whole. */
static void compare(const http_case_t *c, const http_result_t *whole, const http_result_t *split,
                    const char *how)
{
    if (whole->head_error && split->head_incomplete && split->last_piece_no_lf)
        return;
    cr_expect_str_eq(split->s, whole->s, "case '%s' (line %d) %s:\n%s\nwhole:\n%s", c->name,
                     c->line, how, split->s, whole->s);
}

Test(http_corpus, split_anywhere_parses_identically, .init = load_corpus, .fini = free_corpus,
     .timeout = 120)
{
    guard_t g;
    guard_init(&g, 1 << 17);
    size_t *cuts = malloc(((1 << 17) + 1) * sizeof *cuts);
    for (size_t i = 0; i < corpus.n; i++) {
        const http_case_t *c = &corpus.cases[i];
        http_result_t whole, split;
        size_t cut = c->len;
        http_run(c, &cut, 1, &g, &whole);
        /* Big cases (the limit tests): a sample of split points, 512-byte pieces. */
        size_t step = c->len <= 4096 ? 1 : c->len / 61 + 1;
        for (size_t s = 1; s < c->len; s += step) {
            size_t two[2] = {s, c->len};
            http_run(c, two, 2, &g, &split);
            char how[64];
            snprintf(how, sizeof how, "split at %zu", s);
            compare(c, &whole, &split, how);
            http_result_free(&split);
        }
        size_t piece = c->len <= 4096 ? 1 : 512, n = 0;
        for (size_t s = piece; s < c->len; s += piece)
            cuts[n++] = s;
        cuts[n++] = c->len;
        http_run(c, cuts, n, &g, &split);
        compare(c, &whole, &split, piece == 1 ? "one byte at a time" : "512 bytes at a time");
        http_result_free(&split);
        http_result_free(&whole);
    }
    free(cuts);
    guard_close(&g);
}

Test(http_parser, limits_default)
{
    acio_http_limits_t lim;
    acio_http_limits_default(&lim);
    cr_assert_eq(lim.max_start_line, 8190);
    cr_assert_eq(lim.max_header_line, 8190);
    cr_assert_eq(lim.max_headers, 100);
    cr_assert_eq(lim.max_head_bytes, 65536);
    cr_assert_eq(lim.max_chunk_ext, 4096);
    cr_assert_eq(lim.max_trailer_bytes, 65536);
}

Test(http_parser, head_points_into_the_buffer)
{
    const char *msg = "PUT /x?y HTTP/1.1\r\nHost: h\r\nX-A:  one two  \r\nx-a: 2\r\n\r\nBODY";
    guard_t g;
    guard_init(&g, 4096);
    char *buf = guard_put(&g, msg, strlen(msg));
    acio_http_header_t hs[4];
    acio_http_head_t head;
    ssize_t n = acio_http_parse_request(buf, strlen(msg), 0, &head, hs, 4, NULL);
    cr_assert_eq(n, (ssize_t)strlen(msg) - 4);
    cr_assert_eq(head.method, buf);
    cr_assert_eq(head.method_len, 3);
    cr_assert_eq(head.target, buf + 4);
    cr_assert_eq(head.target_len, 4);
    cr_assert_eq(head.version_minor, 1);
    cr_assert_eq(head.headers, hs);
    cr_assert_eq(head.num_headers, 3);
    size_t len;
    const char *v = acio_http_head_get(&head, "x-a", &len);
    cr_assert_eq(len, 7);
    cr_assert_eq(memcmp(v, "one two", 7), 0);
    cr_assert_null(acio_http_head_get(&head, "X-B", &len));
    guard_close(&g);
}

Test(http_parser, callers_array_is_a_limit)
{
    const char *msg = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n";
    acio_http_header_t hs[2];
    acio_http_head_t head;
    cr_assert_eq(acio_http_parse_request(msg, strlen(msg), 0, &head, hs, 1, NULL),
                 ACIO_EHTTP_TOO_MANY_HEADERS);
    cr_assert_eq(acio_http_parse_request(msg, strlen(msg), 0, &head, hs, 2, NULL),
                 (ssize_t)strlen(msg));
}

Test(http_parser, prev_len_skips_rescans_but_not_verdicts)
{
    /* A bad byte in a line shows at the latest when the line's LF arrives. */
    const char *msg = "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01";
    acio_http_header_t hs[4];
    acio_http_head_t head;
    size_t l = strlen(msg);
    cr_assert_eq(acio_http_parse_request(msg, l - 2, 0, &head, hs, 4, NULL), ACIO_HTTP_INCOMPLETE);
    cr_assert_eq(acio_http_parse_request(msg, l, l - 2, &head, hs, 4, NULL), ACIO_HTTP_INCOMPLETE);
    cr_assert_eq(acio_http_parse_request(msg, l, 0, &head, hs, 4, NULL),
                 ACIO_EHTTP_BAD_HEADER_VALUE);
    char more[64];
    snprintf(more, sizeof more, "%s\r\n", msg);
    cr_assert_eq(acio_http_parse_request(more, l + 2, l, &head, hs, 4, NULL),
                 ACIO_EHTTP_BAD_HEADER_VALUE);
}

Test(http_parser, chunked_decodes_in_place_across_calls)
{
    const char *msg = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    acio_http_header_t hs[4];
    acio_http_head_t head;
    cr_assert_eq(acio_http_parse_request(msg, strlen(msg), 0, &head, hs, 4, NULL),
                 (ssize_t)strlen(msg));
    acio_http_body_t b;
    acio_http_body_init(&b, &head, NULL);
    char p1[] = "3\r\nab";
    size_t n = 5;
    cr_assert_eq(acio_http_body_decode(&b, p1, &n), 5);
    cr_assert_eq(n, 2);
    cr_assert_eq(memcmp(p1, "ab", 2), 0);
    cr_assert_not(b.done);
    cr_assert_eq(acio_http_body_eof(&b), ACIO_EHTTP_TRUNCATED);
    char p2[] = "c\r\n0\r\n\r\nNEXT";
    n = strlen(p2);
    cr_assert_eq(acio_http_body_decode(&b, p2, &n), 8);
    cr_assert_eq(n, 1);
    cr_assert_eq(p2[0], 'c');
    cr_assert(b.done);
    cr_assert_eq(acio_http_body_eof(&b), 0);
    /* After the end, nothing more is consumed. */
    char p3[] = "NEXT";
    n = 4;
    cr_assert_eq(acio_http_body_decode(&b, p3, &n), 0);
    cr_assert_eq(n, 0);
}

Test(http_parser, decoder_errors_stick)
{
    acio_http_head_t head = {.body_kind = ACIO_HTTP_BODY_CHUNKED};
    acio_http_body_t b;
    acio_http_body_init(&b, &head, NULL);
    char p[] = "zz\r\n";
    size_t n = 4;
    cr_assert_eq(acio_http_body_decode(&b, p, &n), ACIO_EHTTP_BAD_CHUNK_SIZE);
    char q[] = "0\r\n\r\n";
    n = 5;
    cr_assert_eq(acio_http_body_decode(&b, q, &n), ACIO_EHTTP_BAD_CHUNK_SIZE);
}

Test(http_parser, every_code_has_a_distinct_name_and_message)
{
    int codes[] = {
#define XX(name, off, msg) ACIO_##name,
        ACIO_HTTP_ERRORS(XX)
#undef XX
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_neq(acio_err_name(codes[i]), "UNKNOWN");
        for (size_t j = i + 1; j < n; j++)
            cr_assert_str_neq(acio_strerror(codes[i]), acio_strerror(codes[j]));
    }
}
