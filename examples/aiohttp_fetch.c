/* Seed 004 "协程嵌套 2" (nested coroutines 2) and seed 001 §5.4 "爬虫" (a crawler):
 * several coroutines, each making its own aiohttp request, gathered by one main
 * coroutine:
 *
 *     async def fetch_async(url):                      # seed 004
 *         print(url)
 *         async with aiohttp.ClientSession() as session:
 *             async with session.get(url) as resp:
 *                 print(resp.status)
 *                 print(await resp.text())
 *
 *     tasks = [fetch_async('http://www.baidu.com/'), fetch_async('http://www.cnblogs.com/ssyfj/')]
 *     event_loop.run_until_complete(asyncio.gather(*tasks))
 *
 *     async def fetch(session, url):                   # seed 001 §5.4
 *         print("发送请求:", url)
 *         async with session.get(url, verify_ssl=False) as response:
 *             text = await response.text()
 *             print("得到结果:", url, len(text))
 *             return text
 *
 * The seeds fetch public sites. This port fetches stand-ins served by the program
 * itself on 127.0.0.1 (acio's HTTP server, examples/support/local_site.h; each page after
 * its own delay, so the output order is the same every run) with acio's HTTP client; no
 * network is used. The port changes every run, so URLs are printed with PORT in its
 * place. Part two shares
 * one session, with verify_ssl=False as the seed's ssl_verify_off (unused on http). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acio.h>

#include "support/local_site.h"

static const local_page_t pages[] = {
    {.path = "/baidu/", .delay = 0.2, .body = "<html><title>baidu</title></html>"},
    {.path = "/cnblogs/ssyfj/",
     .delay = 0.1,
     .body = "<html><title>ssyfj - cnblogs</title><body>blog</body></html>"},
    {.path = "/python.org/",
     .delay = 0.3,
     .body = "<html><title>Welcome to Python.org</title></html>"},
    {.path = "/pythonav/",
     .delay = 0.05,
     .body = "<html><title>pythonav</title><body>courses</body></html>"},
};
#define NPAGES (sizeof pages / sizeof *pages)

static local_site_t *site;

static void url_of(char *buf, size_t cap, const char *path)
{
    local_site_url(site, path, buf, cap);
}

/* ---- seed 004: each coroutine has its own session ---- */

static void *fetch_async(void *arg)
{
    const char *path = arg;
    char url[600];
    url_of(url, sizeof url, path);
    printf("http://127.0.0.1:PORT%s\n", path);
    acio_http_session_t *session;
    int rc = acio_http_session_new(&session, NULL);
    if (rc < 0)
        return acio_raise(rc, "session");
    acio_http_response_t *resp;
    rc = acio_http_get(session, url, &resp);
    if (rc == 0) {
        printf("%d\n", acio_http_response_status(resp));
        const char *text;
        size_t len;
        rc = acio_http_response_text(resp, &text, &len);
        if (rc == 0)
            printf("%s\n", text);
        acio_http_response_release(resp);
    }
    acio_http_session_close(session);
    return rc < 0 ? acio_raise(rc, "fetch %s", path) : NULL;
}

/* ---- seed 001 §5.4: one shared session ---- */

typedef struct {
    acio_http_session_t *session;
    const char *path;
} fetch_arg_t;

static void *fetch(void *arg)
{
    fetch_arg_t *a = arg;
    char url[600];
    url_of(url, sizeof url, a->path);
    printf("发送请求: http://127.0.0.1:PORT%s\n", a->path);
    acio_http_response_t *response;
    int rc = acio_http_get(a->session, url, &response);
    if (rc < 0)
        return acio_raise(rc, "GET %s", a->path);
    const char *text;
    size_t len;
    rc = acio_http_response_text(response, &text, &len);
    if (rc == 0)
        printf("得到结果: http://127.0.0.1:PORT%s %zu\n", a->path, len);
    acio_http_response_release(response);
    return rc < 0 ? acio_raise(rc, "text %s", a->path) : NULL;
}

static int run_all(acio_coro_fn fn, void **args, size_t n)
{
    acio_task_t *t[8];
    size_t started = 0;
    int rc = 0;
    for (; started < n; started++)
        if ((rc = acio_create_task(&t[started], fn, args[started], NULL)) < 0)
            break;
    for (size_t i = 0; i < started; i++) {
        int r = acio_await(t[i], NULL);
        if (rc == 0)
            rc = r;
        acio_future_unref(t[i]);
    }
    return rc;
}

static void *amain(void *arg)
{
    (void)arg;
    int rc = local_site_start(&site, pages, NPAGES);
    if (rc < 0)
        return acio_raise(rc, "server");
    printf("-- seed 004: asyncio.gather of two coroutines, each with its own session\n");
    void *nested[] = {(void *)pages[0].path, (void *)pages[1].path};
    rc = run_all(fetch_async, nested, 2);
    if (rc == 0) {
        printf("-- seed 001 5.4: three tasks sharing one session\n");
        acio_http_session_opts_t o = {0};
        o.ssl_verify_off = true; /* verify_ssl=False */
        acio_http_session_t *session;
        rc = acio_http_session_new(&session, &o);
        if (rc == 0) {
            fetch_arg_t a[3] = {
                {session, pages[2].path}, {session, pages[0].path}, {session, pages[3].path}};
            void *args[] = {&a[0], &a[1], &a[2]};
            rc = run_all(fetch, args, 3);
            acio_http_session_close(session);
        }
    }
    local_site_stop(site);
    return rc < 0 ? acio_raise(rc, "fetches") : NULL;
}

int main(void)
{
    printf("A web server in this program serves stand-ins for the seeds' sites on 127.0.0.1;\n"
           "PORT is the free port it got (different every run). No network is used.\n");
    char *msg = NULL;
    int rc = acio_run_ex(amain, NULL, NULL, &msg);
    if (rc < 0)
        fprintf(stderr, "failed: %s (%s)\n", acio_strerror(rc), msg ? msg : "");
    free(msg);
    return rc < 0;
}
