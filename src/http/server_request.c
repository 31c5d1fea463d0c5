/* The request as a handler sees it: accessors over the parsed head (which lives in the
 * connection's read buffer), percent-decoding into a small per-request arena, and the
 * body, read whole (FastAPI's request.body()) or streamed (request.stream()). The body
 * is decoded in place in the read buffer; a handler that waits for more of it suspends
 * on a future the connection sets when bytes arrive, the body ends, or the body
 * timeout passes. "100 Continue" is sent the first time the handler asks for the body,
 * so a handler that refuses a request never makes the client upload it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/server_int.h"

/* ---- arena ---- */

char *acio__http_req_alloc(acio_http_request_t *req, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (req->arena_used + n <= req->arena_cap) {
        char *p = req->arena + req->arena_used;
        req->arena_used += n;
        return p;
    }
    size_t cap = n > 1024 ? n : 1024;
    void **blk = acio__malloc(sizeof(void *) * 2 + cap);
    if (!blk)
        return NULL;
    blk[0] = req->arena_chain;
    req->arena_chain = blk;
    req->arena = (char *)(blk + 2);
    req->arena_cap = cap;
    req->arena_used = n;
    return req->arena;
}

void acio__http_req_reset(acio_http_request_t *req)
{
    void *b = req->arena_chain;
    while (b) {
        void *next = ((void **)b)[0];
        acio__free(b);
        b = next;
    }
    req->arena_chain = NULL;
    acio__free(req->rh);
    req->rh = NULL;
    acio__free(req->err_msg);
    req->err_msg = NULL;
    acio__free(req->whole_copy);
    req->whole_copy = NULL;
    acio__free(req->query_copy);
    req->query_copy = NULL;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decode in place over dst (which may equal src); returns the decoded length. A '%'
 * not followed by two hex digits is kept as it is. */
static size_t decode_into(char *dst, const char *src, size_t len, bool plus)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = src[i];
        if (ch == '%' && i + 2 < len + 0 && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
            dst[o++] = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        } else if (ch == '+' && plus) {
            dst[o++] = ' ';
        } else {
            dst[o++] = ch;
        }
    }
    dst[o] = '\0';
    return o;
}

char *acio__http_decode(acio_http_request_t *req, const char *src, size_t len, bool plus)
{
    char *dst = acio__http_req_alloc(req, len + 1);
    if (dst)
        decode_into(dst, src, len, plus);
    return dst;
}

/* ---- accessors ---- */

const char *acio_http_request_method(const acio_http_request_t *req)
{
    return req ? req->method : NULL;
}

const char *acio_http_request_target(const acio_http_request_t *req)
{
    return req ? req->target : NULL;
}

const char *acio_http_request_path(const acio_http_request_t *req)
{
    return req ? req->path : NULL;
}

const char *acio_http_request_query_string(const acio_http_request_t *req)
{
    return req ? req->query : NULL;
}

int acio_http_request_version(const acio_http_request_t *req)
{
    return req ? req->head.version_minor : -EINVAL;
}

