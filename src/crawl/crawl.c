/* The crawler engine (crawl.h): the dispatcher and the fetch of one URL.
 *
 * The dispatcher is the task that calls acio__crawl_run. It leases URLs from the frontier
 * while fewer than `concurrency` fetches are running and starts one task per URL; when
 * the frontier has nothing ready it sleeps until a fetch ends, URLs are added, or the
 * frontier's wake_at (a host's politeness delay, a retry's backoff) comes.
 *
 * A fetch: robots.txt (crawl_robots.c), then GET without following redirects, so that a
 * redirect target goes through the frontier like any link (seen-set, robots, politeness,
 * the host filter) and a loop ends at the first URL already seen; a chain longer than
 * max_redirects hops fails. 429, 500, 502, 503, 504 and connection errors and timeouts are
 * retried with exponential backoff and jitter, honouring Retry-After (the frontier holds
 * the host back meanwhile). A 2xx text/html body (at most max_bytes) is decoded and its
 * links extracted (acio/html.h); links the filter allows (crawl_filter.c) and within
 * max_depth are queued. Then, with no wait in between: the page's TSV rows and JSONL
 * record, its journal record, and done() in the frontier. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "crawl/crawl_int.h"
#include "internal.h"

#define DEFAULT_UA "acio-crawl/0.1"

/* A running fetch; the crawl lists them to cancel them when it is cancelled. */
typedef struct acio__crawl_job_s {
    acio__crawl_t *c;
    acio__frontier_item_t *item;
    acio_task_t *task;
    struct acio__crawl_job_s *prev, *next;
} job_t;

static double now_of(acio__crawl_t *c)
{
    return acio_loop_time(c->loop);
}

static void set_fatal(acio__crawl_t *c, int rc)
{
    if (!c->fatal)
        c->fatal = rc;
    c->stop = true;
}

/* ---- one page's result and its outputs ---- */

typedef struct {
    acio__crawl_t *c;
    const acio__frontier_item_t *item;
    acio__buf_t rows;    /* TSV */
    acio__buf_t pending; /* journal A records */
    size_t links;
    int err;
} page_t;

static int link_cb(void *data, const acio_url_t *url)
{
    page_t *p = data;
    acio__crawl_t *c = p->c;
    int rc = 0;
    if (c->tsv_fd >= 0) {
        rc = acio__buf_add(&p->rows, p->item->url, p->item->url_len);
        if (rc == 0)
            rc = acio__buf_add(&p->rows, "\t", 1);
        if (rc == 0)
            rc = acio__buf_add(&p->rows, url->href, url->href_len);
        if (rc == 0)
            rc = acio__buf_add(&p->rows, "\n", 1);
        if (rc < 0)
            return rc;
    }
    p->links++;
    if (p->item->depth + 1 > c->o.max_depth || !acio__crawl_follow(c, url))
        return 0;
    char host[512];
    acio__crawl_host_key(url, host, sizeof host);
    rc = acio__frontier_add(c->frontier, url->href, url->href_len, host, p->item->depth + 1, 0, 0);
    if (rc == 1) {
        c->st.discovered++;
        rc = acio__crawl_state_added(c, &p->pending, url->href, p->item->depth + 1, 0);
    }
    return rc < 0 ? rc : 0;
}

/* Write the page's rows, its record and its completion, then complete the lease. */
static void complete(acio__crawl_t *c, acio__frontier_item_t *it, page_t *p, int status,
                     const char *final_url, const char *ctype, uint64_t bytes, double t0,
                     const char *error, bool record)
{
    acio__buf_t rec = {0};
    if (record && c->jsonl_fd >= 0) {
        json_t *j = json_pack("{s:s,s:s?,s:i,s:s?,s:I,s:I,s:i,s:f,s:s?}", "url", it->url,
                              "final_url", final_url, "status", status, "content_type", ctype,
                              "bytes", (json_int_t)bytes, "links", (json_int_t)p->links, "depth",
                              it->depth, "time", now_of(c) - t0, "error", error);
        char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        if (s) {
            if (acio__buf_add(&rec, s, strlen(s)) < 0 || acio__buf_add(&rec, "\n", 1) < 0)
                rec.len = 0;
            free(s);
        }
    }
    if (!c->fatal) {
        int rc = acio__crawl_out_write(c, &p->rows, &rec);
        if (rc == 0) {
            c->st.links += p->links;
            rc = acio__crawl_state_done(c, &p->pending, it->url);
        }
        if (rc < 0)
            set_fatal(c, rc);
    }
    acio__buf_free(&rec);
    (void)acio__frontier_done(c->frontier, it);
}

