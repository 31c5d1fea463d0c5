/* The HTTP server against real clients and real conditions: curl (keep-alive across
 * URLs, a large upload with Expect: 100-continue, HTTPS with acio's TLS), Python's
 * aiohttp client (Debian's /usr/bin/python3), a short wrk run, a slowloris crowd of
 * trickling clients while normal clients keep being served, graceful shutdown of a
 * server process with a request in flight (SIGTERM: the request finishes, exit 0), and
 * workers=2 on one port (raw clients, and acio's own client keeping connections alive
 * to both workers). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acio.h"
#include "support/certs.h"
#include "support/check.h"
#include "support/http_raw.h"
#include "support/problems.h"

static int h_root(acio_http_request_t *req, void *arg)
{
    (void)arg;
    json_t *v = json_pack("{s:s}", "message", "Hello World");
    int rc = acio_http_respond_json(req, 200, v);
    json_decref(v);
    return rc;
}

static int h_item(acio_http_request_t *req, void *arg)
{
    (void)arg;
    json_t *v = json_pack("{s:s,s:s*}", "item_id", acio_http_request_path_param(req, "id"), "q",
                          acio_http_request_query(req, "q"));
    int rc = acio_http_respond_json(req, 200, v);
    json_decref(v);
    return rc;
}

static int h_len(acio_http_request_t *req, void *arg)
{
    (void)arg;
    const char *data;
    size_t len;
    int rc = acio_http_request_body(req, &data, &len);
    if (rc < 0)
        return rc;
    size_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += (unsigned char)data[i];
    char out[64];
    snprintf(out, sizeof out, "%zu %zu", len, sum);
    return acio_http_respond_text(req, 200, out);
}

static int h_slow(acio_http_request_t *req, void *arg)
{
    (void)arg;
    int rc = acio_sleep(0.5);
    if (rc < 0)
        return rc;
    return acio_http_respond_text(req, 200, "slow done");
}

static int h_stream(acio_http_request_t *req, void *arg)
{
    (void)arg;
    int rc = acio_http_respond_start(req, 200, "text/plain");
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = acio_http_write(req, "chunk ", 6);
    return rc;
}

/* Which worker answered (its thread id), after a short sleep so that requests overlap. */
static int h_worker(acio_http_request_t *req, void *arg)
{
    (void)arg;
    int rc = acio_sleep(0.1);
    if (rc < 0)
        return rc;
    char out[32];
    snprintf(out, sizeof out, "%ld", (long)gettid());
    return acio_http_respond_text(req, 200, out);
}

static acio_http_app_t *make_app(void)
{
    acio_http_app_t *app;
    cr_assert_eq(acio_http_app_new(&app), 0);
    acio_http_app_route(app, "GET", "/", h_root, NULL);
    acio_http_app_route(app, "GET", "/items/{id}", h_item, NULL);
    acio_http_app_route(app, "POST", "/len", h_len, NULL);
    acio_http_app_route(app, "GET", "/slow", h_slow, NULL);
    acio_http_app_route(app, "GET", "/stream", h_stream, NULL);
    acio_http_app_route(app, "GET", "/worker", h_worker, NULL);
    return app;
}

/* Run argv, capture stdout; returns exit status (or -1). */
static int run_capture(const char *const *argv, char **out)
{
    acio_process_t *p;
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE};
    int rc = acio_create_subprocess_exec(&p, argv, &o);
    if (rc < 0)
        return -1;
    void *data = NULL;
    size_t len = 0;
    rc = acio_process_communicate(p, NULL, 0, &data, &len, NULL, NULL);
    int status = -1;
    acio_process_returncode(p, &status);
    acio_process_free(p);
    *out = data ? data : strdup("");
    return rc < 0 ? -1 : status;
}

typedef struct {
    acio_http_app_t *app;
    acio_http_config_t cfg;
    void *(*body)(void *arg);
    int port;
} fx_t;

static fx_t fx;

static void *with_server(void *arg)
{
    fx_t *f = arg;
    watch_problems();
    acio_http_server_t *srv;
    int rc = acio_http_server_start(NULL, f->app, &f->cfg, &srv);
    CHECK(rc == 0, "server_start: %s", acio_strerror(rc));
    f->port = acio_http_server_port(srv);
    void *res = f->body(f);
    int src = acio_http_server_shutdown(srv, 2);
    size_t left = acio_http_server_connections(srv);
    acio_http_server_free(srv);
    CHECK(src == 0, "shutdown: %s", acio_strerror(src));
    CHECK(left == 0, "connections left: %zu", left);
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
    problems_teardown();
}

