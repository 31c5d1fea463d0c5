/* acio-crawl --redis: the crawl's frontier in a Redis server shared by several
 * acio-crawl processes (docs/crawl-redis.md). This is the program's side: the options,
 * the crawl's name (--redis-key, or one derived from the seeds), opening the backend
 * (src/crawl/frontier_redis.c) for the engine, and at the end adding this process's
 * totals to the crawl-wide counters and printing them once the crawl is over. */
#ifndef ACIO_CRAWL_REDIS_MODE_H
#define ACIO_CRAWL_REDIS_MODE_H

#include <stdbool.h>
#include <stdio.h>

#include "crawl/crawl.h"

typedef struct {
    const char *url;            /* --redis URL (NULL: not in Redis mode) */
    const char *key;            /* --redis-key NAME */
    double lease;               /* --redis-lease SECONDS [30] */
    bool reset;                 /* --redis-reset */
    char name[17];              /* derived from the seeds when key is NULL */
    acio__frontier_t *frontier; /* owned by the crawl once given to it */
} redis_mode_t;

/* Open the shared frontier and put it in o->frontier. seeds are the command line's URL
 * and file arguments (files are read for the default name; "-" then needs --redis-key).
 * Coroutine. Returns 0, or -1 after printing why (exit status 2 for a usage error,
 * *usage set; 1 for a server that cannot be reached). */
int redis_mode_open(redis_mode_t *r, acio__crawl_opts_t *o, char *const *seeds, size_t nseeds,
                    bool *usage);

/* After the run: add this process's totals to the crawl's counters; when no URL is
 * queued or leased any more, print the crawl-wide totals (stderr; unless quiet). Call it
 * before acio__crawl_free (the crawl owns the frontier). Coroutine. */
void redis_mode_finish(redis_mode_t *r, const acio__crawl_stats_t *st, bool quiet);

#endif
