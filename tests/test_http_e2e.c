/* acio's HTTP client against acio's own HTTP server, end to end: both in one loop, and
 * (the _across_loops variants) the server on a loop of its own on another thread.
 * Keep-alive reuse counted on both sides (the server's /peer answer names the client's
 * port, so one peer means one connection), reuse after the server's keep-alive expiry
 * without racing its close, redirects (chains, 303/307 method rules, a loop), chunked
 * bodies both ways, Expect: 100-continue, gzip and a decompression bomb from the server,
 * large bodies, HEAD, 404/405, the server's 413/431/414/408 as the client sees them,
 * HTTPS on both sides, many concurrent requests with a random subset cancelled (no slot
 * or connection left on either side), a graceful shutdown with requests in flight, pool
 * waiters served in FIFO order, and happy eyeballs past a silent first address.
 * Workers (SO_REUSEPORT processes) are in test_http_server_clients.c. */
#include <criterion/criterion.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "acio.h"
#include "support/certs.h"
#include "support/check.h"
#include "support/fds.h"
#include "support/problems.h"

/* ---- the app ---- */

/* The byte at offset i of every generated body: a pattern a shifted or lost piece breaks. */
static inline char pat(size_t i)
{
    return (char)('a' + (i * 7 + i / 251) % 26);
}

static int h_peer(acio_http_request_t *req, void *arg)
{
    (void)arg;
    return acio_http_respond_text(req, 200, acio_http_request_peer(req));
}

static int h_redirect(acio_http_request_t *req, void *arg)
{
    (void)arg;
    int n = atoi(acio_http_request_path_param(req, "n"));
    if (n <= 0)
        return acio_http_respond_text(req, 200, "landed");
    char loc[64];
    snprintf(loc, sizeof loc, "/redirect/%d", n - 1);
    int rc = acio_http_respond_header(req, "Location", loc);
    return rc < 0 ? rc : acio_http_respond(req, 302, NULL, NULL, 0);
}

/* Location from the route's argument, with the status in the path. */
static int h_goto(acio_http_request_t *req, void *arg)
{
    const char *data;
    size_t len;
    int rc = acio_http_request_body(req, &data, &len); /* consumed, so keep-alive holds */
    if (rc < 0)
        return rc;
    rc = acio_http_respond_header(req, "Location", (const char *)arg);
    int st = atoi(acio_http_request_path_param(req, "status"));
    return rc < 0 ? rc : acio_http_respond(req, st, NULL, NULL, 0);
}

/* "METHOD length body" */
static int h_method(acio_http_request_t *req, void *arg)
{
    (void)arg;
    const char *data;
    size_t len;
    int rc = acio_http_request_body(req, &data, &len);
    if (rc < 0)
        return rc;
    char out[256];
    snprintf(out, sizeof out, "%s %zu %.*s %s", acio_http_request_method(req), len,
             (int)(len < 64 ? len : 64), data,
             acio_http_request_header(req, "Authorization") ? "auth" : "noauth");
    return acio_http_respond_text(req, 200, out);
}

/* Reads the body in small pieces (streamed) and checks the pattern: "length ok|bad". */
static int h_upload(acio_http_request_t *req, void *arg)
{
    (void)arg;
    char buf[3001];
    size_t total = 0;
    bool ok = true;
    ssize_t n;
    while ((n = acio_http_request_read(req, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            ok = ok && buf[i] == pat(total + (size_t)i);
        total += (size_t)n;
    }
    if (n < 0)
        return (int)n;
    char out[64];
    snprintf(out, sizeof out, "%zu %s %s", total, ok ? "ok" : "bad",
             acio_http_request_content_length(req) < 0 ? "chunked" : "length");
    return acio_http_respond_text(req, 200, out);
}

/* A streamed (chunked) body of n pattern bytes in pieces of c. */
static int h_gen(acio_http_request_t *req, void *arg)
{
    (void)arg;
    const char *ns = acio_http_request_query(req, "n"), *cs = acio_http_request_query(req, "c");
    size_t n = ns ? strtoul(ns, NULL, 10) : 1000, c = cs ? strtoul(cs, NULL, 10) : 4096;
    char *piece = malloc(c);
    if (!piece)
        return -ENOMEM;
    int rc = acio_http_respond_start(req, 200, "text/plain");
    for (size_t off = 0; rc == 0 && off < n; off += c) {
        size_t k = n - off < c ? n - off : c;
        for (size_t i = 0; i < k; i++)
            piece[i] = pat(off + i);
        rc = acio_http_write(req, piece, k);
    }
    free(piece);
    return rc == 0 ? acio_http_write_end(req) : rc;
}

/* n pattern bytes with a Content-Length. */
static int h_big(acio_http_request_t *req, void *arg)
{
    (void)arg;
    size_t n = strtoul(acio_http_request_path_param(req, "n"), NULL, 10);
    char *b = malloc(n + 1);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        b[i] = pat(i);
    int rc = acio_http_respond(req, 200, "application/octet-stream", b, n);
    free(b);
    return rc;
}

/* Gzip-compressed bodies, made once: TEXT repeated, and a bomb (zeros). */
static unsigned char *gz_text, *gz_bomb;
static size_t gz_text_len, gz_bomb_len;
#define TEXT_REPEAT 2000
static const char TEXT[] = "The quick brown fox jumps over the lazy dog.\n";

static unsigned char *gzip_of(const void *src, size_t n, size_t *out_len)
{
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, n) + 64;
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)src;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

static void make_gzip_bodies(void)
{
    size_t tl = strlen(TEXT) * TEXT_REPEAT;
    char *t = malloc(tl);
    for (size_t i = 0; i < TEXT_REPEAT; i++)
        memcpy(t + i * strlen(TEXT), TEXT, strlen(TEXT));
    gz_text = gzip_of(t, tl, &gz_text_len);
    free(t);
    size_t bl = (size_t)64 << 20;
    char *z = calloc(1, bl);
    gz_bomb = gzip_of(z, bl, &gz_bomb_len);
    free(z);
}

static int h_gzip(acio_http_request_t *req, void *arg)
{
    bool bomb = arg != NULL;
    int rc = acio_http_respond_header(req, "Content-Encoding", "gzip");
    if (rc < 0)
        return rc;
    return acio_http_respond(req, 200, "text/plain", bomb ? gz_bomb : gz_text,
                             bomb ? gz_bomb_len : gz_text_len);
}

static int h_sleep(acio_http_request_t *req, void *arg)
{
    (void)arg;
    const char *s = acio_http_request_query(req, "s");
    int rc = acio_sleep(s ? atof(s) : 0.05);
    return rc < 0 ? rc : acio_http_respond_text(req, 200, "slept");
}

static int h_item(acio_http_request_t *req, void *arg)
{
    (void)arg;
    return acio_http_respond_text(req, 200, acio_http_request_path_param(req, "id"));
}

static acio_http_app_t *make_app(void)
{
    acio_http_app_t *app;
    cr_assert_eq(acio_http_app_new(&app), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/peer", h_peer, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/redirect/{n}", h_redirect, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "*", "/goto/{status}", h_goto, "/method"), 0);
    cr_assert_eq(acio_http_app_route(app, "*", "/loop/{status}", h_goto, "/loop/302"), 0);
    cr_assert_eq(acio_http_app_route(app, "*", "/method", h_method, NULL), 0);
    acio_http_route_opts_t big = {.max_body = (size_t)32 << 20};
    cr_assert_eq(acio_http_app_route_ex(app, "POST", "/upload", h_upload, NULL, &big), 0);
    acio_http_route_opts_t small = {.max_body = 100};
    cr_assert_eq(acio_http_app_route_ex(app, "POST", "/small", h_upload, NULL, &small), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/gen", h_gen, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/big/{n}", h_big, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/gzip", h_gzip, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/bomb", h_gzip, (void *)1), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/sleep", h_sleep, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/items/{id}", h_item, NULL), 0);
    return app;
}

