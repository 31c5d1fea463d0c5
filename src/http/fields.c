/* The field-line block of a message head (RFC 9112 section 5): name ":" OWS value OWS
 * CRLF, repeated, then an empty line. Names and values are left in the caller's buffer;
 * the header array is the caller's. Every byte is checked against the token and
 * field-value tables; the value scan, the hot loop of the whole parser, takes eight
 * bytes per iteration. Also acio_http_head_get, the lookup over a parsed head. */
#include <string.h>

#include "http/chars.h"
#include "http/parser_int.h"

/* First byte at or after p that is not a field-value byte (or end). */
static inline const char *scan_value(const char *p, const char *end)
{
#define OK_(i) (acio__http_chars[(unsigned char)p[i]] & ACIO_HC_FIELD)
    while (end - p >= 8) {
        if (!OK_(0))
            return p;
        if (!OK_(1))
            return p + 1;
        if (!OK_(2))
            return p + 2;
        if (!OK_(3))
            return p + 3;
        if (!OK_(4))
            return p + 4;
        if (!OK_(5))
            return p + 5;
        if (!OK_(6))
            return p + 6;
        if (!OK_(7))
            return p + 7;
        p += 8;
    }
    while (p < end && OK_(0))
        p++;
    return p;
#undef OK_
}

static inline const char *scan_token(const char *p, const char *end)
{
    while (end - p >= 4) {
        if (!acio__http_is_tchar((unsigned char)p[0]))
            return p;
        if (!acio__http_is_tchar((unsigned char)p[1]))
            return p + 1;
        if (!acio__http_is_tchar((unsigned char)p[2]))
            return p + 2;
        if (!acio__http_is_tchar((unsigned char)p[3]))
            return p + 3;
        p += 4;
    }
    while (p < end && acio__http_is_tchar((unsigned char)*p))
        p++;
    return p;
}

/* The line that began at ls has been read up to p (exclusive) without its end. */
static ssize_t line_incomplete(const char *ls, const char *p, const acio_http_limits_t *lim)
{
    return (size_t)(p - ls) > lim->max_header_line ? ACIO_EHTTP_HEADER_LINE_TOO_LONG
                                                   : ACIO_HTTP_INCOMPLETE;
}

ssize_t acio__http_parse_fields(const char *buf, const char *p, const char *end,
                                acio_http_head_t *head, acio_http_header_t *headers,
                                size_t max_headers, const acio_http_limits_t *lim)
{
    size_t n = 0;
    for (;;) {
        if (p == end)
            return ACIO_HTTP_INCOMPLETE;
        /* The empty line that ends the head. */
        if (*p == '\r') {
            if (p + 1 == end)
                return ACIO_HTTP_INCOMPLETE;
            if (p[1] != '\n')
                return ACIO_EHTTP_BARE_CR;
            p += 2;
            if ((size_t)(p - buf) > lim->max_head_bytes)
                return ACIO_EHTTP_HEAD_TOO_LARGE;
            head->num_headers = n;
            return p - buf;
        }
        if (*p == '\n')
            return ACIO_EHTTP_BARE_LF;
        if (*p == ' ' || *p == '\t')
            return ACIO_EHTTP_OBS_FOLD;
        if (n == max_headers)
            return ACIO_EHTTP_TOO_MANY_HEADERS;

        /* field-name ":" */
        const char *ls = p;
        /* Never look past the line's limit (see line_clamp in parser.c). */
        const char *le = (size_t)(end - ls) > lim->max_header_line
                             ? ls + lim->max_header_line + 1
                             : end;
        p = scan_token(p, le);
        if (p == le)
            return line_incomplete(ls, p, lim);
        if (*p != ':') {
            if (*p == '\r' || *p == '\n')
                return ACIO_EHTTP_MISSING_COLON;
            if (*p != ' ' && *p != '\t')
                return ACIO_EHTTP_BAD_HEADER_NAME;
            /* "Name : value" is the whitespace-before-colon smuggling shape; "Na me: v" is
             * just a bad name. Tell them apart (an incomplete line waits). */
            while (p < le && (*p == ' ' || *p == '\t'))
                p++;
            if (p == le)
                return line_incomplete(ls, p, lim);
            if (*p == ':' && p != ls)
                return ACIO_EHTTP_HEADER_WS;
            return *p == '\r' || *p == '\n' ? ACIO_EHTTP_MISSING_COLON : ACIO_EHTTP_BAD_HEADER_NAME;
        }
        if (p == ls)
            return ACIO_EHTTP_BAD_HEADER_NAME;
        headers[n].name = ls;
        headers[n].name_len = (size_t)(p - ls);
        p++;

        /* OWS field-value OWS CRLF */
        while (p < le && (*p == ' ' || *p == '\t'))
            p++;
        const char *vs = p;
        p = scan_value(p, le);
        if (p == le)
            return line_incomplete(ls, p, lim);
        if (*p == '\r') {
            if (p + 1 == end)
                return ACIO_HTTP_INCOMPLETE;
            if (p[1] != '\n')
                return ACIO_EHTTP_BARE_CR;
        } else {
            return *p == '\n' ? ACIO_EHTTP_BARE_LF : ACIO_EHTTP_BAD_HEADER_VALUE;
        }
        const char *ve = p;
        while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        headers[n].value = vs;
        headers[n].value_len = (size_t)(ve - vs);
        n++;
        p += 2;
    }
}

const char *acio_http_head_get(const acio_http_head_t *head, const char *name, size_t *value_len)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < head->num_headers; i++) {
        const acio_http_header_t *h = &head->headers[i];
        if (acio__http_case_eq(h->name, h->name_len, name, len)) {
            if (value_len)
                *value_len = h->value_len;
            return h->value;
        }
    }
    return NULL;
}
