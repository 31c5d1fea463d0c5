/* The HTTP/1.1 head parser's entry points (RFC 9112 sections 2 to 4): the request line,
 * the status line, and the incremental fast path that lets a caller call again each
 * time bytes arrive without re-parsing the whole head every time. The field lines are
 * parsed by fields.c, the framing rules applied by framing.c. */
#include <string.h>

#include "http/chars.h"
#include "http/parser_int.h"

const acio_http_limits_t acio__http_default_limits = {
    .max_start_line = 8190,
    .max_header_line = 8190,
    .max_headers = 100,
    .max_head_bytes = 65536,
    .max_chunk_ext = 4096,
    .max_trailer_bytes = 65536,
};

void acio_http_limits_default(acio_http_limits_t *lim)
{
    *lim = acio__http_default_limits;
}

/* Called again after bytes arrived: if none of the new bytes ends a line, the verdict
 * of a full parse cannot have changed (every check but the line and head limits needs
 * a whole line), so say "incomplete" without re-scanning; the limits are checked here
 * by looking back at most one line's worth of bytes. A drip-fed head thus costs O(line)
 * per call instead of O(head). */
static bool still_incomplete(const char *buf, size_t len, size_t prev_len,
                             const acio_http_limits_t *lim)
{
    if (prev_len == 0 || prev_len >= len || len > lim->max_head_bytes)
        return false;
    if (memchr(buf + prev_len, '\n', len - prev_len))
        return false;
    size_t maxl =
        lim->max_start_line < lim->max_header_line ? lim->max_start_line : lim->max_header_line;
    /* The current line starts after the last LF; it is within both limits if that LF is
     * at or after len - maxl - 1 (or if the whole buffer is that short). */
    if (len <= maxl)
        return true;
    size_t lo = len - maxl - 1;
    return prev_len > lo && memrchr(buf + lo, '\n', prev_len - lo) != NULL;
}

static ssize_t start_line_incomplete(const char *ls, const char *p, size_t limit)
{
    return (size_t)(p - ls) > limit ? ACIO_EHTTP_START_LINE_TOO_LONG : ACIO_HTTP_INCOMPLETE;
}

/* p points at what should be CR LF ending the start line that began at ls. */
static ssize_t start_line_end(const char *ls, const char **pp, const char *end, size_t limit,
                              int other_error)
{
    const char *p = *pp;
    if ((size_t)(p - ls) > limit)
        return ACIO_EHTTP_START_LINE_TOO_LONG;
    if (p == end)
        return ACIO_HTTP_INCOMPLETE;
    if (*p == '\n')
        return ACIO_EHTTP_BARE_LF;
    if (*p != '\r')
        return other_error;
    if (p + 1 == end)
        return ACIO_HTTP_INCOMPLETE;
    if (p[1] != '\n')
        return ACIO_EHTTP_BARE_CR;
    *pp = p + 2;
    return 0;
}

/* "HTTP/1." DIGIT, with DIGIT 0 or 1. Returns 0 and advances, or INCOMPLETE/error. */
static ssize_t parse_version(const char **pp, const char *end, int *minor, int mismatch)
{
    static const char proto[] = "HTTP/1.";
    const char *p = *pp;
    for (size_t i = 0; i < sizeof proto - 1; i++, p++) {
        if (p == end)
            return ACIO_HTTP_INCOMPLETE;
        if (*p != proto[i])
            return i < 5 ? mismatch : ACIO_EHTTP_BAD_VERSION;
    }
    if (p == end)
        return ACIO_HTTP_INCOMPLETE;
    if (*p != '0' && *p != '1')
        return ACIO_EHTTP_BAD_VERSION;
    *minor = *p - '0';
    p++;
    if (p < end && *p >= '0' && *p <= '9')
        return ACIO_EHTTP_BAD_VERSION; /* HTTP/1.10 */
    *pp = p;
    return 0;
}

static void head_reset(acio_http_head_t *head, acio_http_header_t *headers)
{
    memset(head, 0, sizeof *head);
    head->headers = headers;
}

static size_t max_fields(size_t max_headers, const acio_http_limits_t *lim)
{
    return max_headers < lim->max_headers ? max_headers : lim->max_headers;
}

/* Where scanning of a line that starts at ls must stop: one byte past the limit, so a
 * line is never examined beyond its limit and a prefix of a message gets either the
 * whole message's verdict or INCOMPLETE, never a different error. */
static const char *line_clamp(const char *ls, const char *end, size_t limit)
{
    return (size_t)(end - ls) > limit ? ls + limit + 1 : end;
}

