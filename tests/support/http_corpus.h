/* Support for the HTTP parser's tests: a guard page (input copied so that it ends right
 * before a PROT_NONE page, so any read past the end crashes), the corpus file reader
 * (the .txt files in tests/http_corpus/, format described in tests/http_corpus/README.md), and a
 * driver that runs one message through the head parser and the body decoder under a
 * given feeding schedule and records everything observable as one string, so two
 * schedules can be compared with strcmp. Header-only: each test is its own program. */
#ifndef ACIO_TESTS_SUPPORT_HTTP_CORPUS_H
#define ACIO_TESTS_SUPPORT_HTTP_CORPUS_H

#include <acio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- guard page ---- */

typedef struct {
    char *base;  /* mapping */
    size_t size; /* accessible bytes before the guard page */
} guard_t;

__attribute__((unused)) static void guard_init(guard_t *g, size_t max)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    g->size = (max + page - 1) / page * page;
    if (g->size == 0)
        g->size = page;
    g->base =
        mmap(NULL, g->size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED)
        abort();
    if (mprotect(g->base + g->size, page, PROT_NONE) != 0)
        abort();
}

__attribute__((unused)) static void guard_close(guard_t *g)
{
    munmap(g->base, g->size + (size_t)sysconf(_SC_PAGESIZE));
}

/* Copy data so it ends at the guard page; returns where it starts. */
__attribute__((unused)) static char *guard_put(guard_t *g, const void *data, size_t len)
{
    if (len > g->size)
        abort();
    char *p = g->base + g->size - len;
    memcpy(p, data, len);
    return p;
}

/* ---- corpus files ---- */

typedef struct {
    char name[128];
    int line;            /* where the case starts in its file */
    bool response;       /* kind: response (else request) */
    char method[32];     /* for a response: the request's method */
    char expect[64];     /* "ok", "incomplete" or an error name such as ACIO_EHTTP_CL_AND_TE */
    char framing[64];    /* optional: "none", "length N", "chunked", "eof" */
    int keep_alive;      /* optional: -1 unknown, 0, 1 */
    int expect_continue; /* optional: -1 unknown, 0, 1 */
    char *body;          /* optional: the decoded body expected */
    size_t body_len;
    bool have_body;
    size_t rest; /* optional: bytes left after the message (pipelining), or -1 */
    bool have_rest;
    acio_http_limits_t lim;
    char *msg;
    size_t len;
} http_case_t;

typedef struct {
    http_case_t *cases;
    size_t n;
} http_corpus_t;

/* Unescape \r \n \t \\ \xHH \0 from src into a new buffer; *len gets its length. */
__attribute__((unused)) static size_t http_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            out[o++] = s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'r':
            out[o++] = '\r';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case '0':
            out[o++] = '\0';
            break;
        case 'x': {
            unsigned v = 0;
            sscanf(s + i + 1, "%2x", &v);
            out[o++] = (char)v;
            i += 2;
            break;
        }
        default:
            out[o++] = c;
            break;
        }
    }
    return o;
}

/* Append to a growing buffer. */
static void http_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf)
            abort();
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* A case file: cases start with "=== name", then "key: value" lines, then a line "---",
 * then the message, given as lines whose line breaks are NOT part of the message (write
 * \r\n), with escapes; "\{repeat N TEXT}" is expanded to TEXT N times (for limits). */
