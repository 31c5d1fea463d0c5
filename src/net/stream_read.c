/* StreamReader's reading coroutines: read, read(-1), readuntil, readline, readexactly,
 * the _alloc forms of readuntil / readline that return the chunk in its own malloc'd
 * block, and the details of the last error (asyncio's exception attributes and str(e)).
 *
 * readuntil's search is one function (locate) that waits until the outcome is known and
 * consumes nothing; each public form then copies the chunk where the caller wants it and
 * leaves in the buffer exactly what CPython's streams.py leaves: after success the rest;
 * after LimitOverrunError everything (readuntil) or the buffer minus the overlong line
 * (readline, which raises ValueError); after IncompleteReadError nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/stream_int.h"

/* ---- the last error ---- */

static void clear_error(acio__stream_t *s)
{
    s->rerr.code = 0;
    s->rerr.consumed = 0;
    s->rerr.expected = -1;
    s->rerr.message[0] = '\0';
    if (s->rerr.partial) {
        acio__free(s->rerr.partial);
        s->rerr.partial = NULL;
    }
    s->rerr.partial_len = 0;
}

/* Record code as the read's outcome, with str(e) as Python words it. */
static ssize_t fail(acio__stream_t *s, ssize_t code)
{
    s->rerr.code = (int)code;
    if (code == ACIO_EINCOMPLETEREAD) {
        if (s->rerr.expected < 0)
            snprintf(s->rerr.message, sizeof s->rerr.message,
                     "%zu bytes read on a total of undefined expected bytes", s->rerr.partial_len);
        else
            snprintf(s->rerr.message, sizeof s->rerr.message,
                     "%zu bytes read on a total of %lld expected bytes", s->rerr.partial_len,
                     s->rerr.expected);
    } else if (code == -ENOBUFS) {
        snprintf(s->rerr.message, sizeof s->rerr.message,
                 "the chunk fits the stream's limit but not the buffer given: nothing was "
                 "consumed; call again with a larger buffer or use the _alloc form");
    } else if (code != ACIO_ELIMITOVERRUN) {
        snprintf(s->rerr.message, sizeof s->rerr.message, "%s", acio_strerror((int)code));
    }
    return code;
}

/* IncompleteReadError: keep a copy of the n bytes at the front of the buffer as its
 * partial attribute, then empty the buffer. -ENOMEM (nothing consumed) if the copy
 * cannot be made, so no byte is lost. */
static int keep_partial(acio__stream_t *s, size_t n, long long expected)
{
    if (n) {
        s->rerr.partial = acio__malloc(n);
        if (!s->rerr.partial)
            return -ENOMEM;
        memcpy(s->rerr.partial, s->buf + s->start, n);
    }
    s->rerr.partial_len = n;
    s->rerr.expected = expected;
    s->start = s->end = 0;
    acio__stream_maybe_resume(s);
    return 0;
}

int acio_stream_reader_last_error(const acio_stream_reader_t *r, acio_stream_read_error_t *out)
{
    if (!r || !out)
        return -EINVAL;
    const acio__stream_t *s = acio__stream_of_reader(r);
    out->code = s->rerr.code;
    out->consumed = s->rerr.consumed;
    out->partial = s->rerr.partial;
    out->partial_len = s->rerr.partial_len;
    out->expected = s->rerr.expected;
    out->message = s->rerr.message;
    return s->rerr.code;
}

/* ---- read ---- */

ssize_t acio_stream_reader_read(acio_stream_reader_t *r, void *buf, size_t n)
{
    if (!r || (!buf && n))
        return -EINVAL;
    acio__stream_t *s = acio__stream_of_reader(r);
    clear_error(s);
    if (s->exc)
        return fail(s, s->exc);
    if (n == 0)
        return 0;
    while (s->end == s->start && !s->eof) {
        int rc = acio__stream_wait_for_data(s);
        if (rc < 0)
            return fail(s, rc);
        if (s->exc)
            return fail(s, s->exc);
    }
    size_t avail = s->end - s->start;
    size_t take = avail < n ? avail : n;
    if (take) /* at EOF before any data, s->buf is still NULL */
        memcpy(buf, s->buf + s->start, take);
    s->start += take;
    acio__stream_maybe_resume(s);
    return (ssize_t)take;
}

