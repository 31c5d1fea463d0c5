/* Seed 002 (areq.py): crawl pages concurrently and append the links found on each one to
 * a shared file with aiofiles:
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
 *         tasks = []
 *         for url in urls:
 *             tasks.append(write_one(file=file, url=url, **kwargs))
 *         await asyncio.gather(*tasks)
 *
 *     with open(outpath, "w") as outfile:
 *         outfile.write("source_url\tparsed_url\n")
 *     asyncio.run(bulk_crawl_and_write(file=outpath, urls=urls))
 *
 * This port keeps the file half and replaces the network half (aiohttp) with a canned
 * table of pages and a sleep for each "download", so it runs anywhere and prints the
 * same thing every time; the log goes to stdout. At the end the file is read back with
 * `async for line in f`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

typedef struct {
    const char *url;
    double latency;       /* how long the simulated download takes */
    const char *links[4]; /* what parse() finds (NULL-terminated) */
    bool fails;           /* the download fails, as https://1.1.1.1/ does in the seed */
} page_t;

static const page_t pages[] = {
    {.url = "https://www.163.com",
     .latency = 0.2,
     .links = {"https://www.163.com/news", "https://www.163.com/sports"}},
    {.url = "https://1.1.1.1/", .latency = 0.05, .fails = true},
    {.url = "https://www.qq.com", .latency = 0.4, .links = {"https://www.qq.com/video"}},
    {.url = "https://regex101.com/", .latency = 0.6},
    {.url = "https://www.baidu.com",
     .latency = 0.8,
     .links = {"https://www.baidu.com/more", "https://map.baidu.com"}},
};
#define NPAGES (sizeof pages / sizeof *pages)

static char outpath[128];

/* parse(url): "download" the page and return its links; NULL on a download error. */
static const page_t *parse(const page_t *page)
{
    if (acio_sleep(page->latency) < 0)
        return NULL;
    if (page->fails) {
        printf("ERROR: areq:aiohttp exception for %s [None]: None\n", page->url);
        return NULL;
    }
    printf("INFO: areq:Got response [200] for URL:%s\n", page->url);
    return page;
}

static void *write_one(void *arg)
{
    const page_t *res = parse(arg);
    if (!res || !res->links[0])
        return NULL;
    acio_file_t *f;
    int rc = acio_file_open(&f, outpath, "a");
    if (rc < 0)
        return acio_raise(rc, "open %s", outpath);
    for (int i = 0; res->links[i] && rc == 0; i++)
        rc = acio_file_writef(f, "%s\t%s\n", res->url, res->links[i]);
    int close_rc = acio_file_close(f);
    if (rc < 0 || close_rc < 0)
        return acio_raise(rc < 0 ? rc : close_rc, "write %s", outpath);
    printf("INFO: areq:Wrote res for source Url: %s\n", res->url);
    return NULL;
}

static void *bulk_crawl_and_write(void *arg)
{
    (void)arg;
    acio_call_t tasks[NPAGES];
    for (size_t i = 0; i < NPAGES; i++)
        tasks[i] = (acio_call_t){write_one, (void *)&pages[i], NULL};
    acio_future_t *all;
    int rc = acio_gather_calls(&all, tasks, NPAGES, NULL, 0, NULL, NULL, NULL);
    if (rc < 0)
        return acio_raise(rc, "gather");
    rc = acio_await(all, NULL);
    acio_future_unref(all);
    if (rc < 0)
        return acio_raise(rc, "crawl");

    /* Read the result back: async with aiofiles.open(outpath) as f: async for line in f */
    acio_file_t *f;
    if ((rc = acio_file_open(&f, outpath, "r")) < 0)
        return acio_raise(rc, "open %s", outpath);
    printf("--- %s ---\n", strrchr(outpath, '/') + 1);
    char *line;
    while ((rc = acio_file_next_line(f, &line, NULL)) == 0) {
        fputs(line, stdout);
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
