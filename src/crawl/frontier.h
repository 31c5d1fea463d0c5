/* The crawl frontier: the URLs a crawl has discovered, which of them wait to be fetched,
 * which are being fetched (leased), and the per-host politeness that decides which one
 * may be fetched next. It is an interface (an ops table) so that where the frontier
 * lives can change without touching the fetcher, the extractor or the writers: the
 * local backend (frontier_local.c) keeps it in this process's memory; a Redis backend
 * (the scrapy-redis model: one frontier, seen-set and politeness state shared by many
 * acio-crawl processes) implements the same ops.
 *
 * Vocabulary. A URL string given to add() is already normalised (acio_url_join's
 * href, fragment dropped): two equal strings are one page. `host` is the politeness
 * key ("http://example.com:80": scheme, host and port), computed by the caller; every
 * per-host rule applies to that key. Times are the crawl loop's clock (acio_loop_time,
 * seconds, monotonic); a backend shared between processes must translate them to its
 * own clock (e.g. Redis TIME) itself.
 *
 * ---- What every backend MUST guarantee ----
 *
 * 1. Dedup. add() of a URL whose string was added before (by this process or, for a
 *    shared backend, by any process of the crawl) returns 0 and changes nothing; the
 *    first add() returns 1. A URL is queued at most once in the crawl's whole life: once
 *    taken and done, it is never offered by take() again. The seen-set may be
 *    fingerprints (acio_seen_t, 64-bit XXH64 of the string): a false "seen" with
 *    probability ~n^2/2^65 is accepted; a false "new" is not.
 * 2. Leases. take() hands out an item under a lease: the caller then calls exactly one
 *    of done() (finished: fetched, or failed for good) or retry() (put it back after a
 *    transient failure). Until then no take() (in any process) returns the same URL.
 *    A shared backend gives leases a time limit (lease_seconds) and re-queues a URL
 *    whose holder died (the lease expired without done/retry), so nothing is lost when
 *    a process is killed mid-fetch; such a URL may then be fetched twice (once by the
 *    dead process, which recorded nothing), never a completed one. done()/retry() on a
 *    lease that expired and was re-queued returns ACIO_EFRONTIER_LEASE and must not
 *    complete the URL twice. The local backend's leases never expire (the process that
 *    holds them is the only one).
 * 3. Politeness, per host key: at most per_host_limit items of a host are leased at
 *    once (across processes for a shared backend), and two take()s of the same host are
 *    at least the host's delay apart (start to start; delay = max(default_delay,
 *    set_host_delay's value)). retry(item, not_before) also holds the item's host back
 *    until not_before (a 503 or 429 says the host is overloaded, Retry-After says how
 *    long): no item of that host is handed out before then.
 * 4. Order: among hosts, round robin; within a host, first in first out (a breadth-first
 *    crawl when the caller adds links in the order found), a retried item first.
 * 5. take() never blocks for long: it returns 1 with an item, or 0 with *wake_at set to
 *    the earliest loop time at which an item could become ready (a host delay or a
 *    retry's not_before ending), or INFINITY when nothing can become ready until an
 *    add(), done() or retry() happens. The crawl is over when take() returns 0, *wake_at
 *    is INFINITY and the caller holds no lease; a shared backend whose other processes
 *    still hold leases returns a finite *wake_at (a poll interval) instead of INFINITY,
 *    so that no process stops while another's lease could still be re-queued.
 * 6. Errors are negative codes (-ENOMEM, a Redis or connection code, ...); a failed op
 *    changes nothing the caller can observe (an add that failed did not mark the URL
 *    seen; a done that failed leaves the lease held). No op ever aborts the process.
 * 7. Threads and tasks: the ops are called on the crawl loop's thread. A backend may
 *    await inside any op except stats() and free() (they are coroutines, called from
 *    a task); the local backend never does, which the resumable journal relies on
 *    (see crawl_state.c: a page's rows and its journal record are written with no wait
 *    in between).
 *
 * Ownership: an item returned by take() belongs to the backend; it stays valid until
 * done() or retry() is called with it, which consume it. Strings given to add() and
 * set_host_delay() are copied. */