TestSuite(http_clients, .init = setup, .fini = teardown, .timeout = 90);

/* ---- curl ---- */

static void *curl_body(void *arg)
{
    fx_t *f = arg;
    char u1[128], u2[128], u3[128];
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d/", f->port);
    snprintf(u2, sizeof u2, "http://127.0.0.1:%d/items/7?q=x%%20y", f->port);
    snprintf(u3, sizeof u3, "http://127.0.0.1:%d/nope", f->port);
    /* Three URLs on one connection: keep-alive reuse shows as one connect. */
    const char *argv[] = {"curl", "-s", "--http1.1", "-w", " [%{http_code} %{num_connects}]\n",
                          u1,     u2,   u3,          NULL};
    char *out;
    int st = run_capture(argv, &out);
    CHECK(st == 0, "curl exit %d", st);
    const char *want = "{\"message\":\"Hello World\"} [200 1]\n"
                       "{\"item_id\":\"7\",\"q\":\"x y\"} [200 0]\n"
                       "{\"detail\":\"Not Found\"} [404 0]\n";
    int same = strcmp(out, want) == 0;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", out);
    free(out);
    CHECK(same, "curl output:\n%s", copy);

    /* 300 KB upload: curl sends Expect: 100-continue and waits for it. */
    char path[] = "/tmp/acio-http-up-XXXXXX";
    int fd = mkstemp(path);
    size_t n = 300000, sum = 0;
    char *blob = malloc(n);
    for (size_t i = 0; i < n; i++) {
        blob[i] = (char)(i * 7);
        sum += (unsigned char)blob[i];
    }
    CHECK(write(fd, blob, n) == (ssize_t)n, "write");
    close(fd);
    free(blob);
    char data[64], u4[128], expect[64];
    snprintf(data, sizeof data, "@%s", path);
    snprintf(u4, sizeof u4, "http://127.0.0.1:%d/len", f->port);
    const char *argv2[] = {
        "curl", "-s", "--http1.1", "--data-binary", data, "-H", "Expect: 100-continue", u4, NULL};
    st = run_capture(argv2, &out);
    unlink(path);
    snprintf(expect, sizeof expect, "%zu %zu", n, sum);
    same = st == 0 && strcmp(out, expect) == 0;
    snprintf(copy, sizeof copy, "%s", out);
    free(out);
    CHECK(same, "upload: exit %d, got '%s', want '%s'", st, copy, expect);
    return NULL;
}

Test(http_clients, curl)
{
    fx.body = curl_body;
    run_ok(with_server, &fx);
}

/* ---- aiohttp ---- */

static const char aiohttp_script[] =
    "import asyncio, sys, aiohttp\n"
    "async def main(port):\n"
    "    base = f'http://127.0.0.1:{port}'\n"
    "    conn = aiohttp.TCPConnector(limit=4)\n"
    "    async with aiohttp.ClientSession(connector=conn) as s:\n"
    "        async def get(i):\n"
    "            async with s.get(f'{base}/items/{i}', params={'q': 'a&b'}) as r:\n"
    "                return r.status, await r.json()\n"
    "        res = await asyncio.gather(*(get(i) for i in range(40)))\n"
    "        ok = all(st == 200 and j == {'item_id': str(i), 'q': 'a&b'}\n"
    "                 for i, (st, j) in enumerate(res))\n"
    "        print('gets', ok)\n"
    "        async with s.post(f'{base}/len', data=b'x' * 100000) as r:\n"
    "            print('post', r.status, await r.text())\n"
    "        async with s.get(f'{base}/stream') as r:\n"
    "            print('stream', r.status, r.headers.get('Transfer-Encoding'), await r.text())\n"
    "        async with s.head(f'{base}/') as r:\n"
    "            print('head', r.status, r.headers['Content-Length'], await r.read())\n"
    "asyncio.run(main(int(sys.argv[1])))\n";

static void *aiohttp_body(void *arg)
{
    fx_t *f = arg;
    char port[16];
    snprintf(port, sizeof port, "%d", f->port);
    const char *argv[] = {"/usr/bin/python3", "-c", aiohttp_script, port, NULL};
    char *out;
    int st = run_capture(argv, &out);
    const char *want = "gets True\n"
                       "post 200 100000 12000000\n"
                       "stream 200 chunked chunk chunk chunk \n"
                       "head 200 25 b''\n";
    int same = st == 0 && strcmp(out, want) == 0;
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", out);
    free(out);
    CHECK(same, "aiohttp: exit %d, output:\n%s", st, copy);
    return NULL;
}

