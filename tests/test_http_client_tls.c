/* The HTTP client over TLS against the scripted server behind acio's TLS: certificate
 * and host-name verification on by default (a private CA is refused until the session
 * trusts it with ca_file), the explicit opt-out (aiohttp's ssl=False), keep-alive and
 * content decoding over TLS, and a handshake that never completes (the TLS phase's own
 * timeout). */
#include <criterion/criterion.h>
#include <string.h>

#include "acio.h"
#include "support/certs.h"
#include "support/check.h"
#include "support/fds.h"
#include "support/http_script.h"

static const char *tls_url(const char *path)
{
    static char bufs[4][256];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 256, "https://127.0.0.1:%d%s", ts.port, path);
    return b;
}

static void *t_tls(void *arg)
{
    (void)arg;
    acio_ssl_context_t *sctx;
    CHECK(acio_ssl_context_new(&sctx, ACIO_SSL_SERVER) == 0, "server context");
    CHECK(acio_ssl_context_load_cert_chain(sctx, certs.cert, certs.key) == 0, "cert");
    CHECK(ts_start_ssl(sctx) == 0, "server");

    /* The same certificate on another loopback address: a trusted chain for the wrong
     * host name. */
    acio_server_opts_t mo = {0};
    mo.ssl = sctx;
    acio_server_t *other;
    CHECK(acio_start_server(&other, ts_handler, NULL, "127.0.0.2", 0, 1 << 20, &mo) == 0,
          "server on 127.0.0.2");
    acio_ssl_context_unref(sctx);
    acio_http_session_opts_t mso = {0};
    mso.ca_file = certs.ca;
    acio_http_session_t *ms;
    CHECK(acio_http_session_new(&ms, &mso) == 0, "session");
    char murl[64];
    snprintf(murl, sizeof murl, "https://127.0.0.2:%d/ok", acio_server_port(other));
    acio_http_response_t *mr;
    int mrc = acio_http_get(ms, murl, &mr);
    CHECK(mrc == ACIO_EHOSTMISMATCH, "host name mismatch: %s", acio_err_name(mrc));
    acio_http_session_close(ms);
    acio_server_close(other);
    CHECK(acio_server_wait_closed(other) == 0, "closed");
    acio_server_free(other);

    /* Default: the private CA is not trusted. */
    acio_http_session_t *s;
    CHECK(acio_http_session_new(&s, NULL) == 0, "session");
    acio_http_response_t *r;
    int rc = acio_http_get(s, tls_url("/ok"), &r);
    CHECK(rc == ACIO_ECERTVERIFY, "untrusted certificate: %s", acio_err_name(rc));
    CHECK(acio_http_session_connections(s, NULL) == 0, "no connection kept");
    acio_http_session_close(s);

    /* Trusting the CA. */
    acio_http_session_opts_t so = {0};
    so.ca_file = certs.ca;
    CHECK(acio_http_session_new(&s, &so) == 0, "session");
    for (int i = 0; i < 3; i++) {
        rc = acio_http_get(s, tls_url("/ok"), &r);
        CHECK(rc == 0 && acio_http_response_status(r) == 200, "https get: %s", acio_err_name(rc));
        const void *b;
        size_t len;
        CHECK(acio_http_response_read(r, &b, &len) == 0 && len == 5, "body");
        acio_http_response_release(r);
    }
    CHECK(ts.connections == 1, "one TLS connection kept alive, got %d", ts.connections);
    char *expect = ts_big(100000);
    rc = acio_http_get(s, tls_url("/enc/gzip"), &r);
    const void *b;
    size_t len;
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0 && len == 100000 &&
              !memcmp(b, expect, len),
          "gzip over TLS");
    acio_http_response_release(r);
    rc = acio_http_get(s, tls_url("/big/3000000"), &r);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0 && len == 3000000, "3 MB over TLS");
    acio_http_response_release(r);
    free(expect);
    acio_http_session_close(s);

    /* ssl=False */
    acio_http_session_opts_t vo = {0};
    vo.ssl_verify_off = true;
    CHECK(acio_http_session_new(&s, &vo) == 0, "session");
    rc = acio_http_get(s, tls_url("/ok"), &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 200, "verify off: %s", acio_err_name(rc));
    acio_http_response_release(r);
    acio_http_session_close(s);

    /* Through an HTTP proxy: a CONNECT tunnel, then TLS end to end. The proxy is a
     * second (plain) scripted server. */
    int tls_port = ts.port;
    acio_server_t *proxy_srv;
    CHECK(acio_start_server(&proxy_srv, ts_handler, NULL, "127.0.0.1", 0, 1 << 20, NULL) == 0,
          "proxy");
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", acio_server_port(proxy_srv));
    acio_http_session_opts_t po = {0};
    po.ca_file = certs.ca;
    po.proxy = proxy;
    CHECK(acio_http_session_new(&s, &po) == 0, "session");
    int before = ts.proxied;
    rc = acio_http_get(s, tls_url("/ok"), &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 200, "https through CONNECT: %s",
          acio_err_name(rc));
    acio_http_response_release(r);
    size_t idle = 0;
    size_t open = acio_http_session_connections(s, &idle);
    CHECK(open == 1 && idle == 1, "tunnel kept: %zu open, %zu idle", open, idle);
    rc = acio_http_get(s, tls_url("/ok"), &r);
    CHECK(rc == 0, "again, over the kept tunnel: %s", acio_err_name(rc));
    acio_http_response_release(r);
    CHECK(ts.proxied == before + 1, "one CONNECT for two requests: %d", ts.proxied - before);
    CHECK(ts.port == tls_port, "port");
    acio_http_session_close(s);
    acio_server_close(proxy_srv);
    acio_server_close_clients(proxy_srv);
    CHECK(acio_server_wait_closed(proxy_srv) == 0, "proxy closed");
    acio_server_free(proxy_srv);
    ts_stop();

    /* A server that never answers the handshake. */
    CHECK(ts_start() == 0, "plain server");
    acio_http_session_opts_t to = {0};
    to.ssl_verify_off = true;
    to.timeout.sock_connect = 0.3;
    CHECK(acio_http_session_new(&s, &to) == 0, "session");
    rc = acio_http_get(s, tls_url("/ok"), &r);
    CHECK(rc == ACIO_EHTTP_TLS_TIMEOUT, "TLS handshake timeout: %s", acio_err_name(rc));
    acio_http_session_close(s);
    ts_stop();
    return NULL;
}

