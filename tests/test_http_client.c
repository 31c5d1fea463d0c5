/* The HTTP client against a scripted server (support/http_script.h): requests and their
 * exact bytes, responses (status, headers, read / text / json / streaming), keep-alive
 * reuse and the retry of a dead kept-alive connection, redirects, content decoding and
 * the decompression-bomb cap, cookies, and every error path: refused, reset in the head
 * and in the body, truncated chunked body, bad status line, oversized head, redirect
 * loop, a timeout at each phase (pool wait, connect, headers, body stall, total), a
 * session closed under a waiting request, a session left open at loop close, and many
 * concurrent requests with random cancellations leaking no slot or connection. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acio.h"
#include "http/client_int.h" /* the DNS cache test looks inside */
#include "support/check.h"
#include "support/fds.h"
#include "support/http_script.h"

/* Run fn(arg) as the main task with the scripted server up; no fd may leak. */
typedef void *(*test_fn)(void *);
static test_fn the_test;

static void *with_server(void *arg)
{
    int rc = ts_start();
    if (rc < 0)
        return acio_raise(rc, "server: %s", acio_strerror(rc));
    void *res = the_test(arg);
    ts_stop();
    return res;
}

static void run_test(test_fn fn, void *arg)
{
    int before = count_fds();
    the_test = fn;
    run_ok(with_server, arg);
    cr_assert_eq(count_fds(), before, "fds open before %d, after %d", before, count_fds());
}

static acio_http_session_t *session(const acio_http_session_opts_t *o)
{
    acio_http_session_t *s = NULL;
    int rc = acio_http_session_new(&s, o);
    cr_assert_eq(rc, 0, "session_new: %s", acio_err_name(rc));
    return s;
}

/* GET path and read the whole body; returns the error code, body in *body (static). */
static int get_body(acio_http_session_t *s, const char *path, int *status, char *body, size_t cap)
{
    acio_http_response_t *r;
    int rc = acio_http_get(s, ts_url(path), &r);
    if (rc < 0)
        return rc;
    if (status)
        *status = acio_http_response_status(r);
    const void *b;
    size_t len;
    rc = acio_http_response_read(r, &b, &len);
    if (rc == 0 && body) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(body, b, n);
        body[n] = '\0';
    }
    acio_http_response_release(r);
    return rc;
}

/* ---- basics ---- */

static void *t_get(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    acio_http_response_t *r;
    int rc = acio_http_get(s, ts_url("/ok"), &r);
    CHECK(rc == 0, "get: %s", acio_err_name(rc));
    CHECK(acio_http_response_status(r) == 200, "status %d", acio_http_response_status(r));
    CHECK(strcmp(acio_http_response_reason(r), "OK") == 0, "reason '%s'",
          acio_http_response_reason(r));
    CHECK(acio_http_response_version(r) == 11, "version");
    CHECK(acio_http_response_content_length(r) == 5, "content length");
    CHECK(strcmp(acio_http_response_header(r, "x-MULTI"), "a") == 0, "first of a repeated header");
    CHECK(acio_http_response_header_count(r) == 3, "3 headers, got %zu",
          acio_http_response_header_count(r));
    const char *n, *v;
    CHECK(acio_http_response_header_at(r, 2, &n, &v) == 0 && !strcmp(n, "x-multi") &&
              !strcmp(v, "b"),
          "order kept");
    const void *b;
    size_t len;
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == 0 && len == 5 && memcmp(b, "hello", 5) == 0, "body: %s", acio_err_name(rc));
    CHECK(acio_http_response_at_eof(r), "at eof");
    /* read() again gives the same bytes */
    const void *b2;
    rc = acio_http_response_read(r, &b2, &len);
    CHECK(rc == 0 && b2 == b && len == 5, "read again");
    size_t idle = 0;
    CHECK(acio_http_session_connections(s, &idle) == 1 && idle == 1,
          "the connection went back to the pool when the body ended");
    acio_http_response_release(r);
    /* A second request reuses the connection. */
    int st;
    char body[64];
    rc = get_body(s, "/ok", &st, body, sizeof body);
    CHECK(rc == 0 && st == 200 && !strcmp(body, "hello"), "second get");
    CHECK(ts.connections == 1, "one connection for two requests, got %d", ts.connections);
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, get_status_headers_body_keepalive, .timeout = 60)
{
    run_test(t_get, NULL);
}

