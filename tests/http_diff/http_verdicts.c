/* The C half of the HTTP parser's differential test (run by diff.py): reads messages from
 * stdin and prints, for each, the verdict of acio's parser and of Debian's libhttp-parser
 * (nodejs/http-parser 2.9) on one line each:
 *
 *     acio ok|incomplete|<error name> consumed=N ka=0|1 eof=0|1 body=<hex> head=<hex>
 *     hp   ok|incomplete|<error name> consumed=N ka=0|1 eof=0|1 body=<hex> head=<hex>
 *
 * "head" is the method and target (requests) or status (responses), for agreement checks;
 * eof=1 when the body was delimited by the connection's close.
 * Input records: a line "Q" (request) or "R <METHOD>" (response to METHOD), a line with
 * the byte count, then the bytes; then the same again (count, bytes) for the copy given
 * to http-parser, which diff.py may have normalised where http-parser is known to differ
 * from the RFC (its head only, so offsets past the head shift by a known amount). The message is
 * all there is: after it the connection closes (so a close-delimited body ends there, any other
 * unfinished message is "incomplete"). acio's verdict is also computed with the message split at a
 * point derived from its length, and a difference is reported as "acio-split-mismatch". */
#include <acio.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char verdict[64];
    size_t consumed;
    int ka, eof;
    char *body;
    size_t body_len, body_cap;
    char head[256];
} result_t;

static void body_add(result_t *r, const char *p, size_t n)
{
    if (r->body_len + n > r->body_cap) {
        r->body_cap = (r->body_len + n) * 2 + 64;
        r->body = realloc(r->body, r->body_cap);
        if (!r->body)
            abort();
    }
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
}

static void print_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", (unsigned char)p[i]);
}

static void print_result(const char *who, const result_t *r)
{
    printf("%s %s consumed=%zu ka=%d eof=%d body=", who, r->verdict, r->consumed, r->ka, r->eof);
    print_hex(r->body, r->body_len);
    printf(" head=");
    print_hex(r->head, strlen(r->head));
    printf("\n");
}

/* ---- acio ---- */

/* Feed msg with the head in two calls (split at `split`), the body in two pieces. */
static void run_acio(const char *msg, size_t len, const char *method, size_t split, result_t *r)
{
    memset(r, 0, sizeof *r);
    char *buf = malloc(len + 1);
    memcpy(buf, msg, len);
    acio_http_header_t hs[128];
    acio_http_head_t head;
    ssize_t n = ACIO_HTTP_INCOMPLETE;
    size_t cut = split < len ? split : len;
    if (cut > 0 && cut < len) {
        n = method ? acio_http_parse_response(buf, cut, 0, method, &head, hs, 128, NULL)
                   : acio_http_parse_request(buf, cut, 0, &head, hs, 128, NULL);
    }
    if (n == ACIO_HTTP_INCOMPLETE)
        n = method ? acio_http_parse_response(buf, len, cut < len ? cut : 0, method, &head, hs, 128,
                                              NULL)
                   : acio_http_parse_request(buf, len, cut < len ? cut : 0, &head, hs, 128, NULL);
    if (n == ACIO_HTTP_INCOMPLETE) {
        strcpy(r->verdict, "incomplete");
        free(buf);
        return;
    }
    if (n < 0) {
        snprintf(r->verdict, sizeof r->verdict, "%s", acio_err_name((int)n));
        free(buf);
        return;
    }
    if (method)
        snprintf(r->head, sizeof r->head, "%d", head.status);
    else
        snprintf(r->head, sizeof r->head, "%.*s %.*s", (int)head.method_len, head.method,
                 (int)head.target_len, head.target);
    r->ka = head.keep_alive;
    r->eof = head.body_kind == ACIO_HTTP_BODY_EOF;
    acio_http_body_t b;
    acio_http_body_init(&b, &head, NULL);
    size_t pos = (size_t)n;
    /* Two pieces: up to the split point (if it falls in the body), then the rest. */
    size_t ends[2] = {cut > pos && cut < len ? cut : len, len};
    int err = 0;
    for (int k = 0; k < 2 && !err && !b.done; k++) {
        while (pos < ends[k] && !b.done) {
            size_t m = ends[k] - pos;
            ssize_t used = acio_http_body_decode(&b, buf + pos, &m);
            if (used < 0) {
                err = (int)used;
                break;
            }
            body_add(r, buf + pos, m);
            pos += (size_t)used;
        }
    }
    if (!err && !b.done)
        err = acio_http_body_eof(&b);
    if (err == ACIO_EHTTP_TRUNCATED)
        strcpy(r->verdict, "incomplete");
    else if (err)
        snprintf(r->verdict, sizeof r->verdict, "%s", acio_err_name(err));
    else
        strcpy(r->verdict, "ok");
    r->consumed = pos;
    free(buf);
}

