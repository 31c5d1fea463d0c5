/* rediss://: the Redis client over acio's TLS against a real redis-server started with
 * its TLS port (Debian's redis-server is built with TLS) and certificates made for the
 * test. A trusted CA works, through opts and through a rediss:// URL; an untrusted CA and
 * a wrong host name fail with TLS's own codes, and nothing is left open. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "acio.h"
#include "support/certs.h"
#include "support/check.h"
#include "support/redis_server.h"

static redis_server_t srv;
static int tls_port;

static void start(void)
{
    cr_assert(have_tls(), "acio built without TLS");
    certs_make("redis-tls");
    tls_port = redis_server_free_port();
    cr_assert_gt(tls_port, 0);
    static char port[16];
    snprintf(port, sizeof port, "%d", tls_port);
    /* The plain port stays open too: redis_server_start waits for a PING on it. */
    const char *extra[] = {"--tls-port",
                           port,
                           "--tls-cert-file",
                           certs.cert,
                           "--tls-key-file",
                           certs.key,
                           "--tls-ca-cert-file",
                           certs.ca,
                           "--tls-auth-clients",
                           "no",
                           NULL};
    cr_assert_eq(redis_server_start(&srv, extra), 0, "redis-server (TLS) did not start");
}

static void stop(void)
{
    redis_server_stop(&srv);
    certs_cleanup();
}

/* A client context trusting the test's CA (asserts: a failure here is the machine's). */
static acio_ssl_context_t *client_context(void)
{
    acio_ssl_context_t *ctx = NULL;
    cr_assert_eq(acio_ssl_context_new(&ctx, ACIO_SSL_CLIENT), 0);
    cr_assert_eq(acio_ssl_context_load_verify_locations(ctx, certs.ca, NULL), 0);
    return ctx;
}

/* SET, GET and a hash round trip over TLS: the bytes really go through the TLS port. */
static int roundtrip(acio_redis_t *c)
{
    CHECK_INT(acio_redis_set(c, "over", "tls\0bytes", 9, 0) == 0, "set: %s",
              acio_redis_last_error(c));
    char *v = NULL;
    size_t len = 0;
    CHECK_INT(acio_redis_get(c, "over", &v, &len) == 0 && v && len == 9 &&
                  memcmp(v, "tls\0bytes", 9) == 0,
              "get");
    free(v);
    acio_redis_reply_t *r = NULL;
    CHECK_INT(acio_redis_command(c, &r, "CLIENT", "INFO", NULL) == 0 && r->str, "client info");
    /* A TLS client's laddr is the TLS port, which the server reports in CLIENT INFO. */
    char want[32];
    snprintf(want, sizeof want, ":%d ", tls_port);
    CHECK_INT(strstr(r->str, want) != NULL, "connected to the TLS port: %s", r->str);
    acio_redis_reply_free(r);
    return 0;
}

static void *with_opts(void *arg)
{
    (void)arg;
    acio_ssl_context_t *ctx = client_context();
    acio_redis_opts_t o = {.port = tls_port, .ssl = ctx, .server_hostname = "localhost"};
    acio_redis_t *c;
    int rc = acio_redis_connect(&c, &o);
    CHECK(rc == 0, "connect: %s (%s)", acio_strerror(rc), acio_redis_connect_error());
    rc = roundtrip(c);
    acio_redis_close(c);
    acio_ssl_context_unref(ctx);
    return NULL; /* a failed round trip already recorded its message */
}

Test(redis_tls, trusted_ca_through_opts, .init = start, .fini = stop)
{
    run_ok(with_opts, NULL);
}

static void *with_url(void *arg)
{
    (void)arg;
    char url[64];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/2", tls_port);
    acio_redis_opts_t o = {0};
    char *storage = NULL;
    CHECK(acio_redis_opts_from_url(&o, url, &storage) == 0, "parse %s", url);
    CHECK(o.db == 2 && o.port == tls_port, "url fields");
    o.ssl = client_context();
    acio_redis_t *c;
    int rc = acio_redis_connect(&c, &o);
    CHECK(rc == 0, "connect %s: %s (%s)", url, acio_strerror(rc), acio_redis_connect_error());
    free(storage);
    rc = roundtrip(c);
    acio_redis_close(c);
    acio_ssl_context_unref(o.ssl);
    return NULL; /* a failed round trip already recorded its message */
}

Test(redis_tls, rediss_url, .init = start, .fini = stop)
{
    run_ok(with_url, NULL);
}

/* Without the test's CA, the default context (system roots) must refuse the server. */
static void *untrusted(void *arg)
{
    (void)arg;
    char url[64];
    snprintf(url, sizeof url, "rediss://localhost:%d", tls_port);
    acio_redis_t *c = NULL;
    int rc = acio_redis_connect_url(&c, url);
    CHECK(rc == ACIO_ECERTVERIFY, "untrusted server: %s (%s)", acio_err_name(rc),
          acio_redis_connect_error());
    CHECK(c == NULL, "no connection on failure");
    return NULL;
}

Test(redis_tls, untrusted_certificate_is_refused, .init = start, .fini = stop)
{
    run_ok(untrusted, NULL);
}

/* The certificate names localhost and 127.0.0.1, not the name asked for. */
static void *wrong_name(void *arg)
{
    (void)arg;
    acio_ssl_context_t *ctx = client_context();
    acio_redis_opts_t o = {.port = tls_port, .ssl = ctx, .server_hostname = "cache.example.org"};
    acio_redis_t *c = NULL;
    int rc = acio_redis_connect(&c, &o);
    CHECK(rc == ACIO_EHOSTMISMATCH, "host mismatch: %s (%s)", acio_err_name(rc),
          acio_redis_connect_error());
    acio_ssl_context_unref(ctx);
    return NULL;
}

Test(redis_tls, host_name_mismatch_is_refused, .init = start, .fini = stop)
{
    run_ok(wrong_name, NULL);
}
