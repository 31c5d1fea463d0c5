/* The client response: its head (parsed from the connection's buffer, then copied out
 * and NUL-terminated in place so header lookups hand out C strings without allocating),
 * and its body as a pipeline of three stages run on demand by the read functions:
 * framing (Content-Length / chunked / until close, decoded in place in the connection's
 * buffer), content decoding (gzip, deflate, br, zstd) and the user's read call.
 *
 * A piece of body handed out by readany points into the connection's buffer; the
 * connection is "pinned" until the next read call, so reading more from the socket in
 * between never moves those bytes. The connection goes back to the pool as soon as the
 * framing says the body ended. */
#include <iconv.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/client_int.h"

#define DEC_CAP (64 * 1024)

/* ---- lifetime ---- */

static void live_unlink(acio_http_response_t *r)
{
    acio_http_session_t *s = r->s;
    if (!r->live)
        return;
    if (r->lprev)
        r->lprev->lnext = r->lnext;
    else
        s->live = r->lnext;
    if (r->lnext)
        r->lnext->lprev = r->lprev;
    r->lprev = r->lnext = NULL;
    r->live = false;
}

int hc_response_new(acio_http_session_t *s, const char *method, const char *url,
                    acio_http_response_t **out)
{
    acio_http_response_t *r = acio__calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->method = acio__strdup(method);
    r->url = acio__strdup(url);
    if (!r->method || !r->url) {
        acio__free(r->method);
        acio__free(r->url);
        acio__free(r);
        return -ENOMEM;
    }
    acio_http_limits_default(&r->lim);
    if (s->o.max_head_bytes)
        r->lim.max_head_bytes = s->o.max_head_bytes;
    r->reason = "";
    r->s = s;
    s->refs++;
    r->lnext = s->live;
    if (s->live)
        s->live->lprev = r;
    s->live = r;
    r->live = true;
    *out = r;
    return 0;
}

/* Let go of the session: the response needs nothing more from it. */
static void leave_session(acio_http_response_t *r)
{
    acio_http_session_t *s = r->s;
    if (!s)
        return;
    live_unlink(r);
    r->s = NULL;
    hc_session_unref(s);
}

/* The body ended (or failed): the connection goes back to the pool if it can serve
 * another request, else it is closed. */
static void give_back(acio_http_response_t *r, bool reusable)
{
    hc_conn_t *c = r->conn;
    if (!c)
        return;
    r->conn = NULL;
    hc_conn_unpin(c);
    hc_pool_release(c, reusable && r->keep_alive && r->body.kind != ACIO_HTTP_BODY_EOF);
}

static void finish_body(acio_http_response_t *r)
{
    r->body_done = true;
    give_back(r, true);
    leave_session(r);
}

static ssize_t fail(acio_http_response_t *r, int code)
{
    if (!r->body_err)
        r->body_err = code;
    give_back(r, false);
    leave_session(r);
    return r->body_err;
}

void hc_response_detach(acio_http_response_t *r, int code)
{
    if (r->conn) {
        if (!r->body_done && !r->body_err)
            r->body_err = code;
        give_back(r, false);
    }
    leave_session(r);
}

/* Run the framing over what is already buffered, without waiting: a body that has
 * arrived whole but was not read still leaves its connection reusable. */
static bool drain_buffered(acio_http_response_t *r)
{
    hc_conn_t *c = r->conn;
    if (r->body_err)
        return false;
    while (!r->body.done && c->start < c->end) {
        size_t len = c->end - c->start;
        ssize_t used = acio_http_body_decode(&r->body, c->buf + c->start, &len);
        if (used <= 0)
            return false;
        c->start += (size_t)used;
    }
    return r->body.done;
}

void acio_http_response_release(acio_http_response_t *r)
{
    if (!r)
        return;
    if (r->conn) {
        /* Reusable only if the framing ended (now or with what is buffered). */
        r->dlen = 0;
        give_back(r, drain_buffered(r));
    }
    leave_session(r);
    for (size_t i = 0; i < r->nhist; i++)
        acio_http_response_release(r->hist[i]);
    acio__free(r->hist);
    if (r->dec)
        hc_decoder_free(r->dec);
    acio__free(r->dec_out);
    acio__free(r->head);
    acio__free(r->method);
    acio__free(r->url);
    acio__free(r->all);
    acio__free(r->text);
    acio__free(r);
}