/* ---- the fixture: the server on this loop or on a loop of its own ---- */

typedef void *(*body_fn)(void *);

static struct {
    acio_http_app_t *app;
    acio_http_config_t cfg;
    acio_ssl_context_t *server_ssl;
    bool other_loop;
    body_fn body;
    acio_http_server_t *srv; /* on this loop only */
    int port;
    char base[64]; /* "http://127.0.0.1:port" */
    /* the other loop */
    pthread_t thread;
    acio_loop_t *srv_loop;
    acio_event_t *stop;
    int ready_fd[2];
    int srv_rc;
    char srv_msg[256];
} fx;

/* Connections the server holds now (its own loop's count: read there). */
static size_t server_connections(void);

static void *server_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_http_server_t *srv;
    int rc = acio_http_server_start(NULL, fx.app, &fx.cfg, &srv);
    if (rc < 0) {
        int p = -1;
        if (write(fx.ready_fd[1], &p, sizeof p) < 0)
            abort();
        return acio_raise(rc, "server_start: %s", acio_strerror(rc));
    }
    fx.srv_loop = acio_get_running_loop();
    rc = acio_event_new(&fx.stop);
    fx.srv = srv;
    int port = acio_http_server_port(srv);
    if (write(fx.ready_fd[1], &port, sizeof port) < 0)
        abort();
    if (rc == 0)
        rc = acio_event_wait(fx.stop);
    int src = acio_http_server_shutdown(srv, 2);
    size_t left = acio_http_server_connections(srv);
    fx.srv = NULL;
    acio_http_server_free(srv);
    acio_event_free(fx.stop);
    CHECK(rc == 0 && src == 0, "server: %s / shutdown %s", acio_strerror(rc), acio_strerror(src));
    CHECK(left == 0, "server connections left: %zu", left);
    return NULL;
}

static void *server_thread(void *arg)
{
    (void)arg;
    char *msg = NULL;
    fx.srv_rc = acio_run_ex(server_main, NULL, NULL, &msg);
    snprintf(fx.srv_msg, sizeof fx.srv_msg, "%s", msg ? msg : "");
    free(msg);
    return NULL;
}

static void stop_cb(void *arg)
{
    (void)arg;
    acio_event_set(fx.stop);
}

typedef struct {
    size_t n;
    int done; /* atomic */
} count_req_t;

static void count_cb(void *arg)
{
    count_req_t *c = arg;
    c->n = fx.srv ? acio_http_server_connections(fx.srv) : 0;
    __atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

static size_t server_connections(void)
{
    if (!fx.other_loop)
        return acio_http_server_connections(fx.srv);
    count_req_t c = {0};
    if (acio_loop_call_soon_threadsafe(fx.srv_loop, count_cb, &c) < 0)
        return (size_t)-1;
    while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE))
        if (acio_sleep(0.001) < 0)
            return (size_t)-1;
    return c.n;
}

static void *with_server(void *arg)
{
    (void)arg;
    watch_problems();
    if (!fx.other_loop) {
        int rc = acio_http_server_start(NULL, fx.app, &fx.cfg, &fx.srv);
        CHECK(rc == 0, "server_start: %s", acio_strerror(rc));
        fx.port = acio_http_server_port(fx.srv);
    }
    snprintf(fx.base, sizeof fx.base, "%s://127.0.0.1:%d", fx.cfg.ssl ? "https" : "http", fx.port);
    void *res = fx.body(NULL);
    if (!fx.other_loop) {
        if (fx.srv) {
            int src = acio_http_server_shutdown(fx.srv, 2);
            size_t left = acio_http_server_connections(fx.srv);
            acio_http_server_free(fx.srv);
            fx.srv = NULL;
            CHECK(src == 0, "shutdown: %s", acio_strerror(src));
            CHECK(left == 0, "server connections left: %zu", left);
        }
    }
    return res;
}

static void setup(void)
{
    problems_setup();
    memset(&fx, 0, sizeof fx);
    fx.app = make_app();
    acio_http_config_init(&fx.cfg);
    fx.cfg.port = 0;
    fx.cfg.access_log = false;
}

static void teardown(void)
{
    acio_http_app_free(fx.app);
    acio_ssl_context_unref(fx.server_ssl);
    certs_cleanup();
    problems_teardown();
}

