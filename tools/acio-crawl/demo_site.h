/* The demo site of `acio-crawl --demo` (and of the crawler's tests): a deterministic,
 * generated web site served by acio's HTTP server on 127.0.0.1, with links written every
 * way a crawler must resolve (relative, "../", absolute path, absolute URL, fragments,
 * through <base href>, percent-encoded, raw UTF-8, windows-1252), 404s, redirects (a
 * self-loop and an endless chain), slow pages, a gzip page, binary files, a page that
 * answers 503 once, one that always answers 500, and a robots.txt disallowing /private/
 * (to every crawler; everything to "other-bot"; with a Crawl-delay of 0.1 s to
 * "slow-bot").
 *
 * The manifest (demo_site_page) describes every URL: its response and the links it holds,
 * resolved. The server renders pages from it, and demo_site_expect derives what a crawl
 * must report from it alone, independently of the crawler's HTML and URL code. */
#ifndef ACIO_CRAWL_DEMO_SITE_H
#define ACIO_CRAWL_DEMO_SITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

#define DEMO_MAX_LINKS 24

typedef struct {
    int status;           /* 200, 301, 302, 404, 500; DEMO_FLAKY: 503 once, then 200 */
    const char *ctype;    /* Content-Type */
    char location[96];    /* redirects: the target path */
    bool gzip, slow, bin; /* gzip-encoded; answered after 20 ms; binary body */
    bool latin1;          /* windows-1252 body */
    bool base;            /* has <base href="/p/sub/"> */
    int nlinks;
    /* Each link as the crawler must resolve it: a path on the site ("/p/3.html") or a
     * whole URL off the site; non-HTTP links (mailto:, javascript:) are not listed. */
    char links[DEMO_MAX_LINKS][96];
} demo_page_t;

#define DEMO_FLAKY 1503

/* The manifest: 0 and *out filled if path (a request target) exists on a site of
 * npages pages, else -1 (the server answers 404). */
int demo_site_page(int npages, const char *path, demo_page_t *out);

/* What a crawl of the site from "/" must report. */
typedef struct {
    uint64_t fetched, ok, parsed, redirects, robots_disallowed, links, discovered;
    uint64_t failed, http_404, http_500, too_many_redirects;
    uint64_t retries; /* at least: the 503 once, the 500 `retries` times */
} demo_expect_t;
/* depth: --depth; retries: --retries; ignore_robots; max_redirects. */
void demo_site_expect(int npages, int depth, int retries, bool ignore_robots, int max_redirects,
                      demo_expect_t *out);

typedef struct demo_site_s demo_site_t;

/* Start serving a site of npages pages on 127.0.0.1 (a free port) on the running loop.
 * Coroutine. log (may be NULL) receives one line per request: "<seconds> <target>\n",
 * written at once. Errors: those of acio_http_server_start, -ENOMEM. */
int demo_site_start(int npages, FILE *log, demo_site_t **out);
int demo_site_port(const demo_site_t *s);
/* Requests answered so far, and the i-th one's target and arrival (loop time). */
size_t demo_site_requests(const demo_site_t *s);
const char *demo_site_request(const demo_site_t *s, size_t i, double *when);
/* Make every page answer after `seconds` (tests of per-host concurrency), and the most
 * requests the server was handling at once so far. */
void demo_site_set_delay(demo_site_t *s, double seconds);
size_t demo_site_max_in_flight(const demo_site_t *s);
/* Shut down and free. Coroutine. */
void demo_site_stop(demo_site_t *s);

#endif
