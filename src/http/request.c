/* Sending a request (session.request): the URL and its query parameters, the head built
 * in the session's scratch buffer and written with the body in one call, bodies from
 * bytes, form fields, JSON, a file or a callback (chunked), Basic auth, the retry of an
 * idempotent request whose kept-alive connection died before answering, and redirects
 * with the browsers' (and aiohttp's) method, body and Authorization rules. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/client_int.h"

#define FILE_CHUNK (64 * 1024)

/* What a request sends, as it stands after redirects. */
typedef struct {
    const char *method;
    const acio_http_request_opts_t *o;
    const void *body; /* bytes to send (body, form or json); NULL with file / callback */
    size_t body_len;
    const char *content_type;
    bool has_body;     /* any body at all */
    bool use_file;     /* the file in o->file_path */
    bool use_cb;       /* o->body_cb */
    bool strip_auth;   /* the redirect left the original origin */
    char auth[512];    /* "Basic ..." or "" */
    acio_url_t *proxy; /* the proxy for the current URL, or NULL */
    char proxy_auth[512];
} req_t;

/* Known header names whose presence changes what acio adds. */
enum {
    H_HOST = 1 << 0,
    H_UA = 1 << 1,
    H_ACCEPT = 1 << 2,
    H_AE = 1 << 3,
    H_CT = 1 << 4,
    H_CL = 1 << 5,
    H_TE = 1 << 6,
    H_CONN = 1 << 7,
    H_AUTH = 1 << 8,
    H_COOKIE = 1 << 9,
};

static unsigned known(const char *name)
{
    static const struct {
        const char *n;
        unsigned bit;
    } tab[] = {{"host", H_HOST},
               {"user-agent", H_UA},
               {"accept", H_ACCEPT},
               {"accept-encoding", H_AE},
               {"content-type", H_CT},
               {"content-length", H_CL},
               {"transfer-encoding", H_TE},
               {"connection", H_CONN},
               {"authorization", H_AUTH},
               {"cookie", H_COOKIE}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcasecmp(name, tab[i].n) == 0)
            return tab[i].bit;
    return 0;
}