#ifndef ACIO_CRAWL_FRONTIER_H
#define ACIO_CRAWL_FRONTIER_H

#include <stddef.h>
#include <stdint.h>

/* One URL handed out by take(). Read-only for the caller. */
typedef struct {
    const char *url;  /* normalised absolute URL (NUL-terminated) */
    size_t url_len;   /* strlen(url) */
    const char *host; /* politeness key */
    int depth;        /* link depth: seeds are 0 */
    int hops;         /* redirects followed to reach this URL (a redirect target is not
                         a deeper page; hops bound redirect chains) */
    int attempts;     /* fetches of it that failed transiently before (0 the first time) */
} acio__frontier_item_t;

/* Flags for add(). */
enum {
    /* Mark the URL seen and completed without queuing it (replaying a journal's
     * completions). Returns 1 if it was not seen before, 0 if it was. */
    ACIO__FRONTIER_ADD_DONE = 1u << 0,
};

typedef struct {
    size_t queued; /* waiting (including those held back by a retry's not_before) */
    size_t leased; /* handed out and not yet done / retried (by this process) */
    size_t seen;   /* distinct URLs ever added */
    size_t done;   /* completed (done(), and ADD_DONE replays) */
    size_t hosts;  /* distinct host keys */
} acio__frontier_stats_t;

typedef struct acio__frontier_s acio__frontier_t;

typedef struct {
    const char *name; /* "local", "redis" */
    /* Add a discovered URL (see 1. above). 1: new (queued, or recorded done with
     * ACIO__FRONTIER_ADD_DONE), 0: seen before, or a negative code. */
    int (*add)(acio__frontier_t *f, const char *url, size_t len, const char *host, int depth,
               int hops, unsigned flags);
    /* Lease the next URL that politeness allows at time now (see 2.-5.). */
    int (*take)(acio__frontier_t *f, double now, acio__frontier_item_t **out, double *wake_at);
    /* The leased item is complete: never offered again. */
    int (*done)(acio__frontier_t *f, acio__frontier_item_t *item);
    /* The leased item failed transiently: queue it again (attempts + 1) at the head of
     * its host, and hold the host back until not_before (a loop time). */
    int (*retry)(acio__frontier_t *f, acio__frontier_item_t *item, double not_before);
    /* The host's politeness delay, seconds (robots.txt's Crawl-delay). The larger of it
     * and the default delay applies. */
    int (*set_host_delay)(acio__frontier_t *f, const char *host, double delay);
    void (*stats)(acio__frontier_t *f, acio__frontier_stats_t *out);
    void (*free)(acio__frontier_t *f);
} acio__frontier_ops_t;

/* Every backend's object starts with this. */
struct acio__frontier_s {
    const acio__frontier_ops_t *ops;
};

/* Options common to all backends. Zero means the default in brackets. */
typedef struct {
    size_t per_host_limit; /* leases per host at once [8] */
    double default_delay;  /* seconds between two starts on one host [0] */
    size_t expected_urls;  /* seen-set sizing hint [0: small, grows] */
} acio__frontier_opts_t;

/* The local backend: everything in this process's memory. Errors: -ENOMEM. */
int acio__frontier_local_new(acio__frontier_t **out, const acio__frontier_opts_t *opts);

/* Convenience wrappers (the ops, through the table). */
static inline int acio__frontier_add(acio__frontier_t *f, const char *url, size_t len,
                                     const char *host, int depth, int hops, unsigned flags)
{
    return f->ops->add(f, url, len, host, depth, hops, flags);
}
static inline int acio__frontier_take(acio__frontier_t *f, double now, acio__frontier_item_t **out,
                                      double *wake_at)
{
    return f->ops->take(f, now, out, wake_at);
}
static inline int acio__frontier_done(acio__frontier_t *f, acio__frontier_item_t *item)
{
    return f->ops->done(f, item);
}
static inline int acio__frontier_retry(acio__frontier_t *f, acio__frontier_item_t *item,
                                       double not_before)
{
    return f->ops->retry(f, item, not_before);
}
static inline void acio__frontier_free(acio__frontier_t *f)
{
    if (f)
        f->ops->free(f);
}

#endif