int acio_stream_reader_read_all(acio_stream_reader_t *r, void **out, size_t *len)
{
    if (!r || !out || !len)
        return -EINVAL;
    acio__stream_t *s = acio__stream_of_reader(r);
    clear_error(s);
    *out = NULL;
    *len = 0;
    size_t cap = 0, used = 0;
    char *acc = NULL;
    for (;;) {
        if (s->exc) {
            free(acc); /* read_all's buffer is the caller's, from malloc */
            return (int)fail(s, s->exc);
        }
        size_t avail = s->end - s->start;
        if (avail) {
            if (used + avail + 1 > cap) {
                size_t nc = cap ? cap : 4096;
                while (nc < used + avail + 1)
                    nc *= 2;
                char *na = realloc(acc, nc);
                if (!na) {
                    free(acc);
                    return (int)fail(s, -ENOMEM);
                }
                acc = na;
                cap = nc;
            }
            memcpy(acc + used, s->buf + s->start, avail);
            used += avail;
            s->start = s->end = 0;
            acio__stream_maybe_resume(s);
        }
        if (s->eof)
            break;
        int rc = acio__stream_wait_for_data(s);
        if (rc < 0) {
            free(acc);
            return (int)fail(s, rc);
        }
    }
    if (!acc && !(acc = malloc(1)))
        return (int)fail(s, -ENOMEM);
    acc[used] = '\0';
    *out = acc;
    *len = used;
    return 0;
}

/* ---- readuntil and readline ---- */

/* Wait until readuntil(sep)'s outcome is known; consumes nothing. Returns the length of
 * the chunk through the separator (> 0); ACIO_EINCOMPLETEREAD at EOF without it (the
 * whole buffer is the partial chunk); ACIO_ELIMITOVERRUN with rerr.consumed and
 * rerr.message set as asyncio's LimitOverrunError; or the stream's / the wait's error. */
static ssize_t locate(acio__stream_t *s, const void *sep, size_t seplen)
{
    if (s->exc)
        return s->exc;
    size_t offset = 0;
    for (;;) {
        size_t avail = s->end - s->start;
        if (avail >= offset + seplen) {
            const char *base = s->buf + s->start;
            const char *hit = memmem(base + offset, avail - offset, sep, seplen);
            if (hit) {
                size_t isep = (size_t)(hit - base);
                if (isep > s->limit) {
                    s->rerr.consumed = isep;
                    snprintf(s->rerr.message, sizeof s->rerr.message,
                             "Separator is found, but chunk is longer than limit");
                    return ACIO_ELIMITOVERRUN;
                }
                return (ssize_t)(isep + seplen);
            }
            offset = avail + 1 - seplen;
            if (offset > s->limit) {
                s->rerr.consumed = offset;
                snprintf(s->rerr.message, sizeof s->rerr.message,
                         "Separator is not found, and chunk exceed the limit");
                return ACIO_ELIMITOVERRUN;
            }
        }
        if (s->eof)
            return ACIO_EINCOMPLETEREAD;
        int rc = acio__stream_wait_for_data(s);
        if (rc < 0)
            return rc;
        if (s->exc)
            return s->exc;
    }
}

/* Move the first n buffered bytes to the caller: into buf (at most cap bytes, -ENOBUFS
 * otherwise, nothing consumed) or, with out, into a new malloc'd NUL-terminated block. */
static ssize_t take(acio__stream_t *s, size_t n, void *buf, size_t cap, char **out)
{
    if (out) {
        char *p = malloc(n + 1); /* the caller's, released with free() */
        if (!p)
            return -ENOMEM;
        if (n)
            memcpy(p, s->buf + s->start, n);
        p[n] = '\0';
        *out = p;
    } else {
        if (n > cap)
            return -ENOBUFS;
        if (n)
            memcpy(buf, s->buf + s->start, n);
    }
    s->start += n;
    acio__stream_maybe_resume(s);
    return (ssize_t)n;
}

