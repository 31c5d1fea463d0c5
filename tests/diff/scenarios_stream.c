/* Differential scenarios for StreamReader's reading functions: what readline,
 * readuntil and readexactly return or fail with, the attributes of asyncio's
 * LimitOverrunError / IncompleteReadError and their str(), and what stays buffered
 * after each. Mirrors the scenario of the same name in scenarios.py; see diff.h. */
#include <stdio.h>
#include <string.h>

#include "diff.h"

/* Python's repr() of a bytes object, for the ASCII these scenarios use. */
static const char *bytes_repr(const void *data, size_t len)
{
    static char bufs[2][256];
    static unsigned next;
    char *out = bufs[next++ % 2];
    const unsigned char *p = data;
    size_t o = 0;
    out[o++] = 'b';
    out[o++] = '\'';
    for (size_t i = 0; i < len && o < sizeof bufs[0] - 8; i++) {
        if (p[i] == '\n')
            o += (size_t)snprintf(out + o, 3, "\\n");
        else if (p[i] == '\r')
            o += (size_t)snprintf(out + o, 3, "\\r");
        else if (p[i] == '\'' || p[i] == '\\')
            o += (size_t)snprintf(out + o, 4, "\\%c", p[i]);
        else if (p[i] < 0x20 || p[i] >= 0x7f)
            o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
        else
            out[o++] = (char)p[i];
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

enum { READLINE, READUNTIL };

/* Print a read's outcome as scenarios.py's stream_try does, then what stays buffered.
 * rc is the call's return value; data/len the chunk on success. */
static void show(const char *label, acio_stream_reader_t *r, int op, long rc, const void *data,
                 size_t len)
{
    acio_stream_read_error_t e;
    if (rc >= 0) {
        say("%s -> %s", label, bytes_repr(data, len));
    } else if (acio_stream_reader_last_error(r, &e) == ACIO_ELIMITOVERRUN && op == READLINE) {
        say("%s -> ValueError: %s", label, e.message);
    } else if (e.code == ACIO_ELIMITOVERRUN) {
        say("%s -> LimitOverrunError consumed=%zu: %s", label, e.consumed, e.message);
    } else if (e.code == ACIO_EINCOMPLETEREAD) {
        char expected[32] = "None";
        if (e.expected >= 0)
            snprintf(expected, sizeof expected, "%lld", e.expected);
        say("%s -> IncompleteReadError partial=%s expected=%s: %s", label,
            bytes_repr(e.partial, e.partial_len), expected, e.message);
    } else {
        say("%s -> unexpected %s: %s", label, acio_err_name((int)rc), e.message);
    }
    say("  buffered %zu", acio_stream_reader_buffered(r));
}

static void try_readline(const char *label, acio_stream_reader_t *r)
{
    char *line;
    size_t len;
    int rc = acio_stream_reader_readline_alloc(r, &line, &len);
    show(label, r, READLINE, rc, line, len);
    free(line);
}

/* The buffer form: the same outcome when the line fits. */
static void try_readline_buf(const char *label, acio_stream_reader_t *r)
{
    char line[16];
    ssize_t n = acio_stream_reader_readline(r, line, sizeof line);
    show(label, r, READLINE, (long)n, line, n > 0 ? (size_t)n : 0);
}

static void try_readuntil(const char *label, acio_stream_reader_t *r, const char *sep)
{
    char *chunk;
    size_t len;
    int rc = acio_stream_reader_readuntil_alloc(r, sep, strlen(sep), &chunk, &len);
    show(label, r, READUNTIL, rc, chunk, len);
    free(chunk);
}

static void try_readexactly(const char *label, acio_stream_reader_t *r, size_t n)
{
    char buf[32];
    int rc = acio_stream_reader_readexactly(r, buf, n, NULL);
    show(label, r, READUNTIL, rc, buf, n);
}

static void try_read(const char *label, acio_stream_reader_t *r, size_t n)
{
    char buf[32];
    ssize_t got = acio_stream_reader_read(r, buf, n);
    show(label, r, READUNTIL, (long)got, buf, got > 0 ? (size_t)got : 0);
}

static acio_stream_reader_t *fed(const char *data, bool eof)
{
    acio_stream_reader_t *r;
    TRY(acio_stream_reader_new(&r, 8));
    TRY(acio_stream_reader_feed_data(r, data, strlen(data)));
    if (eof)
        acio_stream_reader_feed_eof(r);
    return r;
}

static void *sre_main(void *arg)
{
    (void)arg;
    acio_stream_reader_t *r = fed("abc\n0123456789\nxy", false);
    try_readline("readline", r);
    try_readline("readline (line over the limit)", r);
    TRY(acio_stream_reader_feed_data(r, "0123456789", 10));
    try_readuntil("readuntil ! (not found)", r, "!");
    try_readexactly("readexactly 5", r, 5);
    TRY(acio_stream_reader_feed_data(r, "AB", 2));
    acio_stream_reader_feed_eof(r);
    try_readuntil("readuntil ! (9 buffered)", r, "!");
    try_read("read 5", r, 5);
    try_readuntil("readuntil ! (at EOF)", r, "!");
    try_readline("readline (empty, EOF)", r);
    acio_stream_reader_unref(r);

    r = fed("hello", true);
    try_readexactly("readexactly 8", r, 8);
    acio_stream_reader_unref(r);

    r = fed("line one\n12345678901", false);
    try_readline_buf("readline (8 + newline)", r);
    try_readline_buf("readline (no newline, over)", r);
    TRY(acio_stream_reader_feed_data(r, "ab\ncd", 5));
    acio_stream_reader_feed_eof(r);
    try_readline_buf("readline", r);
    try_readline("readline (partial)", r);
    try_readline("readline (EOF)", r);
    acio_stream_reader_unref(r);

    r = fed("abc\r", true);
    try_readuntil("readuntil CRLF (half a separator)", r, "\r\n");
    acio_stream_reader_unref(r);

    r = fed("0123456789ab\r\n", false);
    try_readuntil("readuntil CRLF (found past the limit)", r, "\r\n");
    try_readexactly("readexactly 14", r, 14);
    acio_stream_reader_unref(r);
    return NULL;
}

DIFF_SCENARIO(stream_reader_errors)
{
    diff_run(sre_main);
}
