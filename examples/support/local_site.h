/* A small web site served on 127.0.0.1 by acio's HTTP server, shared by the examples
 * that port the seeds' HTTP programs (aiohttp_fetch, aiohttp_download, areq,
 * quotes_crawler, gather_crawl). The seeds fetch public sites; the ports fetch stand-ins
 * served by the program itself, so no network is used and the output is the same every
 * run: each page can answer after its own delay, which fixes the order in which
 * concurrent requests complete. The port is a free one, different every run, so the
 * examples print URLs with PORT in its place (local_site_show). */
#ifndef ACIO_EXAMPLES_LOCAL_SITE_H
#define ACIO_EXAMPLES_LOCAL_SITE_H

#include <acio.h>

typedef struct {
    const char *path;         /* "/a/b.html": the request path, exactly */
    int status;               /* 0: 200 */
    const char *content_type; /* NULL: "text/html; charset=utf-8" */
    const void *body;         /* NULL: empty */
    size_t body_len;          /* 0: strlen(body) */
    double delay;             /* seconds to wait before answering */
} local_page_t;

typedef struct local_site_s local_site_t;

/* Serve the n pages (borrowed: they must outlive the site) on 127.0.0.1 at a free port;
 * any other path gets 404. Coroutine: call it from a task. Errors: those of
 * acio_http_server_start, -ENOMEM. */
int local_site_start(local_site_t **out, const local_page_t *pages, size_t n);
int local_site_port(const local_site_t *site);
/* "http://127.0.0.1:<port><path>" into buf (cap bytes). */
void local_site_url(const local_site_t *site, const char *path, char *buf, size_t cap);
/* s with every "127.0.0.1:<port>" replaced by "127.0.0.1:PORT", for printing (a static
 * buffer, overwritten by the next call; long strings are cut at 4 KiB). */
const char *local_site_show(const local_site_t *site, const char *url);
/* A port on 127.0.0.1 nobody listens on, for showing a refused connection: a socket is
 * bound to it and kept, not listening, until the process exits. -1 if none. */
int local_site_dead_port(void);
/* Shut the server down (requests in flight get a second) and free the site. Coroutine.
 * NULL: no-op. */
void local_site_stop(local_site_t *site);

#endif