static bool valid_field(const acio_http_field_t *f)
{
    if (!f->name || !f->value || !*f->name)
        return false;
    for (const char *p = f->name; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == ':' || (unsigned char)*p >= 127)
            return false;
    for (const char *p = f->value; *p; p++)
        if (*p == '\r' || *p == '\n')
            return false;
    return true;
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = in[i] << 16;
        if (i + 1 < n)
            v |= in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

/* "Basic base64(user:password)" into dst (cap bytes). */
static int basic_auth(const char *user, size_t ulen, const char *pass, size_t plen, char *dst,
                      size_t cap)
{
    char raw[256];
    if (ulen + plen + 1 >= sizeof raw || 6 + (ulen + plen + 3) / 3 * 4 + 4 >= cap)
        return -ENAMETOOLONG;
    memcpy(raw, user, ulen);
    raw[ulen] = ':';
    memcpy(raw + ulen + 1, pass, plen);
    memcpy(dst, "Basic ", 6);
    base64((const unsigned char *)raw, ulen + plen + 1, dst + 6);
    return 0;
}

int hc_basic_auth_userinfo(const char *userinfo, char *dst, size_t cap)
{
    const char *colon = strchr(userinfo, ':');
    size_t ul = colon ? (size_t)(colon - userinfo) : strlen(userinfo);
    return basic_auth(userinfo, ul, colon ? colon + 1 : "", colon ? strlen(colon + 1) : 0, dst,
                      cap);
}

/* ---- the head ---- */

typedef struct {
    char *p;
    size_t len, cap;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->len + n <= o->cap)
        memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

static void header(out_t *o, const char *name, const char *value)
{
    puts_(o, name);
    put(o, ": ", 2);
    puts_(o, value);
    put(o, "\r\n", 2);
}

/* Build the head into o (o->len is the size needed; more than o->cap means try again
 * with a bigger buffer). */
static void build_head(acio_http_session_t *s, const acio_url_t *u, const req_t *q,
                       int64_t content_length, out_t *o)
{
    const acio_http_request_opts_t *ro = q->o;
    puts_(o, q->method);
    put(o, " ", 1);
    size_t room;
    bool forward = q->proxy && strcmp(u->scheme, "http") == 0;
    if (forward) { /* to a proxy: the absolute form */
        puts_(o, u->scheme);
        put(o, "://", 3);
        room = o->len < o->cap ? o->cap - o->len : 0;
        o->len += acio_url_authority(u, 0, o->p + o->len, room);
    }
    room = o->len < o->cap ? o->cap - o->len : 0;
    o->len += acio_url_target(u, o->p + o->len, room);
    puts_(o, " HTTP/1.1\r\n");
    unsigned have = 0;
    for (size_t i = 0; i < ro->nheaders; i++)
        have |= known(ro->headers[i].name);
    if (!(have & H_HOST)) {
        puts_(o, "Host: ");
        room = o->len < o->cap ? o->cap - o->len : 0;
        o->len += acio_url_authority(u, 0, o->p + o->len, room);
        put(o, "\r\n", 2);
    }
    /* Session headers the request does not override. */
    for (size_t i = 0; i < s->o.nheaders; i++) {
        const acio_http_field_t *f = &s->o.headers[i];
        bool overridden = false;
        for (size_t j = 0; j < ro->nheaders && !overridden; j++)
            overridden = strcasecmp(ro->headers[j].name, f->name) == 0;
        unsigned k = known(f->name);
        if (overridden || (q->strip_auth && k == H_AUTH))
            continue;
        have |= k;
        header(o, f->name, f->value);
    }
    for (size_t i = 0; i < ro->nheaders; i++) {
        const acio_http_field_t *f = &ro->headers[i];
        unsigned k = known(f->name);
        if (q->strip_auth && k == H_AUTH)
            continue;
        /* The body's framing is acio's to decide. */
        if (k == H_CL || k == H_TE)
            continue;
        header(o, f->name, f->value);
    }
    if (!(have & H_UA))
        puts_(o, "User-Agent: acio/0.1\r\n");
    if (!(have & H_ACCEPT))
        puts_(o, "Accept: */*\r\n");
    if (!(have & H_AE) && !s->o.no_decompress)
        puts_(o, "Accept-Encoding: gzip, deflate, br, zstd\r\n");
    if (q->auth[0] && !(have & H_AUTH))
        header(o, "Authorization", q->auth);
    if (forward && q->proxy_auth[0])
        header(o, "Proxy-Authorization", q->proxy_auth);
    if (!(have & H_COOKIE) && !s->o.no_cookies) {
        room = o->len < o->cap ? o->cap - o->len : 0;
        o->len += hc_cookies_header(s, u, o->p + o->len, room);
    }
    if (q->has_body) {
        if (!(have & H_CT))
            header(o, "Content-Type",
                   q->content_type ? q->content_type : "application/octet-stream");
        if (content_length >= 0) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)content_length);
            header(o, "Content-Length", num);
        } else {
            puts_(o, "Transfer-Encoding: chunked\r\n");
        }
    } else if (strcmp(q->method, "POST") == 0 || strcmp(q->method, "PUT") == 0 ||
               strcmp(q->method, "PATCH") == 0) {
        puts_(o, "Content-Length: 0\r\n");
    }
    if (s->keepalive < 0 && !(have & H_CONN))
        puts_(o, "Connection: close\r\n");
    put(o, "\r\n", 2);
}

static int write_all(hc_conn_t *c, const struct iovec *iov, int n, const hc_deadline_t *dl)
{
    int rc = acio_transport_writev(c->t, iov, n);
    if (rc < 0)
        return rc;
    return c->write_paused ? hc_conn_drain(c, dl) : 0;
}

