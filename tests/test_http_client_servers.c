/* The HTTP client against real servers: Debian's nginx (static files with keep-alive,
 * gzip with a chunked body, redirects, a redirect loop, many concurrent requests
 * through a small pool), Python's http.server (HTTP/1.0, a connection per request) and
 * aiohttp.web (chunked streaming, JSON), and the blocking one-call form. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/fds.h"
#include "support/nginx.h"

static nginx_t ng;
static char *page4k, *big, *text;
#define BIG_LEN (2u << 20)

static char *pattern(size_t n, unsigned seed)
{
    char *b = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (i % 80 == 79) ? '\n' : (char)('A' + (i * 7 + seed + i / 80) % 26);
    b[n] = '\0';
    return b;
}

static void start_nginx(void)
{
    cr_assert(nginx_available(), "nginx is not installed (Debian's nginx package)");
    int rc = nginx_start(&ng, "location = /r { return 302 /4k.html; }\n"
                              "    location = /r2 { return 301 /r; }\n"
                              "    location = /loop { return 302 /loop; }\n");
    cr_assert_eq(rc, 0, "nginx did not start");
    page4k = pattern(4096, 1);
    big = pattern(BIG_LEN, 2);
    text = pattern(200000, 3);
    cr_assert_eq(nginx_put_file(&ng, "4k.html", page4k, 4096), 0);
    cr_assert_eq(nginx_put_file(&ng, "big.bin", big, BIG_LEN), 0);
    cr_assert_eq(nginx_put_file(&ng, "text.txt", text, 200000), 0);
}

static void stop_nginx(void)
{
    nginx_stop(&ng);
    free(page4k);
    free(big);
    free(text);
}

static const char *ng_url(const char *path)
{
    static char bufs[4][256];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 256, "http://127.0.0.1:%d%s", ng.port, path);
    return b;
}

static int fetch(acio_http_session_t *s, const char *url, int *status, const void **body,
                 size_t *len, acio_http_response_t **keep)
{
    acio_http_response_t *r;
    int rc = acio_http_get(s, url, &r);
    if (rc < 0)
        return rc;
    *status = acio_http_response_status(r);
    rc = acio_http_response_read(r, body, len);
    *keep = r;
    return rc;
}

static void *t_nginx(void *arg)
{
    (void)arg;
    acio_http_session_t *s;
    CHECK(acio_http_session_new(&s, NULL) == 0, "session");
    acio_http_response_t *r;
    const void *b;
    size_t len;
    int st;
    for (int i = 0; i < 5; i++) {
        int rc = fetch(s, ng_url("/4k.html"), &st, &b, &len, &r);
        CHECK(rc == 0 && st == 200 && len == 4096 && !memcmp(b, page4k, 4096), "4k page %d: %s", i,
              acio_err_name(rc));
        CHECK(!strcmp(acio_http_response_header(r, "server") ? "nginx" : "", "nginx") ||
                  strstr(acio_http_response_header(r, "server"), "nginx"),
              "served by nginx");
        acio_http_response_release(r);
    }
    size_t idle;
    CHECK(acio_http_session_connections(s, &idle) == 1 && idle == 1, "one kept-alive connection");
    int rc = fetch(s, ng_url("/big.bin"), &st, &b, &len, &r);
    CHECK(rc == 0 && len == BIG_LEN && !memcmp(b, big, BIG_LEN), "2 MiB file: %s",
          acio_err_name(rc));
    acio_http_response_release(r);
    /* gzip: nginx compresses text on the fly, chunked */
    rc = fetch(s, ng_url("/text.txt"), &st, &b, &len, &r);
    CHECK(rc == 0 && len == 200000 && !memcmp(b, text, 200000), "gzip text: %s %zu",
          acio_err_name(rc), len);
    const char *ce = acio_http_response_header(r, "content-encoding");
    const char *te = acio_http_response_header(r, "transfer-encoding");
    CHECK(ce && !strcmp(ce, "gzip") && te && !strcmp(te, "chunked"), "gzip, chunked");
    acio_http_response_release(r);
    /* redirects */
    rc = fetch(s, ng_url("/r2"), &st, &b, &len, &r);
    CHECK(rc == 0 && st == 200 && len == 4096, "redirect chain: %s", acio_err_name(rc));
    CHECK(acio_http_response_history_count(r) == 2 &&
              acio_http_response_status(acio_http_response_history(r, 0)) == 301 &&
              acio_http_response_status(acio_http_response_history(r, 1)) == 302,
          "history 301, 302");
    acio_http_response_release(r);
    rc = acio_http_get(s, ng_url("/loop"), &r);
    CHECK(rc == ACIO_EHTTP_TOO_MANY_REDIRECTS, "loop: %s", acio_err_name(rc));
    rc = fetch(s, ng_url("/missing"), &st, &b, &len, &r);
    CHECK(rc == 0 && st == 404, "404");
    acio_http_response_release(r);
    rc = acio_http_request(s, "HEAD", ng_url("/big.bin"), NULL, &r);
    CHECK(rc == 0 && acio_http_response_content_length(r) == BIG_LEN, "HEAD");
    acio_http_response_release(r);
    CHECK(acio_http_session_connections(s, &idle) == 1 && idle == 1,
          "everything over one connection");
    acio_http_session_close(s);
    return NULL;
}

