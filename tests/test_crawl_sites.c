/* The crawler engine against other servers than its own demo site:
 *  - Debian's nginx serving a generated static site (with a robots.txt, 404s and a
 *    redirect), every count computed from the generator's own lists;
 *  - a hostile server on acio's raw streams: connection resets (retried, then a
 *    failure), a huge Content-Length and an endless chunked body (beyond --max-bytes),
 *    binary bytes labelled text/html, malformed HTML, a redirect loop between two URLs,
 *    raw UTF-8, percent-encoded and dot-segment links. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acio.h"
#include "crawl/crawl.h"
#include "support/nginx.h"

static char tsv_path[64];

typedef struct {
    char seed[128];
    acio__crawl_opts_t o;
    acio__crawl_stats_t st;
    int (*start)(void);
    void (*stop)(void);
} run_t;

static void *crawl_main(void *arg)
{
    run_t *r = arg;
    if (r->start)
        cr_assert_eq(r->start(), 0);
    acio__crawl_t *c;
    const char *msg;
    r->o.log = stderr;
    r->o.tsv_path = tsv_path;
    cr_assert_eq(acio__crawl_new(&c, &r->o, &msg), 0, "%s", msg);
    cr_assert_eq(acio__crawl_add_seed(c, r->seed), 1);
    cr_assert_eq(acio__crawl_run(c), 0);
    acio__crawl_get_stats(c, &r->st);
    acio__crawl_free(c);
    if (r->stop)
        r->stop();
    return NULL;
}

static void run(run_t *r)
{
    snprintf(tsv_path, sizeof tsv_path, "/tmp/acio-crawl-sites-%d.tsv", (int)getpid());
    cr_assert_eq(acio_run(crawl_main, r, NULL), 0);
}

static uint64_t reason(const acio__crawl_stats_t *st, const char *name)
{
    for (size_t i = 0; i < st->nreasons; i++)
        if (strcmp(st->reasons[i].name, name) == 0)
            return st->reasons[i].count;
    return 0;
}

static bool tsv_has(const char *needle)
{
    FILE *f = fopen(tsv_path, "r");
    cr_assert_not_null(f);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* ---- nginx ---- */

#define NG_PAGES 150

/* Page i's links, as paths (the generator's list; the HTML is written from it). */
static int ng_links(int i, char links[8][64])
{
    int n = 0;
    snprintf(links[n++], 64, "/%d.html", (i * 3 + 1) % NG_PAGES);
    snprintf(links[n++], 64, "/%d.html", (i + 1) % NG_PAGES);
    if (i % 10 == 0)
        snprintf(links[n++], 64, "/sub/x%d.html", i);
    if (i % 25 == 0)
        snprintf(links[n++], 64, "/missing-%d.html", i);
    if (i % 30 == 0)
        snprintf(links[n++], 64, "/secret/%d.html", i);
    if (i == 7)
        snprintf(links[n++], 64, "/old");
    return n;
}

