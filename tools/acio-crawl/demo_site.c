/* The demo site (demo_site.h): the manifest, the expected crawl derived from it, and the
 * acio HTTP server that renders it. */
#include "demo_site.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---- the manifest ---- */

typedef struct {
    demo_page_t *p;
    const char *origin; /* "http://127.0.0.1:PORT" when rendering, "" otherwise */
    char *html;         /* rendering: the body so far (NULL: manifest only) */
    size_t len, cap;
} builder_t;

static void put(builder_t *b, const char *s)
{
    if (!b->html)
        return;
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap * 2 + n + 256;
        char *h = realloc(b->html, cap);
        if (!h)
            return; /* the page is cut short; the test would notice */
        b->html = h;
        b->cap = cap;
    }
    memcpy(b->html + b->len, s, n + 1);
    b->len += n;
}

/* One <a href> with the text `href` as written, resolving to `target` (NULL: not an
 * HTTP link, e.g. mailto:). */
static void link_to(builder_t *b, const char *href, const char *target)
{
    if (target && b->p->nlinks < DEMO_MAX_LINKS)
        snprintf(b->p->links[b->p->nlinks++], sizeof b->p->links[0], "%s", target);
    put(b, "<li><a href=\"");
    put(b, href);
    put(b, "\">link</a>\n");
}

static void page_link(builder_t *b, int i, const char *style, int j)
{
    char href[160], target[64];
    snprintf(target, sizeof target, "/p/%d.html", j);
    const char *up = b->p->base ? "../" : ""; /* the base is /p/sub/ */
    if (strcmp(style, "same") == 0)
        snprintf(href, sizeof href, "%s%d.html", up, j);
    else if (strcmp(style, "dotdot") == 0)
        snprintf(href, sizeof href, "%s../p/%d.html", up, j);
    else if (strcmp(style, "url") == 0)
        snprintf(href, sizeof href, "%s/p/%d.html", b->origin[0] ? b->origin : "http://x", j);
    else if (strcmp(style, "frag") == 0)
        snprintf(href, sizeof href, "/p/%d.html#s%d", j, i);
    else /* "pct": every digit percent-encoded (%3N); normalisation decodes them */
    {
        int n = snprintf(href, sizeof href, "/p/");
        char digits[16];
        snprintf(digits, sizeof digits, "%d", j);
        for (char *d = digits; *d; d++)
            n += snprintf(href + n, sizeof href - (size_t)n, "%%3%c", *d);
        snprintf(href + n, sizeof href - (size_t)n, ".html");
    }
    link_to(b, href, target);
}

static void fmt(char *dst, size_t cap, const char *f, ...) ACIO_PRINTF(3, 4);
static void fmt(char *dst, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(dst, cap, f, ap);
    va_end(ap);
}

static void html_start(builder_t *b, const char *title, bool base, bool latin1)
{
    put(b, "<!DOCTYPE html>\n<html><head>");
    if (latin1)
        put(b, "<meta charset=\"windows-1252\">");
    put(b, "<title>");
    put(b, title);
    put(b, "</title>");
    if (base)
        put(b, "<base href=\"/p/sub/\">");
    put(b, "</head><body>\n<!-- <a href=\"/commented-out\">not a link</a> -->\n"
           "<script>var s = '<a href=\"/in-script\">';</script>\n<ul>\n");
}

static void html_end(builder_t *b)
{
    put(b, "</ul>\n<p>acio-crawl demo site</p></body></html>\n");
}

