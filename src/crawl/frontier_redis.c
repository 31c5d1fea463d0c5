/* The Redis frontier as a frontier.h backend: the ops table over redis_frontier.c. Each
 * op is one script call (it awaits: frontier.h allows that everywhere but in stats() and
 * free(), which use the counters cached from the last call). Loop times become waits and
 * back: the scripts keep every deadline on the Redis server's clock, shared by all the
 * crawl's processes. A task renews the leases every third of the lease time, so that a
 * live process keeps them even when a few slow fetches are all it has left (its take()
 * and done() renew too, but they may not come for longer than a lease). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "acio.h"
#include "crawl/redis_frontier.h"
#include "internal.h"

/* The library does not link libm: fmin/fmax by hand (no NaN reaches them). */
static inline double min_d(double a, double b)
{
    return a < b ? a : b;
}

typedef struct wrap_s wrap_t;
struct wrap_s {
    acio__frontier_item_t pub; /* first: take() hands out &w->pub */
    acio__rfrontier_item_t *item;
    wrap_t *prev, *next; /* the items handed out, freed by free() if still there */
};

typedef struct {
    acio__frontier_t base;
    acio__rfrontier_t *rf;
    wrap_t out;           /* list head */
    acio_task_t *renewer; /* NULL with manual_renew */
} redis_backend_t;

static const acio__frontier_ops_t redis_ops;

static acio__rfrontier_t *rf_of(acio__frontier_t *f)
{
    return ((redis_backend_t *)f)->rf;
}

static double loop_now(void)
{
    return acio_loop_time(acio_get_running_loop());
}

static void *renew_loop(void *arg)
{
    redis_backend_t *b = arg;
    double lease = 30;
    acio__rfrontier_config(b->rf, NULL, NULL, &lease, NULL);
    /* Cancelled by r_free, in the sleep or in the renewal's command (which then touches
     * nothing of b's after its wait). An error now is reported by the next take or done;
     * the next period tries again. */
    while (acio_sleep(lease / 3) == 0)
        if (acio__rfrontier_renew(b->rf, NULL) == -ECANCELED)
            break;
    return NULL;
}

static int r_add(acio__frontier_t *f, const char *url, size_t len, const char *host, int depth,
                 int hops, unsigned flags)
{
    unsigned rflags = flags & ACIO__FRONTIER_ADD_DONE ? ACIO__RFRONTIER_ADD_DONE : 0;
    return acio__rfrontier_add(rf_of(f), url, len, host, depth, hops, rflags);
}

static int r_take(acio__frontier_t *f, double now, acio__frontier_item_t **out, double *wake_at)
{
    *out = NULL;
    *wake_at = INFINITY;
    /* The wrapper first: failing to allocate it after the take would strand a lease
     * until it expires. */
    wrap_t *w = acio__malloc(sizeof *w);
    if (!w)
        return -ENOMEM;
    acio__rfrontier_item_t *it = NULL;
    double wait = INFINITY;
    int rc = acio__rfrontier_take(rf_of(f), &it, &wait);
    if (rc != 1) {
        acio__free(w);
        if (rc == 0 && !isinf(wait))
            *wake_at = now + wait;
        return rc;
    }
    redis_backend_t *b = (redis_backend_t *)f;
    w->item = it;
    w->next = &b->out;
    w->prev = b->out.prev;
    w->prev->next = w;
    b->out.prev = w;
    w->pub = (acio__frontier_item_t){.url = it->url,
                                     .url_len = it->url_len,
                                     .host = it->host,
                                     .depth = it->depth,
                                     .hops = it->hops,
                                     .attempts = it->attempts};
    *out = &w->pub;
    return 1;
}

/* done/retry: 1 -> 0; 0 (the lease was reclaimed) -> ACIO_EFRONTIER_LEASE; the item is
 * consumed in both cases and kept on an error. */
static int finished(int rc, wrap_t *w)
{
    if (rc < 0)
        return rc;
    w->prev->next = w->next;
    w->next->prev = w->prev;
    acio__free(w);
    return rc == 1 ? 0 : ACIO_EFRONTIER_LEASE;
}

