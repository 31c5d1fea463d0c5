/* acio-crawl's shared frontier on Redis (the scrapy-redis model): the queue of URLs to
 * fetch, the seen-set, the leases and the per-host politeness state of one crawl live in
 * one Redis server, so several acio-crawl processes, on one machine or many, share the
 * crawl. Every change is one Lua script run atomically on the server (redis_frontier_lua.c
 * holds them and says which keys they touch); this file is the client side: it loads the
 * scripts once (SCRIPT LOAD, then EVALSHA, loading again on NOSCRIPT after a server
 * restart), encodes the items, keeps the leases it holds alive and caches the crawl's
 * counters. docs/crawl-redis.md is the design (keys, scripts, guarantees).
 *
 * The guarantees, in short (the frontier interface's list, held across processes):
 * - a URL is queued at most once in the crawl's life (dedup on 64-bit fingerprints, the
 *   same XXH64 as acio/seen.h, in bucketed Redis sets of integers: ~9 bytes per URL);
 * - take() hands a URL out under a lease: until done() or retry(), no take() in any
 *   process returns it; a lease not renewed for lease_seconds (its process died) is put
 *   back at the head of its host's queue by whichever process looks next, so nothing is
 *   lost; the dead process's fetch may then be repeated (fetching is at least once,
 *   completion exactly once: done() on a lease that was reclaimed returns 0);
 * - per host: at most per_host_limit leases at once, and two take()s at least the host's
 *   delay apart, measured on the Redis server's clock (TIME), so the rule holds across
 *   machines whose clocks differ.
 *
 * All functions marked "Coroutine" must run in a task; they return the Redis client's
 * errors (ACIO_EREDIS_CONNECTION, -ETIMEDOUT, ...), -ENOMEM, or the codes of
 * ACIO_CRAWL_REDIS_ERRORS (acio/error.h). After an error the caller cannot know whether
 * the script ran (the reply may be what was lost); every op is safe to repeat. */
#ifndef ACIO_CRAWL_REDIS_FRONTIER_H
#define ACIO_CRAWL_REDIS_FRONTIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crawl/frontier.h"

typedef struct acio__rfrontier_s acio__rfrontier_t;

/* Options. Zero means the default in brackets. The crawl-wide ones (marked *) are
 * written to the crawl's config key by the first process that opens the crawl; later
 * processes use the stored values, whatever they pass (acio__rfrontier_config says
 * which apply). */
typedef struct {
    const char *url;        /* redis://, rediss://, unix:// (acio_redis_opts_from_url) */
    const char *name;       /* the crawl's name: keys are "acio-crawl:{name}:..." */
    size_t per_host_limit;  /* * leases per host at once, all processes together [8] */
    double default_delay;   /* * seconds between two take()s of one host [0] */
    double lease_seconds;   /* * a lease not renewed for this long is reclaimed [30] */
    size_t expected_urls;   /* * sizes the seen-set's buckets [0: up to ~1.5 M URLs] */
    double poll_interval;   /* how often take() asks again while other processes hold
                               leases and nothing is ready [0.25] */
    double command_timeout; /* seconds per Redis command [10] */
} acio__rfrontier_opts_t;

/* A URL handed out by take(): the frontier's until done() or retry() consumes it. */
typedef struct {
    char *url; /* normalised absolute URL, NUL-terminated */
    size_t url_len;
    char *host; /* politeness key */
    int depth;
    int hops;
    int attempts;
    long long token; /* the lease's id in Redis */
} acio__rfrontier_item_t;

/* Counters: the crawl's (all processes) as of this process's last script call, and this
 * process's own. */
typedef struct {
    size_t queued;    /* crawl: waiting to be taken */
    size_t leased;    /* crawl: leases held, by any process */
    size_t seen;      /* crawl: distinct URLs ever added */
    size_t done;      /* crawl: completed */
    size_t hosts;     /* crawl: distinct hosts queued */
    size_t held;      /* this process: leases held now */
    size_t taken;     /* this process: take()s that returned an item */
    size_t completed; /* this process: done()s that completed an item */
    size_t lost;      /* this process: done()/retry()s whose lease had been reclaimed */
} acio__rfrontier_stats_t;

/* Add flag: mark the URL seen and completed without queuing it. */
#define ACIO__RFRONTIER_ADD_DONE 1u

/* Connect, load the scripts and read (or write, for the first process) the crawl's
 * config. Coroutine. Errors: -EINVAL (no url, a bad name: empty, longer than 200 bytes,
 * or with braces, spaces or control characters), acio_redis_connect's,
 * ACIO_ECRAWL_REDIS_FORMAT (the keys hold something else). */
int acio__rfrontier_open(acio__rfrontier_t **out, const acio__rfrontier_opts_t *opts);
/* Close the connection and free the items still held (their leases expire in Redis and
 * are reclaimed: closing without done() is what a dying process does). NULL: no-op. */
void acio__rfrontier_free(acio__rfrontier_t *f);

/* The effective crawl-wide settings (after open). */
void acio__rfrontier_config(const acio__rfrontier_t *f, size_t *per_host_limit,
                            double *default_delay, double *lease_seconds, unsigned *seen_buckets);