TestSuite(http_e2e, .init = setup, .fini = teardown, .timeout = 120);

static void run_body(body_fn body, bool other_loop)
{
    fx.body = body;
    fx.other_loop = other_loop;
    int before = count_fds();
    if (other_loop) {
        cr_assert_eq(pipe(fx.ready_fd), 0);
        cr_assert_eq(pthread_create(&fx.thread, NULL, server_thread, NULL), 0);
        int port = -1;
        cr_assert_eq(read(fx.ready_fd[0], &port, sizeof port), (ssize_t)sizeof port);
        close(fx.ready_fd[0]);
        close(fx.ready_fd[1]);
        cr_assert(port > 0, "the server did not start: %s", fx.srv_msg);
        fx.port = port;
    }
    char *msg = NULL;
    int rc = acio_run_ex(with_server, NULL, NULL, &msg);
    char text[512];
    snprintf(text, sizeof text, "%s", msg ? msg : "");
    free(msg);
    if (other_loop) {
        cr_assert_eq(acio_loop_call_soon_threadsafe(fx.srv_loop, stop_cb, NULL), 0);
        pthread_join(fx.thread, NULL);
        cr_expect_eq(fx.srv_rc, 0, "server loop: %s: %s", acio_err_name(fx.srv_rc), fx.srv_msg);
    }
    cr_assert_eq(rc, 0, "main failed: %s: %s", acio_err_name(rc), text);
    cr_assert_eq(count_fds(), before, "fds: %d before, %d after", before, count_fds());
}

/* ---- client helpers ---- */

static const char *url(const char *path)
{
    static char u[8][24 * 1024];
    static int k;
    char *p = u[k++ % 8];
    snprintf(p, sizeof u[0], "%s%s", fx.base, path);
    return p;
}

static acio_http_session_t *session(const acio_http_session_opts_t *o)
{
    acio_http_session_t *s = NULL;
    int rc = acio_http_session_new(&s, o);
    cr_assert_eq(rc, 0, "session_new: %s", acio_err_name(rc));
    return s;
}

/* A request whose whole body is read into out (NUL-terminated, truncated to cap);
 * returns the first error, *status the status. */
static int fetch(acio_http_session_t *s, const char *method, const char *path,
                 const acio_http_request_opts_t *o, int *status, char *out, size_t cap)
{
    acio_http_response_t *r = NULL;
    int rc = acio_http_request(s, method, url(path), o, &r);
    if (rc < 0)
        return rc;
    if (status)
        *status = acio_http_response_status(r);
    const void *b;
    size_t len;
    rc = acio_http_response_read(r, &b, &len);
    if (rc == 0 && out) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(out, b, n);
        out[n] = '\0';
    }
    acio_http_response_release(r);
    return rc;
}

/* ---- keep-alive ---- */

static void *t_keepalive(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    char first[64] = "", peer[64];
    int st;
    for (int i = 0; i < 20; i++) {
        int rc = fetch(s, "GET", "/peer", NULL, &st, peer, sizeof peer);
        CHECK(rc == 0 && st == 200, "request %d: %s %d", i, acio_err_name(rc), st);
        if (i == 0)
            snprintf(first, sizeof first, "%s", peer);
        CHECK(!strcmp(peer, first), "request %d came on %s, not %s", i, peer, first);
    }
    size_t idle;
    CHECK(acio_http_session_connections(s, &idle) == 1 && idle == 1, "client: one idle conn");
    CHECK(server_connections() == 1, "server: one connection, %zu", server_connections());
    acio_http_session_close(s);
    /* The server sees the close. */
    WAIT_UNTIL(server_connections() == 0);
    CHECK(server_connections() == 0, "server kept %zu", server_connections());
    return NULL;
}

Test(http_e2e, keepalive_reuse_counted_on_both_sides)
{
    run_body(t_keepalive, false);
}

Test(http_e2e, keepalive_reuse_across_loops)
{
    run_body(t_keepalive, true);
}

/* The server's idle expiry is shorter than the client's: announced (Keep-Alive:
 * timeout=1), the client drops the connection first; unannounced (0.3 s), the client
 * sees the close before reuse, or retries once if the close races its request. Every
 * request succeeds. */
static void *t_expiry(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL); /* the client's own expiry: 15 s */
    acio_http_response_t *r;
    int rc = acio_http_get(s, url("/peer"), &r);
    CHECK(rc == 0, "get: %s", acio_err_name(rc));
    const char *ka = acio_http_response_header(r, "Keep-Alive");
    CHECK(ka && !strcmp(ka, "timeout=1"), "Keep-Alive: %s", ka ? ka : "(none)");
    const void *b;
    size_t len;
    CHECK(acio_http_response_read(r, &b, &len) == 0, "read");
    acio_http_response_release(r);
    CHECK(acio_http_session_connections(s, NULL) == 1, "pooled");
    /* Past 90 % of the announced second the client has let it go; the server still
     * holds it (for up to 1 s). */
    CHECK(acio_sleep(0.95) == 0, "sleep");
    CHECK(acio_http_session_connections(s, NULL) == 0, "the client still holds the connection");
    char peer[64];
    int st;
    CHECK(fetch(s, "GET", "/peer", NULL, &st, peer, sizeof peer) == 0 && st == 200, "after");
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, keepalive_announced_expiry_is_honoured)
{
    fx.cfg.keepalive_timeout = 1;
    run_body(t_expiry, false);
}

static void *t_expiry_race(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    char prev[64] = "", peer[64];
    int st, fresh = 0;
    /* Requests spaced around the server's 0.3 s expiry, some just before, some at it,
     * some after: each one succeeds, on the kept connection or a fresh one. */
    const double gaps[] = {0.05, 0.4, 0.29, 0.3, 0.31, 0.32, 0.28, 0.3, 0.35, 0.1, 0.45, 0.3};
    for (size_t i = 0; i < sizeof gaps / sizeof *gaps; i++) {
        int rc = fetch(s, "GET", "/peer", NULL, &st, peer, sizeof peer);
        CHECK(rc == 0 && st == 200, "request %zu after %g s: %s", i, i ? gaps[i - 1] : 0.0,
              acio_err_name(rc));
        fresh += strcmp(peer, prev) != 0;
        snprintf(prev, sizeof prev, "%s", peer);
        CHECK(acio_sleep(gaps[i]) == 0, "sleep");
    }
    CHECK(fresh >= 3, "the server's expiry never closed a connection (%d fresh)", fresh);
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, reuse_after_unannounced_server_expiry_never_fails)
{
    fx.cfg.keepalive_timeout = 0.3;
    run_body(t_expiry_race, false);
}