static int r_done(acio__frontier_t *f, acio__frontier_item_t *item)
{
    wrap_t *w = (wrap_t *)item;
    return finished(acio__rfrontier_done(rf_of(f), w->item), w);
}

static int r_retry(acio__frontier_t *f, acio__frontier_item_t *item, double not_before)
{
    wrap_t *w = (wrap_t *)item;
    double delay = not_before - loop_now();
    if (!(delay > 0)) /* also NaN */
        delay = 0;
    return finished(acio__rfrontier_retry(rf_of(f), w->item, min_d(delay, 1e9)), w);
}

static int r_set_host_delay(acio__frontier_t *f, const char *host, double delay)
{
    return acio__rfrontier_set_host_delay(rf_of(f), host, delay);
}

static void r_stats(acio__frontier_t *f, acio__frontier_stats_t *out)
{
    acio__rfrontier_stats_t st;
    acio__rfrontier_stats(rf_of(f), &st);
    /* The crawl's counters, but the leases this process holds (as frontier.h defines). */
    *out = (acio__frontier_stats_t){.queued = st.queued,
                                    .leased = st.held,
                                    .seen = st.seen,
                                    .done = st.done,
                                    .hosts = st.hosts};
}

static void r_free(acio__frontier_t *f)
{
    /* Items still held (a done() that failed, a crawl cancelled) go with the frontier;
     * their leases expire in Redis and are reclaimed by the other processes. */
    redis_backend_t *b = (redis_backend_t *)f;
    if (b->renewer) {
        acio_task_cancel(b->renewer, "the frontier is closed");
        acio_future_unref(b->renewer);
    }
    while (b->out.next != &b->out) {
        wrap_t *w = b->out.next;
        b->out.next = w->next;
        acio__free(w);
    }
    acio__rfrontier_free(b->rf);
    acio__free(b);
}

static const acio__frontier_ops_t redis_ops = {
    .name = "redis",
    .add = r_add,
    .take = r_take,
    .done = r_done,
    .retry = r_retry,
    .set_host_delay = r_set_host_delay,
    .stats = r_stats,
    .free = r_free,
};

int acio__frontier_redis_new(acio__frontier_t **out, const acio__frontier_opts_t *opts,
                             const acio__frontier_redis_opts_t *ropts, const char **msg)
{
    static const char *bad = "--redis-key must be 1-200 bytes without spaces, braces or "
                             "glob characters, and --redis a redis://, rediss:// or unix:// URL";
    *out = NULL;
    if (msg)
        *msg = "";
    redis_backend_t *b = acio__calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->base.ops = &redis_ops;
    b->out.prev = b->out.next = &b->out;
    acio__rfrontier_opts_t o = {.url = ropts->url,
                                .name = ropts->name,
                                .per_host_limit = opts ? opts->per_host_limit : 0,
                                .default_delay = opts ? opts->default_delay : 0,
                                .expected_urls = opts ? opts->expected_urls : 0,
                                .lease_seconds = ropts->lease_seconds,
                                .poll_interval = ropts->poll_interval};
    int rc = acio__rfrontier_open(&b->rf, &o);
    if (rc == 0 && ropts->reset)
        rc = acio__rfrontier_reset(b->rf);
    if (rc == 0 && !ropts->manual_renew)
        rc = acio_create_task(&b->renewer, renew_loop, b, NULL);
    if (rc < 0) {
        if (msg)
            *msg = rc == -EINVAL                 ? bad
                   : b->rf                       ? acio__rfrontier_last_error(b->rf)
                   : *acio_redis_connect_error() ? acio_redis_connect_error()
                                                 : acio_strerror(rc);
        acio__rfrontier_free(b->rf);
        acio__free(b);
        return rc;
    }
    *out = &b->base;
    return 0;
}

acio__rfrontier_t *acio__frontier_redis_of(acio__frontier_t *f)
{
    return f && f->ops == &redis_ops ? rf_of(f) : NULL;
}
