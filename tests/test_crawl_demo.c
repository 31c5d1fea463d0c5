/* The crawler engine against the demo site (tools/acio-crawl/demo_site.h), in one
 * process: every count of the crawl (pages, failures by reason, redirects, robots.txt
 * refusals, links, TSV rows, JSONL records) equals what the site's manifest implies
 * (demo_site_expect, which reads the manifest, not the HTML); the server's request log
 * shows no URL fetched twice (except the retried ones, exactly as often as retried) and
 * nothing robots.txt forbids; robots.txt user-agent groups and Crawl-delay, --delay,
 * --deny-pattern, --max-pages and --depth hold. Politeness is checked from the server's
 * arrival times with a generous lower bound (never an upper one). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "crawl/crawl.h"
#include "demo_site.h"

typedef struct {
    int npages;
    double page_delay; /* every page answers after this long */
    size_t max_in_flight;
    acio__crawl_opts_t o;
    acio__crawl_stats_t st;
    /* the server's log, copied */
    size_t nreq;
    char (*req)[128];
    double *when;
    int run_rc;
} run_t;

static char tsv_path[64], jsonl_path[64];

static void *crawl_main(void *arg)
{
    run_t *r = arg;
    demo_site_t *site;
    cr_assert_eq(demo_site_start(r->npages, NULL, &site), 0);
    demo_site_set_delay(site, r->page_delay);
    acio__crawl_t *c;
    const char *msg;
    r->o.log = stderr;
    int rc = acio__crawl_new(&c, &r->o, &msg);
    cr_assert_eq(rc, 0, "acio__crawl_new: %s", msg);
    char seed[64];
    snprintf(seed, sizeof seed, "http://127.0.0.1:%d/", demo_site_port(site));
    cr_assert_eq(acio__crawl_add_seed(c, seed), 1);
    cr_assert_eq(acio__crawl_add_seed(c, seed), 0, "a seed given twice is one URL");
    r->run_rc = acio__crawl_run(c);
    acio__crawl_get_stats(c, &r->st);
    acio__crawl_free(c);
    r->nreq = demo_site_requests(site);
    r->max_in_flight = demo_site_max_in_flight(site);
    r->req = calloc(r->nreq + 1, sizeof *r->req);
    r->when = calloc(r->nreq + 1, sizeof *r->when);
    for (size_t i = 0; i < r->nreq; i++)
        snprintf(r->req[i], sizeof r->req[i], "%s", demo_site_request(site, i, &r->when[i]));
    demo_site_stop(site);
    return NULL;
}

static void run(run_t *r)
{
    snprintf(tsv_path, sizeof tsv_path, "/tmp/acio-crawl-test-%d.tsv", (int)getpid());
    snprintf(jsonl_path, sizeof jsonl_path, "/tmp/acio-crawl-test-%d.jsonl", (int)getpid());
    if (!r->o.tsv_path)
        r->o.tsv_path = tsv_path;
    if (!r->o.jsonl_path)
        r->o.jsonl_path = jsonl_path;
    if (!r->o.backoff)
        r->o.backoff = 0.001;
    if (!r->o.max_redirects)
        r->o.max_redirects = 10;
    cr_assert_eq(acio_run(crawl_main, r, NULL), 0);
    cr_assert_eq(r->run_rc, 0);
}

static void done(run_t *r)
{
    free(r->req);
    free(r->when);
    unlink(tsv_path);
    unlink(jsonl_path);
}

static size_t count_lines(const char *path, size_t *distinct)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char *line = NULL;
    size_t cap = 0, n = 0;
    char **all = NULL;
    while (getline(&line, &cap, f) > 0) {
        all = realloc(all, (n + 1) * sizeof *all);
        all[n++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (distinct) {
        qsort(all, n, sizeof *all, (int (*)(const void *, const void *))strcmp);
        *distinct = 0;
        for (size_t i = 0; i < n; i++)
            *distinct += i == 0 || strcmp(*(char **)&all[i], *(char **)&all[i - 1]) != 0;
    }
    for (size_t i = 0; i < n; i++)
        free(all[i]);
    free(all);
    return n;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t reason(const acio__crawl_stats_t *st, const char *name)
{
    for (size_t i = 0; i < st->nreasons; i++)
        if (strcmp(st->reasons[i].name, name) == 0)
            return st->reasons[i].count;
    return 0;
}

/* How often the server saw target. */
static size_t seen_count(const run_t *r, const char *target)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nreq; i++)
        n += strcmp(r->req[i], target) == 0;
    return n;
}