static void *t_request_bytes(void *arg)
{
    (void)arg;
    acio_http_session_opts_t so = {0};
    acio_http_field_t sh[] = {{"X-Session", "s"}, {"User-Agent", "sess-agent"}};
    so.headers = sh;
    so.nheaders = 2;
    acio_http_session_t *s = session(&so);
    acio_http_field_t h[] = {{"X-One", "1"}, {"x-one", "2"}, {"User-Agent", "req-agent"}};
    acio_http_field_t params[] = {{"q", "a b&c"}, {"x", "é"}};
    acio_http_request_opts_t o = {0};
    o.headers = h;
    o.nheaders = 3;
    o.params = params;
    o.nparams = 2;
    o.body = "payload";
    o.body_len = 7;
    o.auth_user = "user";
    o.auth_password = "pass";
    acio_http_response_t *r;
    int rc = acio_http_request(s, "PUT", ts_url("/echo?k=v"), &o, &r);
    CHECK(rc == 0, "put: %s", acio_err_name(rc));
    const void *b;
    size_t len;
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == 0, "read: %s", acio_err_name(rc));
    char expect[1024];
    snprintf(expect, sizeof expect,
             "PUT /echo?k=v&q=a+b%%26c&x=%%C3%%A9 HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n"
             "X-Session: s\r\n"
             "X-One: 1\r\n"
             "x-one: 2\r\n"
             "User-Agent: req-agent\r\n"
             "Accept: */*\r\n"
             "Accept-Encoding: gzip, deflate, br, zstd\r\n"
             "Authorization: Basic dXNlcjpwYXNz\r\n"
             "Content-Type: application/octet-stream\r\n"
             "Content-Length: 7\r\n"
             "\r\n"
             "payload",
             ts.port);
    CHECK(len == strlen(expect) && memcmp(b, expect, len) == 0,
          "request bytes:\n%.*s\nexpected:\n%s", (int)len, (const char *)b, expect);
    acio_http_response_release(r);

    /* Form fields and JSON. */
    acio_http_field_t form[] = {{"name", "x y"}, {"v", "1"}};
    acio_http_request_opts_t fo = {0};
    fo.form = form;
    fo.nform = 2;
    rc = acio_http_request(s, "POST", ts_url("/echo"), &fo, &r);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0, "form post");
    CHECK(strstr(b, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\n\r\n"
                    "name=x+y&v=1"),
          "form body: %s", (const char *)b);
    acio_http_response_release(r);
    acio_http_request_opts_t jo = {0};
    jo.json = "{\"k\": 1}";
    rc = acio_http_request(s, "POST", ts_url("/echo"), &jo, &r);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0, "json post");
    CHECK(strstr(b, "Content-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"k\": 1}"),
          "json body: %s", (const char *)b);
    acio_http_response_release(r);
    /* Headers from an acio_http_headers_t list, after the array's. */
    acio_http_headers_t list;
    acio_http_headers_init(&list);
    CHECK(acio_http_headers_add(&list, "X-List", "one") == 0 &&
              acio_http_headers_add(&list, "x-list", "two") == 0,
          "list");
    acio_http_field_t first[] = {{"X-First", "0"}};
    acio_http_request_opts_t lo = {0};
    lo.headers = first;
    lo.nheaders = 1;
    lo.header_list = &list;
    rc = acio_http_request(s, "GET", ts_url("/echo"), &lo, &r);
    acio_http_headers_close(&list);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0, "header list: %s",
          acio_err_name(rc));
    CHECK(strstr(b, "X-First: 0\r\nX-List: one\r\nx-list: two\r\n"), "list headers: %s",
          (const char *)b);
    acio_http_response_release(r);
    /* Header injection is refused. */
    acio_http_field_t bad[] = {{"X-Evil", "a\r\nInjected: 1"}};
    acio_http_request_opts_t bo = {0};
    bo.headers = bad;
    bo.nheaders = 1;
    rc = acio_http_request(s, "GET", ts_url("/ok"), &bo, &r);
    CHECK(rc == -EINVAL, "CRLF in a header value: %s", acio_err_name(rc));
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, request_bytes_params_auth_form_json, .timeout = 60)
{
    run_test(t_request_bytes, NULL);
}

typedef struct {
    int pieces;
} gen_t;

static ssize_t gen_body(void *data, void *buf, size_t cap)
{
    gen_t *g = data;
    if (g->pieces == 3)
        return 0;
    if (acio_sleep(0.001) < 0) /* a body callback may await */
        return -ECANCELED;
    const char *p[] = {"abc", "defgh", "i"};
    size_t n = strlen(p[g->pieces]);
    if (n > cap)
        return -ENOBUFS;
    memcpy(buf, p[g->pieces++], n);
    return (ssize_t)n;
}

static void *t_chunked_upload(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    gen_t g = {0};
    acio_http_request_opts_t o = {0};
    o.body_cb = gen_body;
    o.body_cb_data = &g;
    o.content_type = "text/plain";
    acio_http_response_t *r;
    int rc = acio_http_request(s, "POST", ts_url("/echo"), &o, &r);
    CHECK(rc == 0, "post: %s", acio_err_name(rc));
    const void *b;
    size_t len;
    CHECK(acio_http_response_read(r, &b, &len) == 0, "read");
    CHECK(strstr(b,
                 "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n1\r\ni\r\n0\r\n\r\n"),
          "chunked body: %s", (const char *)b);
    acio_http_response_release(r);
    /* A file body. */
    char path[] = "/tmp/acio-hc-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    CHECK(write(fd, "file-contents", 13) == 13, "write");
    close(fd);
    acio_http_request_opts_t fo = {0};
    fo.file_path = path;
    rc = acio_http_request(s, "POST", ts_url("/echo"), &fo, &r);
    unlink(path);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0, "file post: %s", acio_err_name(rc));
    CHECK(strstr(b, "Content-Length: 13\r\n\r\nfile-contents"), "file body: %s", (const char *)b);
    acio_http_response_release(r);
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, chunked_and_file_uploads, .timeout = 60)
{
    run_test(t_chunked_upload, NULL);
}

static void *t_text_json_status(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    acio_http_response_t *r;
    CHECK(acio_http_get(s, ts_url("/latin1"), &r) == 0, "get latin1");
    CHECK(!strcmp(acio_http_response_charset(r), "iso-8859-1"), "charset '%s'",
          acio_http_response_charset(r));
    const char *t;
    size_t len;
    int rc = acio_http_response_text(r, &t, &len);
    CHECK(rc == 0 && len == 5 && !strcmp(t, "caf\xc3\xa9"), "text converted to UTF-8: %s",
          acio_err_name(rc));
    acio_http_response_release(r);
    CHECK(acio_http_get(s, ts_url("/json"), &r) == 0, "get json");
    json_t *j;
    rc = acio_http_response_json(r, &j);
    CHECK(rc == 0 && json_is_object(j) && json_array_size(json_object_get(j, "a")) == 2, "json");
    json_decref(j);
    acio_http_response_release(r);
    CHECK(acio_http_get(s, ts_url("/text"), &r) == 0, "get text");
    rc = acio_http_response_json(r, &j);
    CHECK(rc == ACIO_EHTTP_JSON, "not json: %s", acio_err_name(rc));
    acio_http_response_release(r);
    CHECK(acio_http_get(s, ts_url("/notfound"), &r) == 0, "404 is a response");
    CHECK(acio_http_response_raise_for_status(r) == ACIO_EHTTP_STATUS, "raise_for_status");
    acio_http_response_release(r);
    acio_http_request_opts_t o = {0};
    o.raise_for_status = true;
    rc = acio_http_request(s, "GET", ts_url("/notfound"), &o, &r);
    CHECK(rc == ACIO_EHTTP_STATUS && r == NULL, "raise_for_status option: %s", acio_err_name(rc));
    /* HEAD: no body even with a Content-Length. */
    rc = acio_http_request(s, "HEAD", ts_url("/head"), NULL, &r);
    CHECK(rc == 0 && acio_http_response_content_length(r) == 1000, "head");
    const void *b;
    CHECK(acio_http_response_read(r, &b, &len) == 0 && len == 0, "head has no body");
    acio_http_response_release(r);
    /* 1xx interim responses are skipped. */
    char body[64];
    int st;
    rc = get_body(s, "/continue", &st, body, sizeof body);
    CHECK(rc == 0 && st == 200 && !strcmp(body, "ok"), "after 100 Continue");
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, text_json_raise_for_status_head_interim, .timeout = 60)
{
    run_test(t_text_json_status, NULL);
}

