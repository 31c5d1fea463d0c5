/* http_client_20k, acio's side: fetch N pages (default 20,000) from a local server at a
 * fixed concurrency (default 100 tasks sharing one session whose pool allows that many
 * connections), reading each body whole. The pages are <prefix><i % 1000>.html.
 *
 *     bench_http_client http://127.0.0.1:PORT/p N CONCURRENCY
 *
 * Prints pages, wall and CPU time, pages per second, CPU microseconds per page and the
 * peak RSS; bench/run.sh runs the same workload with aiohttp, libcurl's multi interface
 * and Go's net/http (bench/http/). */
#include <stdio.h>
#include <stdlib.h>

#include "acio.h"
#include "bench_util.h"

static const char *prefix;
static long total, next_i, done, bytes;
static int failures;

static void *worker(void *arg)
{
    acio_http_session_t *s = arg;
    char url[512];
    for (;;) {
        long i = next_i++;
        if (i >= total)
            return NULL;
        snprintf(url, sizeof url, "%s%ld.html", prefix, i % 1000);
        acio_http_response_t *r;
        int rc = acio_http_get(s, url, &r);
        if (rc == 0) {
            const void *b;
            size_t len;
            rc = acio_http_response_read(r, &b, &len);
            if (rc == 0 && acio_http_response_status(r) == 200)
                bytes += (long)len;
            else if (rc == 0)
                rc = -EPROTO;
            acio_http_response_release(r);
        }
        if (rc < 0 && failures++ < 5)
            fprintf(stderr, "%s: %s\n", url, acio_strerror(rc));
        done++;
    }
}

typedef struct {
    long conc;
} args_t;

static void *bench_main(void *arg)
{
    args_t *a = arg;
    acio_http_session_opts_t o = {0};
    o.limit = (size_t)a->conc;
    acio_http_session_t *s;
    int rc = acio_http_session_new(&s, &o);
    if (rc < 0)
        return acio_raise(rc, "session");
    acio_task_t **t = calloc((size_t)a->conc, sizeof *t);
    double c0 = bench_cpu_ms();
    int64_t t0 = bench_now_ns();
    long started = 0;
    for (; started < a->conc; started++)
        if (acio_create_task(&t[started], worker, s, NULL) < 0)
            break;
    for (long i = 0; i < started; i++) {
        if (acio_await(t[i], NULL) < 0)
            failures++;
        acio_future_unref(t[i]);
    }
    double cpu = bench_cpu_ms() - c0;
    double wall = (double)(bench_now_ns() - t0) / 1e6;
    acio_http_session_close(s);
    free(t);
    printf("pages=%ld failures=%d bytes=%ld wall_ms=%.1f cpu_ms=%.1f pages_per_s=%.1f "
           "cpu_us_per_page=%.2f peak_rss_kb=%ld\n",
           done, failures, bytes, wall, cpu, (double)done / (wall / 1e3), cpu * 1e3 / (double)done,
           bench_status_kb("VmHWM"));
    return failures ? acio_raise(-EIO, "%d failures", failures) : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL_PREFIX [N] [CONCURRENCY]\n", argv[0]);
        return 2;
    }
    prefix = argv[1];
    total = argc > 2 ? atol(argv[2]) : 20000;
    args_t a = {argc > 3 ? atol(argv[3]) : 100};
    char *msg = NULL;
    int rc = acio_run_ex(bench_main, &a, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "bench_http_client: %s (%s)\n", acio_strerror(rc), msg ? msg : "");
        free(msg);
        return 1;
    }
    return 0;
}