Test(http_client_tls, verify_trust_optout_keepalive_handshake_timeout, .timeout = 120)
{
    certs_make("hctls");
    int before = count_fds();
    run_ok(t_tls, NULL);
    cr_assert_eq(count_fds(), before, "fds leaked");
    certs_cleanup();
}

/* Cancellations landing at every point of connecting and handshaking: tasks whose own
 * session opens a TLS connection are cancelled after 0 to 20 ms. Nothing may crash,
 * leak (ASan) or keep an fd. */
typedef struct {
    int rc;
} one_t;

static void *tls_one(void *arg)
{
    one_t *o = arg;
    acio_http_session_opts_t so = {0};
    so.ca_file = certs.ca;
    acio_http_session_t *s;
    o->rc = acio_http_session_new(&s, &so);
    if (o->rc < 0)
        return NULL;
    acio_http_response_t *r = NULL;
    o->rc = acio_http_get(s, tls_url("/ok"), &r);
    if (o->rc == 0) {
        const void *b;
        size_t len;
        o->rc = acio_http_response_read(r, &b, &len);
    }
    acio_http_response_release(r);
    acio_http_session_close(s);
    return NULL;
}

static void *t_tls_cancel(void *arg)
{
    (void)arg;
    acio_ssl_context_t *sctx;
    CHECK(acio_ssl_context_new(&sctx, ACIO_SSL_SERVER) == 0, "server context");
    CHECK(acio_ssl_context_load_cert_chain(sctx, certs.cert, certs.key) == 0, "cert");
    CHECK(ts_start_ssl(sctx) == 0, "server");
    acio_ssl_context_unref(sctx);
    enum { N = 40 };
    one_t o[N];
    acio_task_t *t[N];
    int cancelled = 0, ok = 0;
    for (int i = 0; i < N; i++) {
        o[i].rc = 1;
        CHECK(acio_create_task(&t[i], tls_one, &o[i], NULL) == 0, "task");
        CHECK(acio_sleep((i % 21) / 1000.0) == 0, "sleep");
        cancelled += acio_task_cancel(t[i], NULL);
        int rc = acio_await(t[i], NULL);
        CHECK(rc == 0 || rc == -ECANCELED, "task %d: %s", i, acio_err_name(rc));
        ok += o[i].rc == 0;
        acio_future_unref(t[i]);
    }
    CHECK(cancelled > 0, "some were cancelled in flight");
    ts_stop();
    return NULL;
}

Test(http_client_tls, cancelled_while_connecting_and_handshaking, .timeout = 120)
{
    certs_make("hctlsc");
    int before = count_fds();
    run_ok(t_tls_cancel, NULL);
    cr_assert_eq(count_fds(), before, "fds leaked");
    certs_cleanup();
}