/* ---- redirects ---- */

static void *t_redirects(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    acio_http_response_t *r;
    int rc = acio_http_get(s, url("/redirect/3"), &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 200, "chain: %s", acio_err_name(rc));
    CHECK(acio_http_response_history_count(r) == 3, "history %zu",
          acio_http_response_history_count(r));
    CHECK(acio_http_response_status(acio_http_response_history(r, 0)) == 302, "first was 302");
    CHECK(strstr(acio_http_response_url(r), "/redirect/0"), "url %s", acio_http_response_url(r));
    const void *b;
    size_t len;
    CHECK(acio_http_response_read(r, &b, &len) == 0 && len == 6 && !memcmp(b, "landed", 6), "body");
    acio_http_response_release(r);
    CHECK(server_connections() == 1, "redirects on one connection: %zu", server_connections());

    char out[256];
    int st;
    acio_http_request_opts_t o = {0};
    o.body = "hello";
    o.body_len = 5;
    o.auth_user = "u";
    o.auth_password = "p";
    /* 303: GET without the body; 307 and 308: the same method and body; 301/302 after
     * a POST: GET (browsers' and aiohttp's rule). Same host: Authorization kept. */
    rc = fetch(s, "POST", "/goto/303", &o, &st, out, sizeof out);
    CHECK(rc == 0 && st == 200 && !strcmp(out, "GET 0  auth"), "303: %s '%s'", acio_err_name(rc),
          out);
    rc = fetch(s, "POST", "/goto/307", &o, &st, out, sizeof out);
    CHECK(rc == 0 && !strcmp(out, "POST 5 hello auth"), "307: '%s'", out);
    rc = fetch(s, "PUT", "/goto/308", &o, &st, out, sizeof out);
    CHECK(rc == 0 && !strcmp(out, "PUT 5 hello auth"), "308: '%s'", out);
    rc = fetch(s, "POST", "/goto/302", &o, &st, out, sizeof out);
    CHECK(rc == 0 && !strcmp(out, "GET 0  auth"), "302: '%s'", out);
    /* A loop ends after max_redirects with its own code. */
    rc = fetch(s, "GET", "/loop/302", NULL, &st, out, sizeof out);
    CHECK(rc == ACIO_EHTTP_TOO_MANY_REDIRECTS, "loop: %s", acio_err_name(rc));
    acio_http_request_opts_t lim = {0};
    lim.max_redirects = 2;
    rc = fetch(s, "GET", "/redirect/3", &lim, &st, out, sizeof out);
    CHECK(rc == ACIO_EHTTP_TOO_MANY_REDIRECTS, "over max_redirects: %s", acio_err_name(rc));
    /* allow_redirects=False: the 302 itself. */
    acio_http_request_opts_t no = {0};
    no.no_redirects = true;
    rc = fetch(s, "GET", "/redirect/1", &no, &st, out, sizeof out);
    CHECK(rc == 0 && st == 302, "no redirects: %s %d", acio_err_name(rc), st);
    size_t idle;
    size_t open = acio_http_session_connections(s, &idle);
    CHECK(open == idle && open >= 1, "every connection idle after: %zu/%zu", idle, open);
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, redirects_chain_methods_loop)
{
    run_body(t_redirects, false);
}

/* ---- bodies ---- */

typedef struct {
    size_t total, sent, piece;
    double stall_after; /* > 0: stall this long once half is sent */
    bool stalled;
} upload_t;

static ssize_t upload_cb(void *data, void *buf, size_t cap)
{
    upload_t *u = data;
    if (u->sent >= u->total)
        return 0;
    if (u->stall_after > 0 && !u->stalled && u->sent >= u->total / 2) {
        u->stalled = true;
        int rc = acio_sleep(u->stall_after);
        if (rc < 0)
            return rc;
    }
    size_t n = u->total - u->sent;
    if (n > cap)
        n = cap;
    if (n > u->piece)
        n = u->piece;
    char *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = pat(u->sent + i);
    u->sent += n;
    return (ssize_t)n;
}

