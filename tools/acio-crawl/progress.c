/* The progress line (progress.h). */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

struct progress_s {
    acio__crawl_t *c;
    acio_task_t *task;
};

static void human(double v, char *dst, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(dst, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void *redraw(void *arg)
{
    progress_t *p = arg;
    while (acio_sleep(0.25) == 0) {
        acio__crawl_stats_t st;
        acio__crawl_get_stats(p->c, &st);
        char bytes[32];
        human((double)st.bytes, bytes, sizeof bytes);
        fprintf(stderr,
                "\r\033[K%llu done, %zu queued, %zu in flight | %.0f pages/s | %s | %llu errors "
                "| %.1f s",
                (unsigned long long)st.fetched, st.queued, st.in_flight,
                st.elapsed > 0 ? (double)st.fetched / st.elapsed : 0.0, bytes,
                (unsigned long long)st.failed, st.elapsed);
        fflush(stderr);
    }
    return NULL;
}

void progress_start(progress_t **out, acio__crawl_t *c)
{
    *out = NULL;
    progress_t *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->c = c;
    if (acio_create_task(&p->task, redraw, p, "acio-crawl progress") < 0) {
        free(p);
        return;
    }
    *out = p;
}

void progress_stop(progress_t *p)
{
    if (!p)
        return;
    acio_task_cancel(p->task, NULL);
    if (acio_await(p->task, NULL) < 0) {
        /* cancelled, as asked */
    }
    acio_future_unref(p->task);
    fputs("\r\033[K", stderr);
    fflush(stderr);
    free(p);
}
