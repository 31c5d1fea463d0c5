/* The RESP2/RESP3 reply reader: bytes in, reply trees out, in any split of the input.
 *
 * As in hiredis's read.c, nested aggregates are an explicit stack of frames (bounded
 * depth), so a hostile server cannot recurse us off the stack. A reply is parsed only
 * once its bytes are all there: a header whose bulk body has not fully arrived is left
 * unconsumed and parsed again later (a header is a few bytes; the body is never
 * re-scanned, since its length is known). Aggregate element arrays grow as elements
 * arrive, so "*4294967295\r\n" costs nothing until the elements come. Every limit breach
 * or malformed byte is a protocol error that the reader never recovers from: the only
 * safe response is to close the connection. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "resp.h"

#define DEFAULT_MAX_BULK     (512u * 1024 * 1024)
#define DEFAULT_MAX_ELEMENTS 4294967295u
#define DEFAULT_MAX_DEPTH    32
#define MAX_DEPTH_CAP        256

typedef struct {
    acio_redis_reply_t *agg;
    size_t expected; /* elements the header announced */
    size_t cap;      /* allocated slots in agg->element */
    bool attribute;  /* RESP3 |: parsed and dropped */
} frame_t;

struct acio_resp_reader_s {
    char *buf;
    size_t len, pos, cap;
    acio_resp_limits_t lim;
    int depth;
    frame_t *stack;
    bool failed;
    char err[160];
};

void acio_redis_reply_free(acio_redis_reply_t *r)
{
    if (!r)
        return;
    if (r->element) {
        for (size_t i = 0; i < r->elements; i++)
            acio_redis_reply_free(r->element[i]);
        acio__free(r->element);
    }
    acio__free(r);
}