static void check_against_manifest(run_t *r, bool ignore_robots)
{
    demo_expect_t e;
    demo_site_expect(r->npages, r->o.max_depth, r->o.retries, ignore_robots, r->o.max_redirects,
                     &e);
    const acio__crawl_stats_t *st = &r->st;
    cr_assert_eq(st->fetched, e.fetched, "pages fetched: %llu, manifest %llu",
                 (unsigned long long)st->fetched, (unsigned long long)e.fetched);
    cr_assert_eq(st->ok, e.ok);
    cr_assert_eq(st->parsed, e.parsed);
    cr_assert_eq(st->redirects, e.redirects);
    cr_assert_eq(st->robots_disallowed, e.robots_disallowed);
    cr_assert_eq(st->links, e.links, "links: %llu, manifest %llu", (unsigned long long)st->links,
                 (unsigned long long)e.links);
    cr_assert_eq(st->discovered, e.discovered);
    cr_assert_eq(st->failed, e.failed);
    cr_assert_eq(reason(st, "http_404"), e.http_404);
    cr_assert_eq(reason(st, "http_500"), e.http_500);
    cr_assert_eq(reason(st, "ECRAWL_TOO_MANY_REDIRECTS"), e.too_many_redirects);
    cr_assert_eq(st->retries, e.retries);
    cr_assert_eq(st->queued, 0);
    /* The TSV: a header and one row per link, no row twice. */
    size_t distinct;
    size_t lines = count_lines(tsv_path, &distinct);
    cr_assert_eq(lines, e.links + 1);
    cr_assert_eq(distinct, lines);
    /* JSONL: one record per fetched URL. */
    cr_assert_eq(count_lines(jsonl_path, NULL), e.fetched);
    /* The server's log: robots.txt once (or never), no URL twice except the retried
     * ones, as often as retried, and nothing robots.txt forbids. */
    char **sorted = malloc((r->nreq + 1) * sizeof *sorted);
    for (size_t i = 0; i < r->nreq; i++)
        sorted[i] = r->req[i];
    qsort(sorted, r->nreq, sizeof *sorted, cmpstr);
    for (size_t i = 1; i < r->nreq; i++) {
        if (strcmp(sorted[i], sorted[i - 1]) != 0)
            continue;
        cr_assert(strcmp(sorted[i], "/flaky") == 0 || strcmp(sorted[i], "/err500") == 0,
                  "%s fetched twice", sorted[i]);
    }
    free(sorted);
    cr_assert_eq(seen_count(r, "/robots.txt"), ignore_robots ? 0 : 1);
    cr_assert_eq(seen_count(r, "/err500"), (size_t)r->o.retries + 1);
    cr_assert_eq(seen_count(r, "/flaky"), r->o.retries ? 2 : 1);
    size_t priv = 0;
    for (size_t i = 0; i < r->nreq; i++)
        priv += strncmp(r->req[i], "/private/", 9) == 0;
    if (ignore_robots)
        cr_assert_gt(priv, 0);
    else
        cr_assert_eq(priv, 0, "robots.txt disallows /private/");
    /* Requests = fetches + retries + robots.txt. */
    cr_assert_eq(r->nreq, e.fetched + e.retries + (ignore_robots ? 0 : 1));
}

