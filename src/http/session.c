/* The HTTP client session (aiohttp.ClientSession): options with aiohttp's defaults, the
 * TLS context, closing, and the report of a session still open when its loop closes.
 *
 * A session is reference counted: the user holds one reference until
 * acio_http_session_close, and every request in flight holds one, so closing a session
 * while another task's request waits is safe (that request fails with
 * ACIO_EHTTP_SESSION_CLOSED when it resumes). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/client_int.h"

bool hc_name_eq(const char *a, size_t alen, const char *lower)
{
    size_t n = strlen(lower);
    return alen == n && strncasecmp(a, lower, n) == 0;
}

/* Detach every response still reading from a connection, then close the pool. */
static void shut(acio_http_session_t *s, int code)
{
    while (s->live)
        hc_response_detach(s->live, code);
    hc_pool_close_all(s, code);
    hc_dns_clear(s);
}

static void session_free(acio_http_session_t *s)
{
    hc_pool_free(s);
    hc_cookies_free(s);
    if (s->ssl)
        acio_ssl_context_unref(s->ssl);
    acio__free(s->headers);
    acio__free(s->strings);
    acio__free(s->scratch);
    acio__free(s);
}

void hc_session_unref(acio_http_session_t *s)
{
    if (--s->refs == 0)
        session_free(s);
}

/* The loop closes with the session still open: say where it was created (as the loop
 * does for a pending task), then close what the session owns. Tasks suspended in
 * requests are discarded by the loop and never resume; the session's memory stays until
 * acio_http_session_close, which the program may still call. */
static void session_loop_closed(acio__net_node_t *n)
{
    acio_http_session_t *s = acio_container_of(n, acio_http_session_t, reg);
    char where[256], msg[320];
    acio__describe_address(s->created_at, where, sizeof where);
    snprintf(msg, sizeof msg, "HTTP client session %p was never closed (acio_http_session_close)",
             (void *)s);
    acio_error_context_t ctx = {0};
    ctx.message = msg;
    ctx.origin = where;
    acio_loop_call_exception_handler(s->loop, &ctx);
    s->loop_gone = true;
    /* The waiters' tasks are gone with the loop: forget them without waking them. */
    s->wait_head = s->wait_tail = NULL;
    shut(s, ACIO_ECLOSED);
    /* Connections still owned by discarded tasks (connecting) are freed here too. */
    while (s->all) {
        hc_conn_t *c = s->all;
        c->waiter = NULL;
        c->drain = NULL;
        hc_conn_destroy(c);
    }
    s->count = s->nidle = 0;
    /* Only the user's reference is left: the requests' tasks never resume. */
    s->refs = 1;
}

static char *copy_str(char **p, const char *src)
{
    if (!src)
        return NULL;
    char *d = *p;
    size_t n = strlen(src) + 1;
    memcpy(d, src, n);
    *p += n;
    return d;
}

