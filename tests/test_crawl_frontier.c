/* The crawl frontier's local backend against the contract written in
 * src/crawl/frontier.h: dedup, FIFO per host, round robin between hosts, the per-host
 * lease limit, the per-host delay (start to start) and retry's hold-back, wake_at,
 * replayed completions (ADD_DONE), and every allocation failing in turn. Times are
 * passed in, so nothing here waits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "acio.h"
#include "crawl/frontier.h"
#include "internal.h"

static acio__frontier_t *mk(size_t per_host, double delay)
{
    acio__frontier_t *f;
    acio__frontier_opts_t o = {.per_host_limit = per_host, .default_delay = delay};
    cr_assert_eq(acio__frontier_local_new(&f, &o), 0);
    return f;
}

static int add(acio__frontier_t *f, const char *url, const char *host)
{
    return acio__frontier_add(f, url, strlen(url), host, 1, 0, 0);
}

static acio__frontier_item_t *take(acio__frontier_t *f, double now)
{
    acio__frontier_item_t *it = NULL;
    double wake = -1;
    int rc = acio__frontier_take(f, now, &it, &wake);
    cr_assert(rc == 0 || rc == 1);
    return rc == 1 ? it : NULL;
}

Test(crawl_frontier, dedup_and_fifo)
{
    acio__frontier_t *f = mk(100, 0);
    cr_assert_eq(add(f, "http://a/1", "a"), 1);
    cr_assert_eq(add(f, "http://a/2", "a"), 1);
    cr_assert_eq(add(f, "http://a/1", "a"), 0);
    acio__frontier_item_t *i1 = take(f, 0), *i2 = take(f, 0);
    cr_assert_str_eq(i1->url, "http://a/1");
    cr_assert_str_eq(i2->url, "http://a/2");
    cr_assert_eq(i1->depth, 1);
    cr_assert_null(take(f, 0));
    /* Taken and done: still seen, never queued again. */
    cr_assert_eq(acio__frontier_done(f, i1), 0);
    cr_assert_eq(add(f, "http://a/1", "a"), 0);
    cr_assert_eq(acio__frontier_done(f, i2), 0);
    acio__frontier_stats_t st;
    f->ops->stats(f, &st);
    cr_assert_eq(st.seen, 2);
    cr_assert_eq(st.done, 2);
    cr_assert_eq(st.queued, 0);
    cr_assert_eq(st.leased, 0);
    double wake = 0;
    acio__frontier_item_t *it;
    cr_assert_eq(acio__frontier_take(f, 0, &it, &wake), 0);
    cr_assert(isinf(wake), "an empty frontier has nothing to wait for");
    acio__frontier_free(f);
}

Test(crawl_frontier, round_robin_between_hosts)
{
    acio__frontier_t *f = mk(100, 0);
    add(f, "http://a/1", "a");
    add(f, "http://a/2", "a");
    add(f, "http://b/1", "b");
    add(f, "http://c/1", "c");
    add(f, "http://b/2", "b");
    const char *want[] = {"http://a/1", "http://b/1", "http://c/1", "http://a/2", "http://b/2"};
    acio__frontier_item_t *got[5];
    for (int i = 0; i < 5; i++) {
        got[i] = take(f, 0);
        cr_assert_not_null(got[i]);
        cr_assert_str_eq(got[i]->url, want[i]);
    }
    for (int i = 0; i < 5; i++)
        acio__frontier_done(f, got[i]);
    acio__frontier_free(f);
}

Test(crawl_frontier, per_host_limit)
{
    acio__frontier_t *f = mk(2, 0);
    for (int i = 0; i < 5; i++) {
        char u[32];
        snprintf(u, sizeof u, "http://a/%d", i);
        add(f, u, "a");
    }
    add(f, "http://b/0", "b");
    acio__frontier_item_t *x = take(f, 0), *y = take(f, 0), *z = take(f, 0);
    cr_assert_str_eq(x->url, "http://a/0");
    cr_assert_str_eq(y->url, "http://b/0");
    cr_assert_str_eq(z->url, "http://a/1");
    double wake = 0;
    acio__frontier_item_t *w;
    cr_assert_eq(acio__frontier_take(f, 0, &w, &wake), 0, "host a holds two leases");
    cr_assert(isinf(wake), "only a done() can free a slot");
    acio__frontier_done(f, x);
    w = take(f, 0);
    cr_assert_str_eq(w->url, "http://a/2");
    acio__frontier_done(f, y);
    acio__frontier_done(f, z);
    acio__frontier_done(f, w);
    acio__frontier_free(f); /* two URLs still queued: freed with the frontier */
}