static void *t_bodies(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    char out[128];
    int st;
    /* Upload, chunked (no length given), 3 MB in odd pieces: the server streams it. */
    upload_t u = {.total = 3000000, .piece = 7777};
    acio_http_request_opts_t o = {0};
    o.body_cb = upload_cb;
    o.body_cb_data = &u;
    int rc = fetch(s, "POST", "/upload", &o, &st, out, sizeof out);
    CHECK(rc == 0 && st == 200 && !strcmp(out, "3000000 ok chunked"), "chunked upload: %s %d '%s'",
          acio_err_name(rc), st, out);
    /* The same with a length: not chunked. */
    u = (upload_t){.total = 1000000, .piece = 65536};
    o.body_len = 1000000;
    rc = fetch(s, "POST", "/upload", &o, &st, out, sizeof out);
    CHECK(rc == 0 && !strcmp(out, "1000000 ok length"), "sized upload: '%s'", out);
    /* A large body from bytes. */
    size_t bn = (size_t)9 << 20;
    char *big = malloc(bn);
    for (size_t i = 0; i < bn; i++)
        big[i] = pat(i);
    acio_http_request_opts_t bo = {0};
    bo.body = big;
    bo.body_len = bn;
    rc = fetch(s, "POST", "/upload", &bo, &st, out, sizeof out);
    free(big);
    CHECK(rc == 0 && !strcmp(out, "9437184 ok length"), "9 MiB upload: '%s'", out);

    /* Download, chunked, read in pieces with read_chunk and checked. */
    acio_http_response_t *r;
    rc = acio_http_get(s, url("/gen?n=2500000&c=10000"), &r);
    CHECK(rc == 0, "gen: %s", acio_err_name(rc));
    CHECK(acio_http_response_content_length(r) == -1 &&
              !strcmp(acio_http_response_header(r, "Transfer-Encoding"), "chunked"),
          "chunked response");
    char buf[4099];
    size_t got = 0;
    ssize_t n;
    while ((n = acio_http_response_read_chunk(r, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            CHECK(buf[i] == pat(got + (size_t)i), "byte %zu", got + (size_t)i);
        got += (size_t)n;
    }
    CHECK(n == 0 && got == 2500000, "read %zu: %s", got, acio_err_name((int)n));
    acio_http_response_release(r);
    /* readany, zero-copy. */
    rc = acio_http_get(s, url("/gen?n=300000&c=777"), &r);
    CHECK(rc == 0, "gen2");
    const void *p;
    got = 0;
    while ((n = acio_http_response_readany(r, &p)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            CHECK(((const char *)p)[i] == pat(got + (size_t)i), "readany byte");
        got += (size_t)n;
    }
    CHECK(n == 0 && got == 300000, "readany %zu", got);
    acio_http_response_release(r);
    /* A large Content-Length body read whole. */
    rc = acio_http_get(s, url("/big/12000000"), &r);
    CHECK(rc == 0 && acio_http_response_content_length(r) == 12000000, "big");
    size_t len;
    CHECK(acio_http_response_read(r, &p, &len) == 0 && len == 12000000, "big read");
    for (size_t i = 0; i < len; i += 4093)
        CHECK(((const char *)p)[i] == pat(i), "big byte %zu", i);
    acio_http_response_release(r);
    CHECK(server_connections() == 1, "all on one connection: %zu", server_connections());
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, chunked_both_ways_and_large_bodies)
{
    run_body(t_bodies, false);
}

Test(http_e2e, chunked_both_ways_and_large_bodies_across_loops)
{
    run_body(t_bodies, true);
}

/* Expect: 100-continue: the server says 100 when the handler reads; the client skips
 * the interim answer. */
static void *t_continue(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    acio_http_field_t h[] = {{"Expect", "100-continue"}};
    acio_http_request_opts_t o = {0};
    o.headers = h;
    o.nheaders = 1;
    o.body = "ping!";
    o.body_len = 5;
    char out[128];
    int st;
    int rc = fetch(s, "POST", "/method", &o, &st, out, sizeof out);
    CHECK(rc == 0 && st == 200 && !strcmp(out, "POST 5 ping! noauth"), "100-continue: %s %d '%s'",
          acio_err_name(rc), st, out);
    /* Kept alive: the server read the body. */
    rc = fetch(s, "POST", "/method", &o, &st, out, sizeof out);
    CHECK(rc == 0 && st == 200, "again");
    CHECK(server_connections() == 1, "one connection: %zu", server_connections());
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, expect_100_continue)
{
    run_body(t_continue, false);
}

/* ---- content coding ---- */

static void *t_gzip(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    acio_http_response_t *r;
    int rc = acio_http_get(s, url("/gzip"), &r);
    CHECK(rc == 0, "gzip: %s", acio_err_name(rc));
    const void *b;
    size_t len;
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == 0 && len == strlen(TEXT) * TEXT_REPEAT, "decoded %zu: %s", len, acio_err_name(rc));
    CHECK(!memcmp(b, TEXT, strlen(TEXT)) &&
              !memcmp((const char *)b + len - strlen(TEXT), TEXT, strlen(TEXT)),
          "decoded text");
    acio_http_response_release(r);
    /* The bomb: 64 MiB of zeros in ~64 KiB; the cap stops it. */
    acio_http_session_opts_t so = {0};
    so.max_decoded_size = 1 << 20;
    acio_http_session_t *capped = session(&so);
    rc = acio_http_get(capped, url("/bomb"), &r);
    CHECK(rc == 0, "bomb head: %s", acio_err_name(rc));
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_BOMB, "bomb: %s", acio_err_name(rc));
    acio_http_response_release(r);
    CHECK(acio_http_session_connections(capped, NULL) == 0, "the bomb's connection was closed");
    /* The ratio cap, with no size cap low enough. */
    acio_http_session_opts_t ro = {0};
    ro.max_decode_ratio = 10;
    acio_http_session_t *ratio = session(&ro);
    rc = acio_http_get(ratio, url("/bomb"), &r);
    CHECK(rc == 0, "bomb head");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_BOMB, "ratio bomb: %s", acio_err_name(rc));
    acio_http_response_release(r);
    /* auto_decompress=False: the gzip bytes themselves. */
    acio_http_session_opts_t no = {0};
    no.no_decompress = true;
    acio_http_session_t *raw = session(&no);
    rc = acio_http_get(raw, url("/gzip"), &r);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0 && len == gz_text_len &&
              !memcmp(b, gz_text, len),
          "undecoded");
    acio_http_response_release(r);
    acio_http_session_close(raw);
    acio_http_session_close(ratio);
    acio_http_session_close(capped);
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, gzip_and_decompression_bomb)
{
    make_gzip_bodies();
    run_body(t_gzip, false);
    free(gz_text);
    free(gz_bomb);
}

/* ---- HEAD, 404, 405 ---- */