/* ---- the head ---- */

/* Copy the head out of the connection's buffer and NUL-terminate its strings. */
static int keep_head(acio_http_response_t *r, const char *src, size_t n,
                     const acio_http_header_t *hdrs, size_t nh)
{
    size_t hsz = nh * sizeof(acio_http_header_t);
    char *blk = acio__malloc(hsz + n + 1);
    if (!blk)
        return -ENOMEM;
    acio_http_header_t *dst = (acio_http_header_t *)blk;
    char *head = blk + hsz;
    memcpy(head, src, n);
    head[n] = '\0';
    const char *end = src + n;
#define MOVE(p) ((p) >= src && (p) <= end ? head + ((p)-src) : (p))
    for (size_t i = 0; i < nh; i++) {
        char *name = (char *)MOVE(hdrs[i].name);
        char *value = (char *)MOVE(hdrs[i].value);
        dst[i].name = name;
        dst[i].name_len = hdrs[i].name_len;
        dst[i].value_len = hdrs[i].value_len;
        if (name >= head && name + hdrs[i].name_len < head + n)
            name[hdrs[i].name_len] = '\0';
        if (value >= head && value + hdrs[i].value_len < head + n) {
            value[hdrs[i].value_len] = '\0';
            dst[i].value = value;
        } else {
            dst[i].value = hdrs[i].value_len ? value : "";
        }
    }
    if (r->h.reason_len) {
        char *reason = (char *)MOVE(r->h.reason);
        if (reason >= head && reason + r->h.reason_len < head + n)
            reason[r->h.reason_len] = '\0';
        r->reason = reason;
    }
#undef MOVE
    r->head = blk;
    r->head_len = n;
    r->hdrs = dst;
    r->nhdrs = nh;
    r->h.headers = dst;
    r->h.num_headers = nh;
    r->h.reason = r->reason;
    r->h.method = r->h.target = NULL;
    return 0;
}