/* ---- streaming ---- */

static void *t_streaming(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    size_t n = 3u << 20;
    char *expect = ts_big(n);
    /* readany */
    acio_http_response_t *r;
    CHECK(acio_http_get(s, ts_url("/big/3145728"), &r) == 0, "get big");
    size_t got = 0;
    int pieces = 0;
    for (;;) {
        const void *p;
        ssize_t k = acio_http_response_readany(r, &p);
        CHECK(k >= 0, "readany: %s", acio_err_name((int)k));
        if (k == 0)
            break;
        CHECK(got + (size_t)k <= n && memcmp(p, expect + got, (size_t)k) == 0, "bytes at %zu", got);
        got += (size_t)k;
        pieces++;
        if (pieces % 7 == 0)
            CHECK(acio_sleep(0.001) == 0, "sleep"); /* let more arrive meanwhile */
    }
    CHECK(got == n, "got %zu of %zu", got, n);
    acio_http_response_release(r);
    /* read_chunk(1000) */
    CHECK(acio_http_get(s, ts_url("/big/100000"), &r) == 0, "get");
    char buf[1000];
    got = 0;
    for (;;) {
        ssize_t k = acio_http_response_read_chunk(r, buf, sizeof buf);
        CHECK(k >= 0, "read_chunk");
        if (k == 0)
            break;
        CHECK((size_t)k <= sizeof buf && memcmp(buf, expect + got, (size_t)k) == 0, "chunk at %zu",
              got);
        got += (size_t)k;
    }
    CHECK(got == 100000, "read_chunk total %zu", got);
    acio_http_response_release(r);
    /* readline */
    CHECK(acio_http_get(s, ts_url("/big/1000000"), &r) == 0, "get");
    char line[128];
    ssize_t k = acio_http_response_readline(r, line, sizeof line);
    CHECK(k == 64 && line[63] == '\n' && !memcmp(line, expect, 64), "first line %zd", k);
    k = acio_http_response_readline(r, line, 10);
    CHECK(k == -ENOBUFS, "a line longer than the buffer: %zd", k);
    k = acio_http_response_readline(r, line, sizeof line);
    CHECK(k == 54 && !memcmp(line, expect + 74, 54), "rest of line 2: %zd", k);
    acio_http_response_release(r);
    /* Released in the middle of a body still arriving: the connection is closed. */
    CHECK(acio_http_get(s, ts_url("/stall-body"), &r) == 0, "get stall");
    CHECK(acio_http_response_read_chunk(r, line, 5) == 5, "part of the body");
    acio_http_response_release(r);
    CHECK(acio_http_session_connections(s, NULL) == 0, "a half-read response's connection closed");
    CHECK(acio_http_get(s, ts_url("/chunked"), &r) == 0, "get chunked");
    const void *b;
    size_t len;
    CHECK(acio_http_response_read(r, &b, &len) == 0 && len == 11 && !memcmp(b, "hello world", 11),
          "chunked body");
    CHECK(acio_http_response_content_length(r) == -1, "no length for chunked");
    acio_http_response_release(r);
    /* A body delimited by the close. */
    CHECK(acio_http_get(s, ts_url("/eof/5000"), &r) == 0, "get eof body");
    CHECK(acio_http_response_read(r, &b, &len) == 0 && len == 5000 && !memcmp(b, expect, 5000),
          "eof body %zu", len);
    acio_http_response_release(r);
    free(expect);
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, streaming_readany_chunk_readline_eof_body, .timeout = 60)
{
    run_test(t_streaming, NULL);
}

/* ---- decoding ---- */

static void *t_decoding(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    char *expect = ts_big(100000);
    const char *codings[] = {"gzip", "deflate", "br", "zstd"};
    for (int i = 0; i < 4; i++) {
        char path[32];
        snprintf(path, sizeof path, "/enc/%s", codings[i]);
        acio_http_response_t *r;
        CHECK(acio_http_get(s, ts_url(path), &r) == 0, "get %s", path);
        const void *b;
        size_t len;
        int rc = acio_http_response_read(r, &b, &len);
        CHECK(rc == 0 && len == 100000 && !memcmp(b, expect, len), "%s: %s, %zu bytes", codings[i],
              acio_err_name(rc), len);
        acio_http_response_release(r);
    }
    free(expect);
    acio_http_response_t *r;
    CHECK(acio_http_get(s, ts_url("/badenc"), &r) == 0, "get badenc");
    const void *b;
    size_t len;
    int rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_DECODE, "corrupt gzip: %s", acio_err_name(rc));
    acio_http_response_release(r);
    acio_http_session_close(s);
    /* The bomb: 64 MiB of zeros in ~64 KiB of gzip, against a 4 MiB cap. */
    acio_http_session_opts_t so = {0};
    so.max_decoded_size = 4u << 20;
    s = session(&so);
    CHECK(acio_http_get(s, ts_url("/bomb"), &r) == 0, "get bomb");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_BOMB, "size cap: %s", acio_err_name(rc));
    acio_http_response_release(r);
    acio_http_session_close(s);
    /* ... and against the ratio limit alone. */
    so.max_decoded_size = 0;
    so.max_decode_ratio = 100;
    s = session(&so);
    CHECK(acio_http_get(s, ts_url("/bomb"), &r) == 0, "get bomb");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_BOMB, "ratio cap: %s", acio_err_name(rc));
    acio_http_response_release(r);
    acio_http_session_close(s);
    /* no_decompress hands the coded bytes over. */
    so.max_decode_ratio = 0;
    so.no_decompress = true;
    s = session(&so);
    CHECK(acio_http_get(s, ts_url("/enc/gzip"), &r) == 0, "get gzip raw");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == 0 && len < 100000 && ((const unsigned char *)b)[0] == 0x1f, "raw gzip");
    acio_http_response_release(r);
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, content_decoding_and_bomb_caps, .timeout = 60)
{
    run_test(t_decoding, NULL);
}

