/* crawl_20k, libcurl's side: a recursive crawler on the multi interface driven by
 * multi_socket_action on epoll (as bench/http/curl_multi.c), CONC transfers at once,
 * links found with a plain string search for href="..." (no HTML parsing), resolved by
 * hand (absolute URLs, absolute paths, paths relative to the page's directory;
 * fragments dropped), repeats within a page dropped, a hash set of seen URLs, links kept
 * on the seed's origin, and one `source_url<TAB>parsed_url` row per link written with
 * stdio.
 *
 *     curl_crawl SEED_URL OUT_TSV CONC
 *
 * Prints pages=, rows=, failures= on stdout. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

typedef struct {
    CURL *easy;
    char *buf;
    size_t len, cap;
    char *url;
} xfer_t;

static int ep;
static long timeout_ms = -1;
static long pages, rows, failures, active;
static FILE *out;
static char origin[256]; /* "http://host:port" */
static size_t origin_len;

/* ---- the frontier (a FIFO of URLs) and the seen set (open addressing on strings) ---- */

static char **queue;
static size_t qhead, qtail, qcap;
static char **seen;
static size_t seen_n, seen_cap = 1 << 16;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void seen_grow(void);

/* Add s (n bytes) if new; returns the stored copy, or NULL if it was already there. */
static char *seen_add(const char *s, size_t n)
{
    if (2 * (seen_n + 1) > seen_cap)
        seen_grow();
    size_t i = hash(s, n) & (seen_cap - 1);
    while (seen[i]) {
        if (strncmp(seen[i], s, n) == 0 && seen[i][n] == '\0')
            return NULL;
        i = (i + 1) & (seen_cap - 1);
    }
    seen[i] = strndup(s, n);
    seen_n++;
    return seen[i];
}

static void seen_grow(void)
{
    char **old = seen;
    size_t old_cap = seen ? seen_cap : 0;
    if (seen)
        seen_cap *= 2;
    seen = calloc(seen_cap, sizeof *seen);
    for (size_t j = 0; j < old_cap; j++) {
        if (!old[j])
            continue;
        size_t i = hash(old[j], strlen(old[j])) & (seen_cap - 1);
        while (seen[i])
            i = (i + 1) & (seen_cap - 1);
        seen[i] = old[j];
    }
    free(old);
}

static void push(char *url)
{
    if (qtail == qcap) {
        qcap = qcap ? 2 * qcap : 1024;
        queue = realloc(queue, qcap * sizeof *queue);
    }
    queue[qtail++] = url;
}

/* ---- transfers ---- */

