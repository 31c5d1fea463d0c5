/* The HTTP server against a raw-socket client: routing (path and query parameters,
 * catch-all, 404, 405 + Allow, HEAD), bodies (whole, streamed, chunked, JSON, caps and
 * 413, 100-continue), responses (bytes, JSON, file, stream), keep-alive, pipelining in
 * order across a handler that awaits, Connection: close, HTTP/1.0, malformed requests
 * (400/414/431/408), handler failures (500, message logged, not sent), and the Date
 * header. The server runs on the test's loop; the client is blocking code on a helper
 * thread (acio_to_thread), reading responses with its own small parser. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/http_raw.h"
#include "support/problems.h"

/* ---- the app under test ---- */

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
    const char *id = acio_http_request_path_param(req, "id");
    const char *q = acio_http_request_query(req, "q");
    json_t *v = json_pack("{s:s,s:s*}", "item_id", id, "q", q);
    int rc = acio_http_respond_json(req, 200, v);
    json_decref(v);
    return rc;
}

static int h_files(acio_http_request_t *req, void *arg)
{
    (void)arg;
    char out[512];
    snprintf(out, sizeof out, "path=%s", acio_http_request_path_param(req, "rest"));
    return acio_http_respond_text(req, 200, out);
}

static int h_sleep(acio_http_request_t *req, void *arg)
{
    (void)arg;
    const char *s = acio_http_request_query(req, "s");
    int rc = acio_sleep(s ? atof(s) : 0.05);
    if (rc < 0)
        return rc;
    return acio_http_respond_text(req, 200, acio_http_request_path(req));
}

static int h_echo(acio_http_request_t *req, void *arg)
{
    (void)arg;
    const char *data;
    size_t len;
    int rc = acio_http_request_body(req, &data, &len);
    if (rc < 0)
        return rc;
    acio_http_respond_header(req, "X-Body-Length", len ? "some" : "none");
    return acio_http_respond(req, 200, "application/octet-stream", data, len);
}

static int h_json(acio_http_request_t *req, void *arg)
{
    (void)arg;
    json_t *in;
    int rc = acio_http_request_json(req, &in);
    if (rc == -EBADMSG)
        return acio_http_respond_error(req, 422, "body is not JSON");
    if (rc < 0)
        return rc;
    json_object_set_new(in, "seen", json_true());
    rc = acio_http_respond_json(req, 201, in);
    json_decref(in);
    return rc;
}

/* Streams the body back counting bytes, reading in small pieces. */
static int h_count(acio_http_request_t *req, void *arg)
{
    (void)arg;
    char buf[1000];
    size_t total = 0;
    ssize_t n;
    while ((n = acio_http_request_read(req, buf, sizeof buf)) > 0)
        total += (size_t)n;
    if (n < 0)
        return (int)n;
    char out[64];
    snprintf(out, sizeof out, "%zu", total);
    return acio_http_respond_text(req, 200, out);
}

static int h_stream(acio_http_request_t *req, void *arg)
{
    (void)arg;
    int rc = acio_http_respond_start(req, 200, "text/plain");
    for (int i = 0; rc == 0 && i < 5; i++) {
        char line[32];
        int n = snprintf(line, sizeof line, "line %d\n", i);
        rc = acio_http_write(req, line, (size_t)n);
        if (rc == 0 && i == 2)
            rc = acio_sleep(0.01);
    }
    if (rc == 0)
        rc = acio_http_write_end(req);
    return rc;
}

static char file_path[64];
static size_t file_size;

static int h_file(acio_http_request_t *req, void *arg)
{
    (void)arg;
    int rc = acio_http_respond_file(req, 200, file_path, NULL);
    if (rc == -ENOENT)
        return acio_http_respond_error(req, 404, "no such file");
    return rc;
}

static int h_fail(acio_http_request_t *req, void *arg)
{
    (void)arg;
    int rc = acio_sleep(0);
    if (rc < 0)
        return rc;
    return acio_http_error(req, -EIO, "the database said secret-xyzzy");
}

static int h_none(acio_http_request_t *req, void *arg)
{
    (void)req;
    (void)arg;
    return 0;
}

static int h_post_small(acio_http_request_t *req, void *arg)
{
    return h_echo(req, arg);
}