/* ---- redirects and cookies ---- */

static void *t_redirects(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    acio_http_response_t *r;
    acio_http_request_opts_t o = {0};
    o.body = "data";
    o.body_len = 4;
    /* 303 after POST: GET, no body */
    int rc = acio_http_request(s, "POST", ts_url("/redirect/303/echo"), &o, &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 200, "303: %s", acio_err_name(rc));
    const void *b;
    size_t len;
    CHECK(acio_http_response_read(r, &b, &len) == 0, "read");
    CHECK(!strncmp(b, "GET /echo HTTP/1.1", 18) && !strstr(b, "Content-Length"),
          "303 turns POST into GET: %s", (const char *)b);
    CHECK(acio_http_response_history_count(r) == 1, "history");
    const acio_http_response_t *h = acio_http_response_history(r, 0);
    CHECK(acio_http_response_status(h) == 303 && strstr(acio_http_response_url(h), "/redirect/303"),
          "history[0]");
    CHECK(strstr(acio_http_response_url(r), "/echo") != NULL, "final url %s",
          acio_http_response_url(r));
    acio_http_response_release(r);
    /* 307 keeps the method and body */
    rc = acio_http_request(s, "POST", ts_url("/redirect/307/echo"), &o, &r);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0, "307");
    CHECK(!strncmp(b, "POST /echo", 10) && strstr(b, "\r\n\r\ndata"), "307 keeps POST: %s",
          (const char *)b);
    acio_http_response_release(r);
    /* 302 after POST: GET */
    rc = acio_http_request(s, "POST", ts_url("/redirect/302/echo"), &o, &r);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0, "302");
    CHECK(!strncmp(b, "GET /echo", 9), "302 turns POST into GET");
    acio_http_response_release(r);
    /* Authorization is dropped when the redirect leaves the origin (127.0.0.1 ->
     * localhost), kept when it does not. */
    char target[128];
    snprintf(target, sizeof target, "/redirect/302/http://localhost:%d/echo", ts.port);
    acio_http_request_opts_t ao = {0};
    ao.auth_user = "u";
    ao.auth_password = "p";
    rc = acio_http_request(s, "GET", ts_url(target), &ao, &r);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0, "cross-origin: %s",
          acio_err_name(rc));
    CHECK(!strstr(b, "Authorization"), "Authorization dropped across hosts: %s", (const char *)b);
    acio_http_response_release(r);
    rc = acio_http_request(s, "GET", ts_url("/redirect/301/echo"), &ao, &r);
    CHECK(rc == 0 && acio_http_response_read(r, &b, &len) == 0, "same origin");
    CHECK(strstr(b, "Authorization: Basic"), "Authorization kept on the same origin");
    acio_http_response_release(r);
    /* A loop ends with an error after max_redirects. */
    rc = acio_http_get(s, ts_url("/loop"), &r);
    CHECK(rc == ACIO_EHTTP_TOO_MANY_REDIRECTS && !r, "loop: %s", acio_err_name(rc));
    /* Not following. */
    acio_http_request_opts_t no = {0};
    no.no_redirects = true;
    rc = acio_http_request(s, "GET", ts_url("/loop"), &no, &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 302, "no_redirects");
    acio_http_response_release(r);
    /* A redirect to another scheme is refused. */
    rc = acio_http_get(s, ts_url("/redirect/302/ftp://x/y"), &r);
    CHECK(rc == ACIO_EHTTP_SCHEME, "ftp redirect: %s", acio_err_name(rc));
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, redirects_method_body_auth_loop, .timeout = 60)
{
    run_test(t_redirects, NULL);
}

static void *t_cookies(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    char body[64];
    CHECK(get_body(s, "/setcookie", NULL, body, sizeof body) == 0, "setcookie");
    CHECK(get_body(s, "/ok", NULL, body, sizeof body) == 0, "ok");
    CHECK(!strcmp(ts.last_cookie, "sid=abc"), "cookie sent back: '%s'", ts.last_cookie);
    acio_http_session_close(s);
    acio_http_session_opts_t so = {0};
    so.no_cookies = true;
    s = session(&so);
    CHECK(get_body(s, "/setcookie", NULL, body, sizeof body) == 0, "setcookie");
    CHECK(get_body(s, "/ok", NULL, body, sizeof body) == 0, "ok");
    CHECK(!strcmp(ts.last_cookie, ""), "no jar: no cookie, got '%s'", ts.last_cookie);
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, cookie_jar, .timeout = 60)
{
    run_test(t_cookies, NULL);
}

/* ---- keep-alive ---- */