static size_t on_data(char *p, size_t sz, size_t n, void *data)
{
    xfer_t *x = data;
    size_t len = sz * n;
    if (x->len + len + 1 > x->cap) {
        while (x->len + len + 1 > x->cap)
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
    x->url = queue[qhead++];
    x->len = 0;
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
    curl_multi_add_handle(m, x->easy);
    active++;
}

/* The page's links: href="..." found by string search, resolved against url. */
static void scan(const char *url, char *html, size_t len)
{
    html[len] = '\0';
    char abs[2048];
    /* Repeats within the page are dropped (the first 64 distinct links are compared). */
    char *page_links[64];
    size_t npl = 0;
    const char *dir_end = strrchr(url + origin_len, '/');
    size_t dir_len = dir_end ? (size_t)(dir_end + 1 - url) : strlen(url);
    for (char *p = html; (p = strstr(p, "href=\"")) != NULL;) {
        p += 6;
        char *e = strchr(p, '"');
        if (!e)
            break;
        size_t n = (size_t)(e - p);
        char *hash_at = memchr(p, '#', n);
        if (hash_at)
            n = (size_t)(hash_at - p);
        int al;
        if (n >= 7 && (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0))
            al = snprintf(abs, sizeof abs, "%.*s", (int)n, p);
        else if (n > 0 && p[0] == '/')
            al = snprintf(abs, sizeof abs, "%s%.*s", origin, (int)n, p);
        else
            al = snprintf(abs, sizeof abs, "%.*s%.*s", (int)dir_len, url, (int)n, p);
        p = e + 1;
        if (al <= 0 || (size_t)al >= sizeof abs)
            continue;
        bool dup = false;
        for (size_t i = 0; i < npl && !dup; i++)
            dup = strcmp(page_links[i], abs) == 0;
        if (dup)
            continue;
        if (npl < 64)
            page_links[npl++] = strdup(abs);
        fprintf(out, "%s\t%s\n", url, abs);
        rows++;
        if (strncmp(abs, origin, origin_len) == 0 && abs[origin_len] == '/') {
            char *stored = seen_add(abs, (size_t)al);
            if (stored)
                push(stored);
        }
    }
    for (size_t i = 0; i < npl; i++)
        free(page_links[i]);
}

/* Finished transfers: count, scan, and put the handle back on the idle stack. */
static void check_done(CURLM *m, xfer_t **idle, long *nidle)
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
        curl_multi_remove_handle(m, msg->easy_handle);
        active--;
        if (msg->data.result == CURLE_OK && code == 200) {
            pages++;
            if (!x->buf) { /* an empty body: room for the NUL scan() adds */
                x->cap = 8192;
                x->buf = malloc(x->cap);
            }
            scan(x->url, x->buf, x->len);
        } else {
            if (failures++ < 5)
                fprintf(stderr, "%s: %s %ld\n", x->url, curl_easy_strerror(msg->data.result), code);
        }
        idle[(*nidle)++] = x;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s SEED_URL OUT_TSV CONC\n", argv[0]);
        return 2;
    }
    const char *seed = argv[1];
    long conc = atol(argv[3]);
    const char *slash = strchr(seed + strlen("http://"), '/');
    origin_len = slash ? (size_t)(slash - seed) : strlen(seed);
    snprintf(origin, sizeof origin, "%.*s", (int)origin_len, seed);
    out = fopen(argv[2], "w");
    if (!out)
        return 1;
    fputs("source_url\tparsed_url\n", out);
    seen_grow();
    push(seen_add(seed, strlen(seed)));

    curl_global_init(CURL_GLOBAL_DEFAULT);
    ep = epoll_create1(EPOLL_CLOEXEC);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, conc);
    xfer_t *xs = calloc((size_t)conc, sizeof *xs);
    /* Handles wait on the idle stack until the frontier has URLs for them. */
    xfer_t **idle = calloc((size_t)conc, sizeof *idle);
    long nidle = 0;
    for (long i = conc - 1; i >= 0; i--) {
        xs[i].easy = curl_easy_init();
        curl_easy_setopt(xs[i].easy, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(xs[i].easy, CURLOPT_WRITEDATA, &xs[i]);
        curl_easy_setopt(xs[i].easy, CURLOPT_PRIVATE, &xs[i]);
        curl_easy_setopt(xs[i].easy, CURLOPT_TIMEOUT, 30L);
        idle[nidle++] = &xs[i];
    }
    int running = 0;
    struct epoll_event evs[256];
    for (;;) {
        bool started = false;
        while (nidle > 0 && qhead < qtail) {
            start(m, idle[--nidle]);
            started = true;
        }
        if (active == 0)
            break;
        if (started)
            curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
        int n = epoll_wait(ep, evs, 256, timeout_ms < 0 ? 1000 : (int)timeout_ms);
        if (n == 0)
            curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
        for (int i = 0; i < n; i++) {
            int what = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(m, evs[i].data.fd, what, &running);
        }
        check_done(m, idle, &nidle);
    }
    if (fclose(out) != 0)
        return 1;
    printf("pages=%ld rows=%ld failures=%ld\n", pages, rows, failures);
    for (long i = 0; i < conc; i++) {
        curl_easy_cleanup(xs[i].easy);
        free(xs[i].buf);
    }
    free(xs);
    free(idle);
    curl_multi_cleanup(m);
    curl_global_cleanup();
    return failures != 0;
}
