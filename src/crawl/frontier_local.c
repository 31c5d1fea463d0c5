/* The local frontier backend (frontier.h): one process's crawl state in memory.
 *
 * URLs are deduplicated by the fingerprint seen-set (acio_seen_t). Queued URLs wait in
 * a FIFO per host key; hosts that have queued URLs sit on a round-robin ring, and take()
 * walks the ring from where the last take stopped, handing out the head of the first
 * host that politeness allows (fewer than per_host_limit leases, its delay since the
 * last start passed, not held back by a retry). take() costs O(hosts on the ring) in
 * the worst case; a crawl of one or a few sites, the usual case, is O(1). Nothing here
 * waits: the journal (crawl_state.c) relies on that. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <acio/seen.h>

#include "crawl/frontier.h"
#include "crawl/strmap.h"
#include "internal.h"

typedef struct host_s host_t;

typedef struct item_s {
    acio__frontier_item_t pub; /* first: take() hands out &item->pub */
    struct item_s *next;       /* in its host's queue */
    host_t *host;
    char url[];
} item_t;

struct host_s {
    item_t *head, *tail; /* queued, FIFO */
    size_t leased;
    double next_ok; /* no start before this loop time (delay, retry's not_before) */
    double delay;   /* set_host_delay's value */
    host_t *ring_prev, *ring_next;
    bool on_ring;
    char key[]; /* the host key */
};

typedef struct {
    acio__frontier_t base;
    acio__frontier_opts_t opts;
    acio_seen_t *seen;
    acio__strmap_t hosts;
    host_t *ring; /* where the next take() starts; NULL if no host has queued URLs */
    size_t ring_len;
    acio__frontier_stats_t st;
} local_t;

static void ring_insert(local_t *l, host_t *h)
{
    if (h->on_ring)
        return;
    if (!l->ring) {
        h->ring_prev = h->ring_next = h;
        l->ring = h;
    } else { /* just before the start: the last one visited in this round */
        h->ring_next = l->ring;
        h->ring_prev = l->ring->ring_prev;
        h->ring_prev->ring_next = h;
        l->ring->ring_prev = h;
    }
    h->on_ring = true;
    l->ring_len++;
}

static void ring_remove(local_t *l, host_t *h)
{
    if (!h->on_ring)
        return;
    if (h->ring_next == h) {
        l->ring = NULL;
    } else {
        h->ring_prev->ring_next = h->ring_next;
        h->ring_next->ring_prev = h->ring_prev;
        if (l->ring == h)
            l->ring = h->ring_next;
    }
    h->on_ring = false;
    l->ring_len--;
}

static host_t *host_get(local_t *l, const char *key)
{
    host_t *h = acio__strmap_get(&l->hosts, key);
    if (h)
        return h;
    size_t len = strlen(key);
    h = acio__calloc(1, sizeof *h + len + 1);
    if (!h)
        return NULL;
    memcpy(h->key, key, len + 1);
    if (acio__strmap_put(&l->hosts, h->key, h) < 0) {
        acio__free(h);
        return NULL;
    }
    l->st.hosts++;
    return h;
}

static double host_delay(const local_t *l, const host_t *h)
{
    return h->delay > l->opts.default_delay ? h->delay : l->opts.default_delay;
}

static int local_add(acio__frontier_t *f, const char *url, size_t len, const char *host, int depth,
                     int hops, unsigned flags)
{
    local_t *l = (local_t *)f;
    uint64_t fp = acio_seen_fingerprint(url, len);
    if (acio_seen_contains(l->seen, fp))
        return 0;
    if (flags & ACIO__FRONTIER_ADD_DONE) {
        int rc = acio_seen_add(l->seen, fp);
        if (rc < 0)
            return rc;
        l->st.seen++;
        l->st.done++;
        return 1;
    }
    host_t *h = host_get(l, host);
    if (!h)
        return -ENOMEM;
    item_t *it = acio__malloc(sizeof *it + len + 1);
    if (!it)
        return -ENOMEM;
    int rc = acio_seen_add(l->seen, fp);
    if (rc < 0) {
        acio__free(it);
        return rc;
    }
    memcpy(it->url, url, len);
    it->url[len] = '\0';
    it->pub = (acio__frontier_item_t){
        .url = it->url, .url_len = len, .host = h->key, .depth = depth, .hops = hops};
    it->next = NULL;
    it->host = h;
    if (h->tail)
        h->tail->next = it;
    else
        h->head = it;
    h->tail = it;
    ring_insert(l, h);
    l->st.seen++;
    l->st.queued++;
    return 1;
}