static void *t_retry(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    char body[64];
    int st;
    CHECK(get_body(s, "/once", &st, body, sizeof body) == 0 && !strcmp(body, "once"), "first");
    /* The server drops the kept-alive connection when the next request arrives: the GET
     * is retried once on a new connection. */
    int rc = get_body(s, "/once", &st, body, sizeof body);
    CHECK(rc == 0 && !strcmp(body, "once"), "retried: %s", acio_err_name(rc));
    CHECK(ts.connections == 2, "two connections, got %d", ts.connections);
    /* A POST is not retried. */
    CHECK(get_body(s, "/ok", &st, body, sizeof body) == 0, "ok");
    acio_http_response_t *r;
    rc = acio_http_post(s, ts_url("/once"), "x", 1, &r);
    CHECK(rc == ACIO_EHTTP_DISCONNECTED, "post on a dropped connection: %s", acio_err_name(rc));
    /* Connection: close is honoured. */
    CHECK(get_body(s, "/close", &st, body, sizeof body) == 0, "close");
    CHECK(acio_http_session_connections(s, NULL) == 0, "closed, not pooled");
    /* Keep-Alive: timeout=1 expires the idle connection (0.9 s) */
    CHECK(get_body(s, "/keepalive-timeout", &st, body, sizeof body) == 0, "ka");
    size_t idle;
    CHECK(acio_http_session_connections(s, &idle) == 1 && idle == 1, "idle");
    WAIT_UNTIL(acio_http_session_connections(s, NULL) == 0);
    CHECK(acio_http_session_connections(s, NULL) == 0, "expired");
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, keepalive_retry_close_expiry, .timeout = 60)
{
    run_test(t_retry, NULL);
}

/* ---- error paths ---- */

static void *t_errors(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    acio_http_response_t *r;
    const void *b;
    size_t len;
    /* refused: a port nobody listens on */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    int rc = acio_http_get(s, url, &r);
    CHECK(rc == -ECONNREFUSED, "refused: %s", acio_err_name(rc));
    rc = acio_http_get(s, ts_url("/reset-head"), &r);
    CHECK(rc == -ECONNRESET || rc == ACIO_EHTTP_DISCONNECTED, "reset in the head: %s",
          acio_err_name(rc));
    rc = acio_http_get(s, ts_url("/reset-body"), &r);
    CHECK(rc == 0, "head before the reset");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == -ECONNRESET, "reset in the body: %s", acio_err_name(rc));
    acio_http_response_release(r);
    rc = acio_http_get(s, ts_url("/close-body"), &r);
    CHECK(rc == 0, "head");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_TRUNCATED, "close in the body: %s", acio_err_name(rc));
    acio_http_response_release(r);
    rc = acio_http_get(s, ts_url("/trunc-chunked"), &r);
    CHECK(rc == 0, "head");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_TRUNCATED, "truncated chunked: %s", acio_err_name(rc));
    acio_http_response_release(r);
    rc = acio_http_get(s, ts_url("/bad-status"), &r);
    CHECK(rc < 0 && rc != ACIO_EHTTP_DISCONNECTED && rc > ACIO_ERR_BASE - 300 &&
              rc <= ACIO_ERR_BASE - 200,
          "bad status line gives a parser code: %s", acio_err_name(rc));
    rc = acio_http_get(s, ts_url("/big-headers"), &r);
    CHECK(rc < 0 && rc > ACIO_ERR_BASE - 300 && rc <= ACIO_ERR_BASE - 200,
          "oversized head gives a parser code: %s", acio_err_name(rc));
    rc = acio_http_get(s, "ftp://127.0.0.1/x", &r);
    CHECK(rc == ACIO_EHTTP_SCHEME, "ftp: %s", acio_err_name(rc));
    rc = acio_http_get(s, "not a url", &r);
    CHECK(rc < 0, "bad url: %s", acio_err_name(rc));
    CHECK(acio_http_session_connections(s, NULL) == 0, "no connection left after errors: %zu",
          acio_http_session_connections(s, NULL));
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, refused_reset_truncated_bad_status_oversized, .timeout = 60)
{
    run_test(t_errors, NULL);
}

static void *t_timeouts(void *arg)
{
    (void)arg;
    acio_http_session_opts_t so = {0};
    so.timeout.sock_read = 0.2;
    acio_http_session_t *s = session(&so);
    acio_http_response_t *r;
    const void *b;
    size_t len;
    int rc = acio_http_get(s, ts_url("/stall-head"), &r);
    CHECK(rc == ACIO_EHTTP_HEADERS_TIMEOUT, "headers: %s", acio_err_name(rc));
    rc = acio_http_get(s, ts_url("/stall-body"), &r);
    CHECK(rc == 0, "head arrives");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_READ_TIMEOUT, "body stall: %s", acio_err_name(rc));
    acio_http_response_release(r);
    /* total: each byte comes within sock_read, the whole does not within total */
    acio_http_timeout_t t = {.total = 0.5, .sock_read = 0.2};
    acio_http_request_opts_t o = {0};
    o.timeout = &t;
    rc = acio_http_request(s, "GET", ts_url("/trickle"), &o, &r);
    CHECK(rc == 0, "trickle head");
    rc = acio_http_response_read(r, &b, &len);
    CHECK(rc == ACIO_EHTTP_TOTAL_TIMEOUT, "total: %s", acio_err_name(rc));
    acio_http_response_release(r);
    CHECK(acio_http_session_connections(s, NULL) == 0, "timed-out connections closed");
    acio_http_session_close(s);

    /* pool wait: one connection, held by a response whose body is not read */
    acio_http_session_opts_t po = {0};
    po.limit = 1;
    s = session(&po);
    acio_http_response_t *held;
    rc = acio_http_get(s, ts_url("/stall-body"), &held);
    CHECK(rc == 0, "holding");
    acio_http_timeout_t ct = {.connect = 0.2};
    o.timeout = &ct;
    rc = acio_http_request(s, "GET", ts_url("/ok"), &o, &r);
    CHECK(rc == ACIO_EHTTP_POOL_TIMEOUT, "pool wait: %s", acio_err_name(rc));
    acio_http_response_release(held); /* frees the slot */
    char body[16];
    CHECK(get_body(s, "/ok", NULL, body, sizeof body) == 0, "the slot is free again");
    acio_http_session_close(s);

    /* connect: a listener whose accept queue is full drops the SYN */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    bind(lfd, (struct sockaddr *)&a, sizeof a);
    getsockname(lfd, (struct sockaddr *)&a, &al);
    listen(lfd, 0);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    CHECK(acio_sleep(0.05) == 0, "sleep");
    acio_http_session_opts_t co = {0};
    co.timeout.sock_connect = 0.3;
    s = session(&co);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    rc = acio_http_get(s, url, &r);
    CHECK(rc == ACIO_EHTTP_CONNECT_TIMEOUT, "connect: %s", acio_err_name(rc));
    /* the same bounded by total instead names total */
    acio_http_timeout_t tt = {.total = 0.2};
    o.timeout = &tt;
    rc = acio_http_request(s, "GET", url, &o, &r);
    CHECK(rc == ACIO_EHTTP_TOTAL_TIMEOUT, "connect under total: %s", acio_err_name(rc));
    acio_http_session_close(s);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    return NULL;
}

