/* Seed 002 (areq.py): crawl pages concurrently and append the links found on each one to
 * a shared file with aiofiles:
 *
 *     async def fetch_html(url, session, **kwargs):
 *         resp = await session.request(method="GET", url=url, **kwargs)
 *         resp.raise_for_status()
 *         logger.info("Got response [%s] for URL:%s", resp.status, url)
 *         html = await resp.text()
 *         return html
 *
 *     async def parse(url, session, **kwargs):       # (abridged)
 *         found = set()
 *         try:
 *             html = await fetch_html(url=url, session=session, **kwargs)
 *         except (aiohttp.ClientError, ...) as e:
 *             logger.error("aiohttp exception for %s [%s]: %s", url,
 *                          getattr(e, "status", None), getattr(e, "message", None))
 *             return found
 *         for link in HREF_RE.findall(html):
 *             found.add(urllib.parse.urljoin(url, link))
 *         logger.info("Fond %d links for %s", len(found), url)
 *         return found
 *
 *     async def write_one(file, url, **kwargs):
 *         res = await parse(url=url, **kwargs)
 *         if not res:
 *             return None
 *         async with aiofiles.open(file, "a") as f:
 *             for p in res:
 *                 await f.write(f"{url}\t{p}\n")
 *             logger.info("Wrote res for source Url: %s", url)
 *
 *     async def bulk_crawl_and_write(file, urls, **kwargs):
 *         async with ClientSession() as session:
 *             tasks = [write_one(file=file, url=url, session=session) for url in urls]
 *             await asyncio.gather(*tasks)
 *
 * The seed crawls public sites. This port crawls a small web site served by the program
 * itself on 127.0.0.1 (an acio stream server answering HTTP/1.1 GET requests with
 * fixed pages, each after its own delay, so the output order is the same every run), and
 * fetches with a minimal HTTP/1.1 client on acio's streams until acio's HTTP layer
 * exists; no network is used. The server's port changes every run, so the log prints
 * it as PORT. One page answers 404, which raise_for_status() turns into the error line.
 * Set order: the links of a page are kept in the order found, without repeats; the
 * seed's "Fond" typo is spelt "Found". The log goes to stdout; at the end the file is
 * read back with `async for line in f`. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

/* ---- the local web site ---- */

typedef struct {
    const char *path;
    double delay; /* how long the server takes to answer */
    int status;
    const char *html;
} page_t;

static const page_t site[] = {
    {"/", 0.2, 200,
     "<html><body><a href=\"/news\">News</a> <a href=\"sports.html\">Sports</a>"
     " <a href=\"/news\">News again</a></body></html>\n"},
    {"/gone", 0.05, 404, "<html><body>Not Found</body></html>\n"},
    {"/video", 0.4, 200, "<html><body><a href=\"/video/1\">First video</a></body></html>\n"},
    {"/about", 0.6, 200, "<html><body>No links here.</body></html>\n"},
    {"/map", 0.8, 200,
     "<html><body><a href=\"https://example.org/\">elsewhere</a>"
     " <a href=\"more\">More maps</a></body></html>\n"},
};
#define NPAGES (sizeof site / sizeof *site)

/* One request per connection: read the request line and headers, wait the page's
 * delay, answer, close. */
static void *serve_page(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)arg;
    char line[512], path[256] = "";
    ssize_t n = acio_stream_reader_readline(r, line, sizeof line - 1);
    if (n <= 0)
        return NULL;
    line[n] = '\0';
    if (sscanf(line, "GET %255s HTTP/1.1", path) != 1)
        return NULL;
    while ((n = acio_stream_reader_readline(r, line, sizeof line)) > 2)
        ; /* headers, up to the blank line */
    const page_t *p = NULL;
    for (size_t i = 0; i < NPAGES && !p; i++)
        if (strcmp(site[i].path, path) == 0)
            p = &site[i];
    if (p && acio_sleep(p->delay) < 0)
        return NULL;
    int status = p ? p->status : 404;
    const char *html = p ? p->html : "";
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      status, status == 200 ? "OK" : "Not Found", strlen(html));
    int rc = acio_stream_writer_write(w, head, (size_t)hn);
    if (rc == 0)
        rc = acio_stream_writer_write(w, html, strlen(html));
    if (rc == 0)
        rc = acio_stream_writer_drain(w);
    acio_stream_writer_close(w);
    int crc = acio_stream_writer_wait_closed(w);
    if (rc == 0)
        rc = crc;
    return rc < 0 ? acio_raise(rc, "serving %s: %s", path, acio_strerror(rc)) : NULL;
}