Test(crawl_sites, nginx_static_site, .timeout = 120)
{
    if (!nginx_available())
        cr_skip_test("no %s", NGINX_BIN);
    nginx_t ng;
    cr_assert_eq(nginx_start(&ng, "location = /old { return 301 /5.html; }"), 0);
    char dir[160];
    snprintf(dir, sizeof dir, "%s/sub", ng.root);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/secret", ng.root);
    mkdir(dir, 0755);
    const char robots[] = "User-agent: *\nDisallow: /secret/\n";
    cr_assert_eq(nginx_put_file(&ng, "robots.txt", robots, sizeof robots - 1), 0);
    for (int i = 0; i < NG_PAGES; i++) {
        char links[8][64], html[2048], name[64];
        int n = ng_links(i, links), len = snprintf(html, sizeof html, "<html><body>\n");
        for (int k = 0; k < n; k++) /* written relative to the page where possible */
            len += snprintf(html + len, sizeof html - (size_t)len, "<a href=\"%s\">l</a>\n",
                            links[k][1] >= '0' && links[k][1] <= '9' ? links[k] + 1 : links[k]);
        len += snprintf(html + len, sizeof html - (size_t)len, "</body></html>\n");
        snprintf(name, sizeof name, "%d.html", i);
        cr_assert_eq(nginx_put_file(&ng, name, html, (size_t)len), 0);
        if (i % 10 == 0) {
            const char sub[] = "<a href=\"../0.html\">up</a>";
            snprintf(name, sizeof name, "sub/x%d.html", i);
            cr_assert_eq(nginx_put_file(&ng, name, sub, sizeof sub - 1), 0);
        }
        if (i % 30 == 0) {
            snprintf(name, sizeof name, "secret/%d.html", i);
            cr_assert_eq(nginx_put_file(&ng, name, "<a href=\"/1.html\">", 18), 0);
        }
    }
    /* The expected crawl from the lists above. */
    uint64_t fetched = 0, robots_no = 0, fails = 0, links = 0, redirects = 0;
    static char seen[NG_PAGES * 4][64];
    int nseen = 0, head = 0;
    snprintf(seen[nseen++], 64, "/0.html");
    while (head < nseen) {
        const char *p = seen[head++];
        char out[8][64];
        int n = 0;
        if (strncmp(p, "/secret/", 8) == 0) {
            robots_no++;
            continue;
        }
        fetched++;
        if (strncmp(p, "/missing-", 9) == 0) {
            fails++;
            continue;
        }
        if (strcmp(p, "/old") == 0) {
            redirects++;
            snprintf(out[n++], 64, "/5.html");
        } else if (strncmp(p, "/sub/", 5) == 0) {
            snprintf(out[n++], 64, "/0.html");
            links++;
        } else {
            n = ng_links(atoi(p + 1), out);
            for (int k = 0; k < n; k++) { /* distinct links of the page */
                bool dup = false;
                for (int m = 0; m < k && !dup; m++)
                    dup = strcmp(out[m], out[k]) == 0;
                links += !dup;
            }
        }
        for (int k = 0; k < n; k++) {
            bool dup = false;
            for (int m = 0; m < nseen && !dup; m++)
                dup = strcmp(seen[m], out[k]) == 0;
            if (!dup)
                snprintf(seen[nseen++], 64, "%.63s", out[k]);
        }
    }
    run_t r = {.o = {.max_depth = 1000, .concurrency = 20}};
    snprintf(r.seed, sizeof r.seed, "http://127.0.0.1:%d/0.html", ng.port);
    run(&r);
    nginx_stop(&ng);
    cr_assert_eq(r.st.fetched, fetched, "fetched %llu, expected %llu",
                 (unsigned long long)r.st.fetched, (unsigned long long)fetched);
    cr_assert_eq(r.st.robots_disallowed, robots_no);
    cr_assert_eq(r.st.failed, fails);
    cr_assert_eq(reason(&r.st, "http_404"), fails);
    cr_assert_eq(r.st.redirects, redirects);
    cr_assert_eq(r.st.links, links);
    cr_assert_eq(r.st.parsed, fetched - fails - redirects, "nginx gzips text/html: decoded");
    unlink(tsv_path);
}

/* ---- a hostile server ---- */

static struct {
    acio_server_t *srv;
    int port;
    char paths[64][128];
    int npaths;
} hs;

static int hs_count(const char *path)
{
    int n = 0;
    for (int i = 0; i < hs.npaths; i++)
        n += strcmp(hs.paths[i], path) == 0;
    return n;
}

static int reply(acio_stream_writer_t *w, int status, const char *extra, const void *body,
                 size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n%s\r\n",
                     status, len, extra ? extra : "");
    int rc = acio_stream_writer_write(w, head, (size_t)n);
    if (rc == 0 && len)
        rc = acio_stream_writer_write(w, body, len);
    return rc == 0 ? acio_stream_writer_drain(w) : rc;
}

static void reset(acio_stream_writer_t *w)
{
    int fd = acio_transport_get_fd(acio_stream_writer_transport(w));
    struct linger l = {1, 0};
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    acio_transport_abort(acio_stream_writer_transport(w));
}

static const char root_html[] =
    "<html><body><a href=\"/reset\">r</a><a href=\"/huge\">h</a>"
    "<a href=\"/chunked-huge\">c</a><a href=\"/bin\">b</a><a href=\"/malformed\">m</a>"
    "<a href=\"/loopa\">l</a><a href=\"/uni/\xc3\xbc\">u</a><a href=\"/pct/%%7Efoo\">p</a>"
    "<a href=\"/deep/a/b/../c\">d</a><a href=\"http://localhost:%d/other-host\">o</a>"
    "</body></html>";

