/* Seed 003 §5 "实践：网络爬虫" (practice: a web crawler), async_quotes_crawler.py: fetch
 * five pages of quotes.toscrape.com at once, pull the quotes and their authors out of
 * each with two regular expressions, and save them to quotes.txt:
 *
 *     def parse(text):
 *         quote_pattern = re.compile(r'<span class="text" itemprop="text">(.+?)</span>')
 *         author_pattern = re.compile(r'<small class="author" itemprop="author">(.+?)</small>')
 *         quotes = quote_pattern.findall(text)
 *         authors = author_pattern.findall(text)
 *         return list(zip(quotes, authors))
 *
 *     async def fetch_url(session, url):
 *         async with session.get(url) as response:
 *             text = await response.text()
 *             return parse(text)
 *
 *     async def main():
 *         url = 'http://quotes.toscrape.com/page/{:d}/'
 *         start_time = time.time()
 *         async with aiohttp.ClientSession() as session:
 *             tasks = [fetch_url(session, url.format(page)) for page in range(1, 6)]
 *             results = await asyncio.gather(*tasks)
 *         end_time = time.time()
 *         print('Total time: {:.2f} s'.format(end_time - start_time))
 *         with open('quotes.txt', 'w', encoding='utf-8') as f:
 *             for result in results:
 *                 f.writelines([f'{quote} by {author}\n' for quote, author in result])
 *         print(f'Results saved to {f.name}')
 *
 * The seed crawls the public site; this port generates a local copy shaped like it
 * (ten quotes a page in the site's markup, with its header, tags, author links and
 * pager; the quotes are the port's own) and serves it on 127.0.0.1 with acio's HTTP
 * server (examples/support/local_site.h); no network is used. The last page answers
 * first, yet gather keeps the pages in order. The total time varies, so it goes to
 * stderr; stdout ends with quotes.txt as written. The regular expressions' (.+?) is a
 * search for the closing tag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

#include "support/local_site.h"

#define NPAGES     5
#define PER_PAGE   10
#define PAGE_BYTES 16384

/* ---- the local quotes site ---- */

static const char *authors[] = {"Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger W. Dijkstra",
                                "Barbara Liskov"};
static const char *subjects[] = {"A loop",   "A future", "A task",   "A queue",  "A lock",
                                 "A socket", "A timer",  "A buffer", "A parser", "A thread"};
static const char *predicates[] = {
    "waits for no one", "keeps its promises", "is done when it is done",
    "is only as fast as its slowest await", "never blocks the others"};

static char page_html[NPAGES][PAGE_BYTES];
static char page_path[NPAGES][16];
static local_page_t pages[NPAGES];

static void make_site(void)
{
    for (int p = 0; p < NPAGES; p++) {
        char *o = page_html[p];
        size_t cap = PAGE_BYTES;
        int n = snprintf(o, cap,
                         "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n\t<meta charset=\"UTF-8\">\n"
                         "\t<title>Quotes to Scrape</title>\n</head>\n<body>\n"
                         "<div class=\"container\">\n<div class=\"row header-box\">\n"
                         "<h1><a href=\"/\" style=\"text-decoration: none\">Quotes to Scrape</a>"
                         "</h1>\n</div>\n<div class=\"row\">\n<div class=\"col-md-8\">\n");
        for (int q = 0; q < PER_PAGE; q++) {
            const char *author = authors[(p + q) % 5];
            char slug[64];
            size_t s = 0;
            for (const char *c = author; *c && s + 1 < sizeof slug; c++)
                if (*c != '.')
                    slug[s++] = *c == ' ' ? '-' : *c;
            slug[s] = '\0';
            n += snprintf(
                o + n, cap - (size_t)n,
                "<div class=\"quote\" itemscope itemtype=\"http://schema.org/CreativeWork\">\n"
                "\t<span class=\"text\" itemprop=\"text\">\u201c%s %s.\u201d</span>\n"
                "\t<span>by <small class=\"author\" itemprop=\"author\">%s</small>\n"
                "\t<a href=\"/author/%s\">(about)</a>\n\t</span>\n"
                "\t<div class=\"tags\">Tags: <meta class=\"keywords\" itemprop=\"keywords\""
                " content=\"asyncio\"> <a class=\"tag\" href=\"/tag/asyncio/page/1/\">"
                "asyncio</a></div>\n</div>\n",
                subjects[q], predicates[(p * 3 + q) % 5], author, slug);
        }
        n += snprintf(o + n, cap - (size_t)n, "<nav>\n<ul class=\"pager\">\n");
        if (p > 0)
            n += snprintf(o + n, cap - (size_t)n,
                          "<li class=\"previous\"><a href=\"/page/%d/\"><span aria-hidden=\"true\">"
                          "&larr;</span> Previous</a></li>\n",
                          p);
        if (p < NPAGES - 1)
            n +=
                snprintf(o + n, cap - (size_t)n,
                         "<li class=\"next\"><a href=\"/page/%d/\">Next <span aria-hidden=\"true\">"
                         "&rarr;</span></a></li>\n",
                         p + 2);
        snprintf(o + n, cap - (size_t)n,
                 "</ul>\n</nav>\n</div>\n</div>\n</div>\n</body>\n</html>\n");
        snprintf(page_path[p], sizeof page_path[p], "/page/%d/", p + 1);
        /* Later pages answer sooner: completion order is the reverse of the tasks'. */
        pages[p] = (local_page_t){
            .path = page_path[p], .body = page_html[p], .delay = 0.05 * (NPAGES - p)};
    }
}