Test(crawl_demo, whole_site_matches_manifest, .timeout = 120)
{
    run_t r = {.npages = 1200, .o = {.max_depth = 1000, .retries = 2, .concurrency = 50}};
    run(&r);
    check_against_manifest(&r, false);
    /* Rows the TSV must hold: the encodings resolved. */
    FILE *f = fopen(tsv_path, "r");
    char line[512];
    bool latin1 = false, pct = false, uni = false, gz = false, mailto = false;
    while (fgets(line, sizeof line, f)) {
        latin1 |= strstr(line, "/latin1.html\t") && strstr(line, "/caf%C3%A9.html");
        pct |= strstr(line, "/\thttp://") && strstr(line, "/p/12.html\n");
        uni |= strstr(line, "/unicode/%C3%BC.html\n") != NULL;
        gz |= strstr(line, "/gzip.html\t") && strstr(line, "/p/21.html");
        mailto |= strstr(line, "mailto:") || strstr(line, "javascript:") || strstr(line, "#") ||
                  strstr(line, "/p/sub/") || strstr(line, "commented") || strstr(line, "in-script");
    }
    fclose(f);
    cr_assert(latin1, "windows-1252 href decoded and percent-encoded as UTF-8");
    cr_assert(pct, "percent-encoded digits normalised");
    cr_assert(uni, "raw UTF-8 href percent-encoded");
    cr_assert(gz, "the gzip page's links");
    cr_assert(!mailto, "no fragment, non-HTTP link, <base>-mis-resolved, comment or script link");
    done(&r);
}

Test(crawl_demo, ignore_robots, .timeout = 120)
{
    run_t r = {.npages = 600,
               .o = {.max_depth = 1000, .retries = 1, .ignore_robots = true, .concurrency = 10}};
    run(&r);
    check_against_manifest(&r, true);
    done(&r);
}

Test(crawl_demo, depth_one_and_no_retries, .timeout = 120)
{
    run_t r = {.npages = 300, .o = {.max_depth = 1, .retries = 0}};
    run(&r);
    check_against_manifest(&r, false);
    done(&r);
}

Test(crawl_demo, short_redirect_limit, .timeout = 120)
{
    run_t r = {.npages = 300, .o = {.max_depth = 1000, .retries = 1, .max_redirects = 3}};
    run(&r);
    check_against_manifest(&r, false);
    cr_assert_eq(reason(&r.st, "ECRAWL_TOO_MANY_REDIRECTS"), 1);
    cr_assert_eq(seen_count(&r, "/chain/3"), 1);
    cr_assert_eq(seen_count(&r, "/chain/4"), 0, "the chain was cut after 3 hops");
    done(&r);
}

Test(crawl_demo, robots_group_for_this_agent, .timeout = 60)
{
    /* "other-bot" is disallowed everything: only robots.txt is requested. */
    run_t r = {.npages = 100, .o = {.max_depth = 5, .user_agent = "other-bot/2.0 (+test)"}};
    run(&r);
    cr_assert_eq(r.st.robots_disallowed, 1);
    cr_assert_eq(r.st.fetched, 0);
    cr_assert_eq(r.nreq, 1);
    cr_assert_str_eq(r.req[0], "/robots.txt");
    done(&r);
}

/* Gaps between the starts of consecutive page requests at the server, robots.txt left
 * out (it is not held back by the delay). */
static double min_gap(const run_t *r)
{
    double prev = -1, gap = 1e9;
    for (size_t i = 0; i < r->nreq; i++) {
        if (strcmp(r->req[i], "/robots.txt") == 0)
            continue;
        if (prev >= 0 && r->when[i] - prev < gap)
            gap = r->when[i] - prev;
        prev = r->when[i];
    }
    return gap;
}

Test(crawl_demo, crawl_delay_from_robots, .timeout = 60)
{
    /* slow-bot's group has Crawl-delay: 0.1. */
    run_t r = {.npages = 100,
               .o = {.max_depth = 5, .max_pages = 6, .per_host = 4, .user_agent = "slow-bot"}};
    run(&r);
    cr_assert_eq(r.st.fetched, 6);
    cr_assert_eq(r.nreq, 7);
    double gap = min_gap(&r);
    cr_assert_geq(gap, 0.05, "requests %.3f s apart with Crawl-delay 0.1", gap);
    done(&r);
}