/* Write the request: head and body, in one write when the body is in memory. */
static int write_request(acio_http_session_t *s, hc_conn_t *c, const acio_url_t *u, const req_t *q,
                         const hc_deadline_t *dl)
{
    int fd = -1;
    int64_t clen = -1;
    if (q->has_body && !q->use_file && !q->use_cb)
        clen = (int64_t)q->body_len;
    if (q->use_cb && q->o->body_len)
        clen = (int64_t)q->o->body_len;
    if (q->use_file) {
        fd = open(q->o->file_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            int e = errno ? -errno : -EINVAL;
            close(fd);
            return e;
        }
        clen = st.st_size;
    }
    out_t o = {s->scratch, 0, s->scratch_cap};
    build_head(s, u, q, clen, &o);
    if (o.len > o.cap) {
        int rc = hc_scratch(s, o.len);
        if (rc < 0) {
            if (fd >= 0)
                close(fd);
            return rc;
        }
        o = (out_t){s->scratch, 0, s->scratch_cap};
        build_head(s, u, q, clen, &o);
    }
    struct iovec iov[2] = {{s->scratch, o.len}, {(void *)q->body, q->body_len}};
    int rc = write_all(c, iov, q->body && q->body_len && !q->use_file && !q->use_cb ? 2 : 1, dl);
    if (rc < 0 || (!q->use_file && !q->use_cb)) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    char *buf = acio__malloc(FILE_CHUNK + 32);
    if (!buf) {
        if (fd >= 0)
            close(fd);
        return -ENOMEM;
    }
    if (q->use_file) {
        off_t off = 0;
        while (off < clen) {
            ssize_t n = pread(fd, buf, FILE_CHUNK, off);
            if (n <= 0) {
                rc = n < 0 ? -errno : -EIO; /* the file shrank */
                break;
            }
            off += n;
            struct iovec v = {buf, (size_t)n};
            rc = write_all(c, &v, 1, dl);
            if (rc < 0)
                break;
        }
        close(fd);
    } else {
        bool chunked = clen < 0;
        uint64_t sent = 0;
        for (;;) {
            char *data = buf + 16;
            ssize_t n = q->o->body_cb(q->o->body_cb_data, data, FILE_CHUNK);
            if (n < 0) {
                rc = (int)n;
                break;
            }
            /* Gone, or answered and closed by the server meanwhile (see early_answer). */
            if (c->lost || (c->eof && c->end > c->start)) {
                rc = c->err ? c->err : -ECONNRESET;
                break;
            }
            if (n == 0) {
                if (chunked) {
                    struct iovec v = {"0\r\n\r\n", 5};
                    rc = write_all(c, &v, 1, dl);
                } else if (sent != (uint64_t)clen) {
                    rc = -EINVAL; /* the callback gave fewer bytes than body_len */
                }
                break;
            }
            sent += (uint64_t)n;
            if (!chunked && sent > (uint64_t)clen) {
                rc = -EINVAL;
                break;
            }
            struct iovec v[3];
            int nv = 0;
            char hex[20];
            if (chunked) {
                int hl = snprintf(hex, sizeof hex, "%zx\r\n", (size_t)n);
                v[nv++] = (struct iovec){hex, (size_t)hl};
            }
            v[nv++] = (struct iovec){data, (size_t)n};
            if (chunked)
                v[nv++] = (struct iovec){"\r\n", 2};
            rc = write_all(c, v, nv, dl);
            if (rc < 0)
                break;
        }
    }
    acio__free(buf);
    return rc;
}

/* ---- one exchange ---- */

static bool idempotent(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS") ||
           !strcmp(m, "TRACE") || !strcmp(m, "PUT") || !strcmp(m, "DELETE");
}

static bool retryable(int rc)
{
    return rc == ACIO_EHTTP_DISCONNECTED || rc == -ECONNRESET || rc == -EPIPE ||
           rc == -ECONNABORTED;
}

/* The pool's key for u: "scheme://host:port" (IPv6 in brackets), without snprintf on
 * this per-request path. */
static int pool_key(const acio_url_t *u, char *key, size_t cap)
{
    size_t sl = strlen(u->scheme), hl = strlen(u->host);
    bool v6 = strchr(u->host, ':') != NULL;
    if (sl + hl + 16 > cap)
        return -ENAMETOOLONG;
    char *p = key;
    memcpy(p, u->scheme, sl);
    p += sl;
    memcpy(p, "://", 3);
    p += 3;
    if (v6)
        *p++ = '[';
    memcpy(p, u->host, hl);
    p += hl;
    if (v6)
        *p++ = ']';
    *p++ = ':';
    char digits[8];
    int n = 0;
    unsigned port = (unsigned)u->port;
    do {
        digits[n++] = (char)('0' + port % 10);
        port /= 10;
    } while (port && n < 7);
    while (n)
        *p++ = digits[--n];
    *p = '\0';
    return (int)(p - key);
}

/* Sending failed because the server closed or reset the connection, but its answer is
 * already here: it refused the request before taking the whole body (413, 408, 401...).
 * RFC 9112 9.5: stop sending and read that answer, as browsers and aiohttp do; the
 * connection is not reused (the rest of the body was never sent). */
static bool early_answer(hc_conn_t *c, int rc)
{
    if (c->end <= c->start)
        return false;
    return rc == -EPIPE || rc == -ECONNRESET || rc == -ENOTCONN || rc == -ESHUTDOWN ||
           rc == ACIO_EHTTP_DISCONNECTED;
}