__attribute__((unused)) static void http_corpus_load(http_corpus_t *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        abort();
    }
    char line[8192];
    http_case_t *cur = NULL;
    bool in_msg = false;
    size_t cap = 0;
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strcspn(line, "\n");
        line[n] = '\0';
        if (strncmp(line, "=== ", 4) == 0) {
            c->cases = realloc(c->cases, (c->n + 1) * sizeof *c->cases);
            cur = &c->cases[c->n++];
            memset(cur, 0, sizeof *cur);
            snprintf(cur->name, sizeof cur->name, "%.120s", line + 4);
            cur->line = lineno;
            strcpy(cur->method, "GET");
            strcpy(cur->expect, "ok");
            cur->keep_alive = cur->expect_continue = -1;
            acio_http_limits_default(&cur->lim);
            in_msg = false;
            cap = 0;
            continue;
        }
        if (!cur || (!in_msg && (line[0] == '#' || line[0] == '\0')))
            continue;
        if (!in_msg) {
            char key[64], val[4096] = "";
            if (strcmp(line, "---") == 0) {
                in_msg = true;
                cur->msg = calloc(1, 1);
                continue;
            }
            int got = sscanf(line, "%63[^:]: %4095[^\n]", key, val);
            if (got < 1) {
                fprintf(stderr, "%s:%d: bad line\n", path, lineno);
                abort();
            }
            if (got == 1)
                val[0] = '\0';
            if (!strcmp(key, "kind"))
                cur->response = !strcmp(val, "response");
            else if (!strcmp(key, "method"))
                snprintf(cur->method, sizeof cur->method, "%s", val);
            else if (!strcmp(key, "expect"))
                snprintf(cur->expect, sizeof cur->expect, "%s", val);
            else if (!strcmp(key, "framing"))
                snprintf(cur->framing, sizeof cur->framing, "%s", val);
            else if (!strcmp(key, "keep_alive"))
                cur->keep_alive = !strcmp(val, "yes");
            else if (!strcmp(key, "expect_continue"))
                cur->expect_continue = !strcmp(val, "yes");
            else if (!strcmp(key, "rest")) {
                cur->rest = strtoul(val, NULL, 10);
                cur->have_rest = true;
            } else if (!strcmp(key, "body")) {
                cur->body = malloc(strlen(val) + 1);
                cur->body_len = http_unescape(val, strlen(val), cur->body);
                cur->have_body = true;
            } else if (!strcmp(key, "max_start_line"))
                cur->lim.max_start_line = strtoul(val, NULL, 10);
            else if (!strcmp(key, "max_header_line"))
                cur->lim.max_header_line = strtoul(val, NULL, 10);
            else if (!strcmp(key, "max_headers"))
                cur->lim.max_headers = strtoul(val, NULL, 10);
            else if (!strcmp(key, "max_head_bytes"))
                cur->lim.max_head_bytes = strtoul(val, NULL, 10);
            else if (!strcmp(key, "max_chunk_ext"))
                cur->lim.max_chunk_ext = strtoul(val, NULL, 10);
            else if (!strcmp(key, "max_trailer_bytes"))
                cur->lim.max_trailer_bytes = strtoul(val, NULL, 10);
            else {
                fprintf(stderr, "%s:%d: unknown key %s\n", path, lineno, key);
                abort();
            }
            continue;
        }
        /* Message line: expand \{repeat N TEXT} then unescape. */
        char *p = line;
        while (*p) {
            char *r = strstr(p, "\\{repeat ");
            size_t plain = r ? (size_t)(r - p) : strlen(p);
            char *tmp = malloc(plain + 1);
            size_t tl = http_unescape(p, plain, tmp);
            http_append(&cur->msg, &cur->len, &cap, tmp, tl);
            free(tmp);
            if (!r)
                break;
            unsigned long count = strtoul(r + 9, &p, 10);
            p++; /* the space */
            char *close = strchr(p, '}');
            if (!close)
                abort();
            tmp = malloc((size_t)(close - p) + 1);
            tl = http_unescape(p, (size_t)(close - p), tmp);
            for (unsigned long k = 0; k < count; k++)
                http_append(&cur->msg, &cur->len, &cap, tmp, tl);
            free(tmp);
            p = close + 1;
        }
    }
    fclose(f);
}

__attribute__((unused)) static void http_corpus_free(http_corpus_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->cases[i].msg);
        free(c->cases[i].body);
    }
    free(c->cases);
    memset(c, 0, sizeof *c);
}

/* ---- running a message under a feeding schedule ---- */

typedef struct {
    char *s; /* everything observable, as text */
    size_t len, cap;
    int verdict;           /* 0 ok, ACIO_HTTP_INCOMPLETE, or an error code */
    bool head_incomplete;  /* the head never completed */
    bool head_error;       /* the head parser returned an error */
    bool last_piece_no_lf; /* the schedule's last head piece held no LF */
    char *body;            /* the decoded body */
    size_t body_len, body_cap;
    size_t consumed; /* bytes of the input that belonged to the message */
    acio_http_body_kind_t kind;
    uint64_t content_length;
    bool keep_alive, expect_continue;
} http_result_t;