Test(http_client, timeout_each_phase, .timeout = 60)
{
    run_test(t_timeouts, NULL);
}

/* ---- sessions ---- */

typedef struct {
    acio_http_session_t *s;
    int rc;
} req_arg_t;

static void *stall_request(void *arg)
{
    req_arg_t *a = arg;
    acio_http_response_t *r = NULL;
    a->rc = acio_http_get(a->s, ts_url("/stall-head"), &r);
    acio_http_response_release(r);
    return NULL;
}

static void *t_close_under(void *arg)
{
    (void)arg;
    acio_http_session_opts_t so = {0};
    so.limit = 1;
    acio_http_session_t *s = session(&so);
    req_arg_t a1 = {s, 1}, a2 = {s, 1};
    acio_task_t *t1, *t2;
    CHECK(acio_create_task(&t1, stall_request, &a1, "in-head") == 0, "task");
    CHECK(acio_create_task(&t2, stall_request, &a2, "in-pool") == 0, "task");
    CHECK(acio_sleep(0.1) == 0, "sleep");
    CHECK(a1.rc == 1 && a2.rc == 1, "both waiting");
    acio_http_session_close(s);
    CHECK(acio_await(t1, NULL) == 0 && acio_await(t2, NULL) == 0, "tasks end");
    acio_future_unref(t1);
    acio_future_unref(t2);
    CHECK(a1.rc == ACIO_EHTTP_SESSION_CLOSED, "waiting for the head: %s", acio_err_name(a1.rc));
    CHECK(a2.rc == ACIO_EHTTP_SESSION_CLOSED, "waiting in the pool: %s", acio_err_name(a2.rc));
    return NULL;
}

Test(http_client, session_closed_under_waiting_requests, .timeout = 60)
{
    run_test(t_close_under, NULL);
}

static int leak_reports;
static char leak_origin[256];

static void on_report(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop;
    (void)data;
    if (strstr(ctx->message, "HTTP client session")) {
        leak_reports++;
        snprintf(leak_origin, sizeof leak_origin, "%s", ctx->origin ? ctx->origin : "");
    }
}

static acio_http_session_t *leaked;

/* Not static: the report names it (-rdynamic exports it). */
void *open_and_forget(void *arg);
void *__attribute__((noinline)) open_and_forget(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), on_report, NULL);
    int rc = ts_start();
    CHECK(rc == 0, "server");
    rc = acio_http_session_new(&leaked, NULL);
    CHECK(rc == 0, "session");
    char body[16];
    CHECK(get_body(leaked, "/ok", NULL, body, sizeof body) == 0, "get");
    acio_server_close(ts.srv);
    acio_server_free(ts.srv);
    return NULL; /* the session is left open, with an idle connection */
}

Test(http_client, session_left_open_is_reported_at_loop_close, .timeout = 60)
{
    int before = count_fds();
    run_ok(open_and_forget, NULL);
    cr_assert_eq(leak_reports, 1, "reported %d times", leak_reports);
    cr_assert(strstr(leak_origin, "open_and_forget") != NULL, "origin '%s'", leak_origin);
    cr_assert_eq(count_fds(), before, "its connection was closed with the loop");
    acio_http_session_close(leaked); /* still safe after the loop closed */
}

/* Many more requests than the pool allows, a random subset cancelled: afterwards no
 * slot, connection or fd is left behind and the pool still works. */
typedef struct {
    acio_http_session_t *s;
    int rc;
    int i;
} many_t;

static void *many_one(void *arg)
{
    many_t *m = arg;
    acio_http_response_t *r = NULL;
    const char *paths[] = {"/ok", "/slow", "/big/200000", "/stall-body", "/chunked"};
    m->rc = acio_http_get(m->s, ts_url(paths[m->i % 5]), &r);
    if (m->rc == 0) {
        const void *b;
        size_t len;
        if (m->i % 5 == 3) /* a stalled body: abandon it half-read */
            m->rc = (int)acio_http_response_read_chunk(r, (void *)&len, sizeof len) < 0;
        else
            m->rc = acio_http_response_read(r, &b, &len);
    }
    acio_http_response_release(r);
    return NULL;
}

static void *t_many_cancel(void *arg)
{
    (void)arg;
    acio_http_session_opts_t so = {0};
    so.limit = 8;
    so.limit_per_host = 6;
    so.timeout.total = 5;
    acio_http_session_t *s = session(&so);
    enum { N = 120 };
    static many_t m[N];
    acio_task_t *t[N];
    srand(42);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            m[i] = (many_t){s, 1, i};
            CHECK(acio_create_task(&t[i], many_one, &m[i], NULL) == 0, "task");
        }
        for (int k = 0; k < 6; k++) {
            CHECK(acio_sleep(0.02 + (rand() % 20) / 1000.0) == 0, "sleep");
            CHECK(acio_http_session_connections(s, NULL) <= 6, "per-host limit holds: %zu",
                  acio_http_session_connections(s, NULL));
            for (int j = 0; j < 10; j++)
                acio_task_cancel(t[rand() % N], NULL);
        }
        /* Cancel the stalled ones so the round ends. */
        for (int i = 3; i < N; i += 5)
            acio_task_cancel(t[i], NULL);
        int ok = 0;
        for (int i = 0; i < N; i++) {
            int rc = acio_await(t[i], NULL);
            CHECK(rc == 0 || rc == -ECANCELED, "task %d: %s", i, acio_err_name(rc));
            acio_future_unref(t[i]);
            ok += m[i].rc == 0;
        }
        CHECK(ok > 0, "some requests succeeded");
        size_t idle;
        size_t open = acio_http_session_connections(s, &idle);
        CHECK(open == idle, "every connection left is idle: %zu open, %zu idle", open, idle);
        char body[16];
        CHECK(get_body(s, "/ok", NULL, body, sizeof body) == 0, "the pool still serves");
    }
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, many_requests_random_cancellation_no_leak, .timeout = 120)
{
    run_test(t_many_cancel, NULL);
}