static void *t_head_404_405(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    acio_http_response_t *r;
    int rc = acio_http_request(s, "HEAD", url("/big/5000"), NULL, &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 200, "HEAD: %s", acio_err_name(rc));
    CHECK(acio_http_response_content_length(r) == 5000, "HEAD length");
    const void *b;
    size_t len;
    CHECK(acio_http_response_read(r, &b, &len) == 0 && len == 0, "HEAD has no body: %zu", len);
    acio_http_response_release(r);
    rc = acio_http_get(s, url("/nowhere"), &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 404, "404");
    CHECK(acio_http_response_raise_for_status(r) == ACIO_EHTTP_STATUS, "raise_for_status");
    CHECK(acio_http_response_read(r, &b, &len) == 0 && !strcmp(b, "{\"detail\":\"Not Found\"}"),
          "404 body");
    acio_http_response_release(r);
    rc = acio_http_request(s, "DELETE", url("/items/3"), NULL, &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 405, "405");
    const char *allow = acio_http_response_header(r, "Allow");
    CHECK(allow && !strcmp(allow, "GET, HEAD"), "Allow: %s", allow ? allow : "(none)");
    acio_http_response_release(r);
    /* raise_for_status as a request option fails the request itself. */
    acio_http_request_opts_t o = {0};
    o.raise_for_status = true;
    rc = acio_http_request(s, "GET", url("/nowhere"), &o, &r);
    CHECK(rc == ACIO_EHTTP_STATUS, "raise_for_status option: %s", acio_err_name(rc));
    char out[32];
    int st;
    CHECK(fetch(s, "GET", "/items/7", NULL, &st, out, sizeof out) == 0 && !strcmp(out, "7"),
          "still usable");
    CHECK(server_connections() == 1, "all of it on one connection: %zu", server_connections());
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, head_404_405)
{
    run_body(t_head_404_405, false);
}

/* ---- the server's refusals as the client sees them ---- */

static void *t_refusals(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    char out[128];
    int st = 0;
    /* 413: over the route's cap by Content-Length, a body that fits the socket. */
    acio_http_request_opts_t o = {0};
    char body[5000];
    memset(body, 'x', sizeof body);
    o.body = body;
    o.body_len = sizeof body;
    int rc = fetch(s, "POST", "/small", &o, &st, out, sizeof out);
    CHECK(rc == 0 && st == 413, "413: %s %d", acio_err_name(rc), st);
    /* 413 for a body far larger than the socket buffers: the server answers at once and
     * closes lingering (reading what still comes), so the answer is not destroyed by a
     * reset; the client stops sending and reads it. */
    size_t hn = (size_t)8 << 20;
    char *huge_body = calloc(1, hn);
    o.body = huge_body;
    o.body_len = hn;
    rc = fetch(s, "POST", "/small", &o, &st, out, sizeof out);
    free(huge_body);
    CHECK(rc == 0 && st == 413, "413 of 8 MiB: %s %d", acio_err_name(rc), st);
    upload_t hu = {.total = (size_t)8 << 20, .piece = 65536};
    acio_http_request_opts_t huo = {0};
    huo.body_cb = upload_cb;
    huo.body_cb_data = &hu;
    rc = fetch(s, "POST", "/small", &huo, &st, out, sizeof out);
    CHECK(rc == 0 && st == 413, "413 of 8 MiB chunked: %s %d", acio_err_name(rc), st);
    /* 413 for a chunked body over the cap. */
    upload_t u = {.total = 4000, .piece = 50};
    acio_http_request_opts_t co = {0};
    co.body_cb = upload_cb;
    co.body_cb_data = &u;
    rc = fetch(s, "POST", "/small", &co, &st, out, sizeof out);
    CHECK(rc == 0 && st == 413, "chunked 413: %s %d", acio_err_name(rc), st);
    /* 431: a head over the server's limit. */
    static char huge[20000];
    memset(huge, 'h', sizeof huge - 1);
    acio_http_field_t h[] = {{"X-Huge", huge}};
    acio_http_request_opts_t ho = {0};
    ho.headers = h;
    ho.nheaders = 1;
    rc = fetch(s, "GET", "/peer", &ho, &st, out, sizeof out);
    CHECK(rc == 0 && st == 431, "431: %s %d", acio_err_name(rc), st);
    /* 414: a target over the request-line limit. */
    static char path[20000];
    memcpy(path, "/items/", 7);
    memset(path + 7, 'p', sizeof path - 8);
    rc = fetch(s, "GET", path, NULL, &st, out, sizeof out);
    CHECK(rc == 0 && st == 414, "414: %s %d", acio_err_name(rc), st);
    /* 408: a body that stalls longer than the server's body_timeout. */
    u = (upload_t){.total = 4000, .piece = 1000, .stall_after = 0.6};
    rc = fetch(s, "POST", "/upload", &co, &st, out, sizeof out);
    CHECK(rc == 0 && st == 408, "408: %s %d", acio_err_name(rc), st);
    /* Each refusal closed its connection; the client pooled none of them. */
    CHECK(acio_http_session_connections(s, NULL) == 0, "refused connections pooled: %zu",
          acio_http_session_connections(s, NULL));
    CHECK(fetch(s, "GET", "/items/1", NULL, &st, out, sizeof out) == 0 && st == 200, "after");
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, server_413_431_414_408_seen_by_the_client)
{
    fx.cfg.body_timeout = 0.2;
    run_body(t_refusals, false);
}

/* ---- HTTPS ---- */

static void *t_https(void *arg)
{
    (void)arg;
    /* Verification on by default: our CA is not trusted yet. */
    acio_http_session_t *s = session(NULL);
    acio_http_response_t *r;
    int rc = acio_http_get(s, url("/peer"), &r);
    CHECK(rc == ACIO_ECERTVERIFY, "untrusted: %s", acio_err_name(rc));
    acio_http_session_close(s);
    acio_http_session_opts_t so = {0};
    so.ca_file = certs.ca;
    s = session(&so);
    char first[64] = "", peer[64], out[128];
    int st;
    for (int i = 0; i < 5; i++) {
        rc = fetch(s, "GET", "/peer", NULL, &st, peer, sizeof peer);
        CHECK(rc == 0 && st == 200, "https %d: %s", i, acio_err_name(rc));
        if (!i)
            snprintf(first, sizeof first, "%s", peer);
        CHECK(!strcmp(first, peer), "TLS connection reused");
    }
    upload_t u = {.total = 700000, .piece = 9999};
    acio_http_request_opts_t o = {0};
    o.body_cb = upload_cb;
    o.body_cb_data = &u;
    rc = fetch(s, "POST", "/upload", &o, &st, out, sizeof out);
    CHECK(rc == 0 && !strcmp(out, "700000 ok chunked"), "https upload: %s %d '%s'",
          acio_err_name(rc), st, out);
    rc = acio_http_get(s, url("/gen?n=900000&c=5000"), &r);
    const void *b;
    size_t len;
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0 && len == 900000, "https gen");
    for (size_t i = 0; i < len; i += 997)
        CHECK(((const char *)b)[i] == pat(i), "https byte %zu", i);
    acio_http_response_release(r);
    CHECK(server_connections() == 1, "one TLS connection: %zu", server_connections());
    acio_http_session_close(s);
    /* ssl=False also works against it. */
    acio_http_session_opts_t off = {0};
    off.ssl_verify_off = true;
    s = session(&off);
    CHECK(fetch(s, "GET", "/items/2", NULL, &st, out, sizeof out) == 0 && !strcmp(out, "2"),
          "verify off");
    acio_http_session_close(s);
    return NULL;
}