/* Fill the manifest entry of path and, if b->html, render the page. */
static int build(int npages, const char *target, builder_t *b)
{
    demo_page_t *p = b->p;
    memset(p, 0, sizeof *p);
    p->status = 200;
    p->ctype = "text/html; charset=utf-8";
    char path[256];
    snprintf(path, sizeof path, "%s", target);
    path[strcspn(path, "?")] = '\0';
    int i = -1, n = -1;
    char tmp[64];
    char h[160], t[96];
    if (strcmp(path, "/") == 0) {
        html_start(b, "demo", false, false);
        link_to(b, "/p/0.html", "/p/0.html");
        link_to(b, "p/1.html", "/p/1.html");
        link_to(b, "#top", "/");
        link_to(b, "/loop", "/loop");
        link_to(b, "/chain/0", "/chain/0");
        link_to(b, "/gzip.html", "/gzip.html");
        link_to(b, "/latin1.html", "/latin1.html");
        link_to(b, "/flaky", "/flaky");
        link_to(b, "/err500", "/err500");
        link_to(b, "https://example.org/elsewhere", "https://example.org/elsewhere");
        link_to(b, "mailto:demo@example.org", NULL);
        link_to(b, "/p/%31%32.html", "/p/12.html");
        link_to(b, "/unicode/\xc3\xbc.html", "/unicode/%C3%BC.html");
        link_to(b, "/private/index.html", "/private/index.html");
        html_end(b);
        return 0;
    }
    if (sscanf(path, "/p/%d.html%n", &i, &n) == 1 && n == (int)strlen(path) && i >= 0 &&
        i < npages) {
        fmt(tmp, sizeof tmp, "/p/%d.html", i);
        if (strcmp(tmp, path) != 0)
            return -1;
        p->base = i % 50 == 6;
        fmt(tmp, sizeof tmp, "page %d", i);
        html_start(b, tmp, p->base, false);
        page_link(b, i, "same", (i * 7 + 1) % npages);
        page_link(b, i, "dotdot", (i * 13 + 5) % npages);
        page_link(b, i, "url", (i + 1) % npages);
        page_link(b, i, "frag", (i + 1) % npages);
        if (i % 20 == 7)
            page_link(b, i, "pct", (i + 3) % npages);
        if (i % 100 == 0) {
            fmt(h, sizeof h, "/missing/%d.html", i);
            link_to(b, h, h);
        }
        if (i % 100 == 1) {
            fmt(h, sizeof h, "/r/%d", i);
            link_to(b, h, h);
        }
        if (i % 250 == 2) {
            fmt(h, sizeof h, "/private/%d.html", i);
            link_to(b, h, h);
        }
        if (i % 500 == 3) {
            fmt(h, sizeof h, "/slow/%d.html", i);
            link_to(b, h, h);
        }
        if (i % 10 == 4) {
            link_to(b, "mailto:demo@example.org", NULL);
            link_to(b, "javascript:void(0)", NULL);
        }
        if (i % 200 == 5) {
            fmt(h, sizeof h, "/data/%d.bin", i);
            link_to(b, h, h);
        }
        if (i % 40 == 9) {
            fmt(h, sizeof h, "https://example.org/from/%d", i);
            link_to(b, h, h);
        }
        if (i % 100 == 13) {
            int j = (i + 2) % npages;
            fmt(h, sizeof h, "%s%d.html?a=1&amp;b=2", p->base ? "../" : "", j);
            fmt(t, sizeof t, "/p/%d.html?a=1&b=2", j);
            link_to(b, h, t);
        }
        html_end(b);
        return 0;
    }
    if (sscanf(path, "/r/%d%n", &i, &n) == 1 && n == (int)strlen(path) && i >= 0 && i < npages) {
        p->status = 301;
        fmt(p->location, sizeof p->location, "/p/%d.html", (i + 50) % npages);
        return 0;
    }
    if (strcmp(path, "/loop") == 0) {
        p->status = 302;
        fmt(p->location, sizeof p->location, "/loop");
        return 0;
    }
    if (sscanf(path, "/chain/%d%n", &i, &n) == 1 && n == (int)strlen(path) && i >= 0) {
        p->status = 302;
        fmt(p->location, sizeof p->location, "/chain/%d", i + 1);
        return 0;
    }
    if (strncmp(path, "/private/", 9) == 0) {
        html_start(b, "private", false, false);
        link_to(b, "/p/3.html", "/p/3.html");
        html_end(b);
        return 0;
    }
    if (sscanf(path, "/slow/%d.html%n", &i, &n) == 1 && n == (int)strlen(path)) {
        p->slow = true;
        html_start(b, "slow", false, false);
        fmt(h, sizeof h, "/p/%d.html", (i + 1) % npages);
        link_to(b, h, h);
        html_end(b);
        return 0;
    }
    if (sscanf(path, "/data/%d.bin%n", &i, &n) == 1 && n == (int)strlen(path)) {
        p->bin = true;
        p->ctype = "application/octet-stream";
        return 0;
    }
    if (strcmp(path, "/gzip.html") == 0) {
        p->gzip = true;
        html_start(b, "gzip", false, false);
        link_to(b, "/p/20.html", "/p/20.html");
        link_to(b, "/p/21.html", "/p/21.html");
        html_end(b);
        return 0;
    }
    if (strcmp(path, "/latin1.html") == 0) {
        p->latin1 = true;
        p->ctype = "text/html; charset=windows-1252";
        html_start(b, "caf\xe9", false, true);
        link_to(b, "/caf\xe9.html", "/caf%C3%A9.html");
        link_to(b, "/p/30.html", "/p/30.html");
        html_end(b);
        return 0;
    }
    if (strcmp(path, "/caf%C3%A9.html") == 0 || strcmp(path, "/unicode/%C3%BC.html") == 0) {
        html_start(b, "unicode", false, false);
        link_to(b, path[1] == 'c' ? "/p/31.html" : "/p/32.html",
                path[1] == 'c' ? "/p/31.html" : "/p/32.html");
        html_end(b);
        return 0;
    }
    if (strcmp(path, "/flaky") == 0) {
        p->status = DEMO_FLAKY;
        html_start(b, "flaky", false, false);
        html_end(b);
        return 0;
    }
    if (strcmp(path, "/err500") == 0) {
        p->status = 500;
        p->ctype = "text/plain";
        return 0;
    }
    return -1;
}