/* The key prefix, "acio-crawl:{name}:". */
const char *acio__rfrontier_prefix(const acio__rfrontier_t *f);
/* The Redis server's words for the last failure (a script error, a lost connection),
 * "" if none; valid until the next call on f. */
const char *acio__rfrontier_last_error(const acio__rfrontier_t *f);

/* Add a URL (normalised; host is its politeness key, neither may contain a tab or a
 * newline, nor be empty). 1: new (queued, or recorded done with ADD_DONE), 0: seen
 * before. Coroutine. Errors: -EINVAL, the common ones. */
int acio__rfrontier_add(acio__rfrontier_t *f, const char *url, size_t len, const char *host,
                        int depth, int hops, unsigned flags);

/* Lease the next URL politeness allows now. 1 and *out; or 0 and *wait: seconds until an
 * item may be ready (a host's delay or a retry's hold ending, or a poll interval while
 * other processes hold leases that may add URLs or expire), INFINITY when the queue is
 * empty and no process holds a lease (with no lease of its own, the caller is done).
 * Also reclaims up to 32 expired leases first and renews this process's leases when a
 * third of lease_seconds has passed. Coroutine. */
int acio__rfrontier_take(acio__rfrontier_t *f, acio__rfrontier_item_t **out, double *wait);

/* Complete a leased item: 1, and the item is freed; 0 when its lease had expired and
 * been reclaimed (the URL is queued again for someone else; the item is freed too);
 * on an error the item stays held (call again). Coroutine. */
int acio__rfrontier_done(acio__rfrontier_t *f, acio__rfrontier_item_t *item);
/* Put a leased item back at the head of its host's queue with attempts + 1, and hold
 * the host back for `delay` seconds (>= 0) from now. Returns as done(). Coroutine. */
int acio__rfrontier_retry(acio__rfrontier_t *f, acio__rfrontier_item_t *item, double delay);

/* A host's own delay (robots.txt's Crawl-delay), seconds; the larger of it and the
 * default applies. Coroutine. */
int acio__rfrontier_set_host_delay(acio__rfrontier_t *f, const char *host, double delay);

/* Extend every lease this process holds to lease_seconds from now. take() does it when
 * due; a caller with long fetches and no take() may call it. *lost (may be NULL): how
 * many of them had already been reclaimed. Coroutine. */
int acio__rfrontier_renew(acio__rfrontier_t *f, size_t *lost);

/* Add `by` to a crawl-wide counter (pages, bytes, "failed:timeout", ...): the global
 * summary reads them back with acio__rfrontier_counters. Coroutine. */
int acio__rfrontier_count(acio__rfrontier_t *f, const char *counter, long long by);
/* Every crawl-wide counter, fresh from Redis: calls fn once per counter (the frontier's
 * own: seen, queued, done, retried, reclaimed; and those added with _count), then
 * refreshes the cached stats. Coroutine. */
int acio__rfrontier_counters(acio__rfrontier_t *f,
                             void (*fn)(void *arg, const char *name, long long value), void *arg);
/* The cached counters (no I/O). */
void acio__rfrontier_stats(const acio__rfrontier_t *f, acio__rfrontier_stats_t *out);

/* Delete every key of the crawl (SCAN + UNLINK over the prefix): for starting a crawl
 * again under the same name. Not while other processes use it. Coroutine. */
int acio__rfrontier_reset(acio__rfrontier_t *f);

/* A crawl name derived from the seeds (order and duplicates do not matter): 16 hex
 * digits of XXH64 over the sorted distinct seeds. out must hold 17 bytes. -ENOMEM. */
int acio__rfrontier_name_from_seeds(char out[17], const char *const *seeds, size_t n);

/* ---- the frontier backend (frontier.h's ops table over the functions above;
 * frontier_redis.c) ---- */

typedef struct {
    const char *url;      /* the Redis server */
    const char *name;     /* the crawl's name (keys "acio-crawl:{name}:...") */
    double lease_seconds; /* [30] */
    double poll_interval; /* [0.25] */
    bool reset;           /* delete the crawl's keys first (a fresh crawl) */
    bool manual_renew;    /* no renewal task: leases are renewed only by take() and
                             done() (tests that play a stalled process) */
} acio__frontier_redis_opts_t;

/* Open the shared frontier: opts (per_host_limit, default_delay, expected_urls) as for
 * every backend, ropts for Redis. Coroutine. Errors: acio__rfrontier_open's and
 * acio__rfrontier_reset's; *msg (may be NULL) receives a static explanation or the
 * server's words, valid until the next call. The backend's done() and retry() return
 * ACIO_EFRONTIER_LEASE when the lease had expired and been reclaimed (the item is
 * consumed all the same); its take() turns the wait into a loop time. */
int acio__frontier_redis_new(acio__frontier_t **out, const acio__frontier_opts_t *opts,
                             const acio__frontier_redis_opts_t *ropts, const char **msg);
/* The Redis frontier under a backend made by acio__frontier_redis_new, or NULL if f is
 * another backend (for the crawl-wide counters). */
acio__rfrontier_t *acio__frontier_redis_of(acio__frontier_t *f);

#endif
