/* What a parsed head's fields say about its body and its connection (RFC 9112 sections
 * 6 and 9, RFC 9110 section 10.1.1): Content-Length, Transfer-Encoding, Connection, Host,
 * Expect and Upgrade. Everything that could make two parsers disagree about where a
 * message ends is an error here, so a proxy in front of acio and acio itself can never
 * frame the same bytes differently (request smuggling). */
#include <string.h>

#include "http/chars.h"
#include "http/parser_int.h"

/* One list element of a comma-separated field value: the bytes between commas, with
 * OWS removed. Returns false when the value is exhausted. */
static bool next_element(const char **pp, const char *end, const char **es, size_t *elen)
{
    const char *p = *pp;
    if (!p)
        return false;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *e = comma ? comma : end;
    const char *s = p;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    const char *t = e;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
        t--;
    *es = s;
    *elen = (size_t)(t - s);
    *pp = comma ? comma + 1 : NULL; /* NULL: that was the last element */
    return true;
}

/* Content-Length = 1*DIGIT, also as a list of identical values ("5, 5": RFC 9110 8.6
 * lets a recipient accept that). *have says whether a value was already seen. */
static int content_length(const acio_http_header_t *h, bool *have, uint64_t *value)
{
    const char *p = h->value, *end = h->value + h->value_len, *s;
    size_t n;
    while (next_element(&p, end, &s, &n)) {
        if (n == 0)
            return ACIO_EHTTP_BAD_CONTENT_LENGTH;
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned d = (unsigned char)s[i] - '0';
            if (d > 9)
                return ACIO_EHTTP_BAD_CONTENT_LENGTH;
            /* At most 2^63 - 1, so the length fits an off_t / ssize_t everywhere. */
            if (v > (UINT64_C(0x7fffffffffffffff) - d) / 10)
                return ACIO_EHTTP_BAD_CONTENT_LENGTH;
            v = v * 10 + d;
        }
        if (*have && v != *value)
            return ACIO_EHTTP_CL_CONFLICT;
        *have = true;
        *value = v;
    }
    return 0;
}

typedef struct {
    size_t codings;    /* transfer codings named, over every Transfer-Encoding field */
    size_t chunked;    /* how many of them are "chunked" */
    bool last_chunked; /* the last one is */
    bool bad;          /* an empty element, a parameter or a non-token */
} te_t;

static void transfer_encoding(const acio_http_header_t *h, te_t *te)
{
    const char *p = h->value, *end = h->value + h->value_len, *s;
    size_t n;
    while (next_element(&p, end, &s, &n)) {
        bool token = n > 0;
        for (size_t i = 0; i < n && token; i++)
            token = acio__http_is_tchar((unsigned char)s[i]);
        if (!token) {
            te->bad = true; /* empty element, or parameters (";q=1"), or spaces inside */
            continue;
        }
        te->codings++;
        te->last_chunked = acio__http_lower_eq(s, n, "chunked", 7);
        te->chunked += te->last_chunked;
    }
}

typedef struct {
    bool close, keep_alive, upgrade;
} conn_t;

static void connection(const acio_http_header_t *h, conn_t *c)
{
    const char *p = h->value, *end = h->value + h->value_len, *s;
    size_t n;
    while (next_element(&p, end, &s, &n)) {
        if (acio__http_lower_eq(s, n, "close", 5))
            c->close = true;
        else if (acio__http_lower_eq(s, n, "keep-alive", 10))
            c->keep_alive = true;
        else if (acio__http_lower_eq(s, n, "upgrade", 7))
            c->upgrade = true;
    }
}

int acio__http_framing(acio_http_head_t *head, bool is_request, const char *request_method)
{
    bool have_cl = false, have_te = false, have_upgrade = false, expect = false;
    uint64_t cl = 0;
    te_t te = {0};
    conn_t conn = {0};
    size_t hosts = 0;
    int e;

    for (size_t i = 0; i < head->num_headers; i++) {
        const acio_http_header_t *h = &head->headers[i];
        /* Dispatch on the length first: most fields are none of these. */
        switch (h->name_len) {
        case 4:
            if (acio__http_lower_eq(h->name, 4, "host", 4))
                hosts++;
            break;
        case 6:
            if (acio__http_lower_eq(h->name, 6, "expect", 6) &&
                acio__http_lower_eq(h->value, h->value_len, "100-continue", 12))
                expect = true;
            break;
        case 7:
            if (acio__http_lower_eq(h->name, 7, "upgrade", 7))
                have_upgrade = true;
            break;
        case 10:
            if (acio__http_lower_eq(h->name, 10, "connection", 10))
                connection(h, &conn);
            break;
        case 14:
            if (acio__http_lower_eq(h->name, 14, "content-length", 14) &&
                (e = content_length(h, &have_cl, &cl)) < 0)
                return e;
            break;
        case 17:
            if (acio__http_lower_eq(h->name, 17, "transfer-encoding", 17)) {
                have_te = true;
                transfer_encoding(h, &te);
            }
            break;
        default:
            break;
        }
    }

    head->content_length = cl;
    if (head->version_minor == 1)
        head->keep_alive = !conn.close;
    else
        head->keep_alive = conn.keep_alive && !conn.close;
    head->upgrade = conn.upgrade && have_upgrade;

    /* Transfer-Encoding: RFC 9112 6.1-6.3. acio implements one coding, chunked; both
     * framings at once is the CL.TE / TE.CL smuggling shape, always an error. */
    if (have_te) {
        if (have_cl)
            return ACIO_EHTTP_CL_AND_TE;
        if (head->version_minor == 0)
            return ACIO_EHTTP_TE_HTTP10;
        if (is_request && !te.bad && te.codings > 0 && !te.last_chunked)
            return ACIO_EHTTP_TE_NOT_CHUNKED;
        if (te.bad || te.codings != 1 || te.chunked != 1)
            return ACIO_EHTTP_TE_UNSUPPORTED;
    }

    if (is_request) {
        /* RFC 9112 3.2: exactly one Host in 1.1, at most one in 1.0. */
        if (hosts > 1 || (hosts == 0 && head->version_minor == 1))
            return ACIO_EHTTP_HOST;
        head->expect_continue = expect && head->version_minor == 1;
        if (have_te)
            head->body_kind = ACIO_HTTP_BODY_CHUNKED;
        else if (cl > 0)
            head->body_kind = ACIO_HTTP_BODY_LENGTH;
        else
            head->body_kind = ACIO_HTTP_BODY_NONE;
        return 0;
    }

    /* Responses (RFC 9112 6.3): no body after HEAD, 1xx, 204, 304 or a CONNECT's 2xx,
     * whatever the fields say; then chunked, then Content-Length, else until close. */
    int s = head->status;
    if (strcmp(request_method, "HEAD") == 0 || s < 200 || s == 204 || s == 304 ||
        (s < 300 && strcmp(request_method, "CONNECT") == 0)) {
        head->body_kind = ACIO_HTTP_BODY_NONE;
    } else if (have_te) {
        head->body_kind = ACIO_HTTP_BODY_CHUNKED;
    } else if (have_cl) {
        head->body_kind = cl > 0 ? ACIO_HTTP_BODY_LENGTH : ACIO_HTTP_BODY_NONE;
    } else {
        head->body_kind = ACIO_HTTP_BODY_EOF;
        head->keep_alive = false;
    }
    return 0;
}