/* Content-Type's charset parameter, lowercased. */
static void find_charset(acio_http_response_t *r)
{
    const char *ct = acio_http_response_header(r, "content-type");
    r->charset[0] = '\0';
    if (!ct)
        return;
    const char *p = strcasestr(ct, "charset=");
    if (!p)
        return;
    p += 8;
    if (*p == '"')
        p++;
    size_t i = 0;
    while (p[i] && p[i] != '"' && p[i] != ';' && p[i] != ' ' && i + 1 < sizeof r->charset) {
        char ch = p[i];
        r->charset[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        i++;
    }
    r->charset[i] = '\0';
}

/* Keep-Alive: timeout=N shortens how long we keep the connection idle. */
static double keepalive_timeout(acio_http_response_t *r)
{
    const char *ka = acio_http_response_header(r, "keep-alive");
    if (!ka)
        return 0;
    const char *p = strcasestr(ka, "timeout=");
    if (!p)
        return 0;
    double v = strtod(p + 8, NULL);
    return v > 0 ? v : 0;
}

int hc_response_read_head(acio_http_response_t *r, hc_conn_t *c, const hc_deadline_t *dl)
{
    acio_http_header_t hdrs[128];
    size_t maxh = r->lim.max_headers < 128 ? r->lim.max_headers : 128;
    size_t prev = 0;
    r->conn = c;
    r->dl = *dl;
    for (;;) {
        size_t avail = c->end - c->start;
        if (avail) {
            r->got_bytes = true;
            ssize_t n = acio_http_parse_response(c->buf + c->start, avail, prev, r->method, &r->h,
                                                 hdrs, maxh, &r->lim);
            if (n >= 0) {
                if (r->h.status >= 100 && r->h.status < 200 && r->h.status != 101) {
                    c->start += (size_t)n; /* an interim response: skip it */
                    prev = 0;
                    continue;
                }
                int rc = keep_head(r, c->buf + c->start, (size_t)n, hdrs, r->h.num_headers);
                if (rc < 0)
                    return rc;
                c->start += (size_t)n;
                break;
            }
            if (n != ACIO_HTTP_INCOMPLETE)
                return (int)n;
            prev = avail;
        }
        if (c->eof)
            return avail ? (c->err ? c->err : ACIO_EHTTP_DISCONNECTED)
                         : (c->err && c->err != -ECONNRESET ? c->err : ACIO_EHTTP_DISCONNECTED);
        int rc = hc_conn_wait(c, dl, ACIO_EHTTP_HEADERS_TIMEOUT);
        if (!r->conn) /* the session closed under us */
            return r->body_err ? r->body_err : ACIO_EHTTP_SESSION_CLOSED;
        if (rc < 0)
            return rc;
    }
    r->keep_alive = r->h.keep_alive && !c->body_cut;
    find_charset(r);
    c->keepalive = keepalive_timeout(r);
    acio_http_body_init(&r->body, &r->h, &r->lim);
    if (r->h.status == 101)
        r->keep_alive = false;
    if (r->body.kind != ACIO_HTTP_BODY_NONE && r->s && !r->s->o.no_decompress) {
        const char *ce = acio_http_response_header(r, "content-encoding");
        if (ce && *ce) {
            int rc = hc_decoder_new(ce, strlen(ce), r->s->o.max_decoded_size,
                                    r->s->o.max_decode_ratio, &r->dec);
            if (rc < 0)
                r->body_err = rc; /* reported when the body is read, as aiohttp does */
        }
    }
    if (r->body.kind == ACIO_HTTP_BODY_NONE || r->body.done)
        finish_body(r);
    return 0;
}

/* ---- the body ---- */

/* The next piece of framed (not yet content-decoded) body. */
static ssize_t next_framed(acio_http_response_t *r, const char **p)
{
    if (r->body_err)
        return r->body_err;
    hc_conn_t *c = r->conn;
    if (!c)
        return r->body_done ? 0 : ACIO_EHTTP_RELEASED;
    hc_conn_unpin(c);
    for (;;) {
        if (r->dlen) {
            *p = c->buf + r->dstart;
            size_t n = r->dlen;
            r->dlen = 0;
            c->pinned = true;
            hc_conn_maybe_resume(c);
            return (ssize_t)n;
        }
        if (r->body.done) {
            finish_body(r);
            return 0;
        }
        if (c->start < c->end) {
            size_t len = c->end - c->start;
            ssize_t used = acio_http_body_decode(&r->body, c->buf + c->start, &len);
            if (used < 0)
                return fail(r, (int)used);
            r->dstart = c->start;
            r->dlen = len;
            c->start += (size_t)used;
            if (len || r->body.done || used)
                continue;
        }
        if (c->eof) {
            int e = acio_http_body_eof(&r->body);
            if (e == 0 && c->start == c->end) {
                r->body.done = true;
                continue;
            }
            return fail(r, c->err ? c->err : e ? e : ACIO_EHTTP_DISCONNECTED);
        }
        int rc = hc_conn_wait(c, &r->dl, ACIO_EHTTP_READ_TIMEOUT);
        if (!r->conn) /* the session closed under us */
            return r->body_err ? r->body_err : ACIO_EHTTP_SESSION_CLOSED;
        if (rc < 0)
            return fail(r, rc);
    }
}

/* The next piece of decoded body (what the user sees). */
static ssize_t next_piece(acio_http_response_t *r, const char **p)
{
    if (r->carry_len) {
        *p = r->carry;
        size_t n = r->carry_len;
        r->carry_len = 0;
        return (ssize_t)n;
    }
    if (!r->dec)
        return next_framed(r, p);
    if (!r->dec_out) {
        r->dec_out = acio__malloc(DEC_CAP);
        if (!r->dec_out)
            return fail(r, -ENOMEM);
    }
    for (;;) {
        /* A decoder that filled the whole output buffer may hold more: drain it before
         * feeding it anything new. */
        bool flush = r->dec_full;
        r->dec_full = false;
        if (!r->dec_in_len && !flush) {
            ssize_t n = next_framed(r, &r->dec_in);
            if (n <= 0)
                return n;
            r->dec_in_len = (size_t)n;
            if (r->dec_ended) {
                r->dec_in_len = 0; /* bytes after the coded stream: ignored */
                continue;
            }
        }
        if (r->dec_ended)
            continue;
        size_t produced = 0, before = r->dec_in_len;
        int rc = hc_decoder_run(r->dec, &r->dec_in, &r->dec_in_len, r->dec_out, DEC_CAP, &produced);
        if (rc < 0)
            return fail(r, rc);
        if (rc == 1) {
            r->dec_ended = true;
            r->dec_in_len = 0;
        }
        if (produced) {
            r->dec_full = rc == 0 && produced == DEC_CAP;
            *p = r->dec_out;
            return (ssize_t)produced;
        }
        if (rc == 0 && !flush && before && r->dec_in_len == before)
            return fail(r, ACIO_EHTTP_DECODE); /* no progress: the decoder is stuck */
    }
}

ssize_t acio_http_response_readany(acio_http_response_t *r, const void **data)
{
    if (!r || !data)
        return -EINVAL;
    const char *p = NULL;
    ssize_t n = next_piece(r, &p);
    *data = p;
    return n;
}

ssize_t acio_http_response_read_chunk(acio_http_response_t *r, void *buf, size_t cap)
{
    if (!r || (!buf && cap))
        return -EINVAL;
    if (cap == 0)
        return 0;
    const char *p = NULL;
    ssize_t n = next_piece(r, &p);
    if (n <= 0)
        return n;
    size_t take = (size_t)n < cap ? (size_t)n : cap;
    memcpy(buf, p, take);
    if ((size_t)n > take) {
        r->carry = p + take;
        r->carry_len = (size_t)n - take;
    }
    return (ssize_t)take;
}

ssize_t acio_http_response_readline(acio_http_response_t *r, void *buf, size_t cap)
{
    if (!r || !buf)
        return -EINVAL;
    size_t len = 0;
    char *out = buf;
    for (;;) {
        const char *p = NULL;
        ssize_t n = next_piece(r, &p);
        if (n < 0)
            return n;
        if (n == 0)
            return (ssize_t)len;
        const char *nl = memchr(p, '\n', (size_t)n);
        size_t take = nl ? (size_t)(nl - p) + 1 : (size_t)n;
        if (len + take > cap) {
            /* Keep what does not fit for the next call. */
            size_t fit = cap - len;
            memcpy(out + len, p, fit);
            r->carry = p + fit;
            r->carry_len = (size_t)n - fit;
            return -ENOBUFS;
        }
        memcpy(out + len, p, take);
        len += take;
        if ((size_t)n > take) {
            r->carry = p + take;
            r->carry_len = (size_t)n - take;
        }
        if (nl)
            return (ssize_t)len;
    }
}

int acio_http_response_read(acio_http_response_t *r, const void **body, size_t *len)
{
    if (!r)
        return -EINVAL;
    if (!r->all_done) {
        size_t cap = 0, used = r->all_len;
        if (r->h.body_kind == ACIO_HTTP_BODY_LENGTH && !r->dec &&
            r->h.content_length < ((uint64_t)1 << 30))
            cap = (size_t)r->h.content_length + 1;
        if (cap < 256)
            cap = 256;
        if (!r->all) {
            r->all = acio__malloc(cap);
            if (!r->all)
                return (int)fail(r, -ENOMEM);
        } else {
            cap = used + 1; /* a previous call failed part way */
        }
        for (;;) {
            const char *p = NULL;
            ssize_t n = next_piece(r, &p);
            if (n < 0)
                return (int)n;
            if (n == 0)
                break;
            if (used + (size_t)n + 1 > cap) {
                size_t nc = cap * 2;
                while (nc < used + (size_t)n + 1)
                    nc *= 2;
                char *nb = acio__realloc(r->all, nc);
                if (!nb)
                    return (int)fail(r, -ENOMEM);
                r->all = nb;
                cap = nc;
            }
            memcpy(r->all + used, p, (size_t)n);
            used += (size_t)n;
            r->all_len = used;
        }
        r->all[used] = '\0';
        r->all_len = used;
        r->all_done = true;
    }
    if (body)
        *body = r->all;
    if (len)
        *len = r->all_len;
    return 0;
}

static bool is_utf8_name(const char *cs)
{
    return !*cs || strcmp(cs, "utf-8") == 0 || strcmp(cs, "utf8") == 0 ||
           strcmp(cs, "us-ascii") == 0 || strcmp(cs, "ascii") == 0;
}

int acio_http_response_text(acio_http_response_t *r, const char **text, size_t *len)
{
    const void *body;
    size_t blen;
    int rc = acio_http_response_read(r, &body, &blen);
    if (rc < 0)
        return rc;
    if (is_utf8_name(r->charset)) {
        if (text)
            *text = body;
        if (len)
            *len = blen;
        return 0;
    }
    if (!r->text) {
        iconv_t cd = iconv_open("UTF-8", r->charset);
        if (cd == (iconv_t)-1)
            return -ENOTSUP;
        size_t cap = blen * 4 + 1;
        char *out = acio__malloc(cap);
        if (!out) {
            iconv_close(cd);
            return -ENOMEM;
        }
        char *in = (char *)body, *o = out;
        size_t inleft = blen, outleft = cap - 1;
        size_t k = iconv(cd, &in, &inleft, &o, &outleft);
        iconv_close(cd);
        if (k == (size_t)-1) {
            acio__free(out);
            return -EILSEQ;
        }
        *o = '\0';
        r->text = out;
        r->text_len = (size_t)(o - out);
    }
    if (text)
        *text = r->text;
    if (len)
        *len = r->text_len;
    return 0;
}

int acio_http_response_json(acio_http_response_t *r, struct json_t **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    const char *text;
    size_t len;
    int rc = acio_http_response_text(r, &text, &len);
    if (rc < 0)
        return rc;
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &err);
    if (!j)
        return ACIO_EHTTP_JSON;
    *out = j;
    return 0;
}