int demo_site_page(int npages, const char *path, demo_page_t *out)
{
    builder_t b = {.p = out, .origin = ""};
    return build(npages, path, &b);
}

/* ---- the expected crawl ---- */

typedef struct {
    char path[96];
    int depth, hops;
} qitem_t;

void demo_site_expect(int npages, int depth, int retries, bool ignore_robots, int max_redirects,
                      demo_expect_t *e)
{
    memset(e, 0, sizeof *e);
    size_t cap = (size_t)npages * 4 + 256, head = 0, tail = 0;
    qitem_t *q = calloc(cap, sizeof *q);
    acio_seen_t *seen;
    if (!q || acio_seen_new(&seen, cap) < 0) {
        free(q);
        return;
    }
#define PUSH(pth, d, hp)                                                                           \
    do {                                                                                           \
        if (acio_seen_add(seen, acio_seen_fingerprint(pth, strlen(pth))) == 1 && tail < cap) {     \
            snprintf(q[tail].path, sizeof q[tail].path, "%s", pth);                                \
            q[tail].depth = (d);                                                                   \
            q[tail].hops = (hp);                                                                   \
            tail++;                                                                                \
            e->discovered++;                                                                       \
        }                                                                                          \
    } while (0)
    PUSH("/", 0, 0);
    demo_page_t p;
    while (head < tail) {
        qitem_t it = q[head++];
        if (!ignore_robots && strncmp(it.path, "/private/", 9) == 0) {
            e->robots_disallowed++;
            continue;
        }
        e->fetched++;
        if (demo_site_page(npages, it.path, &p) < 0) {
            e->failed++;
            e->http_404++;
            continue;
        }
        if (p.status == 500) {
            e->retries += (uint64_t)retries;
            e->failed++;
            e->http_500++;
            continue;
        }
        if (p.status == 301 || p.status == 302) {
            if (it.hops + 1 > max_redirects) {
                e->failed++;
                e->too_many_redirects++;
            } else {
                e->redirects++;
                PUSH(p.location, it.depth, it.hops + 1);
            }
            continue;
        }
        if (p.status == DEMO_FLAKY) {
            if (retries == 0) {
                e->failed++;
                continue;
            }
            e->retries++;
        }
        e->ok++;
        if (p.bin)
            continue;
        e->parsed++;
        for (int k = 0; k < p.nlinks; k++) {
            bool dup = false;
            for (int m = 0; m < k && !dup; m++)
                dup = strcmp(p.links[m], p.links[k]) == 0;
            if (dup)
                continue;
            e->links++;
            if (p.links[k][0] == '/' && it.depth + 1 <= depth)
                PUSH(p.links[k], it.depth + 1, 0);
        }
    }
#undef PUSH
    acio_seen_free(seen);
    free(q);
}