static void https_setup(void)
{
    if (!have_tls())
        cr_skip_test("built without TLS");
    certs_make("e2e");
    cr_assert_eq(acio_ssl_context_new(&fx.server_ssl, ACIO_SSL_SERVER), 0);
    cr_assert_eq(acio_ssl_context_load_cert_chain(fx.server_ssl, certs.cert, certs.key), 0);
    fx.cfg.ssl = fx.server_ssl;
}

Test(http_e2e, https_both_sides)
{
    https_setup();
    run_body(t_https, false);
}

Test(http_e2e, https_both_sides_across_loops)
{
    https_setup();
    run_body(t_https, true);
}

/* ---- many concurrent requests, a random subset cancelled ---- */

typedef struct {
    acio_http_session_t *s;
    int i, rc;
} many_t;

static void *many_one(void *arg)
{
    many_t *m = arg;
    static const char *paths[] = {"/peer", "/sleep?s=0.05", "/gen?n=200000&c=3000", "/big/100000",
                                  "/sleep?s=0.2"};
    acio_http_response_t *r = NULL;
    m->rc = acio_http_get(m->s, url(paths[m->i % 5]), &r);
    if (m->rc == 0) {
        const void *b;
        size_t len;
        if (m->i % 7 == 3) { /* read a piece, then let go half-read */
            char piece[100];
            ssize_t n = acio_http_response_read_chunk(r, piece, sizeof piece);
            m->rc = n < 0 ? (int)n : 0;
        } else {
            m->rc = acio_http_response_read(r, &b, &len);
        }
    }
    acio_http_response_release(r);
    return NULL;
}

static void *t_many(void *arg)
{
    (void)arg;
    acio_http_session_opts_t so = {0};
    so.limit = 12;
    acio_http_session_t *s = session(&so);
    enum { N = 300 };
    static many_t m[N];
    acio_task_t *t[N];
    srand(8);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            m[i] = (many_t){s, i, 1};
            CHECK(acio_create_task(&t[i], many_one, &m[i], NULL) == 0, "task");
        }
        int cancelled = 0;
        for (int k = 0; k < 8; k++) {
            CHECK(acio_sleep(0.005 + (rand() % 30) / 1000.0) == 0, "sleep");
            CHECK(acio_http_session_connections(s, NULL) <= 12, "limit holds: %zu",
                  acio_http_session_connections(s, NULL));
            for (int j = 0; j < 12; j++)
                cancelled += acio_task_cancel(t[rand() % N], NULL);
        }
        int ok = 0, was_cancelled = 0;
        for (int i = 0; i < N; i++) {
            int rc = acio_await(t[i], NULL);
            CHECK(rc == 0 || rc == -ECANCELED, "task %d: %s", i, acio_err_name(rc));
            CHECK(rc == -ECANCELED || m[i].rc == 0, "request %d: %s", i, acio_err_name(m[i].rc));
            acio_future_unref(t[i]);
            ok += rc == 0;
            was_cancelled += rc == -ECANCELED;
        }
        CHECK(ok > 0 && was_cancelled > 0, "round %d: %d ok, %d cancelled", round, ok,
              was_cancelled);
        size_t idle;
        size_t open = acio_http_session_connections(s, &idle);
        CHECK(open == idle && open <= 12, "client: %zu open, %zu idle", open, idle);
        /* The server holds exactly the client's idle connections once the closes of the
         * cancelled and half-read ones have reached it. */
        WAIT_UNTIL(server_connections() == open);
        CHECK(server_connections() == open, "server %zu, client %zu", server_connections(), open);
        char out[64];
        int st;
        CHECK(fetch(s, "GET", "/items/5", NULL, &st, out, sizeof out) == 0 && st == 200,
              "the pool still serves");
    }
    acio_http_session_close(s);
    WAIT_UNTIL(server_connections() == 0);
    CHECK(server_connections() == 0, "server kept %zu", server_connections());
    return NULL;
}

Test(http_e2e, many_concurrent_random_cancel_no_leak)
{
    run_body(t_many, false);
}

Test(http_e2e, many_concurrent_random_cancel_no_leak_across_loops)
{
    run_body(t_many, true);
}

/* ---- graceful shutdown with requests in flight ---- */

typedef struct {
    acio_http_session_t *s;
    int rc, status;
    char body[32];
    char connection[32];
} inflight_t;

static void *inflight_one(void *arg)
{
    inflight_t *a = arg;
    acio_http_response_t *r = NULL;
    a->rc = acio_http_get(a->s, url("/sleep?s=0.3"), &r);
    if (a->rc == 0) {
        a->status = acio_http_response_status(r);
        const char *c = acio_http_response_header(r, "Connection");
        snprintf(a->connection, sizeof a->connection, "%s", c ? c : "");
        const void *b;
        size_t len;
        a->rc = acio_http_response_read(r, &b, &len);
        if (a->rc == 0)
            snprintf(a->body, sizeof a->body, "%.*s", (int)len, (const char *)b);
    }
    acio_http_response_release(r);
    return NULL;
}