static const char malformed_html[] =
    "<html><body><a href=/m1>one<a HREF='/m2'>two</a><a\nhref=\"/m3\">three"
    "<!-- <a href=\"/no\"> --><table><tr><a href=\"/m4\"></form></td><div <p>"
    "<a href=\"/m5\" href=\"/dup\">";

static void *hs_conn(acio_stream_reader_t *rd, acio_stream_writer_t *w, void *arg)
{
    (void)arg;
    char line[2048];
    for (;;) {
        ssize_t n = acio_stream_reader_readline(rd, line, sizeof line - 1);
        if (n <= 0)
            break;
        line[n] = '\0';
        char path[256] = "";
        if (sscanf(line, "GET %255s HTTP/1.1", path) != 1)
            break;
        while ((n = acio_stream_reader_readline(rd, line, sizeof line)) > 2)
            ;
        if (hs.npaths < 64)
            snprintf(hs.paths[hs.npaths++], sizeof hs.paths[0], "%s", path);
        int rc = 0;
        if (strcmp(path, "/") == 0) {
            char html[1024];
            int len = snprintf(html, sizeof html, root_html, hs.port);
            rc = reply(w, 200, NULL, html, (size_t)len);
        } else if (strcmp(path, "/robots.txt") == 0) {
            rc = reply(w, 404, NULL, "", 0);
        } else if (strcmp(path, "/reset") == 0) {
            reset(w);
            return NULL;
        } else if (strcmp(path, "/huge") == 0) {
            const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                "Content-Length: 10000000\r\n\r\n<html>";
            if (acio_stream_writer_write(w, head, sizeof head - 1) == 0 &&
                acio_stream_writer_drain(w) < 0)
                fprintf(stderr, "hostile server: /huge: the client went away\n");
            acio_stream_writer_close(w);
            return NULL;
        } else if (strcmp(path, "/chunked-huge") == 0) {
            const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n";
            rc = acio_stream_writer_write(w, head, sizeof head - 1);
            static char chunk[8192 + 16];
            int hl = snprintf(chunk, sizeof chunk, "2000\r\n");
            memset(chunk + hl, 'x', 8192);
            memcpy(chunk + hl + 8192, "\r\n", 2);
            for (int k = 0; rc == 0 && k < 200; k++) { /* 1.6 MB, never finished */
                rc = acio_stream_writer_write(w, chunk, (size_t)hl + 8194);
                if (rc == 0)
                    rc = acio_stream_writer_drain(w);
            }
            acio_stream_writer_close(w);
            return NULL;
        } else if (strcmp(path, "/bin") == 0) {
            unsigned char b[4096];
            int k = snprintf((char *)b, sizeof b, "<a href=\"/from-bin\">x</a>");
            for (size_t i = (size_t)k; i < sizeof b; i++)
                b[i] = (unsigned char)(i * 7919 + (i >> 3));
            rc = reply(w, 200, NULL, b, sizeof b);
        } else if (strcmp(path, "/malformed") == 0) {
            rc = reply(w, 200, NULL, malformed_html, sizeof malformed_html - 1);
        } else if (strcmp(path, "/loopa") == 0) {
            rc = reply(w, 302, "Location: /loopb\r\n", "", 0);
        } else if (strcmp(path, "/loopb") == 0) {
            rc = reply(w, 302, "Location: /loopa\r\n", "", 0);
        } else {
            rc = reply(w, 200, NULL, "<html>leaf</html>", 17);
        }
        if (rc < 0)
            break;
    }
    acio_stream_writer_close(w);
    return NULL;
}

static int hs_start(void)
{
    memset(&hs, 0, sizeof hs);
    int rc = acio_start_server(&hs.srv, hs_conn, NULL, "127.0.0.1", 0, 1 << 16, NULL);
    if (rc == 0)
        hs.port = acio_server_port(hs.srv);
    return rc;
}

static void hs_stop(void)
{
    acio_server_close(hs.srv);
    acio_server_close_clients(hs.srv);
    if (acio_server_wait_closed(hs.srv) < 0)
        fprintf(stderr, "hostile server: wait_closed interrupted\n");
    acio_server_free(hs.srv);
}

