/* Seed 001 "asyncio + 不支持异步的模块" (asyncio with a library that is not async):
 * requests.get is blocking, so each download runs it in the default thread pool while the
 * loop keeps the other downloads going:
 *
 *     async def download_image(url):
 *         print("开始下载:", url)
 *         loop = asyncio.get_event_loop()
 *         future = loop.run_in_executor(None, requests.get, url)
 *         response = await future
 *         print('下载完成')
 *         file_name = url.rsplit('_')[-1]
 *         with open(file_name, mode='wb') as file_object:
 *             file_object.write(response.content)
 *
 * The seed downloads three images from a public site. This port downloads them from a
 * web server the program runs itself on 127.0.0.1 (an acio stream server answering
 * HTTP/1.1 GET with fixed bytes for the seed's three paths, each after its own delay), so
 * it needs no network; blocking_get(), a plain blocking HTTP/1.1 GET over a socket,
 * stands in for requests.get and runs in the default thread pool exactly as the seed's
 * call does, while the loop serves the requests. The server's port changes every run, so
 * the URLs are printed with PORT in its place. Instead of writing files each download
 * returns its file name and size, printed once all are done (the seed's
 * loop.run_until_complete(asyncio.wait(tasks)) no longer accepts coroutines in Python
 * 3.11, so the tasks are created and awaited one by one). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <acio.h>

/* ---- the local server: the seed's three image paths ---- */

static const struct {
    const char *path;
    double delay; /* how long the server takes to answer */
} images[] = {
    {"/newsdfs/g26/M02/35/A9/120x90_0_autohomecar__ChsEe12AXQ6AOOH_AAFocMs8nzU621.jpg", 0.3},
    {"/newsdfs/g30/M01/3C/E2/120x90_0_autohomecar__ChcCSV2BBICAUntfAADjJFd6800429.jpg", 0.1},
    {"/newsdfs/g26/M0B/3C/65/120x90_0_autohomecar__ChcCP12BFCmAIO83AAGq7vK0sGY193.jpg", 0.2},
};
#define NIMAGES (sizeof images / sizeof *images)

/* The "image" served for path i: a fixed, recognisable body of 100 + 10 * i bytes. */
static size_t image_bytes(size_t i, char *buf, size_t cap)
{
    size_t n = 100 + 10 * i;
    for (size_t k = 0; k < n && k < cap; k++)
        buf[k] = (char)('a' + (k + i) % 26);
    return n < cap ? n : cap;
}

static void *serve(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)arg;
    char line[512], path[256] = "";
    ssize_t n = acio_stream_reader_readline(r, line, sizeof line - 1);
    if (n <= 0)
        return NULL;
    line[n] = '\0';
    if (sscanf(line, "GET %255s HTTP/1.1", path) != 1)
        return NULL;
    while (acio_stream_reader_readline(r, line, sizeof line) > 2)
        ; /* headers, up to the blank line */
    char body[256], head[160];
    size_t len = 0;
    int status = 404, rc = 0;
    for (size_t i = 0; i < NIMAGES && rc == 0; i++)
        if (strcmp(images[i].path, path) == 0) {
            rc = acio_sleep(images[i].delay);
            len = image_bytes(i, body, sizeof body);
            status = 200;
        }
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      status, status == 200 ? "OK" : "Not Found", len);
    if (rc == 0)
        rc = acio_stream_writer_write(w, head, (size_t)hn);
    if (rc == 0)
        rc = acio_stream_writer_write(w, body, len);
    if (rc == 0)
        rc = acio_stream_writer_drain(w);
    acio_stream_writer_close(w);
    int crc = acio_stream_writer_wait_closed(w);
    if (rc == 0)
        rc = crc;
    return rc < 0 ? acio_raise(rc, "serving %s: %s", path, acio_strerror(rc)) : NULL;
}

/* ---- the downloads ---- */

static int port;

typedef struct {
    char url[160];
    const char *file_name;
    size_t size;
} download_t;

typedef struct {
    char *content; /* malloc'd */
    size_t len;
} response_t;