Test(http_client_servers, nginx_static_gzip_redirects, .init = start_nginx, .fini = stop_nginx,
     .timeout = 120)
{
    int before = count_fds();
    run_ok(t_nginx, NULL);
    cr_assert_eq(count_fds(), before, "fds leaked");
}

typedef struct {
    acio_http_session_t *s;
    int ok;
} conc_t;

static void *one(void *arg)
{
    conc_t *c = arg;
    acio_http_response_t *r;
    if (acio_http_get(c->s, ng_url("/4k.html"), &r) == 0) {
        const void *b;
        size_t len;
        if (acio_http_response_read(r, &b, &len) == 0 && len == 4096 && !memcmp(b, page4k, 4096))
            c->ok++;
        acio_http_response_release(r);
    }
    return NULL;
}

static void *t_concurrent(void *arg)
{
    (void)arg;
    acio_http_session_opts_t so = {0};
    so.limit = 10;
    acio_http_session_t *s;
    CHECK(acio_http_session_new(&s, &so) == 0, "session");
    enum { N = 300 };
    conc_t c = {s, 0};
    acio_task_t *t[N];
    for (int i = 0; i < N; i++)
        CHECK(acio_create_task(&t[i], one, &c, NULL) == 0, "task");
    for (int i = 0; i < N; i++) {
        CHECK(acio_await(t[i], NULL) == 0, "task %d", i);
        acio_future_unref(t[i]);
    }
    CHECK(c.ok == N, "%d of %d fetched", c.ok, N);
    size_t idle;
    size_t open = acio_http_session_connections(s, &idle);
    CHECK(open <= 10 && open == idle, "pool limit: %zu open", open);
    acio_http_session_close(s);
    return NULL;
}

Test(http_client_servers, nginx_many_concurrent_through_small_pool, .init = start_nginx,
     .fini = stop_nginx, .timeout = 120)
{
    int before = count_fds();
    run_ok(t_concurrent, NULL);
    cr_assert_eq(count_fds(), before, "fds leaked");
}

Test(http_client_servers, blocking_fetch, .init = start_nginx, .fini = stop_nginx, .timeout = 120)
{
    int before = count_fds();
    acio_http_response_t *r;
    int rc = acio_http_fetch_blocking("GET", ng_url("/r"), NULL, NULL, &r);
    cr_assert_eq(rc, 0, "fetch_blocking: %s", acio_err_name(rc));
    cr_assert_eq(acio_http_response_status(r), 200);
    const void *b;
    size_t len;
    /* The body is in memory: reading needs no loop. */
    cr_assert_eq(acio_http_response_read(r, &b, &len), 0);
    cr_assert(len == 4096 && !memcmp(b, page4k, 4096));
    cr_assert_eq(acio_http_response_history_count(r), 1);
    const char *t;
    cr_assert_eq(acio_http_response_text(r, &t, &len), 0);
    acio_http_response_release(r);
    rc = acio_http_fetch_blocking("GET", "http://127.0.0.1:1/", NULL, NULL, &r);
    cr_assert_eq(rc, -ECONNREFUSED, "refused: %s", acio_err_name(rc));
    cr_assert_null(r);
    cr_assert_eq(count_fds(), before, "fds leaked");
}

/* ---- Python servers ---- */

static pid_t py_pid;
static int py_port;