__attribute__((unused))
ACIO_PRINTF(2, 3) static void http_res_printf(http_result_t *r, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    http_append(&r->s, &r->len, &r->cap, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void http_res_bytes(http_result_t *r, const char *p, size_t n)
{
    http_append(&r->s, &r->len, &r->cap, p, n);
}

__attribute__((unused)) static void http_result_free(http_result_t *r)
{
    free(r->s);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Run case c with its bytes fed in pieces ending at cuts[0] < cuts[1] < ... = c->len
 * (ncuts entries). The head parser sees the whole buffer so far each time (with
 * prev_len); once the head is complete the body decoder gets each new piece on its own,
 * copied to the guard page so that its in-place decoding and reads are checked. */
__attribute__((unused)) static void http_run(const http_case_t *c, const size_t *cuts, size_t ncuts,
                                             guard_t *g, http_result_t *r)
{
    memset(r, 0, sizeof *r);
    acio_http_header_t headers[128];
    acio_http_head_t head;
    ssize_t hl = ACIO_HTTP_INCOMPLETE;
    size_t prev = 0, k = 0;
    for (; k < ncuts; k++) {
        char *buf = guard_put(g, c->msg, cuts[k]);
        if (c->response)
            hl = acio_http_parse_response(buf, cuts[k], prev, c->method, &head, headers, 128,
                                          &c->lim);
        else
            hl = acio_http_parse_request(buf, cuts[k], prev, &head, headers, 128, &c->lim);
        r->last_piece_no_lf = !memchr(c->msg + prev, '\n', cuts[k] - prev);
        prev = cuts[k];
        if (hl != ACIO_HTTP_INCOMPLETE) {
            if (hl >= 0) {
                /* Record the head while its pointers are valid. */
                if (c->response)
                    http_res_printf(r, "status=%d reason=[%.*s] ", head.status,
                                    (int)head.reason_len, head.reason);
                else
                    http_res_printf(r, "method=[%.*s] target=[%.*s] ", (int)head.method_len,
                                    head.method, (int)head.target_len, head.target);
                http_res_printf(r, "v=1.%d kind=%d cl=%llu ka=%d ec=%d up=%d n=%zu\n",
                                head.version_minor, (int)head.body_kind,
                                (unsigned long long)head.content_length, head.keep_alive,
                                head.expect_continue, head.upgrade, head.num_headers);
                for (size_t i = 0; i < head.num_headers; i++) {
                    http_res_printf(r, "  [");
                    http_res_bytes(r, head.headers[i].name, head.headers[i].name_len);
                    http_res_printf(r, "]=[");
                    http_res_bytes(r, head.headers[i].value, head.headers[i].value_len);
                    http_res_printf(r, "]\n");
                }
                r->kind = head.body_kind;
                r->content_length = head.content_length;
                r->keep_alive = head.keep_alive;
                r->expect_continue = head.expect_continue;
            }
            break;
        }
    }
    if (hl == ACIO_HTTP_INCOMPLETE) {
        r->verdict = ACIO_HTTP_INCOMPLETE;
        r->head_incomplete = true;
        http_res_printf(r, "verdict=incomplete\n");
        return;
    }
    if (hl < 0) {
        r->verdict = (int)hl;
        r->head_error = true;
        http_res_printf(r, "verdict=%s\n", acio_err_name((int)hl));
        return;
    }
    acio_http_body_t body;
    acio_http_body_init(&body, &head, &c->lim);
    size_t pos = (size_t)hl; /* next input byte for the decoder */
    size_t end = cuts[k];    /* bytes available so far */
    int verdict = 0;
    for (;;) {
        while (pos < end && !body.done) {
            size_t n = end - pos;
            char *buf = guard_put(g, c->msg + pos, n);
            ssize_t used = acio_http_body_decode(&body, buf, &n);
            if (used < 0) {
                verdict = (int)used;
                break;
            }
            http_append(&r->body, &r->body_len, &r->body_cap, buf, n);
            pos += (size_t)used;
            if (used == 0 && !body.done)
                abort(); /* no progress on a non-empty piece */
        }
        if (verdict < 0 || body.done || ++k >= ncuts)
            break;
        end = cuts[k];
    }
    if (verdict == 0 && !body.done)
        verdict = acio_http_body_eof(&body);
    r->verdict = verdict;
    r->consumed = pos;
    if (verdict < 0) {
        /* What was decoded before a framing error is not part of the verdict. */
        r->body_len = 0;
        pos = 0;
    }
    http_res_printf(r, "body=[");
    if (r->body_len)
        http_res_bytes(r, r->body, r->body_len);
    http_res_printf(r, "] consumed=%zu verdict=%s\n", pos, verdict ? acio_err_name(verdict) : "ok");
}

#endif