/* ---- the seed's crawler ---- */

typedef struct {
    char *quote[PER_PAGE], *author[PER_PAGE];
    int n;
} result_t;

/* pattern.findall(text): every (.+?) between open and close, up to max. */
static int findall(const char *text, const char *open, const char *close, char **out, int max)
{
    int n = 0;
    size_t ol = strlen(open);
    for (const char *p = text; n < max && (p = strstr(p, open));) {
        p += ol;
        const char *e = strstr(p, close);
        if (!e)
            break;
        if (e == p || memchr(p, '\n', (size_t)(e - p))) { /* . does not match a newline */
            continue;
        }
        out[n] = strndup(p, (size_t)(e - p));
        if (!out[n])
            return -ENOMEM;
        n++;
        p = e + strlen(close);
    }
    return n;
}

static void result_free(result_t *r)
{
    for (int i = 0; i < PER_PAGE; i++) {
        free(r->quote[i]);
        free(r->author[i]);
    }
}

/* parse(text): list(zip(quotes, authors)). */
static int parse(const char *text, result_t *r)
{
    int nq =
        findall(text, "<span class=\"text\" itemprop=\"text\">", "</span>", r->quote, PER_PAGE);
    int na = findall(text, "<small class=\"author\" itemprop=\"author\">", "</small>", r->author,
                     PER_PAGE);
    if (nq < 0 || na < 0)
        return -ENOMEM;
    r->n = nq < na ? nq : na;
    return 0;
}

typedef struct {
    acio_http_session_t *session;
    char url[64];
    result_t result;
} fetch_arg_t;

static void *fetch_url(void *arg)
{
    fetch_arg_t *a = arg;
    acio_http_response_t *response;
    int rc = acio_http_get(a->session, a->url, &response);
    if (rc < 0)
        return acio_raise(rc, "GET %s", a->url);
    const char *text;
    size_t len;
    rc = acio_http_response_text(response, &text, &len);
    if (rc == 0)
        rc = parse(text, &a->result);
    acio_http_response_release(response);
    return rc < 0 ? acio_raise(rc, "%s", a->url) : NULL;
}

static fetch_arg_t args[NPAGES];

static void *amain(void *arg)
{
    (void)arg;
    make_site();
    local_site_t *site;
    int rc = local_site_start(&site, pages, NPAGES);
    if (rc < 0)
        return acio_raise(rc, "server");
    double start_time = acio_loop_time(acio_get_running_loop());
    acio_http_session_t *session;
    rc = acio_http_session_new(&session, NULL);
    if (rc == 0) {
        acio_call_t calls[NPAGES];
        for (int page = 1; page <= NPAGES; page++) { /* url.format(page) */
            fetch_arg_t *a = &args[page - 1];
            a->session = session;
            char path[32];
            snprintf(path, sizeof path, "/page/%d/", page);
            local_site_url(site, path, a->url, sizeof a->url);
            calls[page - 1] = (acio_call_t){fetch_url, a, NULL};
        }
        acio_future_t *all; /* results = await asyncio.gather(*tasks) */
        rc = acio_gather_calls(&all, calls, NPAGES, NULL, 0, NULL, NULL, NULL);
        if (rc == 0) {
            rc = acio_await(all, NULL);
            acio_future_unref(all);
        }
        acio_http_session_close(session);
    }
    double end_time = acio_loop_time(acio_get_running_loop());
    fprintf(stderr, "Total time: %.2f s\n", end_time - start_time);
    local_site_stop(site);
    return rc < 0 ? acio_raise(rc, "crawl") : NULL;
}

int main(void)
{
    printf("A web server in this program serves a five-page copy of quotes.toscrape.com's\n"
           "layout on 127.0.0.1. No network is used. The total time goes to stderr.\n");
    char *msg = NULL;
    int rc = acio_run_ex(amain, NULL, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "failed: %s (%s)\n", acio_strerror(rc), msg ? msg : "");
        free(msg);
        return 1;
    }
    char dir[] = "/tmp/acio-quotes-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/quotes.txt", dir);
    /* with open('quotes.txt', 'w', encoding='utf-8') as f: f.writelines(...): after the
     * loop has finished, as in the seed, so plain stdio. */
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    for (int p = 0; p < NPAGES; p++)
        for (int i = 0; i < args[p].result.n; i++)
            fprintf(f, "%s by %s\n", args[p].result.quote[i], args[p].result.author[i]);
    if (fclose(f) != 0)
        return 1;
    printf("Results saved to quotes.txt\n--- quotes.txt ---\n");
    f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        fputs(line, stdout);
    if (f)
        fclose(f);
    for (int p = 0; p < NPAGES; p++)
        result_free(&args[p].result);
    unlink(path);
    rmdir(dir);
    return 0;
}