/* ---- http-parser ---- */

typedef struct {
    result_t *r;
    bool complete, head_request;
    char url[200];
    size_t url_len;
} hp_ctx_t;

static int hp_url(http_parser *p, const char *at, size_t n)
{
    hp_ctx_t *c = p->data;
    if (c->url_len + n < sizeof c->url) {
        memcpy(c->url + c->url_len, at, n);
        c->url_len += n;
    }
    return 0;
}

static int hp_headers_complete(http_parser *p)
{
    hp_ctx_t *c = p->data;
    if (p->type == HTTP_REQUEST)
        snprintf(c->r->head, sizeof c->r->head, "%s %.*s", http_method_str(p->method),
                 (int)c->url_len, c->url);
    else
        snprintf(c->r->head, sizeof c->r->head, "%u", p->status_code);
    /* 1: no body. http-parser needs to be told for a response to HEAD, and it reads a
     * body after 1xx, 204 and 304 if there is a Content-Length (RFC 9112 6.3 says none). */
    unsigned s = p->status_code;
    if (p->type == HTTP_RESPONSE && (c->head_request || s / 100 == 1 || s == 204 || s == 304))
        return 1;
    return 0;
}

static int hp_body(http_parser *p, const char *at, size_t n)
{
    hp_ctx_t *c = p->data;
    body_add(c->r, at, n);
    return 0;
}

static int hp_complete(http_parser *p)
{
    hp_ctx_t *c = p->data;
    c->complete = true;
    c->r->ka = http_should_keep_alive(p);
    http_parser_pause(p, 1); /* stop here: what follows is the next message */
    return 0;
}

static void run_hp(const char *msg, size_t len, const char *method, result_t *r)
{
    memset(r, 0, sizeof *r);
    http_parser p;
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_url = hp_url;
    s.on_headers_complete = hp_headers_complete;
    s.on_body = hp_body;
    s.on_message_complete = hp_complete;
    hp_ctx_t c = {.r = r, .head_request = method && strcmp(method, "HEAD") == 0};
    http_parser_init(&p, method ? HTTP_RESPONSE : HTTP_REQUEST);
    p.data = &c;
    size_t n = http_parser_execute(&p, &s, msg, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&p);
    if (!c.complete && e == HPE_OK) {
        http_parser_execute(&p, &s, NULL, 0); /* the connection closes */
        e = HTTP_PARSER_ERRNO(&p);
        r->eof = c.complete;
        if (!c.complete && (e == HPE_OK || e == HPE_INVALID_EOF_STATE)) {
            strcpy(r->verdict, "incomplete");
            return;
        }
    }
    if (c.complete) {
        strcpy(r->verdict, "ok");
        r->consumed = n;
        return;
    }
    snprintf(r->verdict, sizeof r->verdict, "%s", http_errno_name(e));
}

int main(void)
{
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        char method[64] = "";
        bool response = line[0] == 'R';
        if (response && sscanf(line, "R %63s", method) != 1)
            return 2;
        size_t len;
        if (!fgets(line, sizeof line, stdin) || sscanf(line, "%zu", &len) != 1)
            return 2;
        char *msg = malloc(len + 1);
        if (fread(msg, 1, len, stdin) != len)
            return 2;
        result_t a, a2, h;
        run_acio(msg, len, response ? method : NULL, len, &a);
        run_acio(msg, len, response ? method : NULL, (len * 7919) % (len + 1), &a2);
        bool ok = strcmp(a.verdict, "ok") == 0;
        if (strcmp(a.verdict, a2.verdict) != 0 ||
            (ok && (a.consumed != a2.consumed || a.body_len != a2.body_len ||
                    (a.body_len && memcmp(a.body, a2.body, a.body_len)))))
            if (!(strcmp(a2.verdict, "incomplete") == 0 && strcmp(a.verdict, "ok") != 0))
                printf("acio-split-mismatch %s %s\n", a.verdict, a2.verdict);
        size_t hlen;
        if (!fgets(line, sizeof line, stdin) || sscanf(line, "%zu", &hlen) != 1)
            return 2;
        char *hmsg = malloc(hlen + 1);
        if (fread(hmsg, 1, hlen, stdin) != hlen)
            return 2;
        run_hp(hmsg, hlen, response ? method : NULL, &h);
        free(hmsg);
        print_result("acio", &a);
        print_result("hp", &h);
        fflush(stdout);
        free(a.body);
        free(a2.body);
        free(h.body);
        free(msg);
    }
    return 0;
}