const char *acio_http_request_path_param(acio_http_request_t *req, const char *name)
{
    if (!req || !name)
        return NULL;
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

/* The query, decoded once into "name\0value\0name\0value\0...". */
const char *acio_http_request_query(acio_http_request_t *req, const char *name)
{
    if (!req || !name)
        return NULL;
    if (!req->query_copy) {
        size_t qlen = strlen(req->query);
        char *out = acio__malloc(2 * qlen + 2);
        if (!out)
            return NULL;
        size_t o = 0;
        const char *p = req->query, *end = p + qlen;
        while (p < end) {
            const char *amp = memchr(p, '&', (size_t)(end - p));
            const char *pe = amp ? amp : end;
            if (pe > p) {
                const char *eq = memchr(p, '=', (size_t)(pe - p));
                const char *ne = eq ? eq : pe;
                o += decode_into(out + o, p, (size_t)(ne - p), true) + 1;
                if (eq)
                    o += decode_into(out + o, eq + 1, (size_t)(pe - eq - 1), true) + 1;
                else
                    out[o++] = '\0';
            }
            p = pe + 1;
        }
        req->query_copy = out;
        req->query_len = o;
    }
    for (size_t i = 0; i < req->query_len;) {
        const char *n = req->query_copy + i;
        const char *v = n + strlen(n) + 1;
        if (strcmp(n, name) == 0)
            return v;
        i = (size_t)(v - req->query_copy) + strlen(v) + 1;
    }
    return NULL;
}

const char *acio_http_request_header(const acio_http_request_t *req, const char *name)
{
    if (!req || !name)
        return NULL;
    size_t len = strlen(name);
    for (size_t i = 0; i < req->head.num_headers; i++) {
        const acio_http_header_t *h = &req->headers[i];
        if (h->name_len == len && strncasecmp(h->name, name, len) == 0)
            return h->value;
    }
    return NULL;
}

const acio_http_header_t *acio_http_request_headers(const acio_http_request_t *req, size_t *count)
{
    if (count)
        *count = req ? req->head.num_headers : 0;
    return req ? req->headers : NULL;
}

const char *acio__http_conn_peer(srv_conn_t *c)
{
    if (c->peer_done)
        return c->peer;
    struct sockaddr_storage ss;
    size_t len = sizeof ss;
    strcpy(c->peer, "-");
    if (!c->lost && acio_transport_get_extra_info(c->t, "peername", &ss, &len) == 0) {
        char host[INET6_ADDRSTRLEN] = "?";
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            snprintf(c->peer, sizeof c->peer, "%s:%u", host, ntohs(a->sin_port));
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            snprintf(c->peer, sizeof c->peer, "[%s]:%u", host, ntohs(a->sin6_port));
        } else {
            strcpy(c->peer, "unix");
        }
        c->peer_done = true;
    }
    return c->peer;
}

const char *acio_http_request_peer(acio_http_request_t *req)
{
    return req ? acio__http_conn_peer(req->conn) : NULL;
}

int acio_http_request_peername(acio_http_request_t *req, struct sockaddr *addr, socklen_t *len)
{
    if (!req || !addr || !len)
        return -EINVAL;
    if (req->conn->lost)
        return -ENOTCONN;
    size_t l = *len;
    int rc = acio_transport_get_extra_info(req->conn->t, "peername", addr, &l);
    *len = (socklen_t)l;
    return rc;
}

int64_t acio_http_request_content_length(const acio_http_request_t *req)
{
    if (!req)
        return -EINVAL;
    switch (req->head.body_kind) {
    case ACIO_HTTP_BODY_LENGTH:
        return (int64_t)req->head.content_length;
    case ACIO_HTTP_BODY_NONE:
        return 0;
    default:
        return -1;
    }
}

void acio_http_request_set_data(acio_http_request_t *req, void *data)
{
    if (req)
        req->data = data;
}

void *acio_http_request_get_data(const acio_http_request_t *req)
{
    return req ? req->data : NULL;
}

acio_loop_t *acio_http_request_get_loop(const acio_http_request_t *req)
{
    return req ? req->conn->srv->loop : NULL;
}

int acio_http_error(acio_http_request_t *req, int code, const char *fmt, ...)
{
    if (!req)
        return code;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt ? fmt : "", ap);
    va_end(ap);
    char *m = acio__strdup(buf);
    if (m) {
        acio__free(req->err_msg);
        req->err_msg = m;
    }
    return code;
}

/* ---- body ---- */

int acio__http_send_continue(acio_http_request_t *req)
{
    if (req->continue_sent || !req->head.expect_continue || req->body.done || req->responded)
        return 0;
    req->continue_sent = true;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    int rc = acio__http_conn_out(req->conn, cont, sizeof cont - 1);
    if (rc == 0 && !req->conn->in_process)
        acio__http_conn_flush(req->conn);
    return rc;
}