/* ---- proxies ---- */

static void *t_proxy(void *arg)
{
    (void)arg;
    char proxy[128];
    snprintf(proxy, sizeof proxy, "http://user:pw@127.0.0.1:%d", ts.port);
    acio_http_session_opts_t so = {0};
    so.proxy = proxy;
    acio_http_session_t *s = session(&so);
    /* A host that does not resolve: only the proxy can answer for it. */
    acio_http_response_t *r;
    int rc = acio_http_get(s, "http://unresolvable.invalid/ok", &r);
    CHECK(rc == 0 && acio_http_response_status(r) == 200, "via the proxy: %s", acio_err_name(rc));
    acio_http_response_release(r);
    CHECK(ts.proxied == 1, "the proxy saw an absolute-form request: %d", ts.proxied);
    CHECK(!strcmp(ts.last_proxy_auth, "Basic dXNlcjpwdw=="), "Proxy-Authorization '%s'",
          ts.last_proxy_auth);
    acio_http_session_close(s);
    /* trust_env: http_proxy, and no_proxy exempting a host */
    char env_proxy[64];
    snprintf(env_proxy, sizeof env_proxy, "http://127.0.0.1:%d", ts.port);
    setenv("http_proxy", env_proxy, 1);
    setenv("no_proxy", "localhost, .example.org", 1);
    acio_http_session_opts_t eo = {0};
    eo.trust_env = true;
    s = session(&eo);
    rc = acio_http_get(s, "http://unresolvable.invalid/ok", &r);
    CHECK(rc == 0, "via http_proxy: %s", acio_err_name(rc));
    acio_http_response_release(r);
    CHECK(ts.proxied == 2, "proxied twice: %d", ts.proxied);
    char url[64];
    snprintf(url, sizeof url, "http://localhost:%d/ok", ts.port);
    rc = acio_http_get(s, url, &r);
    CHECK(rc == 0, "direct: %s", acio_err_name(rc));
    acio_http_response_release(r);
    CHECK(ts.proxied == 2, "no_proxy host went direct: %d", ts.proxied);
    acio_http_session_close(s);
    /* Without trust_env the environment is ignored. */
    s = session(NULL);
    rc = acio_http_get(s, ts_url("/ok"), &r);
    CHECK(rc == 0 && ts.proxied == 2, "environment ignored by default");
    acio_http_response_release(r);
    acio_http_session_close(s);
    unsetenv("http_proxy");
    unsetenv("no_proxy");
    return NULL;
}

Test(http_client, http_proxy_explicit_and_environment, .timeout = 60)
{
    run_test(t_proxy, NULL);
}

/* ---- the DNS cache (looked at from inside) ---- */

static void *t_dns_cache(void *arg)
{
    (void)arg;
    acio_http_session_t *s = session(NULL);
    char url[64], body[16];
    snprintf(url, sizeof url, "http://localhost:%d/close", ts.port);
    acio_http_response_t *r;
    CHECK(acio_http_get(s, url, &r) == 0, "first");
    acio_http_response_release(r);
    hc_dns_t *first = s->dns;
    char key[32];
    snprintf(key, sizeof key, "localhost:%d", ts.port);
    CHECK(first && !strcmp(first->key, key) && !first->next, "one cached entry for %s", key);
    double ttl = first->expires - acio_loop_time(acio_get_running_loop());
    CHECK(ttl > 9 && ttl <= 10, "aiohttp's 10 s TTL: %g", ttl);
    /* A second connection (the first was closed) resolves from the cache. */
    CHECK(acio_http_get(s, url, &r) == 0, "second");
    acio_http_response_release(r);
    CHECK(s->dns == first && first->refs == 1, "the same entry, only the cache holds it");
    CHECK(ts.connections == 2, "two connections: %d", ts.connections);
    acio_http_session_close(s);
    acio_http_session_opts_t o = {0};
    o.dns_ttl = -1;
    s = session(&o);
    CHECK(get_body(s, "/ok", NULL, body, sizeof body) == 0, "no cache");
    CHECK(s->dns == NULL, "dns_ttl < 0 caches nothing");
    acio_http_session_close(s);
    return NULL;
}

Test(http_client, dns_cache_ttl, .timeout = 60)
{
    run_test(t_dns_cache, NULL);
}

/* ---- the DNS phase: a resolver that asks a nameserver which never answers ---- */

/* A stub resolver (the session's `resolver` option, aiohttp's resolver=): "ok.test"
 * is 127.0.0.1 from its own table; any other name is asked of a "nameserver", a local
 * UDP socket that reads nothing, so the answer never comes and only the request's
 * deadline ends the wait. */
typedef struct {
    int ns; /* the silent nameserver's socket (the test reads what it got) */
    int ns_port;
    int calls;   /* resolver calls */
    int last_rc; /* what the resolver's own wait returned */
} stub_dns_t;