static void start_python(const char *code_fmt)
{
    py_port = nginx_free_port();
    char code[4096];
    snprintf(code, sizeof code, code_fmt, py_port);
    py_pid = fork();
    if (py_pid == 0) {
        execl("/usr/bin/python3", "python3", "-c", code, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && !nginx_port_open(py_port); i++)
        usleep(10000);
    cr_assert(nginx_port_open(py_port), "the Python server did not start");
}

static void stop_python(void)
{
    if (py_pid > 0) {
        kill(py_pid, SIGTERM);
        waitpid(py_pid, NULL, 0);
        py_pid = 0;
    }
}

static void *t_http_server(void *arg)
{
    (void)arg;
    acio_http_session_t *s;
    CHECK(acio_http_session_new(&s, NULL) == 0, "session");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello.txt", py_port);
    for (int i = 0; i < 3; i++) {
        acio_http_response_t *r;
        int rc = acio_http_get(s, url, &r);
        CHECK(rc == 0 && acio_http_response_status(r) == 200, "get: %s", acio_err_name(rc));
        CHECK(acio_http_response_version(r) == 10, "http.server answers HTTP/1.0");
        const char *t;
        size_t len;
        rc = acio_http_response_text(r, &t, &len);
        CHECK(rc == 0 && !strcmp(t, "hello from python\n"), "body: %s", acio_err_name(rc));
        acio_http_response_release(r);
        CHECK(acio_http_session_connections(s, NULL) == 0, "HTTP/1.0: not kept alive");
    }
    acio_http_session_close(s);
    return NULL;
}

Test(http_client_servers, python_http_server, .fini = stop_python, .timeout = 120)
{
    char dir[] = "/tmp/acio-pyhttp-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("hello from python\n", f);
    fclose(f);
    char code[512];
    snprintf(code, sizeof code,
             "import http.server,functools\n"
             "class H(http.server.SimpleHTTPRequestHandler):\n"
             "    def log_message(self, *a): pass\n"
             "h=functools.partial(H,directory='%s')\n"
             "http.server.ThreadingHTTPServer(('127.0.0.1',%%d),h).serve_forever()\n",
             dir);
    start_python(code);
    int before = count_fds();
    run_ok(t_http_server, NULL);
    cr_assert_eq(count_fds(), before, "fds leaked");
    stop_python();
    unlink(path);
    rmdir(dir);
}

static void *t_aiohttp(void *arg)
{
    (void)arg;
    acio_http_session_t *s;
    CHECK(acio_http_session_new(&s, NULL) == 0, "session");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stream", py_port);
    acio_http_response_t *r;
    int rc = acio_http_get(s, url, &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 200, "stream: %s", acio_err_name(rc));
    char line[64];
    for (int i = 0; i < 50; i++) {
        ssize_t n = acio_http_response_readline(r, line, sizeof line);
        char want[32];
        snprintf(want, sizeof want, "line %d\n", i);
        CHECK(n == (ssize_t)strlen(want) && !memcmp(line, want, (size_t)n), "line %d: %zd", i, n);
    }
    CHECK(acio_http_response_readline(r, line, sizeof line) == 0, "end");
    acio_http_response_release(r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/json", py_port);
    rc = acio_http_get(s, url, &r);
    CHECK(rc == 0, "json: %s", acio_err_name(rc));
    json_t *j;
    CHECK(acio_http_response_json(r, &j) == 0, "json parses");
    CHECK(json_integer_value(json_object_get(j, "n")) == 42, "n == 42");
    json_decref(j);
    acio_http_response_release(r);
    size_t idle;
    CHECK(acio_http_session_connections(s, &idle) == 1 && idle == 1, "kept alive by aiohttp");
    acio_http_session_close(s);
    return NULL;
}

Test(http_client_servers, aiohttp_web_streaming_and_json, .fini = stop_python, .timeout = 120)
{
    start_python("from aiohttp import web\n"
                 "async def stream(req):\n"
                 "    resp = web.StreamResponse()\n"
                 "    await resp.prepare(req)\n"
                 "    for i in range(50):\n"
                 "        await resp.write(f'line {i}\\n'.encode())\n"
                 "    await resp.write_eof()\n"
                 "    return resp\n"
                 "async def js(req):\n"
                 "    return web.json_response({'n': 42})\n"
                 "app = web.Application()\n"
                 "app.router.add_get('/stream', stream)\n"
                 "app.router.add_get('/json', js)\n"
                 "web.run_app(app, host='127.0.0.1', port=%d, print=None)\n");
    int before = count_fds();
    run_ok(t_aiohttp, NULL);
    cr_assert_eq(count_fds(), before, "fds leaked");
    stop_python();
}