static void *hostile_main(void *arg)
{
    run_t *r = arg;
    cr_assert_eq(hs_start(), 0);
    snprintf(r->seed, sizeof r->seed, "http://127.0.0.1:%d/", hs.port);
    r->start = NULL;
    r->stop = hs_stop;
    return crawl_main(r);
}

Test(crawl_sites, hostile_server, .timeout = 120)
{
    snprintf(tsv_path, sizeof tsv_path, "/tmp/acio-crawl-sites-%d.tsv", (int)getpid());
    run_t r = {.o = {.max_depth = 3,
                     .retries = 1,
                     .backoff = 0.001,
                     .max_bytes = 200000,
                     .read_timeout = 5,
                     .timeout = 10}};
    cr_assert_eq(acio_run(hostile_main, &r, NULL), 0);
    const acio__crawl_stats_t *st = &r.st;
    for (int i = 0; i < hs.npaths; i++)
        cr_log_info("request %d: %s", i, hs.paths[i]);
    for (size_t i = 0; i < st->nreasons; i++)
        cr_log_info("failure %s: %llu", st->reasons[i].name,
                    (unsigned long long)st->reasons[i].count);
    /* The reset: the crawler tries twice (one retry), then records one failure; each
     * try may be two requests, as acio's client (like aiohttp) retries a request once
     * when a reused keep-alive connection turns out closed. */
    cr_assert_geq(hs_count("/reset"), 2);
    cr_assert_leq(hs_count("/reset"), 4);
    cr_assert_eq(reason(st, "ECONNRESET") + reason(st, "EHTTP_DISCONNECTED"), 1,
                 "the reset is a connection failure");
    cr_assert_eq(reason(st, "ECRAWL_TOO_LARGE"), 2, "huge and endless bodies");
    cr_assert_eq(st->failed, 3);
    /* The loop: each end fetched once, both redirects, no failure. */
    cr_assert_eq(hs_count("/loopa"), 1);
    cr_assert_eq(hs_count("/loopb"), 1);
    cr_assert_eq(st->redirects, 2);
    /* Links: encodings and dot segments normalised, malformed HTML tokenized as a
     * browser would, binary content survived. */
    cr_assert(tsv_has("/uni/%C3%BC\n"));
    cr_assert(tsv_has("/pct/~foo\n"));
    cr_assert(tsv_has("/deep/a/c\n"));
    cr_assert_eq(hs_count("/pct/~foo"), 1, "the request target is the normalised path");
    cr_assert_eq(hs_count("/deep/a/c"), 1);
    for (int k = 1; k <= 5; k++) {
        char m[16];
        snprintf(m, sizeof m, "/m%d\n", k);
        cr_assert(tsv_has(m), "malformed HTML: %s", m);
    }
    cr_assert(!tsv_has("/no\n"), "a link inside a comment");
    cr_assert(!tsv_has("/dup\n"), "a repeated attribute: the first one counts");
    cr_assert(tsv_has("/from-bin\n"));
    cr_assert(tsv_has("//localhost:"), "a link to another host is a TSV row");
    cr_assert_eq(hs_count("/other-host"), 0, "but not followed: not a seed host");
    unlink(tsv_path);
}

Test(crawl_sites, allow_domain, .timeout = 60)
{
    snprintf(tsv_path, sizeof tsv_path, "/tmp/acio-crawl-sites-%d.tsv", (int)getpid());
    const char *allow[] = {"localhost"};
    const char *deny[] = {"/(reset|huge|chunked-huge)$"};
    run_t r = {.o = {.max_depth = 3,
                     .retries = 0,
                     .allow_domains = allow,
                     .nallow = 1,
                     .deny_patterns = deny,
                     .ndeny = 1}};
    cr_assert_eq(acio_run(hostile_main, &r, NULL), 0);
    cr_assert_eq(hs_count("/other-host"), 1, "--allow-domain localhost follows it");
    cr_assert_eq(hs_count("/reset") + hs_count("/huge") + hs_count("/chunked-huge"), 0);
    cr_assert_eq(r.st.robots_fetched, 2, "one robots.txt per host");
    unlink(tsv_path);
}
