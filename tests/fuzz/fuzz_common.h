/* Shared checks of the HTTP parser's libFuzzer targets (fuzz_http_*.c): parse an input
 * whole and split at a point taken from the input itself, and abort on any difference
 * (beyond the documented one: an error inside a line that has not ended may show as
 * INCOMPLETE until its LF arrives), on a result outside the input, or on a body decoder
 * that writes past what it was given. ASan and UBSan catch the rest. */
#ifndef ACIO_FUZZ_COMMON_H
#define ACIO_FUZZ_COMMON_H

#include <acio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    ssize_t n;
    acio_http_head_t head;
    acio_http_header_t fields[64];
} fuzz_head_t;

/* Parse a head from a fresh heap copy of buf[0..len) (so ASan sees any over-read). */
static ssize_t fuzz_parse(const char *method, const uint8_t *data, size_t len, size_t prev,
                          fuzz_head_t *h, acio_http_limits_t *lim, char **copy)
{
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data, len);
    h->n = method ? acio_http_parse_response(buf, len, prev, method, &h->head, h->fields, 64, lim)
                  : acio_http_parse_request(buf, len, prev, &h->head, h->fields, 64, lim);
    if (h->n >= 0) {
        FUZZ_CHECK((size_t)h->n <= len);
        for (size_t i = 0; i < h->head.num_headers; i++) {
            const acio_http_header_t *f = &h->head.headers[i];
            FUZZ_CHECK(f->name >= buf && f->name + f->name_len <= buf + h->n);
            FUZZ_CHECK(f->value >= buf && f->value + f->value_len <= buf + h->n);
            FUZZ_CHECK(f->name_len > 0);
        }
    } else {
        FUZZ_CHECK(h->n == ACIO_HTTP_INCOMPLETE || strcmp(acio_err_name((int)h->n), "UNKNOWN"));
    }
    *copy = buf;
    return h->n;
}

/* Decode body bytes in pieces of the given sizes (cycled); returns the verdict and
 * appends the decoded bytes to out (which must hold len bytes). */
static int fuzz_decode(acio_http_body_t *b, const uint8_t *data, size_t len, const uint8_t *sizes,
                       size_t nsizes, char *out, size_t *out_len, size_t *consumed)
{
    size_t pos = 0, k = 0;
    *out_len = 0;
    while (pos < len && !b->done) {
        size_t piece = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : len - pos;
        if (piece > len - pos)
            piece = len - pos;
        char *buf = malloc(piece);
        memcpy(buf, data + pos, piece);
        size_t n = piece;
        ssize_t used = acio_http_body_decode(b, buf, &n);
        if (used < 0) {
            free(buf);
            *consumed = pos;
            return (int)used;
        }
        FUZZ_CHECK((size_t)used <= piece && n <= (size_t)used);
        FUZZ_CHECK(used > 0 || b->done);
        memcpy(out + *out_len, buf, n);
        *out_len += n;
        pos += (size_t)used;
        free(buf);
    }
    *consumed = pos;
    return b->done ? 0 : acio_http_body_eof(b);
}

/* Parse data as a message (head then body) whole and split; abort on any difference. */
static void fuzz_message(const char *method, const uint8_t *data, size_t size, size_t split,
                         acio_http_limits_t *lim)
{
    fuzz_head_t whole, part;
    char *b1, *b2;
    ssize_t n = fuzz_parse(method, data, size, 0, &whole, lim, &b1);
    if (split > 0 && split < size) {
        ssize_t m = fuzz_parse(method, data, split, 0, &part, lim, &b2);
        free(b2);
        /* A prefix gets the whole verdict or INCOMPLETE (an error can only come from a
         * line that is already whole, so a prefix that errs shares it with the whole). */
        FUZZ_CHECK(m == ACIO_HTTP_INCOMPLETE || m == n);
        if (m == ACIO_HTTP_INCOMPLETE) {
            m = fuzz_parse(method, data, size, split, &part, lim, &b2);
            free(b2);
            bool lf = memchr(data + split, '\n', size - split) != NULL;
            FUZZ_CHECK(m == n || (!lf && m == ACIO_HTTP_INCOMPLETE && n < 0));
        }
    }
    if (n >= 0) {
        /* The body: whole, and in pieces sized by the input's first bytes. */
        acio_http_body_t bw, bp;
        acio_http_body_init(&bw, &whole.head, lim);
        acio_http_body_init(&bp, &whole.head, lim);
        size_t rest = size - (size_t)n;
        char *o1 = malloc(rest + 1), *o2 = malloc(rest + 1);
        size_t l1, l2, c1, c2;
        int v1 = fuzz_decode(&bw, data + n, rest, NULL, 0, o1, &l1, &c1);
        int v2 = fuzz_decode(&bp, data + n, rest, data, size < 8 ? size : 8, o2, &l2, &c2);
        FUZZ_CHECK(v1 == v2);
        if (v1 == 0) {
            FUZZ_CHECK(c1 == c2 && l1 == l2 && memcmp(o1, o2, l1) == 0);
            if (whole.head.body_kind == ACIO_HTTP_BODY_LENGTH)
                FUZZ_CHECK(l1 == whole.head.content_length);
        }
        free(o1);
        free(o2);
    }
    free(b1);
}

#endif