static void fail(acio__crawl_t *c, acio__frontier_item_t *it, page_t *p, int rc, int status,
                 const char *final_url, const char *ctype, double t0, const char *msg)
{
    char reason[48];
    acio__crawl_reason_of(rc, status, reason, sizeof reason);
    acio__crawl_count_failure(c, reason);
    if (status)
        acio__crawl_log(c, 1, "%s [%d]: %s", it->url, status, msg ? msg : reason);
    else
        acio__crawl_log(c, 1, "%s: %s (%s)", it->url, reason, msg ? msg : acio_strerror(rc));
    complete(c, it, p, status, final_url, ctype, 0, t0, reason, true);
}

/* ---- retries ---- */

static bool transient(int rc)
{
    switch (rc) {
    case -ECONNREFUSED:
    case -ECONNRESET:
    case -ECONNABORTED:
    case -EPIPE:
    case -ETIMEDOUT:
    case -EHOSTUNREACH:
    case -ENETUNREACH:
    case -EAGAIN:
    case ACIO_EHTTP_DISCONNECTED:
    case ACIO_EHTTP_TRUNCATED:
    case ACIO_EHTTP_POOL_TIMEOUT:
    case ACIO_EHTTP_CONNECT_TIMEOUT:
    case ACIO_EHTTP_TLS_TIMEOUT:
    case ACIO_EHTTP_HEADERS_TIMEOUT:
    case ACIO_EHTTP_READ_TIMEOUT:
    case ACIO_EHTTP_TOTAL_TIMEOUT:
    case ACIO_EHTTP_DNS_TIMEOUT:
        return true;
    default:
        return false;
    }
}