/* ---- the crawler ---- */

static int port;
static char base[64]; /* http://127.0.0.1:<port> */
static char outpath[128];

/* Print s with the server's base URL shown as http://127.0.0.1:PORT. */
static void put_url(const char *s)
{
    size_t bl = strlen(base);
    while (*s) {
        if (strncmp(s, base, bl) == 0) {
            fputs("http://127.0.0.1:PORT", stdout);
            s += bl;
        } else {
            putchar(*s++);
        }
    }
}

static void log_line(const char *level, const char *before, const char *url, const char *after)
{
    printf("%s: areq:%s", level, before);
    put_url(url);
    printf("%s\n", after);
}

/* session.request("GET", url) + raise_for_status() + resp.text(), over one connection.
 * Returns the status; *html is the malloc'd body (free() it) when the status is 200. */
static int fetch_html(const char *url, char **html)
{
    *html = NULL;
    const char *path = url + strlen(base);
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    int rc = acio_open_connection(&r, &w, "127.0.0.1", port, 0, NULL);
    if (rc < 0)
        return rc;
    char req[512];
    int n =
        snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", path, port);
    char *resp = NULL;
    size_t len = 0;
    rc = acio_stream_writer_write(w, req, (size_t)n);
    if (rc == 0)
        rc = acio_stream_reader_read_all(r, (void **)&resp, &len);
    acio_stream_writer_close(w);
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    if (rc < 0)
        return rc;
    int status = 0;
    char *body = strstr(resp, "\r\n\r\n");
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1 || !body) {
        free(resp);
        return -EPROTO;
    }
    if (status == 200) {
        *html = strdup(body + 4);
        if (!*html)
            status = -ENOMEM;
    }
    free(resp);
    return status;
}

/* a (alen bytes) followed by b (blen bytes), in a malloc'd string; NULL when out of memory. */
static char *concat(const char *a, size_t alen, const char *b, size_t blen)
{
    char *out = malloc(alen + blen + 1);
    if (out) {
        memcpy(out, a, alen);
        memcpy(out + alen, b, blen);
        out[alen + blen] = '\0';
    }
    return out;
}

/* urllib.parse.urljoin(url, link) for the links this site has: absolute, rooted at /,
 * or relative to the page's directory. */
static char *urljoin(const char *url, const char *link, size_t linklen)
{
    if (strncmp(link, "http://", 7) == 0 || strncmp(link, "https://", 8) == 0)
        return concat("", 0, link, linklen);
    if (link[0] == '/')
        return concat(base, strlen(base), link, linklen);
    size_t dir = (size_t)(strrchr(url + strlen(base), '/') + 1 - url);
    return concat(url, dir, link, linklen);
}

#define MAXLINKS 8

typedef struct {
    char *links[MAXLINKS];
    int n;
} found_t;