/* Wait until body bytes, the body's end, or an error is there. Coroutine. */
static int body_wait(acio_http_request_t *req)
{
    srv_conn_t *c = req->conn;
    for (;;) {
        if (c->lost && !req->body.done)
            return req->body_error ? req->body_error : -ECONNRESET;
        int rc = acio__http_body_pump(c, req);
        if (rc < 0)
            return rc;
        if (c->dec_end > c->body_off || req->body.done)
            return 0;
        rc = acio__http_send_continue(req);
        if (rc < 0)
            return rc;
        if (c->rpaused) {
            /* Read-ahead was bounded; the handler wants the bytes now. */
            acio_transport_resume_reading(c->t);
            c->rpaused = false;
        }
        acio_future_t *w;
        rc = acio_future_new(c->srv->loop, &w);
        if (rc < 0)
            return rc;
        acio_future_set_label(w, "http body");
        req->body_waiter = acio_future_ref(w);
        acio__http_conn_timed(c, TL_BODY);
        void *res = NULL;
        rc = acio_await(w, &res);
        if (req->body_waiter == w) {
            req->body_waiter = NULL;
            acio_future_unref(w);
        }
        acio_future_unref(w);
        if (c->tlist == TL_BODY)
            acio__http_conn_timed(c, TL_NONE);
        if (rc < 0)
            return rc;
        if ((intptr_t)res < 0)
            return (int)(intptr_t)res;
    }
}

int acio_http_request_body(acio_http_request_t *req, const char **data, size_t *len)
{
    if (!req || !data || !len)
        return -EINVAL;
    *data = NULL;
    *len = 0;
    srv_conn_t *c = req->conn;
    if (req->body_streamed)
        return ACIO_EHTTP_BODY_STREAMED;
    if (req->whole_data) {
        *data = req->whole_data;
        *len = req->whole_len;
        return 0;
    }
    req->body_whole = true;
    /* The body is copied out of the read buffer as it arrives (the buffer stays small
     * and never moves under the handler); a declared length is allocated at once. */
    if (!req->whole_copy) {
        size_t cap = req->head.body_kind == ACIO_HTTP_BODY_LENGTH
                         ? (size_t)req->head.content_length + 1
                         : 4096;
        if (!(req->whole_copy = acio__malloc(cap)))
            return -ENOMEM;
        req->whole_cap = cap;
        req->whole_len = 0;
    }
    for (;;) {
        int rc = body_wait(req);
        if (rc < 0)
            return rc;
        size_t n = c->dec_end - c->body_off;
        if (n) {
            if (req->whole_len + n + 1 > req->whole_cap) {
                size_t ncap = req->whole_cap * 2;
                while (ncap < req->whole_len + n + 1)
                    ncap *= 2;
                char *nb = acio__realloc(req->whole_copy, ncap);
                if (!nb)
                    return -ENOMEM;
                req->whole_copy = nb;
                req->whole_cap = ncap;
            }
            memcpy(req->whole_copy + req->whole_len, c->rbuf + c->body_off, n);
            req->whole_len += n;
            c->body_off += n;
        }
        if (req->body.done && c->body_off == c->dec_end)
            break;
    }
    req->whole_copy[req->whole_len] = '\0';
    req->whole_data = req->whole_copy;
    *data = req->whole_data;
    *len = req->whole_len;
    return 0;
}

ssize_t acio_http_request_read(acio_http_request_t *req, void *buf, size_t len)
{
    if (!req || (!buf && len))
        return -EINVAL;
    if (req->body_whole)
        return ACIO_EHTTP_BODY_STREAMED;
    req->body_streamed = true;
    srv_conn_t *c = req->conn;
    if (!len)
        return 0;
    int rc = body_wait(req);
    if (rc < 0)
        return rc;
    size_t n = c->dec_end - c->body_off;
    if (n > len)
        n = len;
    memcpy(buf, c->rbuf + c->body_off, n);
    c->body_off += n;
    return (ssize_t)n;
}

int acio_http_request_json(acio_http_request_t *req, json_t **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    const char *data;
    size_t len;
    int rc = acio_http_request_body(req, &data, &len);
    if (rc < 0)
        return rc;
    json_error_t err;
    *out = json_loadb(data, len, JSON_DECODE_ANY, &err);
    if (!*out)
        return acio_http_error(req, -EBADMSG, "request body is not JSON: %s (line %d, column %d)",
                               err.text, err.line, err.column);
    return 0;
}
