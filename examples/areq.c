/* Seed 002 (areq.py): read URLs from a file, fetch them concurrently with one session,
 * find the links in each page, resolve them with urljoin and append
 * `source_url<TAB>parsed_url` rows to a file with aiofiles, logging each failure and
 * going on:
 *
 *     async def fetch_html(url, session, **kwargs):
 *         resp = await session.request(method="GET", url=url, **kwargs)
 *         resp.raise_for_status()
 *         logger.info("Got response [%s] for URL: %s", resp.status, url)
 *         html = await resp.text()
 *         return html
 *
 *     async def parse(url, session, **kwargs):
 *         found = set()
 *         try:
 *             html = await fetch_html(url=url, session=session, **kwargs)
 *         except (aiohttp.ClientError, aiohttp.http_exceptions.HttpProcessingError) as e:
 *             logger.error("aiohttp exception for %s [%s]: %s", url,
 *                          getattr(e, "status", None), getattr(e, "message", None))
 *             return found
 *         except Exception as e:
 *             logger.exception("Non-aiohttp exception occured:  %s", getattr(e, "__dict__", {}))
 *             return found
 *         else:
 *             for link in HREF_RE.findall(html):
 *                 try:
 *                     abslink = urllib.parse.urljoin(url, link)
 *                 except (urllib.error.URLError, ValueError):
 *                     logger.exception("Error parsing URL: %s", link)
 *                 else:
 *                     found.add(abslink)
 *             logger.info("Found %d links for %s", len(found), url)
 *             return found
 *
 *     async def write_one(file, url, **kwargs):
 *         res = await parse(url=url, **kwargs)
 *         if not res:
 *             return None
 *         async with aiofiles.open(file, "a") as f:
 *             for p in res:
 *                 await f.write(f"{url}\t{p}\n")
 *             logger.info("Wrote results for source URL: %s", url)
 *
 *     async def bulk_crawl_and_write(file, urls, **kwargs):
 *         async with ClientSession() as session:
 *             tasks = []
 *             for url in urls:
 *                 tasks.append(write_one(file=file, url=url, session=session, **kwargs))
 *             await asyncio.gather(*tasks)
 *
 *     if __name__ == "__main__":
 *         with open(here.joinpath("urls.txt")) as infile:
 *             urls = set(map(str.strip, infile))
 *         outpath = here.joinpath("foundurls.txt")
 *         with open(outpath, "w") as outfile:
 *             outfile.write("source_url\tparsed_url\n")
 *         asyncio.run(bulk_crawl_and_write(file=outpath, urls=urls))
 *
 * On the library: acio's HTTP client (session.request), acio_html_links (a real HTML
 * tokenizer instead of HREF_RE, resolving with urljoin's RFC 3986 rules, fragments
 * dropped, mailto: and javascript: skipped, repeats dropped like the set) and acio's file
 * layer for urls.txt and foundurls.txt (aiofiles). acio-crawl is this program grown into
 * a tool.
 *
 * The seed crawls public sites; this port crawls a site it serves itself on 127.0.0.1
 * (examples/support/local_site.h), each page after its own delay so the log's order is
 * the same every run. urls.txt lists its pages, one twice (the set keeps one), a blank
 * line, and a URL on a port nobody listens on (a connection error, logged and skipped).
 * The port changes every run, so URLs are printed with PORT in its place; the refused
 * one is printed as DEADPORT. The set's order: links in the order found, duplicates
 * dropped; the URLs in the order of the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

#include "support/local_site.h"

static const local_page_t pages[] = {
    {.path = "/",
     .delay = 0.2,
     .body = "<html><body><a href=\"/news\">News</a> <a href=\"sports.html#top\">Sports</a>\n"
             "<a href=\"/news\">News again</a> <a href=\"mailto:editor@example.com\">Mail</a>\n"
             "<!-- <a href=\"/hidden\">commented out</a> -->\n"
             "<a href=\"/search?q=a&amp;page=2\">Search</a></body></html>\n"},
    {.path = "/gone",
     .status = 404,
     .delay = 0.05,
     .body = "<html><body>Not Found</body></html>\n"},
    {.path = "/video/",
     .delay = 0.4,
     .body = "<html><body><a href=\"1\">First video</a> <a href='../about'>About</a>"
             "</body></html>\n"},
    {.path = "/about", .delay = 0.6, .body = "<html><body>No links here.</body></html>\n"},
    {.path = "/map",
     .delay = 0.8,
     .body = "<html><head><base href=\"/maps/\"></head><body>"
             "<a href=\"https://Example.org:443/\">elsewhere</a> <a href=more>More maps</a>"
             "<script>var s = '<a href=\"/not-a-link\">';</script></body></html>\n"},
};
#define NPAGES (sizeof pages / sizeof *pages)

static local_site_t *site;
static int dead_port; /* a port with no listener: connection refused */
static char urls_path[128], outpath[128];