int acio_http_session_new(acio_http_session_t **out, const acio_http_session_opts_t *opts)
{
    void *caller = ACIO_CALLER();
    static const acio_http_session_opts_t defaults;
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    acio_loop_t *loop = acio_get_running_loop();
    if (!loop)
        return ACIO_ENOLOOP;
    acio_http_session_t *s = acio__calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->refs = 1;
    s->o = *opts;
    s->created_at = caller;
    if (!s->o.limit)
        s->o.limit = 100;
    s->keepalive = opts->keepalive_timeout == 0 ? 15.0 : opts->keepalive_timeout;
    if (s->o.dns_ttl == 0)
        s->o.dns_ttl = 10.0;
    if (s->o.max_redirects <= 0)
        s->o.max_redirects = 10;
    if (!s->o.max_decoded_size)
        s->o.max_decoded_size = (size_t)1 << 30;
    if (s->o.max_decode_ratio <= 0)
        s->o.max_decode_ratio = 1000;
    const acio_http_timeout_t *t = &opts->timeout;
    s->tmo.total = t->total == 0 ? 300 : t->total < 0 ? 0 : t->total;
    s->tmo.connect = t->connect <= 0 ? 0 : t->connect;
    s->tmo.sock_connect = t->sock_connect == 0 ? 30 : t->sock_connect < 0 ? 0 : t->sock_connect;
    s->tmo.sock_read = t->sock_read <= 0 ? 0 : t->sock_read;
    /* Copy the strings the session keeps. */
    size_t need = 0;
    for (size_t i = 0; i < opts->nheaders; i++) {
        if (!opts->headers[i].name || !opts->headers[i].value) {
            acio__free(s);
            return -EINVAL;
        }
        need += strlen(opts->headers[i].name) + strlen(opts->headers[i].value) + 2;
    }
    need += opts->ca_file ? strlen(opts->ca_file) + 1 : 0;
    need += opts->proxy ? strlen(opts->proxy) + 1 : 0;
    if (need) {
        s->strings = acio__malloc(need);
        if (!s->strings)
            goto nomem;
    }
    if (opts->nheaders) {
        s->headers = acio__calloc(opts->nheaders, sizeof *s->headers);
        if (!s->headers)
            goto nomem;
    }
    char *p = s->strings;
    for (size_t i = 0; i < opts->nheaders; i++) {
        s->headers[i].name = copy_str(&p, opts->headers[i].name);
        s->headers[i].value = copy_str(&p, opts->headers[i].value);
    }
    s->o.headers = s->headers;
    s->o.ca_file = copy_str(&p, opts->ca_file);
    s->o.proxy = copy_str(&p, opts->proxy);
    if (opts->ssl)
        s->ssl = acio_ssl_context_ref(opts->ssl);
    int rc = acio__net_register(loop, &s->reg, session_loop_closed);
    if (rc < 0) {
        session_free(s);
        return rc;
    }
    *out = s;
    return 0;
nomem:
    session_free(s);
    return -ENOMEM;
}

int hc_session_ssl(acio_http_session_t *s, acio_ssl_context_t **out)
{
    if (!s->ssl) {
        acio_ssl_context_t *ctx;
        int rc = acio_ssl_context_new(&ctx, ACIO_SSL_CLIENT);
        if (rc < 0)
            return rc;
        if (s->o.ssl_verify_off)
            rc = acio_ssl_context_set_verify(ctx, false);
        if (rc == 0 && s->o.ca_file)
            rc = acio_ssl_context_load_verify_locations(ctx, s->o.ca_file, NULL);
        if (rc < 0) {
            acio_ssl_context_unref(ctx);
            return rc;
        }
        s->ssl = ctx;
    }
    *out = s->ssl;
    return 0;
}

int hc_scratch(acio_http_session_t *s, size_t cap)
{
    if (s->scratch_cap >= cap)
        return 0;
    size_t n = s->scratch_cap ? s->scratch_cap : 1024;
    while (n < cap)
        n *= 2;
    char *p = acio__realloc(s->scratch, n);
    if (!p)
        return -ENOMEM;
    s->scratch = p;
    s->scratch_cap = n;
    return 0;
}

void acio_http_session_close(acio_http_session_t *s)
{
    if (!s || s->closed)
        return;
    s->closed = true;
    acio__net_unregister(&s->reg);
    if (!s->loop_gone)
        shut(s, ACIO_EHTTP_SESSION_CLOSED);
    hc_session_unref(s);
}

size_t acio_http_session_connections(const acio_http_session_t *s, size_t *idle)
{
    if (idle)
        *idle = s ? s->nidle : 0;
    return s ? s->count : 0;
}

void acio_http_session_set_data(acio_http_session_t *s, void *data)
{
    if (s)
        s->data = data;
}

void *acio_http_session_get_data(const acio_http_session_t *s)
{
    return s ? s->data : NULL;
}
