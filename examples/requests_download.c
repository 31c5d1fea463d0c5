/* Seed 001 §2 "普通方式(同步)" (the plain, synchronous way): download three images one
 * after the other with requests:
 *
 *     def download_image(url):
 *         print("开始下载:", url)
 *         response = requests.get(url)
 *         print("下载完成")
 *         file_name = url.rsplit('_')[-1]
 *         with open(file_name, mode='wb') as file_object:
 *             file_object.write(response.content)
 *
 *     for item in url_list:
 *         download_image(item)
 *
 * requests.get is acio_http_fetch_blocking: a whole request from code outside any loop
 * (it runs a loop of its own), returning the response with its body in memory. The seed
 * downloads from a public site; this port downloads from a web server the program runs
 * on 127.0.0.1 in a thread of its own (an acio stream server with its own loop), so no
 * network is used. The port changes every run, so URLs are printed with PORT in its
 * place. Instead of writing files each download prints its file name and size. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

static const char *paths[] = {
    "/newsdfs/g26/M02/35/A9/120x90_0_autohomecar__ChsEe12AXQ6AOOH_AAFocMs8nzU621.jpg",
    "/newsdfs/g30/M01/3C/E2/120x90_0_autohomecar__ChcCSV2BBICAUntfAADjJFd6800429.jpg",
    "/newsdfs/g26/M0B/3C/65/120x90_0_autohomecar__ChcCP12BFCmAIO83AAGq7vK0sGY193.jpg",
};
#define NPATHS (sizeof paths / sizeof *paths)

/* ---- the local server, in its own thread and loop ---- */

static acio_server_t *srv;
static int port_pipe[2];

static void *serve(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)arg;
    char head[4096], path[512];
    for (;;) {
        ssize_t n = acio_stream_reader_readuntil(r, "\r\n\r\n", 4, head, sizeof head - 1, NULL);
        if (n <= 0 || sscanf(head, "GET %511s", path) != 1)
            break;
        if (!strcmp(path, "/quit")) { /* the program is done: stop serving */
            acio_server_close(srv);
            break;
        }
        size_t i = 0;
        while (i < NPATHS && strcmp(paths[i], path) != 0)
            i++;
        size_t len = i < NPATHS ? 2000 + 500 * i : 0;
        char body[4000], hdr[128];
        for (size_t k = 0; k < len; k++)
            body[k] = (char)(k * 13 + i);
        int hl = snprintf(hdr, sizeof hdr, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n",
                          i < NPATHS ? "200 OK" : "404 Not Found", len);
        if (acio_stream_writer_write(w, hdr, (size_t)hl) < 0 ||
            acio_stream_writer_write(w, body, len) < 0)
            break;
    }
    acio_stream_writer_close(w);
    return NULL;
}

static void *server_main(void *arg)
{
    (void)arg;
    int rc = acio_start_server(&srv, serve, NULL, "127.0.0.1", 0, 0, NULL);
    int port = rc < 0 ? rc : acio_server_port(srv);
    if (write(port_pipe[1], &port, sizeof port) != sizeof port || rc < 0)
        return NULL;
    rc = acio_server_serve_forever(srv);
    acio_server_free(srv);
    return rc < 0 ? acio_raise(rc, "serve_forever") : NULL;
}

static void *server_thread(void *arg)
{
    (void)arg;
    int rc = acio_run(server_main, NULL, NULL);
    return rc < 0 ? (void *)1 : NULL;
}

/* ---- the seed's program ---- */

static int port;

static int download_image(const char *path)
{
    char url[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    printf("开始下载: http://127.0.0.1:PORT%s\n", path);
    acio_http_response_t *response;
    int rc = acio_http_fetch_blocking("GET", url, NULL, NULL, &response);
    if (rc < 0)
        return rc;
    printf("下载完成\n");
    const void *content;
    size_t len;
    rc = acio_http_response_read(response, &content, &len); /* in memory: no loop needed */
    if (rc == 0)
        printf("%s %zu\n", strrchr(path, '_') + 1, len);
    acio_http_response_release(response);
    return rc;
}

int main(void)
{
    printf("A web server in a thread of this program serves the seed's three images on\n"
           "127.0.0.1; PORT is the free port it got (different every run). No network is used.\n");
    pthread_t th;
    if (pipe(port_pipe) != 0 || pthread_create(&th, NULL, server_thread, NULL) != 0)
        return 1;
    if (read(port_pipe[0], &port, sizeof port) != sizeof port || port < 0)
        return 1;
    int rc = 0;
    for (size_t i = 0; i < NPATHS && rc == 0; i++)
        rc = download_image(paths[i]);
    if (rc < 0)
        fprintf(stderr, "download failed: %s\n", acio_strerror(rc));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/quit", port);
    acio_http_response_t *r = NULL;
    int qrc = acio_http_fetch_blocking("GET", url, NULL, NULL, &r);
    (void)qrc; /* the server closes without answering */
    acio_http_response_release(r);
    pthread_join(th, NULL);
    return rc < 0;
}