static bool retry_status(int status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* Retry-After: seconds or an HTTP-date; -1 if absent or unreadable. */
static double retry_after(acio_http_response_t *r)
{
    const char *v = r ? acio_http_response_header(r, "Retry-After") : NULL;
    if (!v)
        return -1;
    char *end;
    double s = strtod(v, &end);
    if (end != v && *end == '\0')
        return s >= 0 ? s : -1;
    struct tm tm = {0};
    if (!strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        return -1;
    double d = difftime(timegm(&tm), time(NULL));
    return d > 0 ? d : 0;
}

static double jitter(acio__crawl_t *c)
{
    c->rng = c->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(c->rng >> 11) / 9007199254740992.0; /* [0, 1) */
}

/* Put it back for a later attempt if it has attempts left. */
static bool maybe_retry(acio__crawl_t *c, acio__frontier_item_t *it, int rc, int status,
                        acio_http_response_t *r)
{
    if (it->attempts >= c->o.retries)
        return false;
    double d = c->o.backoff * ldexp(1.0, it->attempts) * (0.5 + jitter(c));
    if (d > c->o.max_backoff)
        d = c->o.max_backoff;
    double ra = retry_after(r);
    if (ra > d)
        d = ra < c->o.max_backoff ? ra : c->o.max_backoff;
    if (status)
        acio__crawl_log(c, 2, "%s [%d]: retry %d in %.2f s", it->url, status, it->attempts + 1, d);
    else
        acio__crawl_log(c, 2, "%s: %s, retry %d in %.2f s", it->url, acio_err_name(rc),
                        it->attempts + 1, d);
    if (acio__frontier_retry(c->frontier, it, now_of(c) + d) < 0)
        return false;
    c->st.retries++;
    return true;
}

/* ---- one fetch ---- */

static bool is_html(const char *ctype)
{
    if (!ctype)
        return false;
    while (*ctype == ' ')
        ctype++;
    return strncasecmp(ctype, "text/html", 9) == 0 ||
           strncasecmp(ctype, "application/xhtml+xml", 21) == 0;
}

/* The body, at most cap bytes (ACIO_ECRAWL_TOO_LARGE beyond). */
static int read_body(acio_http_response_t *r, uint64_t cap, acio__buf_t *b, const char **body,
                     size_t *len)
{
    int64_t cl = acio_http_response_content_length(r);
    if (cl > 0 && (uint64_t)cl > cap)
        return ACIO_ECRAWL_TOO_LARGE;
    if (cl >= 0 && !acio_http_response_header(r, "Content-Encoding")) {
        const void *p;
        int rc = acio_http_response_read(r, &p, len);
        *body = p;
        return rc;
    }
    for (;;) {
        const void *d;
        ssize_t n = acio_http_response_readany(r, &d);
        if (n < 0)
            return n == ACIO_EHTTP_BOMB ? ACIO_ECRAWL_TOO_LARGE : (int)n;
        if (n == 0)
            break;
        if (b->len + (size_t)n > cap)
            return ACIO_ECRAWL_TOO_LARGE;
        if (acio__buf_add(b, d, (size_t)n) < 0)
            return -ENOMEM;
    }
    *body = b->p ? b->p : "";
    *len = b->len;
    return 0;
}

static void redirect(acio__crawl_t *c, acio__frontier_item_t *it, page_t *p, acio_url_t *u,
                     acio_http_response_t *r, int status, double t0)
{
    const char *loc = acio_http_response_header(r, "Location");
    acio_url_t *target = NULL;
    c->st.fetched++;
    int rc = loc ? acio_url_join(u, loc, strlen(loc), ACIO_URL_DROP_FRAGMENT | ACIO_URL_HTTP_ONLY,
                                 &target)
                 : ACIO_ECRAWL_REDIRECT;
    if (rc < 0) {
        fail(c, it, p, rc == -ENOMEM ? rc : ACIO_ECRAWL_REDIRECT, 0, NULL, NULL, t0,
             loc ? "unusable Location" : "no Location header");
        return;
    }
    if (it->hops + 1 > c->o.max_redirects) {
        fail(c, it, p, ACIO_ECRAWL_TOO_MANY_REDIRECTS, 0, target->href, NULL, t0, NULL);
        acio_url_free(target);
        return;
    }
    c->st.redirects++;
    /* A seed that redirects (http -> https, example.com -> www.example.com) brings its
     * target's host into the crawl. */
    if (it->depth == 0 && target->host)
        (void)acio__crawl_add_host(c, target->host);
    if (acio__crawl_follow(c, target)) {
        char host[512];
        acio__crawl_host_key(target, host, sizeof host);
        rc = acio__frontier_add(c->frontier, target->href, target->href_len, host, it->depth,
                                it->hops + 1, 0);
        if (rc == 1) {
            c->st.discovered++;
            (void)acio__crawl_state_added(c, &p->pending, target->href, it->depth, it->hops + 1);
        }
    }
    acio__crawl_log(c, 2, "%s [%d]: redirected to %s", it->url, status, target->href);
    complete(c, it, p, status, target->href, NULL, 0, t0, NULL, true);
    acio_url_free(target);
}

static void fetch_one(acio__crawl_t *c, acio__frontier_item_t *it)
{
    double t0 = now_of(c);
    page_t p = {.c = c, .item = it};
    acio_url_t *u = NULL;
    acio_http_response_t *r = NULL;
    acio__buf_t body = {0};
    int rc = acio_url_parse(it->url, it->url_len, &u);
    if (rc < 0) {
        fail(c, it, &p, rc, 0, NULL, NULL, t0, NULL);
        goto out;
    }
    int allowed = c->o.ignore_robots ? 1 : acio__crawl_robots_allowed(c, u, it->host);
    if (allowed < 0) {
        fail(c, it, &p, allowed, 0, NULL, NULL, t0, "robots.txt unreachable");
        goto out;
    }
    if (!allowed) {
        c->st.robots_disallowed++;
        acio__crawl_log(c, 2, "%s: disallowed by robots.txt", it->url);
        complete(c, it, &p, 0, NULL, NULL, 0, t0, NULL, false);
        goto out;
    }
    acio_http_request_opts_t ro = {.no_redirects = true, .timeout = &c->tmo};
    rc = acio_http_request(c->session, "GET", it->url, &ro, &r);
    if (rc < 0) {
        if (!(transient(rc) && maybe_retry(c, it, rc, 0, NULL)))
            fail(c, it, &p, rc, 0, NULL, NULL, t0, NULL);
        goto out;
    }
    int status = acio_http_response_status(r);
    const char *ctype = acio_http_response_header(r, "Content-Type");
    if (status >= 300 && status < 400 && status != 304) {
        if ((rc = acio__crawl_out_warc(c, it, u, r, NULL, 0)) < 0)
            set_fatal(c, rc);
        redirect(c, it, &p, u, r, status, t0);
        goto out;
    }
    if (status >= 400) {
        if (!(retry_status(status) && maybe_retry(c, it, 0, status, r))) {
            c->st.fetched++;
            if ((rc = acio__crawl_out_warc(c, it, u, r, NULL, 0)) < 0)
                set_fatal(c, rc);
            fail(c, it, &p, ACIO_ECRAWL_STATUS, status, it->url, ctype, t0,
                 acio_http_response_reason(r));
        }
        goto out;
    }
    const char *data = NULL;
    size_t len = 0;
    rc = read_body(r, c->o.max_bytes, &body, &data, &len);
    if (rc < 0) {
        if (!(transient(rc) && maybe_retry(c, it, rc, 0, NULL))) {
            c->st.fetched++;
            fail(c, it, &p, rc, status, it->url, ctype, t0, acio_strerror(rc));
        }
        goto out;
    }
    c->st.fetched++;
    c->st.ok++;
    c->st.bytes += len;
    acio__crawl_log(c, 2, "Got response [%d] for URL: %s", status, it->url);
    if (is_html(ctype)) {
        rc = acio_html_links(data, len, ctype, u, link_cb, &p);
        if (rc < 0) {
            /* Out of memory mid-page: the page counts as failed; URLs it already queued
             * stay queued (their journal records go out with the failure's). */
            p.rows.len = 0;
            p.links = 0;
            c->st.ok--;
            fail(c, it, &p, rc, 0, it->url, ctype, t0, NULL);
            goto out;
        }
        c->st.parsed++;
        acio__crawl_log(c, 2, "Found %zu links for %s", p.links, it->url);
    }
    rc = acio__crawl_out_warc(c, it, u, r, data, len);
    if (rc < 0)
        set_fatal(c, rc);
    complete(c, it, &p, status, it->url, ctype, len, t0, NULL, true);
out:
    if (p.pending.len && c->journal_fd >= 0 && !c->fatal) {
        /* A retried URL may have queued nothing, but a failure path may have: flush. */
        if (acio__crawl_state_done(c, &p.pending, NULL) < 0)
            set_fatal(c, ACIO_ECRAWL_OUTPUT);
    }
    acio__buf_free(&p.rows);
    acio__buf_free(&p.pending);
    acio__buf_free(&body);
    acio_http_response_release(r);
    acio_url_free(u);
}

static void *fetch_task(void *arg)
{
    job_t *j = arg;
    acio__crawl_t *c = j->c;
    fetch_one(c, j->item);
    if (j->prev)
        j->prev->next = j->next;
    else
        c->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    acio_future_unref(j->task);
    acio__free(j);
    c->active--;
    c->wake_gen++;
    acio_event_set(c->wake);
    return NULL;
}

static int spawn(acio__crawl_t *c, acio__frontier_item_t *it)
{
    job_t *j = acio__calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->c = c;
    j->item = it;
    int rc = acio_create_task(&j->task, fetch_task, j, "acio-crawl fetch");
    if (rc < 0) {
        acio__free(j);
        return rc;
    }
    j->next = c->jobs;
    if (c->jobs)
        c->jobs->prev = j;
    c->jobs = j;
    c->active++;
    if (it->attempts == 0) /* --max-pages counts URLs, not retries */
        c->started++;
    return 0;
}

/* ---- the dispatcher ---- */

static bool limit_reached(acio__crawl_t *c)
{
    return c->stop || (c->o.max_pages && c->started >= c->o.max_pages) ||
           (c->o.max_total && c->st.bytes >= c->o.max_total) ||
           (c->o.max_time > 0 && now_of(c) - c->t0 >= c->o.max_time);
}

int acio__crawl_run(acio__crawl_t *c)
{
    c->t0 = now_of(c);
    c->running = true;
    int result = 0;
    bool cancelled = false;
    for (;;) {
        /* A shared frontier's take() may wait (a Redis round trip), and a fetch may end
         * meanwhile: its wake-up is seen through wake_gen, not lost to the clear below. */
        uint64_t gen = c->wake_gen;
        double wake = INFINITY;
        int took = 0;
        while (!limit_reached(c) && c->active < c->o.concurrency) {
            acio__frontier_item_t *it;
            took = acio__frontier_take(c->frontier, now_of(c), &it, &wake);
            if (took < 0) {
                snprintf(c->errmsg, sizeof c->errmsg, "the frontier failed: %s",
                         acio_strerror(took));
                set_fatal(c, took);
                break;
            }
            if (took == 0)
                break;
            if (spawn(c, it) < 0) {
                /* No memory for a task now: put it back and try again shortly. */
                (void)acio__frontier_retry(c->frontier, it, now_of(c) + 0.01);
                wake = now_of(c) + 0.01;
                break;
            }
        }
        bool limit = limit_reached(c);
        if (c->active == 0 && (limit || (took == 0 && isinf(wake))))
            break;
        double timeout = 0;
        if (!limit && c->active < c->o.concurrency && !isinf(wake)) {
            timeout = wake - now_of(c);
            if (timeout < 0.0005)
                timeout = 0.0005;
        }
        if (!limit && c->o.max_time > 0) { /* wake up to stop at the deadline */
            double left = c->t0 + c->o.max_time - now_of(c);
            if (left < 0.0005)
                left = 0.0005;
            if (timeout == 0 || left < timeout)
                timeout = left;
        }
        if (c->wake_gen != gen)
            continue;
        acio_event_clear(c->wake);
        acio_cancel_scope_t scope;
        bool scoped = timeout > 0 && acio_cancel_scope_enter(&scope, timeout) == 0;
        int w = acio_event_wait(c->wake);
        bool expired = scoped && acio_cancel_scope_exit(&scope) == 1;
        if (w == -ECANCELED && !expired && !cancelled) {
            /* The crawl itself is cancelled (SIGINT): stop taking, cancel the fetches in
             * flight and wait for them to wind down. */
            cancelled = true;
            c->stop = true;
            for (job_t *j = c->jobs; j; j = j->next)
                acio_task_cancel(j->task, "acio-crawl: stopping");
        }
    }
    c->running = false;
    c->st.elapsed = now_of(c) - c->t0;
    acio__crawl_state_sync(c, true);
    if (c->fatal)
        result = c->fatal;
    else if (cancelled)
        result = -ECANCELED;
    return result;
}

void acio__crawl_stop(acio__crawl_t *c)
{
    c->stop = true;
    c->wake_gen++;
    acio_event_set(c->wake);
}

/* ---- setup ---- */

int acio__crawl_new(acio__crawl_t **out, const acio__crawl_opts_t *opts, const char **msg)
{
    static const char *oom = "out of memory";
    *msg = "";
    acio__crawl_t *c = acio__calloc(1, sizeof *c);
    if (!c) {
        *msg = oom;
        return -ENOMEM;
    }
    c->o = *opts;
    c->tsv_fd = c->jsonl_fd = c->journal_fd = -1;
    if (!c->o.concurrency)
        c->o.concurrency = 100;
    if (!c->o.per_host)
        c->o.per_host = 8;
    if (!c->o.max_bytes)
        c->o.max_bytes = 10u << 20;
    if (!c->o.user_agent)
        c->o.user_agent = DEFAULT_UA;
    if (c->o.timeout <= 0)
        c->o.timeout = 30;
    if (c->o.connect_timeout <= 0)
        c->o.connect_timeout = 10;
    if (c->o.read_timeout <= 0)
        c->o.read_timeout = 20;
    if (c->o.backoff <= 0)
        c->o.backoff = 0.5;
    if (c->o.max_backoff <= 0)
        c->o.max_backoff = 30;
    if (!c->o.max_redirects)
        c->o.max_redirects = 10;
    if (c->o.retries < 0)
        c->o.retries = 0;
    c->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c;
    c->loop = acio_get_running_loop();
    int rc = -EINVAL;
    if (!c->loop) {
        *msg = "acio__crawl_new needs a running loop";
        goto fail;
    }
    c->tmo = (acio_http_timeout_t){.total = c->o.timeout,
                                   .sock_connect = c->o.connect_timeout,
                                   .sock_read = c->o.read_timeout};
    c->frontier = c->o.frontier;
    c->o.frontier = NULL;
    if (!c->frontier) {
        acio__frontier_opts_t fo = {.per_host_limit = c->o.per_host, .default_delay = c->o.delay};
        rc = acio__frontier_local_new(&c->frontier, &fo);
        if (rc < 0) {
            *msg = oom;
            goto fail;
        }
    }
    rc = acio__crawl_filter_init(c, msg);
    if (rc < 0)
        goto fail;
    uint64_t off[3];
    rc = acio__crawl_state_open(c, off, msg);
    if (rc < 0)
        goto fail;
    rc = acio__crawl_out_open(c, off, msg);
    if (rc < 0)
        goto fail;
    rc = acio_event_new(&c->wake);
    if (rc < 0) {
        *msg = oom;
        goto fail;
    }
    acio_http_field_t ua = {"User-Agent", c->o.user_agent};
    acio_http_session_opts_t so = {
        .limit = c->o.concurrency + 8, /* robots.txt requests come on top of the pages */
        .limit_per_host = c->o.per_host + 1,
        .timeout = c->tmo,
        .max_redirects = 5,
        .no_cookies = true,
        .max_decoded_size = c->o.max_bytes,
        .headers = &ua,
        .nheaders = 1,
    };
    rc = acio_http_session_new(&c->session, &so);
    if (rc < 0) {
        snprintf(c->errmsg, sizeof c->errmsg, "cannot create the HTTP session: %s",
                 acio_strerror(rc));
        *msg = c->errmsg;
        goto fail;
    }
    *out = c;
    return 0;
fail:
    if (*msg == NULL || **msg == '\0')
        *msg = acio_strerror(rc);
    { /* *msg may point into c, which goes now: return a copy */
        static char keep[256];
        snprintf(keep, sizeof keep, "%s", *msg);
        *msg = keep;
    }
    acio__crawl_free(c);
    return rc;
}

int acio__crawl_add_seed(acio__crawl_t *c, const char *url)
{
    acio_url_t *u;
    int rc = acio_url_parse(url, strlen(url), &u);
    if (rc < 0)
        return rc;
    rc = acio_url_normalize(u, ACIO_URL_DROP_FRAGMENT | ACIO_URL_HTTP_ONLY);
    if (rc == 0 && !acio_url_is_http(u))
        rc = ACIO_EURL_HOST;
    if (rc == 0)
        rc = acio__crawl_add_host(c, u->host);
    if (rc == 0) {
        char host[512];
        acio__crawl_host_key(u, host, sizeof host);
        rc = acio__frontier_add(c->frontier, u->href, u->href_len, host, 0, 0, 0);
        if (rc == 1) {
            c->st.discovered++;
            acio__buf_t pending = {0};
            int w = acio__crawl_state_added(c, &pending, u->href, 0, 0);
            if (w == 0)
                w = acio__crawl_state_done(c, &pending, NULL);
            acio__buf_free(&pending);
            if (w < 0)
                rc = w;
        }
    }
    acio_url_free(u);
    return rc;
}

void acio__crawl_get_stats(acio__crawl_t *c, acio__crawl_stats_t *out)
{
    *out = c->st;
    acio__frontier_stats_t fs;
    c->frontier->ops->stats(c->frontier, &fs);
    out->queued = fs.queued;
    out->in_flight = c->active;
    if (c->running)
        out->elapsed = now_of(c) - c->t0;
}

const char *acio__crawl_error(const acio__crawl_t *c)
{
    return c->fatal ? c->errmsg : "";
}

void acio__crawl_free(acio__crawl_t *c)
{
    if (!c)
        return;
    acio_http_session_close(c->session);
    acio__crawl_robots_free(c);
    acio__crawl_state_close(c);
    acio__crawl_out_close(c);
    acio__crawl_filter_free(c);
    acio__frontier_free(c->frontier);
    if (c->wake)
        acio_event_free(c->wake);
    acio__free(c);
}