/* requests.get(url): a blocking GET on its own socket; runs on a pool thread. */
static void *blocking_get(void *arg, acio_job_t *job)
{
    const char *url = arg;
    const char *path = strchr(url + strlen("http://"), '/');
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return acio_job_raise(job, -errno, "socket");
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char req[512];
    int n =
        snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", path, port);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0 || send(s, req, (size_t)n, 0) != n) {
        int e = errno;
        close(s);
        return acio_job_raise(job, -e, "GET %s", url);
    }
    char buf[1025]; /* the response, NUL-terminated (the bodies here contain no NUL) */
    size_t got = 0;
    ssize_t k;
    while (got < sizeof buf - 1 && (k = recv(s, buf + got, sizeof buf - 1 - got, 0)) > 0)
        got += (size_t)k;
    close(s);
    buf[got] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    if (!body || got < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0)
        return acio_job_raise(job, -EPROTO, "GET %s: not a 200 response", url);
    body += 4;
    response_t *resp = malloc(sizeof *resp);
    if (!resp)
        return acio_job_raise(job, -ENOMEM, "GET %s", url);
    resp->len = (size_t)(buf + got - body);
    resp->content = malloc(resp->len + 1);
    if (!resp->content) {
        free(resp);
        return acio_job_raise(job, -ENOMEM, "GET %s", url);
    }
    memcpy(resp->content, body, resp->len);
    return resp;
}

/* The URL as printed: the port, which changes every run, shown as PORT. */
static void print_url(const char *label, const download_t *d)
{
    printf("%s: http://127.0.0.1:PORT%s\n", label, strchr(d->url + strlen("http://"), '/'));
}

static void *download_image(void *arg)
{
    download_t *d = arg;
    print_url("开始下载", d);
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *future;
    int rc = acio_loop_run_in_executor(loop, NULL, blocking_get, d->url, &future);
    if (rc < 0)
        return acio_raise(rc, "run_in_executor");
    response_t *response = NULL;
    rc = acio_await(future, (void **)&response);
    char msg[160];
    const char *why = rc < 0 ? acio_future_error_message(future) : NULL;
    snprintf(msg, sizeof msg, "%s", why ? why : "download failed");
    acio_future_unref(future);
    if (rc < 0)
        return acio_raise(rc, "%s", msg);
    printf("下载完成\n");
    d->file_name = strrchr(d->url, '_') + 1; /* url.rsplit('_')[-1] */
    d->size = response->len;
    free(response->content);
    free(response);
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_server_t *server;
    int rc = acio_start_server(&server, serve, NULL, "127.0.0.1", 0, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "start_server");
    port = acio_server_port(server);
    static download_t downloads[NIMAGES];
    for (size_t i = 0; i < NIMAGES; i++)
        snprintf(downloads[i].url, sizeof downloads[i].url, "http://127.0.0.1:%d%s", port,
                 images[i].path);
    acio_task_t *tasks[NIMAGES] = {NULL};
    for (size_t i = 0; i < NIMAGES && rc == 0; i++)
        rc = acio_create_task(&tasks[i], download_image, &downloads[i], NULL);
    for (size_t i = 0; i < NIMAGES && rc == 0; i++)
        rc = acio_await(tasks[i], NULL);
    for (size_t i = 0; i < NIMAGES; i++)
        acio_future_unref(tasks[i]);
    acio_server_close(server);
    int crc = acio_server_wait_closed(server);
    acio_server_free(server);
    if (rc == 0)
        rc = crc;
    if (rc < 0)
        return acio_raise(rc, "a download failed");
    for (size_t i = 0; i < NIMAGES; i++)
        printf("%s %zu\n", downloads[i].file_name, downloads[i].size);
    return NULL;
}

int main(void)
{
    printf("A web server in this program serves the seed's three images on 127.0.0.1; PORT\n"
           "is the free port it got (different every run). No network is used.\n");
    char *msg = NULL;
    int rc = acio_run_ex(main_task, NULL, NULL, &msg);
    if (rc < 0)
        fprintf(stderr, "run_in_executor_download: %s: %s\n", msg ? msg : "", acio_strerror(rc));
    free(msg);
    return rc < 0;
}