Test(crawl_frontier, delay_start_to_start_and_host_delay)
{
    acio__frontier_t *f = mk(100, 0.5);
    add(f, "http://a/0", "a");
    add(f, "http://a/1", "a");
    add(f, "http://a/2", "a");
    acio__frontier_item_t *x = take(f, 10.0);
    cr_assert_not_null(x);
    double wake = 0;
    acio__frontier_item_t *w;
    cr_assert_eq(acio__frontier_take(f, 10.2, &w, &wake), 0);
    cr_assert_float_eq(wake, 10.5, 1e-9);
    w = take(f, 10.5);
    cr_assert_str_eq(w->url, "http://a/1");
    /* Crawl-delay 2 s (larger than the default): the next start is 2 s after the last. */
    cr_assert_eq(f->ops->set_host_delay(f, "a", 2.0), 0);
    cr_assert_eq(acio__frontier_take(f, 11.0, &w, &wake), 0);
    cr_assert_float_eq(wake, 12.5, 1e-9);
    acio__frontier_item_t *v = take(f, 12.5);
    cr_assert_not_null(v);
    acio__frontier_done(f, x);
    acio__frontier_done(f, w);
    acio__frontier_done(f, v);
    acio__frontier_free(f);
}

Test(crawl_frontier, retry_goes_first_and_holds_the_host)
{
    acio__frontier_t *f = mk(100, 0);
    add(f, "http://a/0", "a");
    add(f, "http://a/1", "a");
    add(f, "http://b/0", "b");
    acio__frontier_item_t *x = take(f, 0);
    cr_assert_str_eq(x->url, "http://a/0");
    cr_assert_eq(acio__frontier_retry(f, x, 5.0), 0);
    /* Host a is held back until 5: b goes first, then nothing until 5. */
    acio__frontier_item_t *b = take(f, 1.0);
    cr_assert_str_eq(b->url, "http://b/0");
    double wake = 0;
    acio__frontier_item_t *w;
    cr_assert_eq(acio__frontier_take(f, 1.0, &w, &wake), 0);
    cr_assert_float_eq(wake, 5.0, 1e-9);
    w = take(f, 5.0);
    cr_assert_str_eq(w->url, "http://a/0", "the retried URL comes back first");
    cr_assert_eq(w->attempts, 1);
    acio__frontier_done(f, w);
    acio__frontier_done(f, b);
    acio__frontier_free(f);
}

Test(crawl_frontier, replayed_completions)
{
    acio__frontier_t *f = mk(100, 0);
    cr_assert_eq(acio__frontier_add(f, "http://a/0", 10, "a", 0, 0, ACIO__FRONTIER_ADD_DONE), 1);
    cr_assert_eq(add(f, "http://a/0", "a"), 0, "a replayed completion is seen");
    cr_assert_null(take(f, 0));
    acio__frontier_stats_t st;
    f->ops->stats(f, &st);
    cr_assert_eq(st.done, 1);
    cr_assert_eq(st.seen, 1);
    acio__frontier_free(f);
}

/* Every allocation of a scenario fails in turn: each op either succeeds or returns
 * -ENOMEM with nothing changed (an add that failed can be made again), and nothing
 * leaks (the ASan twin checks). */
