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
 * program runs itself on 127.0.0.1 (an acio stream server answering the seed's three
 * paths with fixed bytes, each after its own delay, so the completion order is the same
 * every run), with acio's HTTP client; no network is used. The port changes every run,
 * so URLs are printed with PORT in its place. The files go to a temporary directory,
 * whose listing is printed at the end and which is then removed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

static const struct {
    const char *path;
    double delay;
} images[] = {
    {"/newsdfs/g26/M02/35/A9/120x90_0_autohomecar__ChsEe12AXQ6AOOH_AAFocMs8nzU621.jpg", 0.3},
    {"/newsdfs/g30/M01/3C/E2/120x90_0_autohomecar__ChcCSV2BBICAUntfAADjJFd6800429.jpg", 0.1},
    {"/newsdfs/g26/M0B/3C/65/120x90_0_autohomecar__ChcCP12BFCmAIO83AAGq7vK0sGY193.jpg", 0.2},
};
#define NIMAGES (sizeof images / sizeof *images)

/* ---- the local server: each image is 1000 + 100 * i bytes ---- */

static void *serve(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)arg;
    char head[4096], path[512];
    for (;;) {
        ssize_t n = acio_stream_reader_readuntil(r, "\r\n\r\n", 4, head, sizeof head - 1, NULL);
        if (n <= 0 || sscanf(head, "GET %511s", path) != 1)
            break;
        size_t i = 0;
        while (i < NIMAGES && strcmp(images[i].path, path) != 0)
            i++;
        if (i == NIMAGES) {
            if (acio_stream_writer_write(w, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                                         45) < 0)
                break;
            continue;
        }
        if (acio_sleep(images[i].delay) < 0)
            break;
        size_t len = 1000 + 100 * i;
        char body[2000], hdr[128];
        for (size_t k = 0; k < len; k++)
            body[k] = (char)(k * 7 + i);
        int hl = snprintf(
            hdr, sizeof hdr,
            "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n", len);
        if (acio_stream_writer_write(w, hdr, (size_t)hl) < 0 ||
            acio_stream_writer_write(w, body, len) < 0)
            break;
    }
    acio_stream_writer_close(w);
    return NULL;
}

/* ---- the seed's program ---- */

static int port;
static char dir[] = "/tmp/acio-aiohttp-download-XXXXXX";

typedef struct {
    acio_http_session_t *session;
    const char *path;
} fetch_arg_t;

static void *fetch(void *arg)
{
    fetch_arg_t *a = arg;
    char url[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, a->path);
    printf("发送请求: http://127.0.0.1:PORT%s\n", a->path);
    acio_http_response_t *response;
    int rc = acio_http_get(a->session, url, &response);
    if (rc < 0)
        return acio_raise(rc, "GET %s", a->path);
    const void *content;
    size_t len;
    rc = acio_http_response_read(response, &content, &len);
    if (rc == 0) {
        char file_name[700];
        snprintf(file_name, sizeof file_name, "%s/%s", dir, strrchr(a->path, '_') + 1);
        FILE *f = fopen(file_name, "wb");
        if (!f || fwrite(content, 1, len, f) != len)
            rc = -EIO;
        if (f && fclose(f) != 0)
            rc = -EIO;
        printf("下载完成 http://127.0.0.1:PORT%s\n", a->path);
    }
    acio_http_response_release(response);
    return rc < 0 ? acio_raise(rc, "download %s", a->path) : NULL;
}

static void *amain(void *arg)
{
    (void)arg;
    acio_server_t *srv;
    int rc = acio_start_server(&srv, serve, NULL, "127.0.0.1", 0, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "server");
    port = acio_server_port(srv);
    acio_http_session_t *session;
    rc = acio_http_session_new(&session, NULL);
    if (rc < 0)
        return acio_raise(rc, "session");
    fetch_arg_t args[NIMAGES];
    acio_task_t *tasks[NIMAGES];
    size_t started = 0;
    for (; started < NIMAGES; started++) {
        args[started] = (fetch_arg_t){session, images[started].path};
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
    acio_server_close(srv);
    acio_server_free(srv);
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