int hc_response_discard(acio_http_response_t *r, size_t max)
{
    size_t seen = 0;
    while (r->conn && seen <= max) {
        const char *p;
        ssize_t n = next_framed(r, &p);
        if (n <= 0)
            return (int)n;
        seen += (size_t)n;
    }
    if (r->conn)
        give_back(r, false);
    leave_session(r);
    return 0;
}

/* ---- the head's accessors ---- */

int acio_http_response_status(const acio_http_response_t *r)
{
    return r ? r->h.status : -EINVAL;
}

const char *acio_http_response_reason(const acio_http_response_t *r)
{
    return r ? r->reason : "";
}

int acio_http_response_version(const acio_http_response_t *r)
{
    return r ? 10 + r->h.version_minor : -EINVAL;
}

const char *acio_http_response_url(const acio_http_response_t *r)
{
    return r ? r->url : NULL;
}

const char *acio_http_response_header(const acio_http_response_t *r, const char *name)
{
    if (!r || !name)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nhdrs; i++)
        if (r->hdrs[i].name_len == n && strncasecmp(r->hdrs[i].name, name, n) == 0)
            return r->hdrs[i].value;
    return NULL;
}

size_t acio_http_response_header_count(const acio_http_response_t *r)
{
    return r ? r->nhdrs : 0;
}