/* Print a URL with the site's port as PORT and the dead one as DEADPORT. */
static const char *show(const char *url)
{
    static char buf[2048];
    char dead[32];
    snprintf(dead, sizeof dead, "127.0.0.1:%d", dead_port);
    const char *at = strstr(url, dead);
    if (at) {
        snprintf(buf, sizeof buf, "%.*s127.0.0.1:DEADPORT%s", (int)(at - url), url,
                 at + strlen(dead));
        return buf;
    }
    return local_site_show(site, url);
}

/* logging.basicConfig(format="%(levelname)s:%(name)s: %(message)s") */
#define LOG(level, ...)                                                                            \
    do {                                                                                           \
        printf("%s:areq: ", level);                                                                \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
    } while (0)

typedef struct {
    char **links;
    size_t n, cap;
} found_t;

static int add_link(void *data, const acio_url_t *url) /* found.add(abslink) */
{
    found_t *found = data;
    if (found->n == found->cap) {
        size_t cap = found->cap ? 2 * found->cap : 8;
        char **p = realloc(found->links, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        found->links = p;
        found->cap = cap;
    }
    if (!(found->links[found->n] = strdup(url->href)))
        return -ENOMEM;
    found->n++;
    return 0;
}

static void found_free(found_t *found)
{
    for (size_t i = 0; i < found->n; i++)
        free(found->links[i]);
    free(found->links);
}

/* parse(url, session): fetch, then the page's links. Failures are logged, not raised:
 * the page simply has no links. Only out-of-memory is returned. */
static int parse(const char *url, acio_http_session_t *session, found_t *found)
{
    acio_http_response_t *resp;
    int rc = acio_http_request(session, "GET", url, NULL, &resp);
    if (rc < 0) {
        /* A connection error has no status and no message, as aiohttp's. */
        LOG("ERROR", "aiohttp exception for %s [None]: %s", show(url), acio_strerror(rc));
        return rc == -ENOMEM ? rc : 0;
    }
    if (acio_http_response_raise_for_status(resp) < 0) {
        LOG("ERROR", "aiohttp exception for %s [%d]: %s", show(url),
            acio_http_response_status(resp), acio_http_response_reason(resp));
        acio_http_response_release(resp);
        return 0;
    }
    LOG("INFO", "Got response [%d] for URL: %s", acio_http_response_status(resp), show(url));
    const void *body;
    size_t len;
    acio_url_t *page = NULL;
    rc = acio_http_response_read(resp, &body, &len);
    if (rc == 0)
        rc = acio_url_parse(url, strlen(url), &page);
    if (rc == 0) {
        int n = acio_html_links(body, len, acio_http_response_header(resp, "Content-Type"), page,
                                add_link, found);
        rc = n < 0 ? n : 0;
    }
    acio_url_free(page);
    acio_http_response_release(resp);
    if (rc < 0) {
        LOG("ERROR", "Non-aiohttp exception occured: %s", acio_strerror(rc));
        return rc == -ENOMEM ? rc : 0;
    }
    LOG("INFO", "Found %zu links for %s", found->n, show(url));
    return 0;
}

typedef struct {
    const char *url;
    acio_http_session_t *session;
} write_one_arg_t;

static void *write_one(void *arg)
{
    write_one_arg_t *a = arg;
    found_t res = {0};
    int rc = parse(a->url, a->session, &res);
    if (rc == 0 && res.n > 0) {
        acio_file_t *f; /* async with aiofiles.open(file, "a") as f: */
        if ((rc = acio_file_open(&f, outpath, "a")) == 0) {
            for (size_t i = 0; rc == 0 && i < res.n; i++)
                rc = acio_file_writef(f, "%s\t%s\n", a->url, res.links[i]);
            int crc = acio_file_close(f);
            if (rc == 0)
                rc = crc;
        }
        if (rc == 0)
            LOG("INFO", "Wrote results for source URL: %s", show(a->url));
    }
    found_free(&res);
    return rc < 0 ? acio_raise(rc, "write_one %s", a->url) : NULL;
}

/* urls = set(map(str.strip, infile)), in the file's order. */
static int read_urls(char ***out, size_t *n)
{
    acio_file_t *f;
    int rc = acio_file_open(&f, urls_path, "r");
    if (rc < 0)
        return rc;
    char **urls = NULL;
    size_t count = 0;
    char *line;
    while ((rc = acio_file_next_line(f, &line, NULL)) == 0) {
        char *s = line, *e = line + strlen(line);
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
            *--e = '\0';
        bool dup = false;
        for (size_t i = 0; i < count && !dup; i++)
            dup = strcmp(urls[i], s) == 0;
        char **grown = dup ? urls : realloc(urls, (count + 1) * sizeof *urls);
        if (!grown || (!dup && !(grown[count] = strdup(s)))) {
            free(line);
            rc = -ENOMEM;
            urls = grown ? grown : urls;
            break;
        }
        urls = grown;
        count += !dup;
        free(line);
    }
    int crc = acio_file_close(f);
    if (rc == ACIO_ESTOPASYNCITERATION)
        rc = crc;
    if (rc < 0) {
        for (size_t i = 0; i < count; i++)
            free(urls[i]);
        free(urls);
        return rc;
    }
    *out = urls;
    *n = count;
    return 0;
}

static void *bulk_crawl_and_write(void *arg)
{
    (void)arg;
    int rc = local_site_start(&site, pages, NPAGES);
    if (rc < 0)
        return acio_raise(rc, "server");
    /* The seed's urls.txt: the site's pages, one twice, a blank line, a dead port. */
    acio_file_t *f;
    if ((rc = acio_file_open(&f, urls_path, "w")) == 0) {
        const char *paths[] = {"/", "/gone", "/video/", "/about", "/map", "/"};
        for (size_t i = 0; rc == 0 && i < sizeof paths / sizeof *paths; i++) {
            char url[128];
            local_site_url(site, paths[i], url, sizeof url);
            rc = acio_file_writef(f, "%s\n", url);
        }
        if (rc == 0)
            rc = acio_file_writef(f, "\nhttp://127.0.0.1:%d/\n", dead_port);
        int crc = acio_file_close(f);
        if (rc == 0)
            rc = crc;
    }
    char **urls = NULL;
    size_t nurls = 0;
    if (rc == 0)
        rc = read_urls(&urls, &nurls);
    if (rc < 0) {
        local_site_stop(site);
        return acio_raise(rc, "urls.txt");
    }

    acio_http_session_t *session; /* async with ClientSession() as session: */
    rc = acio_http_session_new(&session, NULL);
    if (rc == 0) {
        write_one_arg_t *args = calloc(nurls, sizeof *args);
        acio_call_t *tasks = calloc(nurls, sizeof *tasks);
        size_t n = 0;
        for (size_t i = 0; args && tasks && i < nurls; i++) {
            if (!urls[i][0])
                continue; /* the blank line: str.strip gives "", which aiohttp rejects */
            args[n] = (write_one_arg_t){urls[i], session};
            tasks[n] = (acio_call_t){write_one, &args[n], NULL};
            n++;
        }
        acio_future_t *all;
        rc = args && tasks ? acio_gather_calls(&all, tasks, n, NULL, 0, NULL, NULL, NULL) : -ENOMEM;
        if (rc == 0) {
            rc = acio_await(all, NULL);
            acio_future_unref(all);
        }
        free(args);
        free(tasks);
        acio_http_session_close(session);
    }
    for (size_t i = 0; i < nurls; i++)
        free(urls[i]);
    free(urls);

    /* The result, read back: async with aiofiles.open(outpath) as f: async for line in f */
    if (rc == 0 && (rc = acio_file_open(&f, outpath, "r")) == 0) {
        printf("--- foundurls.txt ---\n");
        char *line;
        while ((rc = acio_file_next_line(f, &line, NULL)) == 0) {
            fputs(show(line), stdout);
            free(line);
        }
        acio_file_close(f);
        if (rc == ACIO_ESTOPASYNCITERATION)
            rc = 0;
    }
    local_site_stop(site);
    return rc < 0 ? acio_raise(rc, "crawl") : NULL;
}

int main(void)
{
    printf("A web server in this program serves %zu pages on 127.0.0.1; PORT is the free port\n"
           "it got (different every run). No network is used.\n",
           NPAGES);
    char dir[] = "/tmp/areq-XXXXXX";
    if (!mkdtemp(dir) || (dead_port = local_site_dead_port()) < 0)
        return 1;
    snprintf(urls_path, sizeof urls_path, "%s/urls.txt", dir);
    snprintf(outpath, sizeof outpath, "%s/foundurls.txt", dir);
    FILE *outfile = fopen(outpath, "w"); /* with open(outpath, "w") as outfile: */
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
    unlink(urls_path);
    rmdir(dir);
    return rc < 0;
}