Test(http_clients, aiohttp_client)
{
    fx.body = aiohttp_body;
    run_ok(with_server, &fx);
}

/* ---- wrk ---- */

static void *wrk_body(void *arg)
{
    fx_t *f = arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", f->port);
    const char *argv[] = {"wrk", "-t1", "-c20", "-d1s", url, NULL};
    char *out;
    int st = run_capture(argv, &out);
    bool errors = strstr(out, "Socket errors") || strstr(out, "Non-2xx");
    long reqs = 0;
    const char *p = strstr(out, " requests in ");
    if (p) {
        while (p > out && p[-1] >= '0' && p[-1] <= '9')
            p--;
        reqs = atol(p);
    }
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", out);
    free(out);
    CHECK(st == 0 && !errors && reqs > 0, "wrk: exit %d\n%s", st, copy);
    return NULL;
}

Test(http_clients, wrk_smoke)
{
    fx.body = wrk_body;
    run_ok(with_server, &fx);
}

/* ---- TLS ---- */

static void *tls_body(void *arg)
{
    fx_t *f = arg;
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%d/items/3", f->port);
    char resolve[64];
    snprintf(resolve, sizeof resolve, "localhost:%d:127.0.0.1", f->port);
    const char *argv[] = {"curl",      "-s",    "--http1.1", "--cacert", certs.ca,
                          "--resolve", resolve, url,         url,        NULL};
    char *out;
    int st = run_capture(argv, &out);
    int same = st == 0 && strcmp(out, "{\"item_id\":\"3\"}{\"item_id\":\"3\"}") == 0;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", out);
    free(out);
    CHECK(same, "https: exit %d, '%s'", st, copy);
    return NULL;
}

Test(http_clients, https_with_acio_tls)
{
    certs_make("https");
    acio_ssl_context_t *ctx;
    cr_assert_eq(acio_ssl_context_new(&ctx, ACIO_SSL_SERVER), 0);
    cr_assert_eq(acio_ssl_context_load_cert_chain(ctx, certs.cert, certs.key), 0);
    fx.cfg.ssl = ctx;
    fx.body = tls_body;
    run_ok(with_server, &fx);
    acio_ssl_context_unref(ctx);
    certs_cleanup();
}

/* ---- slowloris ---- */

enum { LORIS = 300 };

typedef struct {
    int port;
    int dropped; /* trickling connections the server ended */
    int got408;
} loris_t;

/* Open LORIS connections and trickle one header byte per connection every 50 ms,
 * never finishing the head, until the server has ended every one (or 10 s). */