static ssize_t parse_request(const char *buf, size_t len, acio_http_head_t *head,
                             acio_http_header_t *headers, size_t max_headers,
                             const acio_http_limits_t *lim)
{
    head_reset(head, headers);
    const char *p = buf, *end = buf + len;
    ssize_t r;

    /* RFC 9112 2.2: a server SHOULD ignore empty lines before the request line (clients
     * that send an extra CRLF after a POST body). */
    while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
        p += 2;
    if (p == end || (p[0] == '\r' && p + 1 == end))
        return ACIO_HTTP_INCOMPLETE;
    if (p[0] == '\r')
        return ACIO_EHTTP_BARE_CR;
    const char *ls = p;
    size_t sl = lim->max_start_line;
    const char *le = line_clamp(ls, end, sl);

    /* method SP */
    while (p < le && acio__http_is_tchar((unsigned char)*p))
        p++;
    if (p == le)
        return start_line_incomplete(ls, p, sl);
    if (*p != ' ')
        return *p == '\r' || *p == '\n' || *p == '\t' ? ACIO_EHTTP_BAD_REQUEST_LINE
                                                      : ACIO_EHTTP_BAD_METHOD;
    if (p == ls)
        return ACIO_EHTTP_BAD_REQUEST_LINE;
    head->method = ls;
    head->method_len = (size_t)(p - ls);
    p++;

    /* request-target SP */
    const char *ts = p;
    while (p < le && (acio__http_chars[(unsigned char)*p] & ACIO_HC_TARGET))
        p++;
    if (p == le)
        return start_line_incomplete(ls, p, sl);
    if (*p != ' ')
        return *p == '\r' || *p == '\n' || *p == '\t' ? ACIO_EHTTP_BAD_REQUEST_LINE
                                                      : ACIO_EHTTP_BAD_TARGET;
    if (p == ts)
        return ACIO_EHTTP_BAD_REQUEST_LINE;
    head->target = ts;
    head->target_len = (size_t)(p - ts);
    p++;

    /* HTTP-version CRLF */
    r = parse_version(&p, le, &head->version_minor, ACIO_EHTTP_BAD_VERSION);
    if (r == ACIO_HTTP_INCOMPLETE)
        return start_line_incomplete(ls, p, sl);
    if (r < 0)
        return r;
    r = start_line_end(ls, &p, end, sl, ACIO_EHTTP_BAD_REQUEST_LINE);
    if (r < 0)
        return r;

    r = acio__http_parse_fields(buf, p, end, head, headers, max_fields(max_headers, lim), lim);
    if (r < 0)
        return r;
    int e = acio__http_framing(head, true, NULL);
    return e < 0 ? e : r;
}

static ssize_t parse_response(const char *buf, size_t len, const char *request_method,
                              acio_http_head_t *head, acio_http_header_t *headers,
                              size_t max_headers, const acio_http_limits_t *lim)
{
    head_reset(head, headers);
    const char *p = buf, *end = buf + len, *ls = buf;
    size_t sl = lim->max_start_line;
    const char *le = line_clamp(ls, end, sl);
    ssize_t r;

    /* HTTP-version SP status-code [SP reason-phrase] CRLF. The space and reason are
     * optional on receipt: some servers send "HTTP/1.1 200\r\n" (h11 and browsers agree). */
    r = parse_version(&p, le, &head->version_minor, ACIO_EHTTP_BAD_STATUS_LINE);
    if (r == ACIO_HTTP_INCOMPLETE)
        return start_line_incomplete(ls, p, sl);
    if (r < 0)
        return r;
    if (p == le)
        return start_line_incomplete(ls, p, sl);
    if (*p != ' ')
        return ACIO_EHTTP_BAD_STATUS_LINE;
    p++;
    int status = 0;
    for (int i = 0; i < 3; i++, p++) {
        if (p == le)
            return start_line_incomplete(ls, p, sl);
        if (*p < '0' || *p > '9')
            return ACIO_EHTTP_BAD_STATUS;
        status = status * 10 + (*p - '0');
    }
    if (status < 100)
        return ACIO_EHTTP_BAD_STATUS;
    head->status = status;
    if (p == le)
        return start_line_incomplete(ls, p, sl);
    if (*p == ' ') {
        p++;
        head->reason = p;
        while (p < le && (acio__http_chars[(unsigned char)*p] & ACIO_HC_REASON))
            p++;
        head->reason_len = (size_t)(p - head->reason);
    } else if (*p >= '0' && *p <= '9') {
        return ACIO_EHTTP_BAD_STATUS;
    } else {
        head->reason = p;
    }
    r = start_line_end(ls, &p, end, sl, ACIO_EHTTP_BAD_STATUS_LINE);
    if (r < 0)
        return r;

    r = acio__http_parse_fields(buf, p, end, head, headers, max_fields(max_headers, lim), lim);
    if (r < 0)
        return r;
    int e = acio__http_framing(head, false, request_method ? request_method : "GET");
    return e < 0 ? e : r;
}

/* Only the first max_head_bytes are ever examined (so the verdict cannot depend on how
 * far beyond the limit the buffer goes); a head still incomplete there is too large, so
 * a caller that reads until the verdict is not INCOMPLETE never buffers more. */
static size_t view(size_t len, const acio_http_limits_t *lim)
{
    return len > lim->max_head_bytes ? lim->max_head_bytes : len;
}

static ssize_t verdict(ssize_t r, size_t len, const acio_http_limits_t *lim)
{
    if (r == ACIO_HTTP_INCOMPLETE && len > lim->max_head_bytes)
        return ACIO_EHTTP_HEAD_TOO_LARGE;
    return r;
}

ssize_t acio_http_parse_request(const char *buf, size_t len, size_t prev_len,
                                acio_http_head_t *head, acio_http_header_t *headers,
                                size_t max_headers, const acio_http_limits_t *lim)
{
    if (!lim)
        lim = &acio__http_default_limits;
    if (still_incomplete(buf, len, prev_len, lim))
        return ACIO_HTTP_INCOMPLETE;
    return verdict(parse_request(buf, view(len, lim), head, headers, max_headers, lim), len, lim);
}

ssize_t acio_http_parse_response(const char *buf, size_t len, size_t prev_len,
                                 const char *request_method, acio_http_head_t *head,
                                 acio_http_header_t *headers, size_t max_headers,
                                 const acio_http_limits_t *lim)
{
    if (!lim)
        lim = &acio__http_default_limits;
    if (still_incomplete(buf, len, prev_len, lim))
        return ACIO_HTTP_INCOMPLETE;
    return verdict(parse_response(buf, view(len, lim), request_method, head, headers, max_headers, lim), len,
                   lim);
}
