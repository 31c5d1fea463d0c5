/* The crawler engine's private state, shared by its files: crawl.c (the dispatcher and
 * the fetch of one URL), crawl_filter.c (which links are followed), crawl_robots.c (one
 * robots.txt per host), crawl_out.c (TSV and JSONL writers), crawl_state.c (the
 * resumable journal) and crawl_stats.c (counters and the summary). */
#ifndef ACIO_CRAWL_CRAWL_INT_H
#define ACIO_CRAWL_CRAWL_INT_H

#include <regex.h>

#include <acio.h>

#include "crawl/crawl.h"
#include "crawl/strmap.h"

/* A growable byte buffer (acio__malloc'd). */
typedef struct {
    char *p;
    size_t len, cap;
} acio__buf_t;

int acio__buf_add(acio__buf_t *b, const void *data, size_t len);
int acio__buf_printf(acio__buf_t *b, const char *fmt, ...) ACIO_PRINTF(2, 3);
void acio__buf_free(acio__buf_t *b);

struct acio__crawl_s {
    acio__crawl_opts_t o;
    acio__frontier_t *frontier;
    acio_http_session_t *session;
    acio_http_timeout_t tmo;
    acio_event_t *wake; /* set when a fetch ends or the crawl is stopped */
    uint64_t wake_gen;  /* counts those wake-ups */
    acio_loop_t *loop;
    double t0;
    bool stop, running;
    int fatal;
    char errmsg[256];
    uint64_t started; /* fetches started (max_pages) */
    size_t active;    /* fetch tasks alive */
    struct acio__crawl_job_s *jobs;
    uint64_t rng; /* jitter */
    /* Which hosts are followed: the seeds' (and their redirects'), plus allow_domains. */
    acio__strmap_t seed_hosts;
    regex_t *deny;
    size_t ndeny;
    /* robots.txt per host key. */
    acio__strmap_t robots;
    /* Outputs (-1 when off) and the journal. */
    int tsv_fd, jsonl_fd, journal_fd;
    uint64_t tsv_off, jsonl_off;
    acio_warc_t *warc;
    uint64_t warc_off; /* bytes in the WARC file after the last record */
    double last_sync;
    acio__crawl_stats_t st;
};

/* crawl_filter.c: the politeness key of url ("scheme://host:port") into dst (cap 512). */
size_t acio__crawl_host_key(const acio_url_t *url, char *dst, size_t cap);
/* Should a link found at depth `depth` (the page's + 1) be queued? */
bool acio__crawl_follow(acio__crawl_t *c, const acio_url_t *url);
/* Follow url's host from now on (a seed, or a seed's redirect target). 0 or -ENOMEM. */
int acio__crawl_add_host(acio__crawl_t *c, const char *host);
int acio__crawl_filter_init(acio__crawl_t *c, const char **msg);
void acio__crawl_filter_free(acio__crawl_t *c);

/* crawl_robots.c: may url be fetched? Fetches the host's robots.txt the first time
 * (other tasks asking meanwhile wait for it). Coroutine. 1 yes, 0 no, or a negative
 * code: the host is unreachable (the URL fails with it), -ECANCELED. */
int acio__crawl_robots_allowed(acio__crawl_t *c, const acio_url_t *url, const char *host);
void acio__crawl_robots_free(acio__crawl_t *c);

/* crawl_out.c: open the outputs (truncating, or cutting back to the given offsets when
 * resuming: UINT64_MAX means fresh); write one page's rows and its JSONL record. */
int acio__crawl_out_open(acio__crawl_t *c, const uint64_t off[3], const char **msg);
int acio__crawl_out_write(acio__crawl_t *c, const acio__buf_t *rows, const acio__buf_t *record);
/* Archive one response (--warc): the request head acio's client sent, the response head
 * rewritten for the decoded body, the body. No-op without --warc. */
int acio__crawl_out_warc(acio__crawl_t *c, const acio__frontier_item_t *it, const acio_url_t *u,
                         acio_http_response_t *r, const void *body, size_t len);
void acio__crawl_out_close(acio__crawl_t *c);
/* write(2) all of len bytes, retrying short writes and EINTR. 0 or -errno. */
int acio__crawl_write_all(int fd, const void *p, size_t len);

/* crawl_state.c: the journal. open replays it (seeding the frontier) and reports the
 * output offsets its last completion covers (TSV, JSONL, WARC; UINT64_MAX: fresh); add records a
 * queued URL; done appends `pending` (the page's additions) and the page's completion in one write.
 */
int acio__crawl_state_open(acio__crawl_t *c, uint64_t off[3], const char **msg);
int acio__crawl_state_added(acio__crawl_t *c, acio__buf_t *pending, const char *url, int depth,
                            int hops);
int acio__crawl_state_done(acio__crawl_t *c, acio__buf_t *pending, const char *url);
void acio__crawl_state_sync(acio__crawl_t *c, bool force);
void acio__crawl_state_close(acio__crawl_t *c);

/* crawl_stats.c: count a final failure under reason; the reason of a code. */
void acio__crawl_count_failure(acio__crawl_t *c, const char *reason);
void acio__crawl_reason_of(int rc, int status, char *dst, size_t cap);

/* The per-URL log line (areq.py's: level, URL, what happened). */
void acio__crawl_log(acio__crawl_t *c, int level, const char *fmt, ...) ACIO_PRINTF(3, 4);

#endif