static acio_http_app_t *make_app(void)
{
    acio_http_app_t *app;
    cr_assert_eq(acio_http_app_new(&app), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/", h_root, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/items/{id}", h_item, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "DELETE", "/items/{id}", h_item, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/files/{rest:path}", h_files, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/sleep/{x}", h_sleep, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "POST", "/echo", h_echo, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "POST", "/json", h_json, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "PUT", "/count", h_count, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/stream", h_stream, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/file", h_file, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/fail", h_fail, NULL), 0);
    cr_assert_eq(acio_http_app_route(app, "GET", "/none", h_none, NULL), 0);
    acio_http_route_opts_t small = {.max_body = 100};
    cr_assert_eq(acio_http_app_route_ex(app, "POST", "/small", h_post_small, NULL, &small), 0);
    return app;
}

/* ---- the fixture: server on the loop, client on a thread ---- */

typedef struct fixture_s fixture_t;
typedef int (*client_fn)(fixture_t *f);
struct fixture_s {
    acio_http_app_t *app;
    acio_http_config_t cfg;
    client_fn client;
    int port;
    char fail[512]; /* the client's complaint */
    char logpath[64];
};

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (snprintf(f->fail, sizeof f->fail, __VA_ARGS__) < 0)                                \
                f->fail[0] = '\0';                                                                 \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

static void *client_job(void *arg, acio_job_t *job)
{
    fixture_t *f = arg;
    if (f->client(f) < 0)
        return acio_job_raise(job, -EPROTO, "%s", f->fail);
    return NULL;
}

static void *fixture_main(void *arg)
{
    fixture_t *f = arg;
    watch_problems();
    acio_http_server_t *srv;
    int rc = acio_http_server_start(NULL, f->app, &f->cfg, &srv);
    CHECK(rc == 0, "server_start: %s", acio_strerror(rc));
    f->port = acio_http_server_port(srv);
    char *msg = NULL;
    rc = acio_to_thread_ex(client_job, f, NULL, &msg);
    char text[600];
    snprintf(text, sizeof text, "%s", msg ? msg : "");
    free(msg);
    int src = acio_http_server_shutdown(srv, 1.0);
    acio_http_server_free(srv);
    CHECK(rc == 0, "client: %s", text);
    CHECK(src == 0, "shutdown: %s", acio_strerror(src));
    return NULL;
}

static fixture_t fx;

static void run_fixture(client_fn client)
{
    fx.client = client;
    run_ok(fixture_main, &fx);
}

static void setup(void)
{
    problems_setup();
    memset(&fx, 0, sizeof fx);
    fx.app = make_app();
    acio_http_config_init(&fx.cfg);
    fx.cfg.port = 0;
    snprintf(fx.logpath, sizeof fx.logpath, "/tmp/acio-http-log-XXXXXX");
    int fd = mkstemp(fx.logpath);
    cr_assert(fd >= 0);
    fx.cfg.log = fdopen(fd, "w+");
    setvbuf(fx.cfg.log, NULL, _IOLBF, 0);
}

static void teardown(void)
{
    acio_http_app_free(fx.app);
    if (fx.cfg.log)
        fclose(fx.cfg.log);
    unlink(fx.logpath);
    problems_teardown();
}

static char *read_log(void)
{
    fflush(fx.cfg.log);
    FILE *fp = fopen(fx.logpath, "r");
    static char buf[65536];
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    buf[n] = '\0';
    if (fp)
        fclose(fp);
    return buf;
}

TestSuite(http_server, .init = setup, .fini = teardown, .timeout = 60);

/* One request on a new connection, response read; returns the socket still open. */
static int one(fixture_t *f, const char *req, raw_response_t *resp, bool head_only)
{
    static raw_reader_t r;
    if (raw_open(&r, f->port) < 0)
        return -1;
    if (raw_ask(&r, req, resp, head_only) < 0) {
        close(r.s);
        return -1;
    }
    return r.s;
}

/* One request on a new connection, response read, connection closed: 0 or -1. */
static int ask(fixture_t *f, const char *req, raw_response_t *resp)
{
    int s = one(f, req, resp, false);
    if (s < 0)
        return -1;
    close(s);
    return 0;
}

/* ---- routing ---- */

static int c_routes(fixture_t *f)
{
    raw_response_t r;
    EXPECT(ask(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0, "GET / failed");
    EXPECT(r.status == 200, "GET / status %d", r.status);
    EXPECT(strcmp(r.body, "{\"message\":\"Hello World\"}") == 0, "GET / body %s", r.body);
    char v[128];
    EXPECT(raw_header(&r, "Content-Type", v, sizeof v) && strcmp(v, "application/json") == 0,
           "content type %s", v);
    EXPECT(raw_header(&r, "Date", v, sizeof v) && strstr(v, " GMT") && strlen(v) == 29, "date '%s'",
           v);
    raw_response_free(&r);

    EXPECT(ask(f, "GET /items/42?q=a%20b+c&x=1 HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0,
           "GET /items failed");
    EXPECT(r.status == 200 && strcmp(r.body, "{\"item_id\":\"42\",\"q\":\"a b c\"}") == 0,
           "items: %d %s", r.status, r.body);
    raw_response_free(&r);

    EXPECT(ask(f, "GET /items/caf%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0,
           "GET /items/café failed");
    EXPECT(strcmp(r.body, "{\"item_id\":\"caf\xc3\xa9\"}") == 0, "decoded: %s", r.body);
    raw_response_free(&r);

    EXPECT(ask(f, "GET /files/a/b/c.txt HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0,
           "GET /files failed");
    EXPECT(r.status == 200 && strcmp(r.body, "path=a/b/c.txt") == 0, "files: %s", r.body);
    raw_response_free(&r);

    EXPECT(ask(f, "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0, "404 failed");
    EXPECT(r.status == 404 && strcmp(r.body, "{\"detail\":\"Not Found\"}") == 0, "404: %d %s",
           r.status, r.body);
    raw_response_free(&r);

    EXPECT(ask(f, "POST /items/7 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", &r) == 0,
           "405 failed");
    EXPECT(r.status == 405, "405: %d", r.status);
    EXPECT(raw_header(&r, "Allow", v, sizeof v) && strcmp(v, "GET, HEAD, DELETE") == 0,
           "Allow: '%s'", v);
    raw_response_free(&r);

    /* HEAD: the GET route answers, the length is the GET's, no body follows. */
    int s = one(f, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n", &r,
                true);
    EXPECT(s >= 0, "HEAD failed");
    EXPECT(r.status == 200 && raw_header(&r, "Content-Length", v, sizeof v) && atoi(v) == 25,
           "HEAD: %d len %s", r.status, v);
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, routes_params_404_405_head)
{
    run_fixture(c_routes);
}

Test(http_server, route_patterns_rejected)
{
    acio_http_app_t *app;
    cr_assert_eq(acio_http_app_new(&app), 0);
    cr_expect_eq(acio_http_app_route(app, "GET", "nope", h_root, NULL), -EINVAL);
    cr_expect_eq(acio_http_app_route(app, "GET", "/a/{x", h_root, NULL), -EINVAL);
    cr_expect_eq(acio_http_app_route(app, "GET", "/a/{x:path}/b", h_root, NULL), -EINVAL);
    cr_expect_eq(acio_http_app_route(app, "GET", "/{x}/{x}", h_root, NULL), -EINVAL);
    cr_expect_eq(acio_http_app_route(app, "G T", "/", h_root, NULL), -EINVAL);
    cr_expect_eq(acio_http_app_route(app, "*", "/{all:path}", h_root, NULL), 0);
    acio_http_app_free(app);
}

/* ---- bodies ---- */

static int c_bodies(fixture_t *f)
{
    raw_response_t r;
    EXPECT(ask(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world", &r) ==
               0,
           "echo failed");
    EXPECT(r.status == 200 && strcmp(r.body, "hello world") == 0, "echo: %d %s", r.status, r.body);
    raw_response_free(&r);

    EXPECT(ask(f,
               "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
               &r) == 0,
           "chunked echo failed");
    EXPECT(r.status == 200 && strcmp(r.body, "hello world") == 0, "chunked: %d %s", r.status,
           r.body);
    raw_response_free(&r);

    EXPECT(ask(f,
               "POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 9\r\n\r\n{\"a\": 1}\n",
               &r) == 0,
           "json failed");
    EXPECT(r.status == 201 && strcmp(r.body, "{\"a\":1,\"seen\":true}") == 0, "json: %d %s",
           r.status, r.body);
    raw_response_free(&r);

    EXPECT(ask(f, "POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{x}", &r) == 0,
           "bad json failed");
    EXPECT(r.status == 422, "bad json: %d", r.status);
    raw_response_free(&r);

    /* A large body, streamed in 1000-byte reads, sent in pieces. */
    static raw_reader_t rd;
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    int s = rd.s;
    size_t big = 300000;
    char head[128];
    snprintf(head, sizeof head, "PUT /count HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             big);
    raw_send_str(s, head);
    char *blob = malloc(big);
    memset(blob, 'z', big);
    for (size_t off = 0; off < big; off += 50000)
        raw_send(s, blob + off, 50000);
    free(blob);
    EXPECT(raw_read_response(&rd, &r, false, false) == 0, "count response");
    EXPECT(r.status == 200 && strcmp(r.body, "300000") == 0, "count: %d %s", r.status, r.body);
    raw_response_free(&r);
    close(s);

    /* Over the route's cap by Content-Length: 413 at once, connection closed. */
    s = one(f, "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", &r, false);
    EXPECT(s >= 0, "413 failed");
    EXPECT(r.status == 413, "413: %d", r.status);
    EXPECT(raw_closed(s), "413 did not close");
    close(s);
    raw_response_free(&r);

    /* Over the cap in chunks: the reader gets the error, the client 413. */
    s = one(f,
            "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "60\r\n"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaa"
            "\r\n60\r\n"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaa"
            "\r\n0\r\n\r\n",
            &r, false);
    EXPECT(s >= 0, "chunked 413 failed");
    EXPECT(r.status == 413, "chunked 413: %d", r.status);
    EXPECT(raw_closed(s), "chunked 413 did not close");
    close(s);
    raw_response_free(&r);
    return 0;
}

Test(http_server, bodies_whole_streamed_chunked_json_caps)
{
    run_fixture(c_bodies);
}

static int c_continue(fixture_t *f)
{
    static raw_reader_t rd;
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    int s = rd.s;
    raw_send_str(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    "Expect: 100-continue\r\n\r\n");
    raw_response_t r;
    EXPECT(raw_read_response(&rd, &r, false, true) == 0 && r.status == 100, "no 100: %d", r.status);
    raw_response_free(&r);
    raw_send_str(s, "ping");
    EXPECT(raw_read_response(&rd, &r, false, false) == 0, "final response");
    EXPECT(r.status == 200 && strcmp(r.body, "ping") == 0, "after 100: %d %s", r.status, r.body);
    raw_response_free(&r);
    close(s);

    /* Refused without reading: no 100, the body never sent, the connection closes. */
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    s = rd.s;
    raw_send_str(s, "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                    "Expect: 100-continue\r\n\r\n");
    EXPECT(raw_read_response(&rd, &r, false, true) == 0 && r.status == 413, "refused: %d",
           r.status);
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, expect_100_continue)
{
    run_fixture(c_continue);
}

/* ---- responses ---- */

static int c_stream_file(fixture_t *f)
{
    raw_response_t r;
    EXPECT(ask(f, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0, "stream failed");
    EXPECT(r.status == 200 && r.chunked, "stream: %d chunked %d", r.status, r.chunked);
    EXPECT(strcmp(r.body, "line 0\nline 1\nline 2\nline 3\nline 4\n") == 0, "stream body %s",
           r.body);
    raw_response_free(&r);

    /* HTTP/1.0: no chunked; the close ends the body. */
    int s = raw_connect_port(f->port);
    raw_send_str(s, "GET /stream HTTP/1.0\r\n\r\n");
    static char all[4096];
    raw_read_all(s, all, sizeof all);
    close(s);
    EXPECT(strstr(all, "Transfer-Encoding") == NULL && strstr(all, "\r\n\r\nline 0\nline 1"),
           "1.0 stream: %s", all);

    s = one(f, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n", &r, false);
    EXPECT(s >= 0, "file failed");
    EXPECT(r.status == 200 && r.body_len == file_size, "file: %d %zu", r.status, r.body_len);
    for (size_t i = 0; i < file_size; i++)
        EXPECT(r.body[i] == (char)('a' + i % 23), "file byte %zu", i);
    char v[128];
    EXPECT(raw_header(&r, "Content-Type", v, sizeof v) &&
               strcmp(v, "text/plain; charset=utf-8") == 0,
           "file type %s", v);
    raw_response_free(&r);
    /* The connection is still usable after the sendfile. */
    static raw_reader_t rd;
    raw_reader_init(&rd, s);
    EXPECT(raw_ask(&rd, "GET /items/5 HTTP/1.1\r\nHost: x\r\n\r\n", &r, false) == 0 &&
               r.status == 200,
           "after file");
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, stream_and_file_responses)
{
    snprintf(file_path, sizeof file_path, "/tmp/acio-http-file-XXXXXX.txt");
    int fd = mkstemps(file_path, 4);
    cr_assert(fd >= 0);
    file_size = 700001;
    char *data = malloc(file_size);
    for (size_t i = 0; i < file_size; i++)
        data[i] = (char)('a' + i % 23);
    cr_assert_eq(write(fd, data, file_size), (ssize_t)file_size);
    close(fd);
    free(data);
    run_fixture(c_stream_file);
    unlink(file_path);
}

/* ---- connections ---- */

static int c_pipeline(fixture_t *f)
{
    static raw_reader_t rd;
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    int s = rd.s;
    /* Five requests in one send; the third handler awaits. Answers come in order. */
    raw_send_str(s, "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    "GET /sleep/3?s=0.05 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /items/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw_response_t r;
    const char *want[] = {"{\"item_id\":\"1\"}", "abc", "/sleep/3", "{\"detail\":\"Not Found\"}",
                          "{\"item_id\":\"5\"}"};
    for (int i = 0; i < 5; i++) {
        EXPECT(raw_read_response(&rd, &r, false, false) == 0, "response %d missing", i);
        EXPECT(strcmp(r.body, want[i]) == 0, "response %d: %s", i, r.body);
        char v[32];
        if (i == 4)
            EXPECT(raw_header(&r, "Connection", v, sizeof v) && strcmp(v, "close") == 0,
                   "last not close");
        raw_response_free(&r);
    }
    EXPECT(raw_closed(s), "Connection: close not honoured");
    close(s);

    /* Keep-alive: several requests on one connection, one at a time. */
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    s = rd.s;
    for (int i = 0; i < 3; i++) {
        EXPECT(raw_ask(&rd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r, false) == 0 && r.status == 200,
               "ka %d", i);
        raw_response_free(&r);
    }
    close(s);

    /* HTTP/1.0 without keep-alive: one answer, then the close. */
    s = raw_connect_port(f->port);
    raw_send_str(s, "GET / HTTP/1.0\r\n\r\n");
    static char all[4096];
    raw_read_all(s, all, sizeof all);
    close(s);
    EXPECT(strncmp(all, "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr(all, "Connection: close"),
           "1.0: %s", all);
    return 0;
}

Test(http_server, pipelining_keepalive_close)
{
    run_fixture(c_pipeline);
}

/* ---- malformed requests ---- */

static int expect_status_close(fixture_t *f, const char *req, size_t len, int status)
{
    static raw_reader_t rd;
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    int s = rd.s;
    raw_send(s, req, len);
    raw_response_t r;
    EXPECT(raw_read_response(&rd, &r, false, false) == 0, "no answer to %.40s", req);
    int st = r.status;
    raw_response_free(&r);
    EXPECT(st == status, "%.40s: status %d, want %d", req, st, status);
    EXPECT(raw_closed(s), "%.40s: not closed", req);
    close(s);
    return 0;
}

static int c_malformed(fixture_t *f)
{
    static const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (expect_status_close(f, bad[i], strlen(bad[i]), 400) < 0)
            return -1;
    if (expect_status_close(f, "GET / HTTP/9.9\r\n\r\n", 18, 505) < 0)
        return -1;
    /* A target longer than the start-line limit: 414. */
    size_t n = 20000;
    char *big = malloc(n + 64);
    strcpy(big, "GET /");
    memset(big + 5, 'a', n);
    strcpy(big + 5 + n, " HTTP/1.1\r\n\r\n");
    int rc = expect_status_close(f, big, strlen(big), 414);
    /* Headers over the head limit: 431. */
    char *p = big;
    p += sprintf(p, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "X-H%d: v\r\n", i);
    strcpy(p, "\r\n");
    if (rc == 0)
        rc = expect_status_close(f, big, strlen(big), 431);
    free(big);
    return rc;
}

Test(http_server, malformed_requests)
{
    run_fixture(c_malformed);
}

/* ---- failures ---- */

static int c_fail(fixture_t *f)
{
    raw_response_t r;
    int s = one(f, "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", &r, false);
    EXPECT(s >= 0, "fail failed");
    EXPECT(r.status == 500 && !strstr(r.body, "xyzzy"), "fail: %d %s", r.status, r.body);
    raw_response_free(&r);
    /* The connection survives a handler's failure. */
    static raw_reader_t rd;
    raw_reader_init(&rd, s);
    EXPECT(raw_ask(&rd, "GET /none HTTP/1.1\r\nHost: x\r\n\r\n", &r, false) == 0 && r.status == 500,
           "none: %d", r.status);
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, handler_failure_is_500_and_logged)
{
    run_fixture(c_fail);
    const char *log = read_log();
    cr_expect(strstr(log, "secret-xyzzy") != NULL, "log: %s", log);
    cr_expect(strstr(log, "returned without a response") != NULL, "log: %s", log);
    cr_expect(strstr(log, "\"GET /fail HTTP/1.1\" 500 ") != NULL, "access log: %s", log);
}

static int c_log(fixture_t *f)
{
    raw_response_t r;
    int s = one(f, "GET /items/9 HTTP/1.1\r\nHost: x\r\n\r\n", &r, false);
    EXPECT(s >= 0, "get");
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, access_log_on_and_off)
{
    run_fixture(c_log);
    const char *log = read_log();
    cr_expect(strstr(log, "127.0.0.1:") && strstr(log, " - \"GET /items/9 HTTP/1.1\" 200 15 "),
              "log: %s", log);
    fx.cfg.access_log = false;
    ftruncate(fileno(fx.cfg.log), 0);
    rewind(fx.cfg.log);
    run_fixture(c_log);
    cr_expect_eq(strlen(read_log()), 0, "log: %s", read_log());
}

/* ---- timeouts ---- */

static int c_timeouts(fixture_t *f)
{
    /* A head that never ends: 408 after header_timeout. */
    static raw_reader_t rd;
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    int s = rd.s;
    raw_response_t r;
    EXPECT(raw_ask(&rd, "GET / HTTP/1.1\r\nHost: x\r\n", &r, false) == 0 && r.status == 408,
           "408: %d", r.status);
    raw_response_free(&r);
    EXPECT(raw_closed(s), "408 not closed");
    close(s);
    /* Connected and silent: closed. */
    s = raw_connect_port(f->port);
    EXPECT(raw_closed(s), "silent connection kept");
    close(s);
    /* Idle after a response: closed after keepalive_timeout. */
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    s = rd.s;
    EXPECT(raw_ask(&rd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r, false) == 0 && r.status == 200,
           "ka");
    raw_response_free(&r);
    EXPECT(raw_closed(s), "idle connection kept");
    close(s);
    /* A body that stalls: 408. */
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    s = rd.s;
    EXPECT(raw_ask(&rd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", &r,
                   false) == 0 &&
               r.status == 408,
           "body 408: %d", r.status);
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, header_idle_body_timeouts)
{
    fx.cfg.header_timeout = 0.2;
    fx.cfg.keepalive_timeout = 0.2;
    fx.cfg.body_timeout = 0.2;
    run_fixture(c_timeouts);
}

/* ---- resets at every phase ---- */

static int c_resets(fixture_t *f)
{
    int s = raw_connect_port(f->port);
    raw_reset(s);
    s = raw_connect_port(f->port);
    raw_send_str(s, "GET / HTTP/1.1\r\nHo");
    raw_reset(s);
    s = raw_connect_port(f->port);
    raw_send_str(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    usleep(20000);
    raw_reset(s);
    s = raw_connect_port(f->port);
    raw_send_str(s, "GET /sleep/1?s=0.1 HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(20000);
    raw_reset(s); /* gone while the handler sleeps */
    s = raw_connect_port(f->port);
    raw_send_str(s, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_reset(s);
    s = raw_connect_port(f->port);
    raw_send_str(s, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(10000);
    raw_reset(s);
    usleep(200000); /* the sleeping handler finishes into a dead connection */
    /* The server still serves. */
    raw_response_t r;
    s = one(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r, false);
    EXPECT(s >= 0 && r.status == 200, "after resets");
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, peers_reset_at_every_phase)
{
    snprintf(file_path, sizeof file_path, "/tmp/acio-http-file-XXXXXX.txt");
    int fd = mkstemps(file_path, 4);
    cr_assert(fd >= 0);
    file_size = 4 << 20;
    cr_assert_eq(ftruncate(fd, (off_t)file_size), 0);
    close(fd);
    run_fixture(c_resets);
    unlink(file_path);
}

/* A client that never reads a big response is dropped after write_timeout. */
static int c_stall(fixture_t *f)
{
    int s = raw_connect_port(f->port);
    raw_send_str(s, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(600000); /* not reading: the server gives up after write_timeout */
    static char buf[1 << 16];
    size_t total = 0;
    ssize_t n;
    while ((n = recv(s, buf, sizeof buf, 0)) > 0)
        total += (size_t)n;
    EXPECT(total < file_size, "the whole file arrived (%zu bytes): not dropped", total);
    close(s);
    raw_response_t r;
    s = one(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r, false);
    EXPECT(s >= 0 && r.status == 200, "after stall");
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, stalled_reader_dropped)
{
    snprintf(file_path, sizeof file_path, "/tmp/acio-http-file-XXXXXX.txt");
    int fd = mkstemps(file_path, 4);
    cr_assert(fd >= 0);
    file_size = 64 << 20;
    cr_assert_eq(ftruncate(fd, (off_t)file_size), 0);
    close(fd);
    fx.cfg.write_timeout = 0.2;
    run_fixture(c_stall);
    unlink(file_path);
    const char *log = read_log();
    cr_expect(strstr(log, "\"GET /file HTTP/1.1\" 200 ") != NULL, "log: %s", log);
}

/* ---- allocation failures ---- */

extern void acio__alloc_fail_after(long n);

static int c_oom(fixture_t *f)
{
    /* Fail the nth allocation from here, for every n the request cycle makes; the client
     * side here makes no acio allocation. */
    for (long n = 1; n <= 60; n++) {
        acio__alloc_fail_after(n);
        int s = raw_connect_port(f->port);
        if (s < 0)
            continue;
        raw_send_str(s, "POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n{\"a\": 1}"
                        "GET /sleep/1?s=0.001 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        static char all[8192];
        raw_read_all(s, all, sizeof all);
        close(s);
        acio__alloc_fail_after(0);
    }
    raw_response_t r;
    int s = one(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r, false);
    EXPECT(s >= 0 && r.status == 200, "after allocation failures");
    raw_response_free(&r);
    close(s);
    return 0;
}

Test(http_server, allocation_failures_do_not_crash_or_leak)
{
    fx.cfg.access_log = false;
    run_fixture(c_oom);
    /* Failed allocations in the accept path are reported to the loop's handler; that is
     * the behaviour under test, not a problem. */
    problems = 0;
}

/* ---- limits and half-close ---- */

static int c_limit(fixture_t *f)
{
    int a = raw_connect_port(f->port), b = raw_connect_port(f->port);
    EXPECT(a >= 0 && b >= 0, "connect");
    usleep(50000);
    int c = raw_connect_port(f->port);
    static char all[4096];
    raw_read_all(c, all, sizeof all);
    close(c);
    EXPECT(strncmp(all, "HTTP/1.1 503 ", 13) == 0, "third connection: %s", all);
    /* The two admitted ones are served. */
    raw_response_t r;
    static raw_reader_t rd;
    raw_reader_init(&rd, a);
    EXPECT(raw_ask(&rd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r, false) == 0 && r.status == 200,
           "admitted");
    raw_response_free(&r);
    close(a);
    close(b);
    return 0;
}

Test(http_server, connection_limit_503)
{
    fx.cfg.max_connections = 2;
    run_fixture(c_limit);
}

static int c_halfclose(fixture_t *f)
{
    /* Requests, then shutdown(SHUT_WR) at once (as `printf ... | nc` does): every
     * complete request is answered, the awaiting one included, then the close. */
    static raw_reader_t rd;
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    int s = rd.s;
    raw_send_str(s, "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /sleep/2?s=0.05 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /items/4 HTTP/1.1\r\nHo");
    shutdown(s, SHUT_WR);
    raw_response_t r;
    const char *want[] = {"{\"item_id\":\"1\"}", "/sleep/2", "{\"item_id\":\"3\"}"};
    for (int i = 0; i < 3; i++) {
        EXPECT(raw_read_response(&rd, &r, false, false) == 0, "answer %d missing", i);
        EXPECT(strcmp(r.body, want[i]) == 0, "answer %d: %s", i, r.body);
        raw_response_free(&r);
    }
    EXPECT(raw_closed(s), "not closed after the answers");
    close(s);
    return 0;
}

Test(http_server, half_close_answers_what_is_complete)
{
    run_fixture(c_halfclose);
}

static int h_hdr(acio_http_request_t *req, void *arg)
{
    (void)arg;
    int bad1 = acio_http_respond_header(req, "X-Ok", "a\r\nSet-Cookie: evil=1");
    int bad2 = acio_http_respond_header(req, "Bad Name", "v");
    int bad3 = acio_http_respond_header(req, "Content-Length", "3");
    int ok = acio_http_respond_header(req, "X-Ok", "fine");
    char out[128];
    snprintf(out, sizeof out, "%s %s %d %d", acio_err_name(bad1), acio_err_name(bad2), bad3, ok);
    acio_http_respond_text(req, 200, out);
    return acio_http_respond_header(req, "X-Late", "x") == ACIO_EHTTP_RESPONDED ? 0 : -EPROTO;
}

static int c_hdr(fixture_t *f)
{
    raw_response_t r;
    EXPECT(ask(f, "GET /hdr HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0, "hdr");
    char v[64];
    EXPECT(r.status == 200 && raw_header(&r, "X-Ok", v, sizeof v) && strcmp(v, "fine") == 0 &&
               !strstr(r.head, "evil"),
           "head: %s", r.head);
    EXPECT(strcmp(r.body, "ACIO_EHTTP_INVALID_VALUE ACIO_EHTTP_INVALID_NAME -22 0") == 0, "body %s",
           r.body);
    raw_response_free(&r);
    return 0;
}

Test(http_server, response_headers_refuse_injection)
{
    cr_assert_eq(acio_http_app_route(fx.app, "GET", "/hdr", h_hdr, NULL), 0);
    run_fixture(c_hdr);
}

/* A long pipeline behind a handler that awaits: the read buffer cannot grow under a
 * running handler, so reading pauses, then resumes; every answer comes, in order. */
static int c_flood(fixture_t *f)
{
    static raw_reader_t rd;
    EXPECT(raw_open(&rd, f->port) == 0, "connect");
    int s = rd.s;
    enum { N = 2000 };
    size_t cap = 64 + N * 48;
    char *all = malloc(cap);
    size_t len = (size_t)sprintf(all, "GET /sleep/0?s=0.05 HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 1; i <= N; i++)
        len += (size_t)sprintf(all + len, "GET /items/%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
    int rc = raw_send(s, all, len);
    free(all);
    EXPECT(rc == 0, "send");
    raw_response_t r;
    EXPECT(raw_read_response(&rd, &r, false, false) == 0 && strcmp(r.body, "/sleep/0") == 0,
           "first answer");
    raw_response_free(&r);
    for (int i = 1; i <= N; i++) {
        char want[64];
        snprintf(want, sizeof want, "{\"item_id\":\"%d\"}", i);
        EXPECT(raw_read_response(&rd, &r, false, false) == 0, "answer %d missing", i);
        bool same = strcmp(r.body, want) == 0;
        raw_response_free(&r);
        EXPECT(same, "answer %d out of order", i);
    }
    close(s);
    return 0;
}

Test(http_server, long_pipeline_behind_an_awaiting_handler)
{
    fx.cfg.access_log = false;
    run_fixture(c_flood);
}

/* ---- shutdown past its deadline ---- */

static int c_cancelled(fixture_t *f)
{
    raw_response_t r;
    int s = one(f, "GET /sleep/9?s=30 HTTP/1.1\r\nHost: x\r\n\r\n", &r, false);
    EXPECT(s >= 0, "no answer to the request in flight");
    EXPECT(r.status == 503, "cancelled handler: %d", r.status);
    raw_response_free(&r);
    EXPECT(raw_closed(s), "not closed");
    close(s);
    return 0;
}

static void *deadline_main(void *arg)
{
    fixture_t *f = arg;
    watch_problems();
    acio_http_server_t *srv;
    int rc = acio_http_server_start(NULL, f->app, &f->cfg, &srv);
    CHECK(rc == 0, "server_start: %s", acio_strerror(rc));
    f->port = acio_http_server_port(srv);
    acio_future_t *client;
    rc = acio_loop_run_in_executor(acio_get_running_loop(), NULL, client_job, f, &client);
    CHECK(rc == 0, "executor: %s", acio_strerror(rc));
    while (acio_http_server_connections(srv) == 0 && rc == 0)
        rc = acio_sleep(0.01);
    if (rc == 0)
        rc = acio_sleep(0.1); /* the handler is asleep */
    int src = acio_http_server_shutdown(srv, 0.2);
    int crc = acio_await(client, NULL);
    const char *msg = acio_future_error_message(client);
    char text[600];
    snprintf(text, sizeof text, "%s", msg ? msg : "");
    acio_future_unref(client);
    acio_http_server_free(srv);
    CHECK(rc == 0, "sleep: %s", acio_strerror(rc));
    CHECK(src == -ETIMEDOUT, "shutdown: %s", acio_strerror(src));
    CHECK(crc == 0, "client: %s", text);
    return NULL;
}

Test(http_server, shutdown_deadline_cancels_handlers_503)
{
    fx.client = c_cancelled;
    run_ok(deadline_main, &fx);
}