static int local_take(acio__frontier_t *f, double now, acio__frontier_item_t **out, double *wake_at)
{
    local_t *l = (local_t *)f;
    double wake = INFINITY;
    host_t *h = l->ring;
    for (size_t n = l->ring_len; n > 0; n--, h = h->ring_next) {
        if (h->leased >= l->opts.per_host_limit)
            continue; /* a done() or retry() will wake the caller */
        if (h->next_ok > now) {
            if (h->next_ok < wake)
                wake = h->next_ok;
            continue;
        }
        item_t *it = h->head;
        h->head = it->next;
        if (!h->head)
            h->tail = NULL;
        it->next = NULL;
        h->leased++;
        h->next_ok = now + host_delay(l, h);
        l->ring = h->ring_next; /* round robin: the next take starts at the next host */
        if (!h->head)
            ring_remove(l, h);
        l->st.queued--;
        l->st.leased++;
        *out = &it->pub;
        return 1;
    }
    *wake_at = wake;
    return 0;
}

static int local_done(acio__frontier_t *f, acio__frontier_item_t *pub)
{
    local_t *l = (local_t *)f;
    item_t *it = (item_t *)pub;
    it->host->leased--;
    l->st.leased--;
    l->st.done++;
    acio__free(it);
    return 0;
}

static int local_retry(acio__frontier_t *f, acio__frontier_item_t *pub, double not_before)
{
    local_t *l = (local_t *)f;
    item_t *it = (item_t *)pub;
    host_t *h = it->host;
    h->leased--;
    l->st.leased--;
    it->pub.attempts++;
    it->next = h->head;
    h->head = it;
    if (!h->tail)
        h->tail = it;
    if (not_before > h->next_ok)
        h->next_ok = not_before;
    ring_insert(l, h);
    l->st.queued++;
    return 0;
}

static int local_set_host_delay(acio__frontier_t *f, const char *host, double delay)
{
    local_t *l = (local_t *)f;
    host_t *h = host_get(l, host);
    if (!h)
        return -ENOMEM;
    if (delay > h->delay) {
        /* The start already made counted with the old delay; the new one applies from
         * it. */
        h->next_ok += delay - host_delay(l, h);
        h->delay = delay;
    }
    return 0;
}

static void local_stats(acio__frontier_t *f, acio__frontier_stats_t *out)
{
    *out = ((local_t *)f)->st;
}

static void host_free(void *v)
{
    host_t *h = v;
    item_t *it = h->head;
    while (it) {
        item_t *next = it->next;
        acio__free(it);
        it = next;
    }
    acio__free(h);
}

static void local_free(acio__frontier_t *f)
{
    local_t *l = (local_t *)f;
    /* Leased items are the caller's to complete; a crawl that stops early (max-pages,
     * a fatal output error) completes them before freeing. */
    acio__strmap_clear(&l->hosts, host_free);
    acio_seen_free(l->seen);
    acio__free(l);
}

static const acio__frontier_ops_t local_ops = {
    .name = "local",
    .add = local_add,
    .take = local_take,
    .done = local_done,
    .retry = local_retry,
    .set_host_delay = local_set_host_delay,
    .stats = local_stats,
    .free = local_free,
};

int acio__frontier_local_new(acio__frontier_t **out, const acio__frontier_opts_t *opts)
{
    local_t *l = acio__calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->base.ops = &local_ops;
    if (opts)
        l->opts = *opts;
    if (!l->opts.per_host_limit)
        l->opts.per_host_limit = 8;
    int rc = acio_seen_new(&l->seen, l->opts.expected_urls);
    if (rc < 0) {
        acio__free(l);
        return rc;
    }
    *out = &l->base;
    return 0;
}
