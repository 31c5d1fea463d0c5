/* The examples' local web site (local_site.h): one acio HTTP app with a catch-all GET
 * route that looks the path up in the page table. */
#include "local_site.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct local_site_s {
    acio_http_app_t *app;
    acio_http_server_t *server;
    const local_page_t *pages;
    size_t n;
    int port;
};

static int serve_page(acio_http_request_t *req, void *arg)
{
    local_site_t *site = arg;
    const char *path = acio_http_request_path(req);
    for (size_t i = 0; i < site->n; i++) {
        const local_page_t *p = &site->pages[i];
        if (strcmp(p->path, path) != 0)
            continue;
        if (p->delay > 0) {
            int rc = acio_sleep(p->delay);
            if (rc < 0)
                return rc;
        }
        size_t len = p->body_len ? p->body_len : p->body ? strlen(p->body) : 0;
        return acio_http_respond(req, p->status ? p->status : 200,
                                 p->content_type ? p->content_type : "text/html; charset=utf-8",
                                 p->body, len);
    }
    return acio_http_respond_text(req, 404, "Not Found");
}

int local_site_start(local_site_t **out, const local_page_t *pages, size_t n)
{
    local_site_t *site = calloc(1, sizeof *site);
    if (!site)
        return -ENOMEM;
    site->pages = pages;
    site->n = n;
    int rc = acio_http_app_new(&site->app);
    if (rc == 0)
        rc = acio_http_app_route(site->app, "GET", "/{path:path}", serve_page, site);
    if (rc == 0) {
        acio_http_config_t cfg;
        acio_http_config_init(&cfg);
        cfg.port = 0;
        cfg.access_log = false; /* the examples' output is what they print themselves */
        rc = acio_http_server_start(NULL, site->app, &cfg, &site->server);
    }
    if (rc < 0) {
        acio_http_app_free(site->app);
        free(site);
        return rc;
    }
    site->port = acio_http_server_port(site->server);
    *out = site;
    return 0;
}

int local_site_port(const local_site_t *site)
{
    return site->port;
}

void local_site_url(const local_site_t *site, const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "http://127.0.0.1:%d%s", site->port, path);
}

const char *local_site_show(const local_site_t *site, const char *url)
{
    static char shown[4096];
    char hostport[40];
    size_t hl = (size_t)snprintf(hostport, sizeof hostport, "127.0.0.1:%d", site->port);
    size_t o = 0;
    while (*url && o + 20 < sizeof shown) {
        if (strncmp(url, hostport, hl) == 0) {
            memcpy(shown + o, "127.0.0.1:PORT", 14);
            o += 14;
            url += hl;
        } else {
            shown[o++] = *url++;
        }
    }
    shown[o] = '\0';
    return shown;
}

void local_site_stop(local_site_t *site)
{
    if (!site)
        return;
    /* A second is plenty for the examples' requests; -ETIMEDOUT only means some were
     * cancelled, which an example that stops early accepts. */
    int rc = acio_http_server_shutdown(site->server, 1);
    (void)rc;
    acio_http_server_free(site->server);
    acio_http_app_free(site->app);
    free(site);
}

int local_site_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    /* Bound but not listening: connecting is refused, and nobody else can take the port
     * (a later server on port 0 included) until the process exits. */
    if (port < 0 && fd >= 0)
        close(fd);
    return port;
}