/* ---- the server ---- */

struct demo_site_s {
    acio_http_app_t *app;
    acio_http_server_t *srv;
    int npages;
    int port;
    FILE *log;
    bool flaky_failed;
    double delay;
    size_t in_flight, max_in_flight;
    char *gz; /* the gzip page, compressed once */
    size_t gz_len;
    struct req_s {
        char *target;
        double when;
    } * reqs;
    size_t nreqs, capreqs;
};

static int gzip_page(demo_site_t *s)
{
    demo_page_t p;
    builder_t b = {.p = &p, .origin = "", .html = malloc(256), .cap = 256};
    if (!b.html)
        return -ENOMEM;
    b.html[0] = '\0';
    build(s->npages, "/gzip.html", &b);
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(b.html);
        return -ENOMEM;
    }
    s->gz = malloc(deflateBound(&z, b.len) + 32);
    if (!s->gz) {
        deflateEnd(&z);
        free(b.html);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)b.html;
    z.avail_in = (uInt)b.len;
    z.next_out = (Bytef *)s->gz;
    z.avail_out = (uInt)(deflateBound(&z, b.len) + 32);
    deflate(&z, Z_FINISH);
    s->gz_len = z.total_out;
    deflateEnd(&z);
    free(b.html);
    return 0;
}

static void record(demo_site_t *s, const char *target, double when)
{
    if (s->log) {
        fprintf(s->log, "%.6f %s\n", when, target);
        fflush(s->log);
    }
    if (s->nreqs == s->capreqs) {
        size_t cap = s->capreqs ? s->capreqs * 2 : 1024;
        struct req_s *r = realloc(s->reqs, cap * sizeof *r);
        if (!r)
            return;
        s->reqs = r;
        s->capreqs = cap;
    }
    s->reqs[s->nreqs].target = strdup(target);
    s->reqs[s->nreqs].when = when;
    if (s->reqs[s->nreqs].target)
        s->nreqs++;
}

static int respond(demo_site_t *s, acio_http_request_t *req);

static int handle(acio_http_request_t *req, void *arg)
{
    demo_site_t *s = arg;
    if (++s->in_flight > s->max_in_flight)
        s->max_in_flight = s->in_flight;
    int rc = s->delay > 0 ? acio_sleep(s->delay) : 0;
    if (rc == 0)
        rc = respond(s, req);
    s->in_flight--;
    return rc;
}