int acio_resp_reader_new(acio_resp_reader_t **out, const acio_resp_limits_t *limits)
{
    if (!out)
        return -EINVAL;
    acio_resp_reader_t *r = acio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->lim.max_bulk = DEFAULT_MAX_BULK;
    r->lim.max_elements = DEFAULT_MAX_ELEMENTS;
    r->lim.max_depth = DEFAULT_MAX_DEPTH;
    if (limits) {
        if (limits->max_bulk)
            r->lim.max_bulk = limits->max_bulk;
        if (limits->max_elements)
            r->lim.max_elements = limits->max_elements;
        if (limits->max_depth > 0)
            r->lim.max_depth =
                limits->max_depth < MAX_DEPTH_CAP ? limits->max_depth : MAX_DEPTH_CAP;
    }
    r->stack = acio__calloc((size_t)r->lim.max_depth, sizeof(frame_t));
    if (!r->stack) {
        acio__free(r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

void acio_resp_reader_free(acio_resp_reader_t *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->depth; i++)
        acio_redis_reply_free(r->stack[i].agg);
    acio__free(r->stack);
    acio__free(r->buf);
    acio__free(r);
}

const char *acio_resp_reader_error(const acio_resp_reader_t *r)
{
    return r ? r->err : "";
}

static int fail(acio_resp_reader_t *r, const char *fmt, ...) ACIO_PRINTF(2, 3);
static int fail(acio_resp_reader_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    r->failed = true;
    return ACIO_EREDIS_PROTOCOL;
}

/* Make room for at least want more bytes after len. */
static int reserve(acio_resp_reader_t *r, size_t want)
{
    if (r->pos > 0 && (r->pos == r->len || r->cap - r->len < want)) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->len >= want)
        return 0;
    size_t ncap = r->cap ? r->cap : 16384;
    while (ncap - r->len < want) {
        if (ncap > SIZE_MAX / 2)
            return -ENOMEM;
        ncap *= 2;
    }
    char *nb = acio__realloc(r->buf, ncap);
    if (!nb)
        return -ENOMEM;
    r->buf = nb;
    r->cap = ncap;
    return 0;
}

int acio__resp_reader_space(acio_resp_reader_t *r, size_t hint, void **buf, size_t *len)
{
    if (r->failed)
        return ACIO_EREDIS_PROTOCOL;
    int rc = reserve(r, hint ? hint : 1);
    if (rc < 0)
        return rc;
    *buf = r->buf + r->len;
    *len = r->cap - r->len;
    return 0;
}

void acio__resp_reader_commit(acio_resp_reader_t *r, size_t n)
{
    r->len += n;
}

int acio_resp_reader_feed(acio_resp_reader_t *r, const void *buf, size_t len)
{
    if (!r || (!buf && len))
        return -EINVAL;
    if (r->failed)
        return ACIO_EREDIS_PROTOCOL;
    int rc = reserve(r, len);
    if (rc < 0)
        return rc;
    memcpy(r->buf + r->len, buf, len);
    r->len += len;
    return 0;
}

/* A signed decimal with no sign-only, no leading '+', no overflow. */
static bool parse_ll(const char *s, size_t n, long long *out)
{
    bool neg = false;
    size_t i = 0;
    if (n > 0 && s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n || n - i > 19)
        return false;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (neg ? v > (unsigned long long)LLONG_MAX + 1 : v > (unsigned long long)LLONG_MAX)
        return false;
    *out = neg ? (long long)(0 - v) : (long long)v;
    return true;
}

static acio_redis_reply_t *scalar(acio_redis_reply_type_t type, const char *s, size_t n)
{
    acio_redis_reply_t *x = acio__malloc(sizeof(*x) + n + 1);
    if (!x)
        return NULL;
    memset(x, 0, sizeof(*x));
    x->type = type;
    x->str = (char *)(x + 1);
    if (n)
        memcpy(x->str, s, n);
    x->str[n] = '\0';
    x->len = n;
    return x;
}

/* Parse one item at r->pos. Returns 1 with *item (a scalar, or an empty aggregate), 2
 * when a non-empty aggregate frame was pushed, 0 when incomplete, or an error. */
static int parse_item(acio_resp_reader_t *r, acio_redis_reply_t **item)
{
    const char *p = r->buf + r->pos;
    size_t avail = r->len - r->pos;
    const char *cr = memchr(p, '\r', avail);
    if (!cr) {
        if (avail > r->lim.max_bulk + 64)
            return fail(r, "a RESP line longer than %zu bytes", r->lim.max_bulk);
        return 0;
    }
    size_t linelen = (size_t)(cr - p);
    if (linelen + 1 >= avail)
        return 0; /* the '\n' has not arrived */
    if (cr[1] != '\n')
        return fail(r, "a bare CR inside a RESP line");
    if (linelen == 0)
        return fail(r, "an empty RESP line where a type byte was expected");
    char type = p[0];
    const char *line = p + 1;
    size_t n = linelen - 1;
    size_t next = linelen + 2;
    long long v = 0;
    acio_redis_reply_t *x = NULL;

    switch (type) {
    case '+':
    case '-':
        if (memchr(line, '\n', n))
            return fail(r, "a LF inside a RESP simple string");
        x = scalar(type == '+' ? ACIO_REDIS_REPLY_STATUS : ACIO_REDIS_REPLY_ERROR, line, n);
        break;
    case ':':
        if (!parse_ll(line, n, &v))
            return fail(r, "a malformed RESP integer");
        x = scalar(ACIO_REDIS_REPLY_INTEGER, line, n);
        if (x)
            x->integer = v;
        break;
    case '_':
        if (n != 0)
            return fail(r, "a RESP3 null with a payload");
        x = scalar(ACIO_REDIS_REPLY_NIL, "", 0);
        break;
    case '#':
        if (n != 1 || (line[0] != 't' && line[0] != 'f'))
            return fail(r, "a malformed RESP3 boolean");
        x = scalar(ACIO_REDIS_REPLY_BOOL, line, n);
        if (x)
            x->integer = line[0] == 't';
        break;
    case ',': {
        char tmp[64];
        if (n == 0 || n >= sizeof(tmp))
            return fail(r, "a malformed RESP3 double");
        memcpy(tmp, line, n);
        tmp[n] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        if (*end != '\0')
            return fail(r, "a malformed RESP3 double");
        x = scalar(ACIO_REDIS_REPLY_DOUBLE, line, n);
        if (x)
            x->dval = d;
        break;
    }
    case '(':
        for (size_t i = 0; i < n; i++)
            if (!((line[i] >= '0' && line[i] <= '9') || (i == 0 && line[i] == '-' && n > 1)))
                return fail(r, "a malformed RESP3 big number");
        if (n == 0)
            return fail(r, "a malformed RESP3 big number");
        x = scalar(ACIO_REDIS_REPLY_BIGNUM, line, n);
        break;
    case '$':
    case '!':
    case '=': {
        if (!parse_ll(line, n, &v) || v < -1)
            return fail(r, "a malformed RESP bulk length");
        if (v == -1) {
            if (type != '$')
                return fail(r, "a null length on a RESP3 blob type");
            x = scalar(ACIO_REDIS_REPLY_NIL, "", 0);
            break;
        }
        if ((unsigned long long)v > r->lim.max_bulk)
            return fail(r, "a RESP bulk string of %lld bytes (the limit is %zu)", v,
                        r->lim.max_bulk);
        size_t blen = (size_t)v;
        if (avail - next < blen + 2)
            return 0;
        const char *body = p + next;
        if (body[blen] != '\r' || body[blen + 1] != '\n')
            return fail(r, "a RESP bulk string not followed by CRLF");
        if (type == '=') {
            if (blen < 4 || body[3] != ':')
                return fail(r, "a malformed RESP3 verbatim string");
            x = scalar(ACIO_REDIS_REPLY_VERB, body + 4, blen - 4);
            if (x)
                memcpy(x->format, body, 3);
        } else {
            x = scalar(type == '$' ? ACIO_REDIS_REPLY_STRING : ACIO_REDIS_REPLY_ERROR, body, blen);
        }
        next += blen + 2;
        break;
    }
    case '*':
    case '%':
    case '~':
    case '>':
    case '|': {
        if (!parse_ll(line, n, &v) || v < -1)
            return fail(r, "a malformed RESP aggregate length");
        if (v == -1) {
            if (type != '*')
                return fail(r, "a null length on a RESP3 aggregate");
            x = scalar(ACIO_REDIS_REPLY_NIL, "", 0);
            break;
        }
        if ((unsigned long long)v > r->lim.max_elements)
            return fail(r, "a RESP aggregate of %lld elements (the limit is %zu)", v,
                        r->lim.max_elements);
        size_t count = (size_t)v * ((type == '%' || type == '|') ? 2 : 1);
        acio_redis_reply_type_t t = type == '*'   ? ACIO_REDIS_REPLY_ARRAY
                                    : type == '%' ? ACIO_REDIS_REPLY_MAP
                                    : type == '~' ? ACIO_REDIS_REPLY_SET
                                    : type == '>' ? ACIO_REDIS_REPLY_PUSH
                                                  : ACIO_REDIS_REPLY_MAP;
        x = scalar(t, "", 0);
        if (!x)
            return -ENOMEM;
        x->str = NULL;
        if (count == 0 && type != '|') {
            r->pos += next;
            *item = x;
            return 1;
        }
        if (r->depth >= r->lim.max_depth) {
            acio__free(x);
            return fail(r, "RESP aggregates nested deeper than %d", r->lim.max_depth);
        }
        frame_t *f = &r->stack[r->depth];
        f->cap = count < 1024 ? count : 1024;
        x->element = f->cap ? acio__malloc(f->cap * sizeof(*x->element)) : NULL;
        if (f->cap && !x->element) {
            acio__free(x);
            return -ENOMEM;
        }
        f->agg = x;
        f->expected = count;
        f->attribute = type == '|';
        r->depth++;
        r->pos += next;
        if (count == 0) { /* an empty attribute: drop it at once */
            r->depth--;
            acio_redis_reply_free(x);
            return 3;
        }
        return 2;
    }
    default:
        return fail(r, "byte 0x%02x where a RESP type was expected", (unsigned char)type);
    }
    if (!x)
        return -ENOMEM;
    r->pos += next;
    *item = x;
    return 1;
}

/* Append item to the innermost frame. */
static int attach(acio_resp_reader_t *r, acio_redis_reply_t *item)
{
    frame_t *f = &r->stack[r->depth - 1];
    acio_redis_reply_t *a = f->agg;
    if (a->elements == f->cap) {
        size_t ncap = f->cap * 2;
        if (ncap > f->expected)
            ncap = f->expected;
        acio_redis_reply_t **ne = acio__realloc(a->element, ncap * sizeof(*ne));
        if (!ne)
            return -ENOMEM;
        a->element = ne;
        f->cap = ncap;
    }
    a->element[a->elements++] = item;
    return 0;
}

int acio_resp_reader_get(acio_resp_reader_t *r, acio_redis_reply_t **out)
{
    if (!r || !out)
        return -EINVAL;
    if (r->failed)
        return ACIO_EREDIS_PROTOCOL;
    for (;;) {
        if (r->pos == r->len) {
            r->pos = r->len = 0;
            return 0;
        }
        acio_redis_reply_t *item = NULL;
        int rc = parse_item(r, &item);
        if (rc <= 0) {
            if (rc == -ENOMEM)
                r->failed = true, snprintf(r->err, sizeof(r->err), "out of memory");
            return rc;
        }
        if (rc >= 2)
            continue; /* a frame was pushed (2) or an empty attribute dropped (3) */
        /* Complete item: climb while frames fill up. */
        for (;;) {
            if (r->depth == 0) {
                *out = item;
                return 1;
            }
            if (attach(r, item) < 0) {
                acio_redis_reply_free(item);
                r->failed = true;
                snprintf(r->err, sizeof(r->err), "out of memory");
                return -ENOMEM;
            }
            frame_t *f = &r->stack[r->depth - 1];
            if (f->agg->elements < f->expected)
                break;
            r->depth--;
            item = f->agg;
            f->agg = NULL;
            if (f->attribute) {
                acio_redis_reply_free(item);
                break;
            }
        }
    }
}