static void *t_shutdown(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    /* One idle keep-alive connection, and five requests in flight. */
    char out[32];
    int st;
    CHECK(fetch(s, "GET", "/items/1", NULL, &st, out, sizeof out) == 0, "idle one");
    enum { K = 5 };
    inflight_t a[K];
    acio_task_t *t[K];
    for (int i = 0; i < K; i++) {
        a[i] = (inflight_t){.s = s, .rc = 1};
        CHECK(acio_create_task(&t[i], inflight_one, &a[i], NULL) == 0, "task");
    }
    WAIT_UNTIL(server_connections() == K);
    CHECK(acio_sleep(0.05) == 0, "sleep"); /* the handlers are asleep */
    int rc = acio_http_server_shutdown(fx.srv, 5);
    CHECK(rc == 0, "shutdown: %s", acio_strerror(rc));
    for (int i = 0; i < K; i++) {
        CHECK(acio_await(t[i], NULL) == 0, "task");
        acio_future_unref(t[i]);
        CHECK(a[i].rc == 0 && a[i].status == 200 && !strcmp(a[i].body, "slept"),
              "in flight %d: %s %d '%s'", i, acio_err_name(a[i].rc), a[i].status, a[i].body);
        CHECK(!strcmp(a[i].connection, "close"), "in flight %d: Connection '%s'", i,
              a[i].connection);
    }
    CHECK(acio_http_server_connections(fx.srv) == 0, "server connections left");
    CHECK(acio_http_session_connections(s, NULL) == 0, "client pooled a closed connection");
    /* Nothing listens now. */
    rc = fetch(s, "GET", "/items/1", NULL, &st, out, sizeof out);
    CHECK(rc == -ECONNREFUSED, "after shutdown: %s", acio_err_name(rc));
    acio_http_session_close(s);
    acio_http_server_free(fx.srv);
    fx.srv = NULL;
    return NULL;
}

Test(http_e2e, graceful_shutdown_with_requests_in_flight)
{
    run_body(t_shutdown, false);
}

/* ---- the pool: waiters served in FIFO order ---- */

typedef struct {
    acio_http_session_t *s;
    int id;
    int *order, *n;
    int rc;
} waiter_t;

static void *waiter_one(void *arg)
{
    waiter_t *w = arg;
    char path[32], out[32];
    snprintf(path, sizeof path, "/items/%d", w->id);
    int st;
    w->rc = fetch(w->s, "GET", path, NULL, &st, out, sizeof out);
    if (w->rc == 0)
        w->order[(*w->n)++] = atoi(out);
    return NULL;
}

static void *t_fifo(void *arg)
{
    (void)arg;
    acio_http_session_opts_t so = {0};
    so.limit = 1;
    acio_http_session_t *s = session(&so);
    /* The only connection is held by a response whose body is not read yet. */
    acio_http_response_t *held;
    int rc = acio_http_get(s, url("/gen?n=100000&c=1000"), &held);
    CHECK(rc == 0, "held: %s", acio_err_name(rc));
    enum { W = 8 };
    waiter_t w[W];
    acio_task_t *t[W];
    int order[W], n = 0;
    for (int i = 0; i < W; i++) {
        w[i] = (waiter_t){s, i, order, &n, 1};
        CHECK(acio_create_task(&t[i], waiter_one, &w[i], NULL) == 0, "task");
        CHECK(acio_sleep(0.005) == 0, "sleep"); /* each one queues before the next */
    }
    CHECK(n == 0, "a waiter got through while the slot was held");
    const void *b;
    size_t len;
    CHECK(acio_http_response_read(held, &b, &len) == 0 && len == 100000, "held body");
    acio_http_response_release(held);
    for (int i = 0; i < W; i++) {
        CHECK(acio_await(t[i], NULL) == 0 && w[i].rc == 0, "waiter %d: %s", i,
              acio_err_name(w[i].rc));
        acio_future_unref(t[i]);
    }
    for (int i = 0; i < W; i++)
        CHECK(order[i] == i, "waiter %d served in place %d", order[i], i);
    CHECK(server_connections() == 1, "one connection for all: %zu", server_connections());
    acio_http_session_close(s);
    return NULL;
}

Test(http_e2e, pool_waiters_served_in_fifo_order)
{
    run_body(t_fifo, false);
}

/* ---- happy eyeballs: a name with a silent address first ---- */

static int silent_port;

/* "two.test": 127.0.0.1 at a port whose accept queue is full (the SYN is dropped, the
 * connect hangs), then 127.0.0.1 at the server's port. */
static int two_addresses(void *data, const char *host, int port, struct addrinfo **res)
{
    (void)data;
    (void)port;
    if (strcmp(host, "two.test") != 0)
        return -ENXIO;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    char p1[16], p2[16];
    snprintf(p1, sizeof p1, "%d", silent_port);
    snprintf(p2, sizeof p2, "%d", fx.port);
    struct addrinfo *a = NULL, *b = NULL;
    int rc = acio_loop_getaddrinfo(NULL, "127.0.0.1", p1, &hints, &a, 0);
    if (rc == 0)
        rc = acio_loop_getaddrinfo(NULL, "127.0.0.1", p2, &hints, &b, 0);
    if (rc < 0) {
        if (a)
            freeaddrinfo(a);
        return rc;
    }
    a->ai_next = b; /* glibc's freeaddrinfo frees node by node */
    *res = a;
    return 0;
}

static void *t_eyeballs(void *arg)
{
    (void)arg;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 0) == 0, "listen");
    CHECK(getsockname(lfd, (struct sockaddr *)&a, &al) == 0, "getsockname");
    silent_port = ntohs(a.sin_port);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (connect(fill[i], (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
            return acio_raise(-errno, "fill");
    }
    CHECK(acio_sleep(0.05) == 0, "sleep");
    acio_http_session_opts_t so = {0};
    so.resolver = two_addresses;
    so.timeout.sock_connect = 10;
    acio_http_session_t *s = session(&so);
    char u[64], out[32];
    snprintf(u, sizeof u, "http://two.test:%d/items/42", fx.port);
    acio_http_response_t *r;
    int rc = acio_http_get(s, u, &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 200, "two.test: %s", acio_err_name(rc));
    const void *b;
    size_t len;
    CHECK(acio_http_response_read(r, &b, &len) == 0 && len == 2 && !memcmp(b, "42", 2), "body");
    acio_http_response_release(r);
    (void)out;
    acio_http_session_close(s);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    return NULL;
}

Test(http_e2e, happy_eyeballs_past_a_silent_address)
{
    run_body(t_eyeballs, false);
}