static ssize_t readuntil(acio__stream_t *s, const void *sep, size_t seplen, void *buf, size_t cap,
                         char **out, size_t *partial)
{
    clear_error(s);
    ssize_t n = locate(s, sep, seplen);
    if (n > 0)
        n = take(s, (size_t)n, buf, cap, out);
    else if (n == ACIO_EINCOMPLETEREAD) {
        /* asyncio: IncompleteReadError(bytes(buffer), None), buffer cleared. The
         * buffer form also hands the bytes over in buf. */
        size_t avail = s->end - s->start;
        if (!out && avail > cap)
            return fail(s, -ENOBUFS);
        if (!out && avail)
            memcpy(buf, s->buf + s->start, avail);
        int rc = keep_partial(s, avail, -1);
        if (rc < 0)
            return fail(s, rc);
        if (partial)
            *partial = avail;
    }
    return n < 0 ? fail(s, n) : n;
}

ssize_t acio_stream_reader_readuntil(acio_stream_reader_t *r, const void *sep, size_t seplen,
                                     void *buf, size_t cap, size_t *partial)
{
    if (partial)
        *partial = 0;
    if (!r || !sep || seplen == 0 || (!buf && cap))
        return -EINVAL;
    return readuntil(acio__stream_of_reader(r), sep, seplen, buf, cap, NULL, partial);
}

int acio_stream_reader_readuntil_alloc(acio_stream_reader_t *r, const void *sep, size_t seplen,
                                       char **out, size_t *len)
{
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!r || !sep || seplen == 0 || !out || !len)
        return -EINVAL;
    ssize_t n = readuntil(acio__stream_of_reader(r), sep, seplen, NULL, 0, out, NULL);
    if (n < 0)
        return (int)n;
    *len = (size_t)n;
    return 0;
}

static ssize_t readline(acio__stream_t *s, void *buf, size_t cap, char **out)
{
    clear_error(s);
    ssize_t n = locate(s, "\n", 1);
    if (n > 0) {
        n = take(s, (size_t)n, buf, cap, out);
        return n < 0 ? fail(s, n) : n;
    }
    if (n == ACIO_EINCOMPLETEREAD) {
        /* asyncio returns the partial line (b'' at EOF) */
        n = take(s, s->end - s->start, buf, cap, out);
        return n < 0 ? fail(s, n) : n;
    }
    if (n == ACIO_ELIMITOVERRUN) {
        /* asyncio's readline drops the overlong line (through its separator if that was
         * found, else everything buffered) and raises ValueError with the same words. */
        size_t avail = s->end - s->start;
        if (s->rerr.consumed < avail && s->buf[s->start + s->rerr.consumed] == '\n')
            s->start += s->rerr.consumed + 1;
        else
            s->start = s->end;
        acio__stream_maybe_resume(s);
    }
    return fail(s, n);
}

ssize_t acio_stream_reader_readline(acio_stream_reader_t *r, void *buf, size_t cap)
{
    if (!r || (!buf && cap))
        return -EINVAL;
    return readline(acio__stream_of_reader(r), buf, cap, NULL);
}

int acio_stream_reader_readline_alloc(acio_stream_reader_t *r, char **out, size_t *len)
{
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!r || !out || !len)
        return -EINVAL;
    ssize_t n = readline(acio__stream_of_reader(r), NULL, 0, out);
    if (n < 0)
        return (int)n;
    *len = (size_t)n;
    return 0;
}

/* ---- readexactly ---- */

int acio_stream_reader_readexactly(acio_stream_reader_t *r, void *buf, size_t n, size_t *partial)
{
    if (partial)
        *partial = 0;
    if (!r || (!buf && n))
        return -EINVAL;
    acio__stream_t *s = acio__stream_of_reader(r);
    clear_error(s);
    if (s->exc)
        return (int)fail(s, s->exc);
    while (s->end - s->start < n) {
        if (s->eof) {
            /* asyncio: IncompleteReadError(bytes(buffer), n), buffer cleared */
            size_t avail = s->end - s->start;
            if (avail)
                memcpy(buf, s->buf + s->start, avail);
            int rc = keep_partial(s, avail, (long long)n);
            if (rc < 0)
                return (int)fail(s, rc);
            if (partial)
                *partial = avail;
            return (int)fail(s, ACIO_EINCOMPLETEREAD);
        }
        int rc = acio__stream_wait_for_data(s);
        if (rc < 0)
            return (int)fail(s, rc);
        if (s->exc)
            return (int)fail(s, s->exc);
    }
    take(s, n, buf, n, NULL);
    return 0;
}