Test(crawl_demo, delay_option, .timeout = 60)
{
    run_t r = {
        .npages = 100,
        .o = {.max_depth = 5, .max_pages = 6, .per_host = 4, .delay = 0.06, .ignore_robots = true}};
    run(&r);
    cr_assert_eq(r.nreq, 6, "max-pages: six fetches started");
    double gap = min_gap(&r);
    cr_assert_geq(gap, 0.03, "requests %.3f s apart with --delay 0.06", gap);
    done(&r);
}

Test(crawl_demo, deny_pattern, .timeout = 60)
{
    const char *deny[] = {"/p/1[0-9]*\\.html$", "/chain/"};
    run_t r = {.npages = 200, .o = {.max_depth = 1000, .deny_patterns = deny, .ndeny = 2}};
    run(&r);
    for (size_t i = 0; i < r.nreq; i++) {
        cr_assert(strncmp(r.req[i], "/p/1", 4) != 0 || strchr(r.req[i], '?'),
                  "%s matches a deny pattern", r.req[i]);
        cr_assert(strncmp(r.req[i], "/chain/", 7) != 0, "%s matches a deny pattern", r.req[i]);
    }
    cr_assert_gt(r.st.fetched, 50);
    done(&r);
}

Test(crawl_demo, per_host_limit, .timeout = 60)
{
    /* Every page takes 20 ms: the crawler would run 50 at once, but one host gets 3. */
    run_t r = {.npages = 100,
               .page_delay = 0.02,
               .o = {.max_depth = 2, .concurrency = 50, .per_host = 3, .ignore_robots = true}};
    run(&r);
    cr_assert_leq(r.max_in_flight, 3, "%zu requests at once on one host", r.max_in_flight);
    cr_assert_geq(r.max_in_flight, 2, "the per-host limit is used");
    cr_assert_gt(r.st.fetched, 20);
    done(&r);
}

Test(crawl_demo, max_total_bytes, .timeout = 60)
{
    run_t r = {.npages = 600, .o = {.max_depth = 1000, .max_total = 20000, .concurrency = 4}};
    run(&r);
    cr_assert_geq(r.st.bytes, 20000);
    demo_expect_t e;
    demo_site_expect(r.npages, 1000, 3, false, 10, &e);
    cr_assert_lt(r.st.fetched, e.fetched / 2, "stopped early: %llu pages",
                 (unsigned long long)r.st.fetched);
    /* What was fetched was recorded: one JSONL record each. */
    cr_assert_eq(count_lines(jsonl_path, NULL), r.st.fetched);
    done(&r);
}

/* Sorted lines of a file (the header first line dropped), for comparing outputs. */
static char **sorted_rows(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char *line = NULL, **all = NULL;
    size_t cap = 0;
    *n = 0;
    bool first = true;
    while (getline(&line, &cap, f) > 0) {
        if (first) {
            cr_assert_str_eq(line, "source_url\tparsed_url\n");
            first = false;
            continue;
        }
        all = realloc(all, (*n + 1) * sizeof *all);
        all[(*n)++] = strdup(line);
    }
    free(line);
    fclose(f);
    qsort(all, *n, sizeof *all, cmpstr);
    return all;
}

static void free_rows(char **rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i]);
    free(rows);
}

/* A crawl stopped by --max-pages and run again with the same --state finishes the job:
 * its TSV equals an uninterrupted crawl's, and the second run fetches nothing the first
 * completed (in process, so the ASan twin checks the journal's replay too). One demo
 * site serves the three crawls (the URLs must be the same). */
typedef struct {
    char state[64], ref_tsv[80], tsv[80];
    acio__crawl_stats_t st[3];
    size_t nreq[3]; /* requests the site had seen after each crawl */
    demo_site_t *site;
} resume_t;

