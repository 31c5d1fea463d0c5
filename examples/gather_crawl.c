/* Seed 000 "异步爬虫" (an asynchronous crawler): fifty GETs at once on one aiohttp session
 * with a total timeout and a pool limit, gathered with return_exceptions so one failure
 * does not hide the others:
 *
 *     async def fetch(session: aiohttp.ClientSession, url: str) -> str:
 *         async with session.get(url) as resp:
 *             resp.raise_for_status()
 *             return await resp.text()
 *
 *     async def main(urls: list[str]):
 *         timeout = aiohttp.ClientTimeout(total=20)
 *         conn = aiohttp.TCPConnector(limit=100)  # 连接池上限 (the pool's limit)
 *         async with aiohttp.ClientSession(timeout=timeout, connector=conn) as session:
 *             tasks = [asyncio.create_task(fetch(session, u)) for u in urls]
 *             pages = await asyncio.gather(*tasks, return_exceptions=True)
 *             for u, p in zip(urls, pages):
 *                 if isinstance(p, Exception):
 *                     print("FAIL", u, repr(p))
 *                 else:
 *                     print("OK  ", u, len(p))
 *
 *     urls = ["https://example.com"] * 50
 *
 * The seed fetches example.com fifty times. This port fetches a stand-in page served by
 * the program itself on 127.0.0.1 (examples/support/local_site.h) 48 times, plus a page
 * that answers 404 and a port nobody listens on, to show the FAIL lines; no network is
 * used. The results print in the order of the URLs (zip), whatever order they complete
 * in. The port changes every run, so URLs are printed with PORT (and DEADPORT) in its
 * place; a failure prints the error's name and message where Python prints repr(e). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

#include "support/local_site.h"

static const local_page_t pages[] = {
    {.path = "/",
     .body = "<!doctype html>\n<html><head><title>Example Domain</title></head>\n"
             "<body><div><h1>Example Domain</h1>\n<p>This domain is for use in examples."
             "</p>\n<p><a href=\"https://www.iana.org/domains/example\">More information..."
             "</a></p></div></body></html>\n"},
};

#define NURLS 50

static int dead_port;

typedef struct {
    acio_http_session_t *session;
    char url[64];
} fetch_arg_t;

static void *fetch(void *arg) /* async def fetch(session, url) -> str */
{
    fetch_arg_t *a = arg;
    acio_http_response_t *resp;
    int rc = acio_http_get(a->session, a->url, &resp);
    if (rc < 0)
        return acio_raise(rc, "%s", acio_strerror(rc));
    if (acio_http_response_raise_for_status(resp) < 0) { /* resp.raise_for_status() */
        void *err = acio_raise(ACIO_EHTTP_STATUS, "%d, message='%s'",
                               acio_http_response_status(resp), acio_http_response_reason(resp));
        acio_http_response_release(resp);
        return err;
    }
    const char *text;
    size_t len;
    rc = acio_http_response_text(resp, &text, &len); /* return await resp.text() */
    acio_http_response_release(resp);
    if (rc < 0)
        return acio_raise(rc, "%s", acio_strerror(rc));
    return (void *)(uintptr_t)len; /* the page's length is all main prints */
}

static void *amain(void *arg)
{
    (void)arg;
    local_site_t *site;
    int rc = local_site_start(&site, pages, 1);
    if (rc < 0)
        return acio_raise(rc, "server");
    acio_http_session_opts_t opts = {0};
    opts.timeout.total = 20; /* aiohttp.ClientTimeout(total=20) */
    opts.limit = 100;        /* aiohttp.TCPConnector(limit=100) */
    acio_http_session_t *session;
    rc = acio_http_session_new(&session, &opts);
    if (rc < 0) {
        local_site_stop(site);
        return acio_raise(rc, "session");
    }
    static fetch_arg_t args[NURLS];
    acio_call_t calls[NURLS];
    for (int i = 0; i < NURLS; i++) {
        args[i].session = session;
        if (i == NURLS - 2)
            local_site_url(site, "/missing", args[i].url, sizeof args[i].url);
        else if (i == NURLS - 1)
            snprintf(args[i].url, sizeof args[i].url, "http://127.0.0.1:%d/", dead_port);
        else
            local_site_url(site, "/", args[i].url, sizeof args[i].url);
        calls[i] = (acio_call_t){fetch, &args[i], NULL};
    }
    /* tasks = [...]; pages = await asyncio.gather(*tasks, return_exceptions=True) */
    void *results[NURLS];
    int codes[NURLS];
    acio_task_t *tasks[NURLS];
    acio_future_t *all;
    rc = acio_gather_calls(&all, calls, NURLS, NULL, ACIO_GATHER_RETURN_EXCEPTIONS, results, codes,
                           tasks);
    if (rc == 0) {
        rc = acio_await(all, NULL);
        acio_future_unref(all);
        for (int i = 0; i < NURLS; i++) {
            char shown[80];
            if (i == NURLS - 1)
                snprintf(shown, sizeof shown, "http://127.0.0.1:DEADPORT/");
            else
                snprintf(shown, sizeof shown, "%s", local_site_show(site, args[i].url));
            if (codes[i] < 0)
                printf("FAIL %s %s(%s)\n", shown, acio_err_name(codes[i]),
                       acio_future_error_message(tasks[i]));
            else
                printf("OK   %s %zu\n", shown, (size_t)(uintptr_t)results[i]);
            acio_future_unref(tasks[i]);
        }
    }
    acio_http_session_close(session);
    local_site_stop(site);
    return rc < 0 ? acio_raise(rc, "gather") : NULL;
}

int main(void)
{
    printf("A web server in this program serves a stand-in for example.com on 127.0.0.1; PORT\n"
           "is the free port it got (different every run). No network is used.\n");
    if ((dead_port = local_site_dead_port()) < 0)
        return 1;
    char *msg = NULL;
    int rc = acio_run_ex(amain, NULL, NULL, &msg);
    if (rc < 0)
        fprintf(stderr, "failed: %s (%s)\n", acio_strerror(rc), msg ? msg : "");
    free(msg);
    return rc < 0;
}