/* Send q to u and read the response's head. */
static int exchange(acio_http_session_t *s, const acio_url_t *u, const req_t *q,
                    const hc_deadline_t *base, double connect_tmo, acio_http_response_t **out)
{
    char key[600];
    int kl = pool_key(u, key, sizeof key);
    if (kl < 0)
        return kl;
    if (q->proxy) { /* connections through a proxy are their own pool entries */
        size_t n = (size_t)kl;
        key[n++] = '|';
        if (acio_url_authority(q->proxy, ACIO_URL_WITH_PORT, key + n, sizeof key - n) >=
            sizeof key - n)
            return -ENAMETOOLONG;
    }
    bool fresh = false;
    for (int attempt = 0;; attempt++) {
        hc_deadline_t dl = *base;
        dl.connect = connect_tmo > 0 ? acio_loop_time(s->loop) + connect_tmo : 0;
        hc_conn_t *c;
        int rc = hc_pool_acquire(s, u, q->proxy, key, fresh, &dl, &c);
        if (rc < 0)
            return rc;
        bool reused = c->served > 0;
        acio_http_response_t *r;
        rc = hc_response_new(s, q->method, u->href, &r);
        if (rc < 0) {
            hc_pool_release(c, false);
            return rc;
        }
        r->conn = c;
        r->dl = dl;
        if (s->closed)
            rc = ACIO_EHTTP_SESSION_CLOSED;
        else
            rc = write_request(s, c, u, q, &dl);
        if (rc < 0 && r->conn && early_answer(c, rc)) {
            c->body_cut = true;
            rc = 0;
        }
        if (rc == 0 && !r->conn)
            rc = r->body_err ? r->body_err : ACIO_EHTTP_SESSION_CLOSED;
        if (rc == 0)
            rc = hc_response_read_head(r, c, &dl);
        if (rc == 0) {
            if (!s->o.no_cookies)
                hc_cookies_store(s, u, r);
            *out = r;
            return 0;
        }
        bool got = r->got_bytes;
        if (!r->body_err)
            r->body_err = rc;
        acio_http_response_release(r); /* closes the connection if still attached */
        if (reused && !got && attempt == 0 && retryable(rc) && idempotent(q->method) &&
            !q->use_cb && !s->closed) {
            fresh = true;
            continue;
        }
        return rc;
    }
}

/* ---- the request ---- */

static int url_with_params(const char *url, const acio_http_request_opts_t *o, acio_url_t **out)
{
    acio_url_t *u;
    int rc = acio_url_parse(url, strlen(url), &u);
    if (rc < 0 || !o->nparams) {
        *out = rc < 0 ? NULL : u;
        return rc;
    }
    acio_url_param_t *pp = acio__calloc(o->nparams, sizeof *pp);
    if (!pp) {
        acio_url_free(u);
        return -ENOMEM;
    }
    for (size_t i = 0; i < o->nparams; i++) {
        pp[i].name = o->params[i].name;
        pp[i].value = o->params[i].value;
    }
    size_t qlen = acio_url_build_query(pp, o->nparams, NULL, 0);
    /* scheme://authority + path + ?query&params (fragment dropped: never sent) */
    size_t cap = u->href_len + qlen + 4;
    char *buf = acio__malloc(cap);
    if (!buf) {
        acio__free(pp);
        acio_url_free(u);
        return -ENOMEM;
    }
    size_t n = 0;
    const char *hash = u->fragment ? strrchr(u->href, '#') : NULL;
    size_t base = hash ? (size_t)(hash - u->href) : u->href_len;
    memcpy(buf, u->href, base);
    n = base;
    buf[n++] = u->query ? (u->query[0] ? '&' : '\0') : '?';
    if (buf[n - 1] == '\0')
        n--;
    acio_url_build_query(pp, o->nparams, buf + n, cap - n);
    acio__free(pp);
    acio_url_free(u);
    rc = acio_url_parse(buf, strlen(buf), out);
    acio__free(buf);
    return rc;
}