static int stub_resolve(void *data, const char *host, int port, struct addrinfo **res)
{
    stub_dns_t *d = data;
    d->calls++;
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%d", port);
    if (!strcmp(host, "ok.test")) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
        return acio_loop_getaddrinfo(NULL, "127.0.0.1", pbuf, &hints, res, 0);
    }
    if (!strcmp(host, "nx.test"))
        return -ENXIO;
    /* A DNS query for host, type A, class IN. */
    unsigned char q[300] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t n = 12;
    for (const char *p = host; *p && n < 250;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        q[n++] = (unsigned char)l;
        memcpy(q + n, p, l);
        n += l;
        p += l + (dot ? 1 : 0);
    }
    q[n++] = 0;
    q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 1;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in ns = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)d->ns_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ssize_t rc = acio_loop_sock_sendto(NULL, fd, q, n, (struct sockaddr *)&ns, sizeof ns);
    if (rc >= 0) {
        unsigned char answer[512];
        rc = acio_loop_sock_recv(NULL, fd, answer, sizeof answer);
    }
    close(fd);
    d->last_rc = (int)rc;
    return rc < 0 ? (int)rc : -ENXIO; /* (an answer never comes) */
}

static void *dns_stall_one(void *arg)
{
    acio_http_session_t *s = arg;
    acio_http_response_t *r = NULL;
    int rc = acio_http_get(s, "http://stall.test/", &r);
    acio_http_response_release(r);
    return (void *)(intptr_t)rc;
}

static void *t_dns_timeout(void *arg)
{
    (void)arg;
    stub_dns_t d = {0};
    d.ns = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(bind(d.ns, (struct sockaddr *)&a, sizeof a) == 0, "bind");
    CHECK(getsockname(d.ns, (struct sockaddr *)&a, &al) == 0, "getsockname");
    d.ns_port = ntohs(a.sin_port);
    acio_loop_t *loop = acio_get_running_loop();

    /* The resolver is used: a name no /etc/hosts knows reaches the scripted server, and
     * the session's cache keeps it (a second connection does not ask again). */
    acio_http_session_opts_t so = {0};
    so.resolver = stub_resolve;
    so.resolver_data = &d;
    so.timeout.sock_connect = 0.3;
    acio_http_session_t *s = session(&so);
    char url[64];
    snprintf(url, sizeof url, "http://ok.test:%d/close", ts.port);
    acio_http_response_t *r;
    for (int i = 0; i < 2; i++) {
        int rc = acio_http_get(s, url, &r);
        CHECK(rc == 0 && acio_http_response_status(r) == 200, "ok.test: %s", acio_err_name(rc));
        acio_http_response_release(r);
    }
    CHECK(d.calls == 1 && ts.connections == 2, "resolved once for two connections: %d, %d", d.calls,
          ts.connections);
    /* A resolver's error is the request's. */
    int rc = acio_http_get(s, "http://nx.test/", &r);
    CHECK(rc == -ENXIO, "nx.test: %s", acio_err_name(rc));

    /* sock_connect bounds the DNS phase: its own code, after the deadline, and the
     * resolver's wait was cancelled (not left running). */
    double t0 = acio_loop_time(loop);
    rc = acio_http_get(s, "http://stall.test/", &r);
    double took = acio_loop_time(loop) - t0;
    CHECK(rc == ACIO_EHTTP_DNS_TIMEOUT, "sock_connect: %s", acio_err_name(rc));
    CHECK(took >= 0.29, "returned before the deadline: %g s", took);
    CHECK(d.last_rc == -ECANCELED, "the resolver's wait ended by cancellation: %s",
          acio_err_name(d.last_rc));
    unsigned char q[512];
    ssize_t qn = recv(d.ns, q, sizeof q, MSG_DONTWAIT);
    CHECK(qn > 12 && memmem(q, (size_t)qn, "\x05stall\x04test", 11), "the query was sent: %zd", qn);
    acio_http_session_close(s);

    /* connect bounds it too. */
    acio_http_session_opts_t co = so;
    co.timeout.sock_connect = 0;
    co.timeout.connect = 0.2;
    s = session(&co);
    rc = acio_http_get(s, "http://stall.test/", &r);
    CHECK(rc == ACIO_EHTTP_DNS_TIMEOUT, "connect: %s", acio_err_name(rc));
    /* total, when it comes first, names total. */
    acio_http_timeout_t tt = {.total = 0.1, .connect = 0.2};
    acio_http_request_opts_t o = {0};
    o.timeout = &tt;
    rc = acio_http_request(s, "GET", "http://stall.test/", &o, &r);
    CHECK(rc == ACIO_EHTTP_TOTAL_TIMEOUT, "total: %s", acio_err_name(rc));
    /* A request cancelled in the DNS phase: -ECANCELED, no connection, no slot kept. */
    acio_task_t *t;
    CHECK(acio_create_task(&t, dns_stall_one, s, "in-dns") == 0, "task");
    CHECK(acio_sleep(0.05) == 0, "sleep");
    CHECK(acio_http_session_connections(s, NULL) == 1, "the slot is taken while resolving: %zu",
          acio_http_session_connections(s, NULL));
    acio_task_cancel(t, NULL);
    rc = acio_await(t, NULL);
    acio_future_unref(t);
    CHECK(rc == -ECANCELED, "cancelled in DNS: %s", acio_err_name(rc));
    CHECK(acio_http_session_connections(s, NULL) == 0, "slot released: %zu",
          acio_http_session_connections(s, NULL));
    acio_http_session_close(s);

    /* libc's resolver with the same deadline: a name /etc/hosts answers still works. */
    acio_http_session_opts_t lo = {0};
    lo.timeout.sock_connect = 5;
    s = session(&lo);
    snprintf(url, sizeof url, "http://localhost:%d/ok", ts.port);
    rc = acio_http_get(s, url, &r);
    CHECK(rc == 0, "localhost: %s", acio_err_name(rc));
    acio_http_response_release(r);
    acio_http_session_close(s);
    close(d.ns);
    return NULL;
}

Test(http_client, dns_phase_timeout_with_a_silent_nameserver, .timeout = 60)
{
    run_test(t_dns_timeout, NULL);
}