static void crawl_once(resume_t *t, int k, acio__crawl_opts_t o)
{
    acio__crawl_t *c;
    const char *msg;
    o.log = stderr;
    o.max_depth = 1000;
    o.retries = 1;
    o.backoff = 0.001;
    cr_assert_eq(acio__crawl_new(&c, &o, &msg), 0, "%s", msg);
    char seed[64];
    snprintf(seed, sizeof seed, "http://127.0.0.1:%d/", demo_site_port(t->site));
    cr_assert_geq(acio__crawl_add_seed(c, seed), 0);
    cr_assert_eq(acio__crawl_run(c), 0);
    acio__crawl_get_stats(c, &t->st[k]);
    acio__crawl_free(c);
    t->nreq[k] = demo_site_requests(t->site);
}

static void *resume_main(void *arg)
{
    resume_t *t = arg;
    cr_assert_eq(demo_site_start(400, NULL, &t->site), 0);
    crawl_once(t, 0, (acio__crawl_opts_t){.tsv_path = t->ref_tsv});
    crawl_once(t, 1,
               (acio__crawl_opts_t){.tsv_path = t->tsv, .state_dir = t->state, .max_pages = 150});
    crawl_once(t, 2, (acio__crawl_opts_t){.tsv_path = t->tsv, .state_dir = t->state});
    /* Nothing the second crawl completed was requested by the third: its requests are
     * the site's log after nreq[1]; the second's are those between nreq[0] and nreq[1].
     * robots.txt is fetched once per run. */
    for (size_t i = t->nreq[1]; i < t->nreq[2]; i++) {
        const char *q = demo_site_request(t->site, i, NULL);
        if (strcmp(q, "/robots.txt") == 0 || strcmp(q, "/err500") == 0)
            continue; /* /err500 may have been waiting for a retry when the run stopped */
        for (size_t j = t->nreq[0]; j < t->nreq[1]; j++)
            if (strcmp(q, demo_site_request(t->site, j, NULL)) == 0)
                cr_assert_fail("%s fetched by both runs", q);
    }
    demo_site_stop(t->site);
    return NULL;
}

Test(crawl_demo, resume_after_stop, .timeout = 120)
{
    resume_t t = {0};
    snprintf(t.state, sizeof t.state, "/tmp/acio-crawl-state-%d", (int)getpid());
    snprintf(t.ref_tsv, sizeof t.ref_tsv, "/tmp/acio-crawl-ref-%d.tsv", (int)getpid());
    snprintf(t.tsv, sizeof t.tsv, "/tmp/acio-crawl-resumed-%d.tsv", (int)getpid());
    cr_assert_eq(acio_run(resume_main, &t, NULL), 0);
    cr_assert_gt(t.st[1].queued, 0, "the first run stopped early");
    cr_assert_gt(t.st[2].resumed_done, 100);
    cr_assert_gt(t.st[2].resumed_queued, 0);
    cr_assert_eq(t.st[2].queued, 0);
    cr_assert_eq(t.st[1].fetched + t.st[2].fetched, t.st[0].fetched);
    size_t nr, ng;
    char **want = sorted_rows(t.ref_tsv, &nr), **got = sorted_rows(t.tsv, &ng);
    cr_assert_eq(ng, nr, "rows: %zu after resuming, %zu uninterrupted", ng, nr);
    for (size_t i = 0; i < nr; i++)
        cr_assert_str_eq(got[i], want[i]);
    free_rows(want, nr);
    free_rows(got, ng);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s'", t.state, t.ref_tsv, t.tsv);
    cr_assert_eq(system(cmd), 0);
}

Test(crawl_demo, max_time, .timeout = 60)
{
    /* One page at a time, 50 ms each: the whole site would take over 15 s. */
    run_t r = {.npages = 300,
               .page_delay = 0.05,
               .o = {.max_depth = 1000, .per_host = 1, .max_time = 0.3, .ignore_robots = true}};
    run(&r);
    cr_assert_gt(r.st.fetched, 0);
    cr_assert_lt(r.st.fetched, 100, "stopped at --max-time: %llu pages",
                 (unsigned long long)r.st.fetched);
    cr_assert_gt(r.st.queued, 0);
    done(&r);
}
