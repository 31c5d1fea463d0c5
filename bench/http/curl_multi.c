/* http_client_20k, libcurl's side: the multi interface driven by multi_socket_action on
 * epoll (the event-driven way libcurl is meant to be used at scale), CONCURRENCY easy
 * handles kept busy, each body appended to a buffer as the others read it whole, and
 * connections reused (at most CONCURRENCY in total).
 *
 *     curl_multi URL_PREFIX N CONCURRENCY
 *
 * Prints the same key=value line as bench/acio/http_client.c. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "../bench_util.h"

typedef struct {
    CURL *easy;
    char *buf;
    size_t len, cap;
    char url[512];
} xfer_t;

static int ep;
static long timeout_ms = -1;
static const char *prefix;
static long total, next_i, done, bytes, failures;

static size_t on_data(char *p, size_t sz, size_t n, void *data)
{
    xfer_t *x = data;
    size_t len = sz * n;
    if (x->len + len > x->cap) {
        while (x->len + len > x->cap)
            x->cap = x->cap ? x->cap * 2 : 8192;
        x->buf = realloc(x->buf, x->cap);
    }
    memcpy(x->buf + x->len, p, len);
    x->len += len;
    return len;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    (void)userp;
    struct epoll_event ev = {0};
    ev.data.fd = s;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (epoll_ctl(ep, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0)
        epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
    curl_multi_assign(userp, s, (void *)1);
    return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
    (void)m;
    (void)userp;
    timeout_ms = ms;
    return 0;
}

static void start(CURLM *m, xfer_t *x)
{
    long i = next_i++;
    snprintf(x->url, sizeof x->url, "%s%ld.html", prefix, i % 1000);
    x->len = 0;
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
    curl_multi_add_handle(m, x->easy);
}

static void check_done(CURLM *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        xfer_t *x;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        long code = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        if (msg->data.result == CURLE_OK && code == 200)
            bytes += (long)x->len;
        else if (failures++ < 5)
            fprintf(stderr, "%s: %s %ld\n", x->url, curl_easy_strerror(msg->data.result), code);
        done++;
        curl_multi_remove_handle(m, msg->easy_handle);
        if (next_i < total)
            start(m, x);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL_PREFIX [N] [CONCURRENCY]\n", argv[0]);
        return 2;
    }
    prefix = argv[1];
    total = argc > 2 ? atol(argv[2]) : 20000;
    long conc = argc > 3 ? atol(argv[3]) : 100;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ep = epoll_create1(EPOLL_CLOEXEC);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, conc);
    xfer_t *xs = calloc((size_t)conc, sizeof *xs);
    double c0 = bench_cpu_ms();
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < conc && next_i < total; i++) {
        xs[i].easy = curl_easy_init();
        curl_easy_setopt(xs[i].easy, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(xs[i].easy, CURLOPT_WRITEDATA, &xs[i]);
        curl_easy_setopt(xs[i].easy, CURLOPT_PRIVATE, &xs[i]);
        start(m, &xs[i]);
    }
    int running = 1;
    curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
    struct epoll_event evs[256];
    while (done < total) {
        int n = epoll_wait(ep, evs, 256, timeout_ms < 0 ? 1000 : (int)timeout_ms);
        if (n == 0) {
            curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
        } else {
            for (int i = 0; i < n; i++) {
                int what = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                           (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                           (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(m, evs[i].data.fd, what, &running);
            }
        }
        check_done(m);
    }
    double cpu = bench_cpu_ms() - c0;
    double wall = (double)(bench_now_ns() - t0) / 1e6;
    printf("pages=%ld failures=%ld bytes=%ld wall_ms=%.1f cpu_ms=%.1f pages_per_s=%.1f "
           "cpu_us_per_page=%.2f peak_rss_kb=%ld\n",
           done, failures, bytes, wall, cpu, (double)done / (wall / 1e3), cpu * 1e3 / (double)done,
           bench_status_kb("VmHWM"));
    for (long i = 0; i < conc; i++) {
        if (xs[i].easy)
            curl_easy_cleanup(xs[i].easy);
        free(xs[i].buf);
    }
    free(xs);
    curl_multi_cleanup(m);
    curl_global_cleanup();
    return failures != 0;
}