/* parse(url): the page's links (HREF_RE = href="(.*?)"), without repeats. */
static int parse(const char *url, found_t *found)
{
    char *html;
    int status = fetch_html(url, &html);
    if (status != 200) {
        /* aiohttp's ClientResponseError has the status and its reason; a connection
         * error has neither. */
        char tail[128];
        if (status > 0)
            snprintf(tail, sizeof tail, " [%d]: %s", status,
                     status == 404 ? "Not Found" : "HTTP error");
        else
            snprintf(tail, sizeof tail, " [None]: %s", acio_strerror(status));
        log_line("ERROR", "aiohttp exception for ", url, tail);
        return status == -ENOMEM ? status : 0;
    }
    log_line("INFO", "Got response [200] for URL:", url, "");
    for (const char *p = html; (p = strstr(p, "href=\"")) && found->n < MAXLINKS;) {
        p += 6;
        const char *end = strchr(p, '"');
        if (!end)
            break;
        char *abslink = urljoin(url, p, (size_t)(end - p));
        if (!abslink) {
            free(html);
            return -ENOMEM;
        }
        bool seen = false;
        for (int i = 0; i < found->n && !seen; i++)
            seen = strcmp(found->links[i], abslink) == 0;
        if (seen)
            free(abslink);
        else
            found->links[found->n++] = abslink;
        p = end + 1;
    }
    free(html);
    char before[32];
    snprintf(before, sizeof before, "Found %d links for ", found->n);
    log_line("INFO", before, url, "");
    return 0;
}

static void *write_one(void *arg)
{
    const char *url = arg;
    found_t res = {0};
    int rc = parse(url, &res);
    acio_file_t *f;
    if (rc == 0 && res.n > 0 && (rc = acio_file_open(&f, outpath, "a")) == 0) {
        for (int i = 0; rc == 0 && i < res.n; i++)
            rc = acio_file_writef(f, "%s\t%s\n", url, res.links[i]);
        int close_rc = acio_file_close(f);
        rc = rc < 0 ? rc : close_rc;
        if (rc == 0)
            log_line("INFO", "Wrote res for source Url: ", url, "");
    }
    for (int i = 0; i < res.n; i++)
        free(res.links[i]);
    return rc < 0 ? acio_raise(rc, "write_one %s", url) : NULL;
}

static void *bulk_crawl_and_write(void *arg)
{
    (void)arg;
    acio_server_t *server;
    int rc = acio_start_server(&server, serve_page, NULL, "127.0.0.1", 0, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "start_server");
    port = acio_server_port(server);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    printf("A web server in this program serves %zu pages on 127.0.0.1; PORT is the free port\n"
           "it got (different every run). No network is used.\n",
           NPAGES);

    char urls[NPAGES][128];
    acio_call_t tasks[NPAGES];
    for (size_t i = 0; i < NPAGES; i++) {
        snprintf(urls[i], sizeof urls[i], "%s%s", base, site[i].path);
        tasks[i] = (acio_call_t){write_one, urls[i], NULL};
    }
    acio_future_t *all;
    rc = acio_gather_calls(&all, tasks, NPAGES, NULL, 0, NULL, NULL, NULL);
    if (rc == 0) {
        rc = acio_await(all, NULL);
        acio_future_unref(all);
    }
    acio_server_close(server);
    int crc = acio_server_wait_closed(server);
    acio_server_free(server);
    if (rc == 0)
        rc = crc;
    if (rc < 0)
        return acio_raise(rc, "crawl");

    /* Read the result back: async with aiofiles.open(outpath) as f: async for line in f */
    acio_file_t *f;
    if ((rc = acio_file_open(&f, outpath, "r")) < 0)
        return acio_raise(rc, "open %s", outpath);
    printf("--- %s ---\n", strrchr(outpath, '/') + 1);
    char *line;
    while ((rc = acio_file_next_line(f, &line, NULL)) == 0) {
        put_url(line);
        free(line);
    }
    acio_file_close(f);
    return rc == ACIO_ESTOPASYNCITERATION ? NULL : acio_raise(rc, "read");
}

int main(void)
{
    char dir[] = "/tmp/areq-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(outpath, sizeof outpath, "%s/foundurls.txt", dir);
    FILE *outfile = fopen(outpath, "w");
    if (!outfile)
        return 1;
    fputs("source_url\tparsed_url\n", outfile);
    fclose(outfile);

    char *msg = NULL;
    int rc = acio_run_ex(bulk_crawl_and_write, NULL, NULL, &msg);
    if (rc < 0)
        fprintf(stderr, "error: %s: %s\n", msg ? msg : "", acio_strerror(rc));
    free(msg);
    unlink(outpath);
    rmdir(dir);
    return rc < 0;
}