Test(crawl_frontier, failing_allocations)
{
    for (long n = 1; n < 200; n++) {
        acio__frontier_t *f;
        acio__alloc_fail_after(n);
        int rc = acio__frontier_local_new(&f, NULL);
        if (rc < 0) {
            cr_assert_eq(rc, -ENOMEM);
            acio__alloc_fail_after(0);
            continue;
        }
        int added = 0, failed = 0;
        for (int i = 0; i < 40; i++) {
            char u[32], h[8];
            snprintf(u, sizeof u, "http://h%d/%d", i % 7, i);
            snprintf(h, sizeof h, "h%d", i % 7);
            rc = add(f, u, h);
            if (rc == -ENOMEM) {
                failed++;
                acio__alloc_fail_after(0);
                cr_assert_eq(add(f, u, h), 1, "a failed add left no trace");
            } else {
                cr_assert_eq(rc, 1);
            }
            added++;
        }
        acio__alloc_fail_after(0);
        acio__frontier_stats_t st;
        f->ops->stats(f, &st);
        cr_assert_eq(st.seen, (size_t)added);
        size_t taken = 0;
        acio__frontier_item_t *it;
        while ((it = take(f, 0)) != NULL) {
            acio__frontier_done(f, it);
            taken++;
        }
        cr_assert_eq(taken, (size_t)added);
        acio__frontier_free(f);
        if (!failed && n > 150)
            break;
    }
}

/* Many hosts with a delay: each round hands out one URL per host, in the order the
 * hosts came, then nothing until the delay has passed (wake_at says when). */
Test(crawl_frontier, many_hosts_with_delay)
{
    enum { HOSTS = 1000, PER = 3 };
    acio__frontier_t *f = mk(4, 1.0);
    for (int k = 0; k < PER; k++) {
        for (int h = 0; h < HOSTS; h++) {
            char u[64], host[32];
            snprintf(host, sizeof host, "h%d", h);
            snprintf(u, sizeof u, "http://h%d/%d", h, k);
            cr_assert_eq(add(f, u, host), 1);
        }
    }
    for (int k = 0; k < PER; k++) {
        double now = 100.0 + k * 1.0;
        for (int h = 0; h < HOSTS; h++) {
            acio__frontier_item_t *it = take(f, now);
            cr_assert_not_null(it, "round %d, host %d", k, h);
            char want[64];
            snprintf(want, sizeof want, "http://h%d/%d", h, k);
            cr_assert_str_eq(it->url, want);
            acio__frontier_done(f, it);
        }
        double wake = 0;
        acio__frontier_item_t *it;
        int rc = acio__frontier_take(f, now + 0.5, &it, &wake);
        cr_assert_eq(rc, 0, "round %d: every host waits for its delay", k);
        if (k < PER - 1)
            cr_assert_float_eq(wake, now + 1.0, 1e-9);
        else
            cr_assert(isinf(wake));
    }
    acio__frontier_stats_t st;
    f->ops->stats(f, &st);
    cr_assert_eq(st.done, HOSTS * PER);
    cr_assert_eq(st.hosts, HOSTS);
    acio__frontier_free(f);
}

/* A retry holds back its host even while the host sits on the ready queue, and a later
 * Crawl-delay moves a waiting host's time. */
Test(crawl_frontier, retry_while_ready_and_delay_change)
{
    acio__frontier_t *f = mk(2, 0);
    add(f, "http://a/0", "a");
    add(f, "http://a/1", "a");
    add(f, "http://b/0", "b");
    acio__frontier_item_t *x = take(f, 0); /* a/0; a stays ready (a/1 queued) */
    cr_assert_eq(acio__frontier_retry(f, x, 3.0), 0);
    acio__frontier_item_t *y = take(f, 1.0);
    cr_assert_str_eq(y->url, "http://b/0");
    double wake = 0;
    acio__frontier_item_t *w;
    cr_assert_eq(acio__frontier_take(f, 1.0, &w, &wake), 0);
    cr_assert_float_eq(wake, 3.0, 1e-9);
    cr_assert_eq(f->ops->set_host_delay(f, "a", 5.0), 0); /* a waits on the heap: 3 + 5 */
    cr_assert_eq(acio__frontier_take(f, 3.0, &w, &wake), 0);
    cr_assert_float_eq(wake, 8.0, 1e-9);
    w = take(f, 8.0);
    cr_assert_str_eq(w->url, "http://a/0");
    acio__frontier_done(f, y);
    acio__frontier_done(f, w);
    acio__frontier_free(f);
}