/* The body the options describe, in memory when it can be (bytes, form, JSON). */
static int prepare_body(const acio_http_request_opts_t *o, req_t *q, char **form_buf)
{
    int sources = (o->body != NULL || (o->body_len && !o->body_cb)) + (o->nform > 0) +
                  (o->json != NULL) + (o->file_path != NULL) + (o->body_cb != NULL);
    if (sources > 1)
        return -EINVAL;
    q->content_type = o->content_type;
    if (o->body_cb) {
        q->has_body = q->use_cb = true;
    } else if (o->file_path) {
        q->has_body = q->use_file = true;
    } else if (o->json) {
        q->has_body = true;
        q->body = o->json;
        q->body_len = strlen(o->json);
        if (!q->content_type)
            q->content_type = "application/json";
    } else if (o->nform) {
        acio_url_param_t *pp = acio__calloc(o->nform, sizeof *pp);
        if (!pp)
            return -ENOMEM;
        for (size_t i = 0; i < o->nform; i++) {
            if (!o->form[i].name) {
                acio__free(pp);
                return -EINVAL;
            }
            pp[i].name = o->form[i].name;
            pp[i].value = o->form[i].value;
        }
        size_t n = acio_url_build_query(pp, o->nform, NULL, 0);
        *form_buf = acio__malloc(n + 1);
        if (!*form_buf) {
            acio__free(pp);
            return -ENOMEM;
        }
        acio_url_build_query(pp, o->nform, *form_buf, n + 1);
        acio__free(pp);
        q->has_body = true;
        q->body = *form_buf;
        q->body_len = n;
        if (!q->content_type)
            q->content_type = "application/x-www-form-urlencoded";
    } else if (o->body) {
        q->has_body = true;
        q->body = o->body;
        q->body_len = o->body_len;
    }
    return 0;
}

static bool same_origin(const acio_url_t *a, const acio_url_t *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && a->port == b->port && a->host && b->host &&
           strcmp(a->host, b->host) == 0;
}

