/* Faults on the crawl path (tests/support/fault.h): a small demo-site crawl with a TSV,
 * a JSONL, a WARC and a --state journal, run once per fault point with the nth
 * allocation, write, read or connect failing, each in a forked child. The crawl must
 * finish (a URL that hit the fault fails, is counted, and the crawl goes on) or stop
 * cleanly with an error (an output that could not be written), never crash, hang, leak
 * memory (the ASan twin) or leave a file descriptor open. Then the same crawl with no
 * fault must match the site's manifest, so the scenario itself is a real crawl. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "crawl/crawl.h"
#include "demo_site.h"
#include "support/fault.h"

#define PAGES 60

typedef struct {
    char dir[64];
    int rc;
    acio__crawl_stats_t st;
} scen_t;

static void *crawl_main(void *arg)
{
    scen_t *s = arg;
    demo_site_t *site;
    int rc = demo_site_start(PAGES, NULL, &site);
    if (rc < 0) {
        s->rc = rc;
        return NULL;
    }
    char tsv[96], jsonl[96], warc[96], state[96], seed[64];
    snprintf(tsv, sizeof tsv, "%s/out.tsv", s->dir);
    snprintf(jsonl, sizeof jsonl, "%s/out.jsonl", s->dir);
    snprintf(warc, sizeof warc, "%s/out.warc.gz", s->dir);
    snprintf(state, sizeof state, "%s/state", s->dir);
    acio__crawl_opts_t o = {.max_depth = 1000,
                            .retries = 1,
                            .backoff = 0.001,
                            .concurrency = 8,
                            .tsv_path = tsv,
                            .jsonl_path = jsonl,
                            .warc_path = warc,
                            .state_dir = state,
                            .timeout = 5,
                            .log = NULL};
    acio__crawl_t *c = NULL;
    const char *msg;
    rc = acio__crawl_new(&c, &o, &msg);
    if (rc == 0) {
        snprintf(seed, sizeof seed, "http://127.0.0.1:%d/", demo_site_port(site));
        rc = acio__crawl_add_seed(c, seed);
        if (rc >= 0)
            rc = acio__crawl_run(c);
        acio__crawl_get_stats(c, &s->st);
    }
    acio__crawl_free(c);
    demo_site_stop(site);
    s->rc = rc;
    return NULL;
}

static void cleanup(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static int scenario(void *arg)
{
    (void)arg;
    scen_t s = {0};
    snprintf(s.dir, sizeof s.dir, "/tmp/acio-crawl-fault-XXXXXX");
    if (!mkdtemp(s.dir))
        return -1;
    int rc = acio_run(crawl_main, &s, NULL);
    cleanup(s.dir);
    if (rc < 0)
        return rc;
    if (s.rc < 0)
        return s.rc;
    /* Completed: every URL was accounted for. */
    if (s.st.queued != 0)
        fault_violation("the crawl ended with %zu URLs still queued", s.st.queued);
    return 0;
}

Test(crawl_faults, no_fault_matches_manifest, .timeout = 60)
{
    scen_t s = {0};
    snprintf(s.dir, sizeof s.dir, "/tmp/acio-crawl-fault-XXXXXX");
    cr_assert_not_null(mkdtemp(s.dir));
    cr_assert_eq(acio_run(crawl_main, &s, NULL), 0);
    cleanup(s.dir);
    cr_assert_eq(s.rc, 0);
    demo_expect_t e;
    demo_site_expect(PAGES, 1000, 1, false, 10, &e);
    cr_assert_eq(s.st.fetched, e.fetched);
    cr_assert_eq(s.st.links, e.links);
    cr_assert_eq(s.st.warc_records, e.fetched);
}

static void sweep(unsigned kinds, long points)
{
    static char report[4096];
    fault_sweep_opts_t o = {.kinds = kinds, .max_points = points, .timeout = 60};
    int failed = fault_sweep("crawl", scenario, NULL, &o, report, sizeof report);
    cr_assert_eq(failed, 0, "%d runs failed:\n%s", failed, report);
}

Test(crawl_faults, failing_allocations, .timeout = 600)
{
    sweep(FAULT_BIT(FAULT_ALLOC), 25);
}

Test(crawl_faults, failing_writes_reads_connects, .timeout = 600)
{
    sweep(FAULT_BIT(FAULT_WRITE) | FAULT_BIT(FAULT_READ) | FAULT_BIT(FAULT_CONNECT) |
              FAULT_BIT(FAULT_SOCKET),
          12);
}
