/* The local frontier backend (frontier.h): one process's crawl state in memory.
 *
 * URLs are deduplicated by the fingerprint seen-set (acio_seen_t). Queued URLs wait in
 * a FIFO per host key. A host that has queued URLs and fewer than per_host_limit leases
 * is either on the ready queue (FIFO: round robin between hosts) or, while its politeness
 * delay or a retry's hold-back runs, on a min-heap ordered by the time it may start
 * again. take() moves the hosts whose time has come from the heap to the ready queue and
 * hands out the head of the first ready host, so it costs O(log hosts) however many
 * hosts wait (a host that became not ready while queued, by a retry, is moved to the
 * heap when take() meets it). Nothing here waits: the journal (crawl_state.c) relies on
 * that. */
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

enum { NOWHERE, READY, WAITING };

struct host_s {
    item_t *head, *tail; /* queued, FIFO */
    size_t leased;
    double next_ok; /* no start before this loop time (delay, retry's not_before) */
    double delay;   /* set_host_delay's value */
    int where;      /* NOWHERE, on the READY queue, or WAITING on the heap */
    host_t *ready_next;
    size_t heap_idx;
    uint64_t heap_seq; /* ties on next_ok leave the heap in the order they came */
    char key[];        /* the host key */
};

typedef struct {
    acio__frontier_t base;
    acio__frontier_opts_t opts;
    acio_seen_t *seen;
    acio__strmap_t hosts;
    host_t *ready_head, *ready_tail;
    host_t **heap; /* by next_ok; room for every host, so pushing never allocates */
    size_t heap_len, heap_cap;
    uint64_t heap_seq;
    acio__frontier_stats_t st;
} local_t;

/* ---- the ready queue and the heap ---- */

static void ready_push(local_t *l, host_t *h)
{
    h->where = READY;
    h->ready_next = NULL;
    if (l->ready_tail)
        l->ready_tail->ready_next = h;
    else
        l->ready_head = h;
    l->ready_tail = h;
}

static host_t *ready_pop(local_t *l)
{
    host_t *h = l->ready_head;
    if (h) {
        l->ready_head = h->ready_next;
        if (!l->ready_head)
            l->ready_tail = NULL;
        h->where = NOWHERE;
    }
    return h;
}

static void heap_set(local_t *l, size_t i, host_t *h)
{
    l->heap[i] = h;
    h->heap_idx = i;
}

static bool before(const host_t *a, const host_t *b)
{
    return a->next_ok < b->next_ok || (a->next_ok == b->next_ok && a->heap_seq < b->heap_seq);
}

static void sift_up(local_t *l, size_t i)
{
    host_t *h = l->heap[i];
    while (i > 0 && before(h, l->heap[(i - 1) / 2])) {
        heap_set(l, i, l->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(l, i, h);
}

static void sift_down(local_t *l, size_t i)
{
    host_t *h = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->heap_len)
            break;
        if (c + 1 < l->heap_len && before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!before(l->heap[c], h))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, h);
}

static void heap_push(local_t *l, host_t *h)
{
    h->where = WAITING;
    h->heap_seq = l->heap_seq++;
    heap_set(l, l->heap_len++, h);
    sift_up(l, h->heap_idx);
}

static host_t *heap_pop(local_t *l)
{
    host_t *h = l->heap[0];
    l->heap_len--;
    if (l->heap_len) {
        heap_set(l, 0, l->heap[l->heap_len]);
        sift_down(l, 0);
    }
    h->where = NOWHERE;
    return h;
}

/* The host's next_ok changed: restore the heap's order. */
static void heap_fix(local_t *l, host_t *h)
{
    if (h->where != WAITING)
        return;
    sift_up(l, h->heap_idx);
    sift_down(l, h->heap_idx);
}

/* Put a host that may take a URL on the ready queue (take() moves it to the heap if its
 * time has not come). */
static void place(local_t *l, host_t *h)
{
    if (h->where == NOWHERE && h->head && h->leased < l->opts.per_host_limit)
        ready_push(l, h);
}

static host_t *host_get(local_t *l, const char *key)
{
    host_t *h = acio__strmap_get(&l->hosts, key);
    if (h)
        return h;
    if (l->st.hosts == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        host_t **heap = acio__realloc(l->heap, cap * sizeof *heap);
        if (!heap)
            return NULL;
        l->heap = heap;
        l->heap_cap = cap;
    }
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
    place(l, h);
    l->st.seen++;
    l->st.queued++;
    return 1;
}

static int local_take(acio__frontier_t *f, double now, acio__frontier_item_t **out, double *wake_at)
{
    local_t *l = (local_t *)f;
    while (l->heap_len && l->heap[0]->next_ok <= now)
        place(l, heap_pop(l));
    host_t *h;
    while ((h = ready_pop(l)) != NULL) {
        if (!h->head || h->leased >= l->opts.per_host_limit)
            continue; /* a done() or an add() puts it back */
        if (h->next_ok > now) {
            heap_push(l, h); /* held back by a retry since it was queued */
            continue;
        }
        item_t *it = h->head;
        h->head = it->next;
        if (!h->head)
            h->tail = NULL;
        it->next = NULL;
        h->leased++;
        h->next_ok = now + host_delay(l, h);
        if (h->head && h->leased < l->opts.per_host_limit) {
            if (h->next_ok > now)
                heap_push(l, h);
            else
                ready_push(l, h); /* round robin: behind the other ready hosts */
        }
        l->st.queued--;
        l->st.leased++;
        *out = &it->pub;
        return 1;
    }
    *wake_at = l->heap_len ? l->heap[0]->next_ok : INFINITY;
    return 0;
}

static int local_done(acio__frontier_t *f, acio__frontier_item_t *pub)
{
    local_t *l = (local_t *)f;
    item_t *it = (item_t *)pub;
    host_t *h = it->host;
    h->leased--;
    l->st.leased--;
    l->st.done++;
    acio__free(it);
    place(l, h);
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
    if (not_before > h->next_ok) {
        h->next_ok = not_before;
        heap_fix(l, h);
    }
    place(l, h);
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
        heap_fix(l, h);
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
    acio__free(l->heap);
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