static bool is_redirect(int st)
{
    return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

int acio_http_request(acio_http_session_t *s, const char *method, const char *url,
                      const acio_http_request_opts_t *opts, acio_http_response_t **out)
{
    static const acio_http_request_opts_t none;
    if (out)
        *out = NULL;
    if (!s || !method || !*method || !url || !out)
        return -EINVAL;
    if (!opts)
        opts = &none;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (opts->header_list && acio_http_headers_count(opts->header_list)) {
        /* One array of fields: the request's own, then the list's. */
        size_t n = opts->nheaders + acio_http_headers_count(opts->header_list);
        acio_http_field_t *all = acio__malloc(n * sizeof *all);
        if (!all)
            return -ENOMEM;
        memcpy(all, opts->headers, opts->nheaders * sizeof *all);
        size_t pos = 0, k = opts->nheaders;
        acio_http_header_t f;
        while (k < n && acio_http_headers_next(opts->header_list, &pos, NULL, &f))
            all[k++] = (acio_http_field_t){f.name, f.value}; /* NUL-terminated by the list */
        acio_http_request_opts_t merged = *opts;
        merged.headers = all;
        merged.nheaders = k;
        merged.header_list = NULL;
        int rc = acio_http_request(s, method, url, &merged, out);
        acio__free(all);
        return rc;
    }
    if (s->closed || s->loop_gone)
        return ACIO_EHTTP_SESSION_CLOSED;
    if (strlen(method) > 32)
        return -EINVAL;
    for (const char *p = method; *p; p++)
        if (*p <= ' ' || *p >= 127)
            return -EINVAL;
    for (size_t i = 0; i < opts->nheaders; i++)
        if (!valid_field(&opts->headers[i]))
            return -EINVAL;
    /* Deadlines: the request's own, else the session's. */
    hc_deadline_t tmo = s->tmo;
    if (opts->timeout) {
        const acio_http_timeout_t *t = opts->timeout;
        tmo.total = t->total == 0 ? s->tmo.total : t->total < 0 ? 0 : t->total;
        tmo.connect = t->connect == 0 ? s->tmo.connect : t->connect < 0 ? 0 : t->connect;
        tmo.sock_connect = t->sock_connect == 0  ? s->tmo.sock_connect
                           : t->sock_connect < 0 ? 0
                                                 : t->sock_connect;
        tmo.sock_read = t->sock_read == 0 ? s->tmo.sock_read : t->sock_read < 0 ? 0 : t->sock_read;
    }
    hc_deadline_t dl = {0};
    dl.total = tmo.total > 0 ? acio_loop_time(s->loop) + tmo.total : 0;
    dl.sock_connect = tmo.sock_connect;
    dl.sock_read = tmo.sock_read;

    s->refs++;
    req_t q;
    memset(&q, 0, sizeof q);
    char method_buf[33];
    strcpy(method_buf, method);
    q.method = method_buf;
    q.o = opts;
    char *form_buf = NULL;
    acio_url_t *u = NULL;
    acio_http_response_t **hist = NULL;
    size_t nhist = 0;
    acio_http_response_t *r = NULL;
    int rc = prepare_body(opts, &q, &form_buf);
    if (rc == 0)
        rc = url_with_params(url, opts, &u);
    if (rc == 0 && !acio_url_is_http(u))
        rc = ACIO_EHTTP_SCHEME;
    if (rc < 0)
        goto out;
    if (opts->auth_user)
        rc = basic_auth(opts->auth_user, strlen(opts->auth_user),
                        opts->auth_password ? opts->auth_password : "",
                        opts->auth_password ? strlen(opts->auth_password) : 0, q.auth,
                        sizeof q.auth);
    else if (u->userinfo && *u->userinfo)
        rc = hc_basic_auth_userinfo(u->userinfo, q.auth, sizeof q.auth);
    if (rc < 0)
        goto out;
    bool follow = !(opts->no_redirects || s->o.no_redirects);
    int max_redirects = opts->max_redirects > 0 ? opts->max_redirects : s->o.max_redirects;
    for (;;) {
        acio_url_free(q.proxy);
        q.proxy = NULL;
        q.proxy_auth[0] = '\0';
        rc = hc_proxy_for(s, opts->proxy, u, &q.proxy);
        if (rc == 0 && q.proxy && q.proxy->userinfo && *q.proxy->userinfo)
            rc = hc_basic_auth_userinfo(q.proxy->userinfo, q.proxy_auth, sizeof q.proxy_auth);
        if (rc < 0)
            goto out;
        rc = exchange(s, u, &q, &dl, tmo.connect, &r);
        if (rc < 0)
            goto out;
        int st = r->h.status;
        const char *loc = acio_http_response_header(r, "location");
        if (!follow || !is_redirect(st) || !loc)
            break;
        /* 307/308 resend the body: a callback's cannot be replayed. */
        if ((st == 307 || st == 308) && q.use_cb)
            break;
        if ((int)nhist >= max_redirects) {
            rc = ACIO_EHTTP_TOO_MANY_REDIRECTS;
            goto out;
        }
        acio_url_t *nu;
        rc = acio_url_join(u, loc, strlen(loc), 0, &nu);
        if (rc == 0 && !acio_url_is_http(nu)) {
            acio_url_free(nu);
            rc = ACIO_EHTTP_SCHEME;
        }
        if (rc < 0)
            goto out;
        if ((st == 303 && strcmp(q.method, "HEAD") != 0) ||
            ((st == 301 || st == 302) && strcmp(q.method, "POST") == 0)) {
            strcpy(method_buf, "GET");
            q.has_body = q.use_file = q.use_cb = false;
            q.body = NULL;
            q.body_len = 0;
        }
        if (!same_origin(u, nu)) {
            q.strip_auth = true;
            q.auth[0] = '\0';
        }
        hc_response_discard(r, 64 * 1024);
        acio_http_response_t **nh = acio__realloc(hist, (nhist + 1) * sizeof *nh);
        if (!nh) {
            acio_url_free(nu);
            rc = -ENOMEM;
            goto out;
        }
        hist = nh;
        hist[nhist++] = r;
        r = NULL;
        acio_url_free(u);
        u = nu;
    }
    if ((opts->raise_for_status || s->o.raise_for_status) && r->h.status >= 400) {
        rc = ACIO_EHTTP_STATUS;
        goto out;
    }
    r->hist = hist;
    r->nhist = nhist;
    hist = NULL;
    nhist = 0;
    *out = r;
    r = NULL;
out:
    acio_http_response_release(r);
    for (size_t i = 0; i < nhist; i++)
        acio_http_response_release(hist[i]);
    acio__free(hist);
    acio_url_free(u);
    acio_url_free(q.proxy);
    acio__free(form_buf);
    hc_session_unref(s);
    return rc;
}

int acio_http_get(acio_http_session_t *s, const char *url, acio_http_response_t **out)
{
    return acio_http_request(s, "GET", url, NULL, out);
}

int acio_http_post(acio_http_session_t *s, const char *url, const void *body, size_t len,
                   acio_http_response_t **out)
{
    acio_http_request_opts_t o = {0};
    o.body = body;
    o.body_len = len;
    return acio_http_request(s, "POST", url, &o, out);
}