int acio_http_response_header_at(const acio_http_response_t *r, size_t i, const char **name,
                                 const char **value)
{
    if (!r || i >= r->nhdrs)
        return -EINVAL;
    if (name)
        *name = r->hdrs[i].name;
    if (value)
        *value = r->hdrs[i].value;
    return 0;
}

int64_t acio_http_response_content_length(const acio_http_response_t *r)
{
    if (!r)
        return -1;
    if (r->h.body_kind == ACIO_HTTP_BODY_LENGTH)
        return (int64_t)r->h.content_length;
    /* HEAD and 304 answers announce the length of a body they do not carry. */
    const char *cl = acio_http_response_header(r, "content-length");
    if (cl && r->h.body_kind == ACIO_HTTP_BODY_NONE) {
        char *end;
        long long v = strtoll(cl, &end, 10);
        return *end || v < 0 ? -1 : v;
    }
    return r->h.body_kind == ACIO_HTTP_BODY_NONE ? 0 : -1;
}

const char *acio_http_response_charset(const acio_http_response_t *r)
{
    return r ? r->charset : "";
}

size_t acio_http_response_history_count(const acio_http_response_t *r)
{
    return r ? r->nhist : 0;
}

const acio_http_response_t *acio_http_response_history(const acio_http_response_t *r, size_t i)
{
    return r && i < r->nhist ? r->hist[i] : NULL;
}

int acio_http_response_raise_for_status(const acio_http_response_t *r)
{
    if (!r)
        return -EINVAL;
    return r->h.status >= 400 ? ACIO_EHTTP_STATUS : 0;
}

bool acio_http_response_at_eof(const acio_http_response_t *r)
{
    return r && (r->all_done || (r->body_done && !r->carry_len && !r->dec_in_len));
}
