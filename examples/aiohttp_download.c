/* Seed 001 §2 "协程方式(异步)" (the coroutine way): download three images concurrently
 * with one aiohttp session:
 *
 *     async def fetch(session, url):
 *         print("发送请求:", url)
 *         async with session.get(url, verify_ssl=False) as response:
 *             content = await response.content.read()
 *             file_name = url.rsplit('_')[-1]
 *             with open(file_name, mode='wb') as file_object:
 *                 file_object.write(content)
 *             print('下载完成', url)
 *
 *     async def main():
 *         async with aiohttp.ClientSession() as session:
 *             url_list = [...]
 *             tasks = [asyncio.create_task(fetch(session, url)) for url in url_list]
 *             await asyncio.wait(tasks)
 *
 * The seed downloads from a public site. This port downloads from a web server the
 * program runs itself on 127.0.0.1 (acio's HTTP server, examples/support/local_site.h,
 * answering the seed's three paths with fixed bytes, each after its own delay, so the
 * completion order is the same every run), with acio's HTTP client, and writes the files
 * with acio's file layer (the seed's plain open() would block the loop); no network is
 * used. The port changes every run,
 * so URLs are printed with PORT in its place. The files go to a temporary directory,
 * whose listing is printed at the end and which is then removed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

#include "support/local_site.h"

static const char *paths[] = {
    "/newsdfs/g26/M02/35/A9/120x90_0_autohomecar__ChsEe12AXQ6AOOH_AAFocMs8nzU621.jpg",
    "/newsdfs/g30/M01/3C/E2/120x90_0_autohomecar__ChcCSV2BBICAUntfAADjJFd6800429.jpg",
    "/newsdfs/g26/M0B/3C/65/120x90_0_autohomecar__ChcCP12BFCmAIO83AAGq7vK0sGY193.jpg",
};
#define NIMAGES (sizeof paths / sizeof *paths)

/* The local site: image i is 1000 + 100 * i bytes, answered after its own delay. */
static const double delays[NIMAGES] = {0.3, 0.1, 0.2};
static char image_bytes[NIMAGES][1200];
static local_page_t pages[NIMAGES];

static void make_site(void)
{
    for (size_t i = 0; i < NIMAGES; i++) {
        size_t len = 1000 + 100 * i;
        for (size_t k = 0; k < len; k++)
            image_bytes[i][k] = (char)(k * 7 + i);
        pages[i] = (local_page_t){.path = paths[i],
                                  .content_type = "image/jpeg",
                                  .body = image_bytes[i],
                                  .body_len = len,
                                  .delay = delays[i]};
    }
}

/* ---- the seed's program ---- */

static local_site_t *site;
static char dir[] = "/tmp/acio-aiohttp-download-XXXXXX";

typedef struct {
    acio_http_session_t *session;
    const char *path;
} fetch_arg_t;

static void *fetch(void *arg)
{
    fetch_arg_t *a = arg;
    char url[600];
    local_site_url(site, a->path, url, sizeof url);
    printf("发送请求: http://127.0.0.1:PORT%s\n", a->path);
    acio_http_response_t *response;
    int rc = acio_http_get(a->session, url, &response);
    if (rc < 0)
        return acio_raise(rc, "GET %s", a->path);
    const void *content;
    size_t len;
    rc = acio_http_response_read(response, &content, &len);
    if (rc == 0) {
        /* with open(file_name, mode='wb') as file_object: file_object.write(content),
         * through acio's file layer (aiofiles), so the loop keeps serving the others. */
        char file_name[700];
        snprintf(file_name, sizeof file_name, "%s/%s", dir, strrchr(a->path, '_') + 1);
        acio_file_t *f;
        rc = acio_file_open(&f, file_name, "wb");
        if (rc == 0) {
            rc = acio_file_write(f, content, len);
            int crc = acio_file_close(f);
            if (rc == 0)
                rc = crc;
        }
    }
    if (rc == 0) {
        printf("下载完成 http://127.0.0.1:PORT%s\n", a->path);
    }
    acio_http_response_release(response);
    return rc < 0 ? acio_raise(rc, "download %s", a->path) : NULL;
}

static void *amain(void *arg)
{
    (void)arg;
    make_site();
    int rc = local_site_start(&site, pages, NIMAGES);
    if (rc < 0)
        return acio_raise(rc, "server");
    acio_http_session_t *session;
    rc = acio_http_session_new(&session, NULL);
    if (rc < 0)
        return acio_raise(rc, "session");
    fetch_arg_t args[NIMAGES];
    acio_task_t *tasks[NIMAGES];
    size_t started = 0;
    for (; started < NIMAGES; started++) {
        args[started] = (fetch_arg_t){session, paths[started]};
        if (acio_create_task(&tasks[started], fetch, &args[started], NULL) < 0)
            break;
    }
    /* await asyncio.wait(tasks) */
    rc = started ? acio_wait(tasks, started, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, NULL, NULL, NULL,
                             NULL)
                 : -ENOMEM;
    for (size_t i = 0; i < started; i++) {
        if (rc == 0 && acio_future_error(tasks[i]) < 0)
            rc = acio_future_error(tasks[i]);
        acio_future_unref(tasks[i]);
    }
    acio_http_session_close(session);
    local_site_stop(site);
    return rc < 0 ? acio_raise(rc, "downloads") : NULL;
}

int main(void)
{
    printf("A web server in this program serves the seed's three images on 127.0.0.1; PORT\n"
           "is the free port it got (different every run). No network is used.\n");
    if (!mkdtemp(dir))
        return 1;
    char *msg = NULL;
    int rc = acio_run_ex(amain, NULL, NULL, &msg);
    if (rc < 0)
        fprintf(stderr, "failed: %s (%s)\n", acio_strerror(rc), msg ? msg : "");
    free(msg);
    /* The files written, in name order, with their sizes. */
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char p[700];
            snprintf(p, sizeof p, "%s/%s", dir, names[i]->d_name);
            FILE *f = fopen(p, "rb");
            long size = -1;
            if (f && fseek(f, 0, SEEK_END) == 0)
                size = ftell(f);
            if (f)
                fclose(f);
            printf("%s %ld\n", names[i]->d_name, size);
            unlink(p);
        }
        free(names[i]);
    }
    free(names);
    rmdir(dir);
    return rc < 0;
}