static void *loris_job(void *arg, acio_job_t *job)
{
    (void)job;
    loris_t *l = arg;
    static int s[LORIS];
    static bool done[LORIS];
    static const char head[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Loris: ";
    int open = 0;
    for (int i = 0; i < LORIS; i++) {
        s[i] = raw_connect_port(l->port);
        done[i] = s[i] < 0;
        if (s[i] >= 0) {
            fcntl(s[i], F_SETFL, O_NONBLOCK);
            send(s[i], head, sizeof head - 1, MSG_NOSIGNAL);
            open++;
        } else {
            l->dropped++;
        }
    }
    for (int round = 0; round < 200 && l->dropped < LORIS; round++) {
        for (int i = 0; i < LORIS; i++) {
            if (done[i])
                continue;
            char buf[512];
            ssize_t n = recv(s[i], buf, sizeof buf - 1, 0);
            if (n > 0) {
                buf[n] = '\0';
                l->got408 += strstr(buf, " 408 ") != NULL;
            }
            if (n == 0 || (n < 0 && errno != EAGAIN) || send(s[i], "a", 1, MSG_NOSIGNAL) < 0) {
                done[i] = true;
                l->dropped++;
            }
        }
        usleep(50000);
    }
    for (int i = 0; i < LORIS; i++)
        if (s[i] >= 0)
            close(s[i]);
    return NULL;
}

static void *get_root(void *arg)
{
    int port = *(int *)arg;
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    int rc = acio_open_connection(&r, &w, "127.0.0.1", port, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "connect: %s", acio_strerror(rc));
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    void *all = NULL;
    size_t len = 0;
    rc = acio_stream_writer_write(w, req, sizeof req - 1);
    if (rc == 0)
        rc = acio_stream_reader_read_all(r, &all, &len);
    acio_stream_writer_close(w);
    int crc = acio_stream_writer_wait_closed(w);
    if (rc == 0)
        rc = crc;
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    bool ok = rc == 0 && len > 12 && memcmp(all, "HTTP/1.1 200", 12) == 0;
    free(all);
    if (!ok)
        return acio_raise(-EPROTO, "normal request failed during slowloris: %s", acio_strerror(rc));
    return NULL;
}

static void *loris_body(void *arg)
{
    fx_t *f = arg;
    loris_t l = {.port = f->port};
    acio_future_t *crowd;
    int rc = acio_loop_run_in_executor(acio_get_running_loop(), NULL, loris_job, &l, &crowd);
    CHECK(rc == 0, "executor: %s", acio_strerror(rc));
    /* Normal clients keep being served while the crowd trickles. */
    int served = 0;
    for (int i = 0; i < 30; i++) {
        acio_task_t *t;
        rc = acio_create_task(&t, get_root, &f->port, NULL);
        if (rc == 0) {
            rc = acio_await(t, NULL);
            acio_future_unref(t);
        }
        if (rc == 0)
            rc = acio_sleep(0.02);
        if (rc < 0)
            break;
        served++;
    }
    int crc = acio_await(crowd, NULL);
    acio_future_unref(crowd);
    CHECK(crc == 0, "the crowd failed: %s", acio_strerror(crc));
    CHECK(served == 30, "only %d of 30 normal requests served", served);
    CHECK(l.dropped == LORIS, "%d of %d trickling clients dropped", l.dropped, LORIS);
    CHECK(l.got408 > LORIS / 2, "only %d of them were told 408", l.got408);
    return NULL;
}

Test(http_clients, slowloris_crowd_dropped_while_others_served)
{
    fx.cfg.header_timeout = 0.5;
    fx.body = loris_body;
    run_ok(with_server, &fx);
}

/* ---- processes: graceful shutdown, workers ---- */

/* Start acio_http_serve in a child process; returns its pid, *port from its log line. */
static pid_t spawn_server(int workers, int *port, int *logfd)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        acio_http_config_t cfg;
        acio_http_config_init(&cfg);
        cfg.port = 0;
        cfg.workers = workers;
        cfg.shutdown_timeout = 5;
        cfg.log = fdopen(p[1], "w");
        setvbuf(cfg.log, NULL, _IOLBF, 0);
        acio_http_app_t *app = make_app();
        int rc = acio_http_serve(app, &cfg);
        acio_http_app_free(app);
        fclose(cfg.log);
        _exit(rc == 0 ? 0 : 3);
    }
    close(p[1]);
    char buf[512];
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = read(p[0], buf + n, 1);
        if (r <= 0 || buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    const char *colon = strrchr(buf, ':');
    *port = colon ? atoi(colon + 1) : -1;
    cr_assert(*port > 0, "server said: %s", buf);
    *logfd = p[0];
    return pid;
}

