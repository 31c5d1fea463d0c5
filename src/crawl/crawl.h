/* The crawler engine behind acio-crawl: seeds in, pages fetched concurrently under the
 * politeness rules, links extracted and written as areq.py's TSV, one JSON record per
 * fetched URL, and a resumable journal. The parts, one job each (Scrapy's and Colly's
 * split): the frontier (frontier.h: what to fetch next, per-host politeness, dedup), the
 * robots cache (crawl_robots.c), the fetcher and its retry policy (crawl.c), the link
 * extractor (acio/html.h), the writers and the journal (crawl_out.c, crawl_state.c).
 *
 * Lifecycle: acio__crawl_new (opens the outputs, replays a --state journal: errors here
 * are the user's, exit status 2), acio__crawl_add_seed for each seed, acio__crawl_run
 * (a coroutine: call it from a task; returns when the frontier is exhausted or a limit
 * is reached), acio__crawl_free. */
#ifndef ACIO_CRAWL_CRAWL_H
#define ACIO_CRAWL_CRAWL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "crawl/frontier.h"

typedef struct acio__crawl_s acio__crawl_t;

typedef struct {
    size_t concurrency;     /* requests in flight [100] */
    size_t per_host;        /* requests in flight per host [8] */
    double delay;           /* seconds between two request starts on one host [0] */
    int max_depth;          /* link depth followed; seeds are 0 [0: the seeds only] */
    uint64_t max_pages;     /* URLs whose fetch started, retries not counted [0: none] */
    uint64_t max_bytes;     /* body bytes per page (decoded) [10 MiB] */
    uint64_t max_total;     /* body bytes in total, then stop taking [0: no limit] */
    double max_time;        /* seconds, then stop taking (in-flight fetches end) [0: none] */
    const char *user_agent; /* [acio-crawl/VERSION]; robots.txt groups match its product */
    bool ignore_robots;
    const char *const *allow_domains; /* hosts (and their subdomains) also followed */
    size_t nallow;
    const char *const *deny_patterns; /* POSIX extended regexes: matching URLs skipped */
    size_t ndeny;
    double timeout;             /* per request, everything included [30] */
    double connect_timeout;     /* [10] */
    double read_timeout;        /* each wait for bytes [20] */
    int retries;                /* retries of transient failures [0; the CLI: 3] */
    double backoff;             /* first retry after about this long, doubling [0.5] */
    double max_backoff;         /* and Retry-After is capped at [30] */
    int max_redirects;          /* hops of a redirect chain [10] */
    const char *tsv_path;       /* areq.py's output, or NULL */
    const char *jsonl_path;     /* one record per fetched URL, or NULL */
    const char *warc_path;      /* WARC/1.1 archive of the responses (acio/warc.h), or NULL */
    const char *state_dir;      /* resumable journal, or NULL */
    FILE *log;                  /* per-URL lines [stderr] */
    int verbosity;              /* 0 quiet (nothing), 1 failures, 2 every URL */
    bool log_clears_line;       /* a progress line is drawn on log: clear it before a line */
    acio__frontier_t *frontier; /* a backend to use (the crawl frees it) [local] */
} acio__crawl_opts_t;

typedef struct {
    char name[48];
    uint64_t count;
} acio__crawl_reason_t;

#define ACIO__CRAWL_MAX_REASONS 32

typedef struct {
    uint64_t fetched;           /* responses received and recorded (any status) */
    uint64_t ok;                /* 2xx */
    uint64_t parsed;            /* HTML pages whose links were extracted */
    uint64_t failed;            /* URLs given up on (by reason below) */
    uint64_t redirects;         /* 3xx answers followed */
    uint64_t robots_disallowed; /* URLs not fetched because of robots.txt */
    uint64_t robots_fetched;    /* robots.txt requests */
    uint64_t retries;           /* transient failures put back */
    uint64_t links;             /* TSV rows (distinct links per page) */
    uint64_t discovered;        /* new URLs queued (seeds included) */
    uint64_t bytes;             /* body bytes read (decoded) */
    uint64_t warc_records;      /* exchanges archived with --warc */
    uint64_t resumed_done;      /* completions replayed from the journal */
    uint64_t resumed_queued;    /* URLs queued again from the journal */
    size_t queued;              /* in the frontier now */
    size_t in_flight;
    double elapsed; /* seconds since acio__crawl_run started */
    acio__crawl_reason_t reasons[ACIO__CRAWL_MAX_REASONS];
    size_t nreasons;
} acio__crawl_stats_t;

/* Validate opts, open the outputs (truncating them, or, when the state directory holds
 * a journal, cutting them back to what its last completion covers) and replay the
 * journal. Not a coroutine, but needs the running loop. *msg (static or in the crawl's
 * buffer, valid until free) explains a failure. Errors: -EINVAL (bad option, e.g. a
 * deny pattern that is not a regex), -errno of open/mkdir (unwritable output or state),
 * ACIO_ECRAWL_JOURNAL, -ENOMEM. */
int acio__crawl_new(acio__crawl_t **out, const acio__crawl_opts_t *opts, const char **msg);
/* Add a seed (depth 0; its host joins the followed hosts). 1 new, 0 already known,
 * ACIO_EURL_* (malformed: reported by the caller and skipped), -ENOMEM. */
int acio__crawl_add_seed(acio__crawl_t *c, const char *url);
/* Crawl until done. Coroutine. 0, or a fatal error (an output that cannot be written:
 * ACIO_ECRAWL_OUTPUT; -ECANCELED). Failures of single URLs are never fatal. */
int acio__crawl_run(acio__crawl_t *c);
/* Ask a running crawl to stop taking new URLs (the ones in flight finish). */
void acio__crawl_stop(acio__crawl_t *c);
void acio__crawl_get_stats(acio__crawl_t *c, acio__crawl_stats_t *out);
/* The message of the fatal error acio__crawl_run returned ("" if none). */
const char *acio__crawl_error(const acio__crawl_t *c);
void acio__crawl_free(acio__crawl_t *c);

/* The summary as one JSON object (jansson's json_dumps: free() it), or NULL. */
char *acio__crawl_stats_json(const acio__crawl_stats_t *st, const acio__crawl_opts_t *opts);
/* The summary as text, several lines. */
void acio__crawl_stats_print(const acio__crawl_stats_t *st, const acio__crawl_opts_t *opts,
                             FILE *out);

#endif