static int respond(demo_site_t *s, acio_http_request_t *req)
{
    const char *target = acio_http_request_target(req);
    record(s, target, acio_loop_time(acio_http_request_get_loop(req)));
    if (strcmp(target, "/robots.txt") == 0) {
        static const char robots[] = "User-agent: *\nDisallow: /private/\n\n"
                                     "User-agent: other-bot\nDisallow: /\n\n"
                                     "User-agent: slow-bot\nDisallow: /private/\n"
                                     "Crawl-delay: 0.1\n";
        return acio_http_respond(req, 200, "text/plain", robots, sizeof robots - 1);
    }
    demo_page_t p;
    char origin[64];
    snprintf(origin, sizeof origin, "http://127.0.0.1:%d", s->port);
    builder_t b = {.p = &p, .origin = origin, .html = malloc(1024), .cap = 1024};
    if (!b.html)
        return -ENOMEM;
    b.html[0] = '\0';
    int rc;
    if (build(s->npages, target, &b) < 0) {
        free(b.html);
        return acio_http_respond(req, 404, "text/html", "<html>Not Found</html>\n", 23);
    }
    if (p.slow && (rc = acio_sleep(0.02)) < 0) {
        free(b.html);
        return rc;
    }
    if (p.status == 301 || p.status == 302) {
        rc = acio_http_respond_header(req, "Location", p.location);
        if (rc == 0)
            rc = acio_http_respond(req, p.status, "text/html", "moved\n", 6);
    } else if (p.status == 500) {
        rc = acio_http_respond(req, 500, p.ctype, "internal error\n", 15);
    } else if (p.status == DEMO_FLAKY && !s->flaky_failed) {
        s->flaky_failed = true;
        rc = acio_http_respond_header(req, "Retry-After", "0");
        if (rc == 0)
            rc = acio_http_respond(req, 503, "text/plain", "busy\n", 5);
    } else if (p.bin) {
        unsigned char data[2048];
        for (size_t k = 0; k < sizeof data; k++)
            data[k] = (unsigned char)(k * 131 + 7);
        rc = acio_http_respond(req, 200, p.ctype, data, sizeof data);
    } else if (p.gzip) {
        rc = acio_http_respond_header(req, "Content-Encoding", "gzip");
        if (rc == 0)
            rc = acio_http_respond(req, 200, p.ctype, s->gz, s->gz_len);
    } else {
        rc = acio_http_respond(req, 200, p.ctype, b.html, b.len);
    }
    free(b.html);
    return rc;
}

int demo_site_start(int npages, FILE *log, demo_site_t **out)
{
    demo_site_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->npages = npages;
    s->log = log;
    int rc = gzip_page(s);
    if (rc == 0)
        rc = acio_http_app_new(&s->app);
    if (rc == 0)
        rc = acio_http_app_route(s->app, "GET", "/", handle, s);
    if (rc == 0)
        rc = acio_http_app_route(s->app, "GET", "/{rest:path}", handle, s);
    if (rc == 0) {
        acio_http_config_t cfg;
        acio_http_config_init(&cfg);
        cfg.host = "127.0.0.1";
        cfg.port = 0;
        cfg.access_log = false;
        rc = acio_http_server_start(NULL, s->app, &cfg, &s->srv);
    }
    if (rc < 0) {
        acio_http_app_free(s->app);
        free(s->gz);
        free(s);
        return rc;
    }
    s->port = acio_http_server_port(s->srv);
    *out = s;
    return 0;
}

void demo_site_set_delay(demo_site_t *s, double seconds)
{
    s->delay = seconds;
}

size_t demo_site_max_in_flight(const demo_site_t *s)
{
    return s->max_in_flight;
}

int demo_site_port(const demo_site_t *s)
{
    return s->port;
}

size_t demo_site_requests(const demo_site_t *s)
{
    return s->nreqs;
}

const char *demo_site_request(const demo_site_t *s, size_t i, double *when)
{
    if (i >= s->nreqs)
        return NULL;
    if (when)
        *when = s->reqs[i].when;
    return s->reqs[i].target;
}

void demo_site_stop(demo_site_t *s)
{
    if (!s)
        return;
    if (acio_http_server_shutdown(s->srv, 1.0) < 0) {
        /* requests cut short at shutdown: nothing to report */
    }
    acio_http_server_free(s->srv);
    acio_http_app_free(s->app);
    for (size_t i = 0; i < s->nreqs; i++)
        free(s->reqs[i].target);
    free(s->reqs);
    free(s->gz);
    free(s);
}