Test(http_clients, sigterm_finishes_in_flight_then_exits_0)
{
    acio_http_app_free(fx.app);
    fx.app = NULL;
    int port, logfd;
    pid_t pid = spawn_server(1, &port, &logfd);
    int s = raw_connect_port(port);
    cr_assert(s >= 0);
    raw_send_str(s, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    int idle = raw_connect_port(port); /* an idle keep-alive client: closed at once */
    cr_assert(idle >= 0);
    usleep(150000); /* the handler is sleeping */
    kill(pid, SIGTERM);
    raw_reader_t *rd = malloc(sizeof *rd);
    raw_reader_init(rd, s);
    raw_response_t r;
    cr_assert_eq(raw_read_response(rd, &r, false, false), 0,
                 "no response to the in-flight request");
    char v[32];
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(r.body, "slow done");
    cr_expect(raw_header(&r, "Connection", v, sizeof v) && strcmp(v, "close") == 0);
    raw_response_free(&r);
    cr_expect(raw_closed(s), "the connection stayed open after the response");
    cr_expect(raw_closed(idle), "the idle connection stayed open");
    close(s);
    close(idle);
    free(rd);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
    /* The access log has the request. */
    char log[4096];
    ssize_t n = read(logfd, log, sizeof log - 1);
    log[n > 0 ? n : 0] = '\0';
    cr_expect(strstr(log, "\"GET /slow HTTP/1.1\" 200 9 "), "log: %s", log);
    close(logfd);
}

Test(http_clients, two_workers_one_port)
{
    acio_http_app_free(fx.app);
    fx.app = NULL;
    int port, logfd;
    pid_t pid = spawn_server(2, &port, &logfd);
    for (int i = 0; i < 20; i++) {
        int s = raw_connect_port(port);
        cr_assert(s >= 0);
        raw_send_str(s, "GET /items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        char buf[1024];
        raw_read_all(s, buf, sizeof buf);
        close(s);
        cr_assert(strncmp(buf, "HTTP/1.1 200 OK", 15) == 0, "response %d: %s", i, buf);
    }
    kill(pid, SIGINT);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
    close(logfd);
}

/* acio's client against workers=2: 40 requests at once open 40 connections, which the
 * kernel spreads over both workers; a second round reuses every one of them. */
typedef struct {
    acio_http_session_t *s;
    const char *url;
    int rc;
    long tid;
} wreq_t;

static void *worker_get(void *arg)
{
    wreq_t *w = arg;
    acio_http_response_t *r;
    w->rc = acio_http_get(w->s, w->url, &r);
    if (w->rc < 0)
        return NULL;
    const void *b;
    size_t len;
    w->rc = acio_http_response_read(r, &b, &len);
    if (w->rc == 0 && acio_http_response_status(r) == 200)
        w->tid = atol(b);
    acio_http_response_release(r);
    return NULL;
}

static void *acio_client_workers(void *arg)
{
    int port = *(int *)arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/worker", port);
    acio_http_session_opts_t so = {0};
    so.limit = 40;
    acio_http_session_t *s;
    CHECK(acio_http_session_new(&s, &so) == 0, "session");
    enum { N = 40 };
    static wreq_t w[N];
    acio_task_t *t[N];
    long tids[2] = {0, 0};
    /* The second worker may start listening a moment after the first announced the
     * port: until it does, every connection goes to the first. Rounds on fresh
     * connections (the pool is emptied in between) until both answered, for up to ~5 s. */
    for (int tries = 0; tries < 50 && !tids[1]; tries++) {
        for (int i = 0; i < 8; i++) {
            w[i] = (wreq_t){s, url, 1, 0};
            CHECK(acio_create_task(&t[i], worker_get, &w[i], NULL) == 0, "task");
        }
        for (int i = 0; i < 8; i++) {
            CHECK(acio_await(t[i], NULL) == 0, "task %d", i);
            acio_future_unref(t[i]);
            CHECK(w[i].rc == 0 && w[i].tid > 0, "warm-up %d: %s", i, acio_err_name(w[i].rc));
            if (!tids[0] || tids[0] == w[i].tid)
                tids[0] = w[i].tid;
            else
                tids[1] = w[i].tid;
        }
        acio_http_session_close(s);
        CHECK(acio_http_session_new(&s, &so) == 0, "session");
    }
    CHECK(tids[1], "only one worker answered");
    long seen[2] = {0, 0};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            w[i] = (wreq_t){s, url, 1, 0};
            CHECK(acio_create_task(&t[i], worker_get, &w[i], NULL) == 0, "task");
        }
        for (int i = 0; i < N; i++) {
            CHECK(acio_await(t[i], NULL) == 0, "task %d", i);
            acio_future_unref(t[i]);
            CHECK(w[i].rc == 0 && w[i].tid > 0, "request %d: %s", i, acio_err_name(w[i].rc));
            CHECK(w[i].tid == tids[0] || w[i].tid == tids[1], "a third worker?");
            seen[w[i].tid == tids[1]]++;
        }
        size_t idle;
        CHECK(acio_http_session_connections(s, &idle) == N && idle == N,
              "round %d: %zu connections kept", round, idle);
    }
    /* 40 connections on one worker would be a 1 in 2^39 chance of the kernel's hash. */
    CHECK(seen[0] && seen[1], "the kept connections all went to one worker: %ld / %ld", seen[0],
          seen[1]);
    acio_http_session_close(s);
    return NULL;
}

Test(http_clients, acio_client_across_two_workers)
{
    acio_http_app_free(fx.app);
    fx.app = NULL;
    int port, logfd;
    pid_t pid = spawn_server(2, &port, &logfd);
    char *msg = NULL;
    int rc = acio_run_ex(acio_client_workers, &port, NULL, &msg);
    kill(pid, SIGTERM);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    close(logfd);
    char text[256];
    snprintf(text, sizeof text, "%s", msg ? msg : "");
    free(msg);
    cr_assert_eq(rc, 0, "client: %s", text);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
}
