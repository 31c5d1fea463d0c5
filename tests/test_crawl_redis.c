/* acio-crawl's shared frontier on Redis (src/crawl/redis_frontier.c) against a real
 * redis-server: dedup across clients, FIFO per host and round robin among hosts, several
 * clients in one process and in forked processes crawling one link graph together (every
 * URL taken and completed exactly once, the crawl ending in every process only when all
 * are done), leases of a killed process re-queued after expiry and completed once, the
 * per-host delay and lease limit across processes (checked on the server's own clock),
 * retries, the memory of the seen-set per URL, a server that forgets the scripts or
 * dies, foreign keys, and failing allocations. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acio.h"
#include "crawl/redis_frontier.h"
#include "internal.h"
#include "support/check.h"
#include "support/redis_server.h"

static redis_server_t srv;
static char redis_url[64];

static void start(void)
{
    cr_assert_eq(redis_server_start(&srv, NULL), 0, "redis-server did not start");
    snprintf(redis_url, sizeof redis_url, "redis://127.0.0.1:%d", srv.port);
}

static void stop(void)
{
    redis_server_stop(&srv);
}

static int open_f(acio__rfrontier_t **f, const char *name, size_t limit, double delay, double lease)
{
    acio__rfrontier_opts_t o = {.url = redis_url,
                                .name = name,
                                .per_host_limit = limit,
                                .default_delay = delay,
                                .lease_seconds = lease,
                                .poll_interval = 0.02};
    return acio__rfrontier_open(f, &o);
}

static int add_url(acio__rfrontier_t *f, int host, int page, int depth)
{
    char url[96], hk[64];
    snprintf(url, sizeof url, "http://h%d.test/p%d", host, page);
    snprintf(hk, sizeof hk, "http://h%d.test:80", host);
    return acio__rfrontier_add(f, url, strlen(url), hk, depth, 0, 0);
}

/* The page number of "http://hH.test/pN". */
static int page_of(const acio__rfrontier_item_t *it)
{
    const char *p = strrchr(it->url, 'p');
    return p ? atoi(p + 1) : -1;
}

static int host_of(const acio__rfrontier_item_t *it)
{
    return atoi(it->url + strlen("http://h"));
}

/* ---- one client: dedup, order, end ---- */

static void *basics(void *arg)
{
    (void)arg;
    acio__rfrontier_t *f;
    int rc = open_f(&f, "basics", 0, 0, 0);
    CHECK(rc == 0, "open: %s", acio_err_name(rc));
    /* Two hosts, three pages each, added interleaved oddly. */
    CHECK(add_url(f, 1, 1, 0) == 1 && add_url(f, 1, 2, 0) == 1 && add_url(f, 1, 3, 0) == 1,
          "add h1");
    CHECK(add_url(f, 2, 1, 0) == 1 && add_url(f, 2, 2, 1) == 1 && add_url(f, 2, 3, 2) == 1,
          "add h2");
    CHECK(add_url(f, 1, 2, 0) == 0 && add_url(f, 2, 3, 5) == 0, "a second add is a no-op");
    CHECK(acio__rfrontier_add(f, "http://x/\tp", 11, "http://x:80", 0, 0, 0) == -EINVAL,
          "a tab in the URL is refused");
    CHECK(acio__rfrontier_add(f, "http://x/", 9, "", 0, 0, 0) == -EINVAL, "empty host");
    acio__rfrontier_stats_t st;
    acio__rfrontier_stats(f, &st);
    CHECK(st.seen == 6 && st.queued == 6, "stats seen %zu queued %zu", st.seen, st.queued);

    /* FIFO within a host, round robin among hosts. */
    int want_host[] = {1, 2, 1, 2, 1, 2}, want_page[] = {1, 1, 2, 2, 3, 3};
    acio__rfrontier_item_t *items[6];
    for (int i = 0; i < 6; i++) {
        double wait = 0;
        rc = acio__rfrontier_take(f, &items[i], &wait);
        CHECK(rc == 1, "take %d: %s", i, acio_err_name(rc));
        CHECK(host_of(items[i]) == want_host[i] && page_of(items[i]) == want_page[i],
              "take %d gave %s", i, items[i]->url);
        CHECK(strncmp(items[i]->host, "http://h", 8) == 0 && items[i]->attempts == 0,
              "item fields");
    }
    CHECK(items[5]->depth == 2 && items[3]->depth == 1, "depth carried");
    double wait = 0;
    acio__rfrontier_item_t *none = NULL;
    CHECK(acio__rfrontier_take(f, &none, &wait) == 0 && none == NULL, "queue empty");
    CHECK(isinf(wait), "only this process holds leases: wait forever (%g)", wait);
    acio__rfrontier_stats(f, &st);
    CHECK(st.held == 6 && st.leased == 6 && st.queued == 0, "held %zu leased %zu", st.held,
          st.leased);
    for (int i = 0; i < 6; i++)
        CHECK(acio__rfrontier_done(f, items[i]) == 1, "done %d", i);
    CHECK(acio__rfrontier_take(f, &none, &wait) == 0 && isinf(wait), "crawl over");
    acio__rfrontier_stats(f, &st);
    CHECK(st.done == 6 && st.leased == 0 && st.held == 0 && st.hosts == 2 && st.completed == 6,
          "final stats done %zu hosts %zu", st.done, st.hosts);
    /* A done URL is never queued again; ADD_DONE records one without queuing it. */
    CHECK(add_url(f, 1, 1, 0) == 0, "done URL stays seen");
    CHECK(acio__rfrontier_add(f, "http://h3.test/x", 16, "http://h3.test:80", 0, 0,
                              ACIO__RFRONTIER_ADD_DONE) == 1,
          "add done");
    CHECK(acio__rfrontier_take(f, &none, &wait) == 0, "an ADD_DONE URL is not queued");

    /* Counters of the tool's own. */
    CHECK(acio__rfrontier_count(f, "failed:timeout", 2) == 0, "count");
    CHECK(acio__rfrontier_count(f, "failed:timeout", 1) == 0, "count");
    CHECK(acio__rfrontier_counters(f, NULL, NULL) == 0, "counters");
    acio__rfrontier_stats(f, &st);
    CHECK(st.done == 7 && st.seen == 7, "refreshed: done %zu seen %zu", st.done, st.seen);
    acio_redis_t *c;
    CHECK(acio_redis_connect_url(&c, redis_url) == 0, "connect");
    char *v = NULL;
    CHECK(acio_redis_hget(c, "acio-crawl:{basics}:stats", "failed:timeout", &v, NULL) == 0 && v &&
              strcmp(v, "3") == 0,
          "counter in redis: %s", v ? v : "(nil)");
    free(v);
    acio_redis_close(c);
    acio__rfrontier_free(f);
    return NULL;
}

Test(crawl_redis, dedup_fifo_per_host_round_robin_and_end, .init = start, .fini = stop)
{
    run_ok(basics, NULL);
}

/* ---- retry and the per-host lease limit ---- */

static void *retries(void *arg)
{
    (void)arg;
    acio__rfrontier_t *f;
    CHECK(open_f(&f, "retry", 2, 0, 0) == 0, "open");
    for (int p = 1; p <= 4; p++)
        CHECK(add_url(f, 1, p, 0) == 1, "add");
    acio__rfrontier_item_t *a, *b, *c = NULL;
    double wait;
    CHECK(acio__rfrontier_take(f, &a, &wait) == 1 && acio__rfrontier_take(f, &b, &wait) == 1,
          "two leases");
    CHECK(acio__rfrontier_take(f, &c, &wait) == 0 && c == NULL, "limit 2 per host holds");
    CHECK(acio__rfrontier_done(f, a) == 1, "done");
    CHECK(acio__rfrontier_take(f, &c, &wait) == 1 && page_of(c) == 3, "a slot freed");
    CHECK(acio__rfrontier_done(f, c) == 1, "done");
    /* b fails transiently: it goes back first in line, one attempt more, and the host is
     * held back for the retry's delay. */
    CHECK(page_of(b) == 2, "b is p2");
    CHECK(acio__rfrontier_retry(f, b, 0.3) == 1, "retry");
    CHECK(acio__rfrontier_take(f, &c, &wait) == 0, "host held back");
    CHECK(wait > 0 && wait <= 0.3, "wait %g", wait);
    CHECK(acio_sleep(wait + 0.01) == 0, "sleep");
    CHECK(acio__rfrontier_take(f, &c, &wait) == 1, "after the hold");
    CHECK(page_of(c) == 2 && c->attempts == 1, "the retried item first: %s attempts %d", c->url,
          c->attempts);
    CHECK(acio__rfrontier_retry(f, c, -1) == -EINVAL, "negative delay refused");
    CHECK(acio__rfrontier_done(f, c) == 1, "done");
    CHECK(acio__rfrontier_take(f, &c, &wait) == 1 && page_of(c) == 4, "p4");
    CHECK(acio__rfrontier_done(f, c) == 1, "done");
    CHECK(acio__rfrontier_take(f, &c, &wait) == 0 && isinf(wait), "over");
    acio_redis_t *conn;
    CHECK(acio_redis_connect_url(&conn, redis_url) == 0, "connect");
    char *v = NULL;
    CHECK(acio_redis_hget(conn, "acio-crawl:{retry}:stats", "retried", &v, NULL) == 0 && v,
          "retried counter");
    long long retried = atoll(v);
    free(v);
    CHECK(retried == 1, "retried %lld", retried);
    acio_redis_close(conn);
    acio__rfrontier_free(f);
    return NULL;
}

Test(crawl_redis, retry_holds_the_host_and_lease_limit, .init = start, .fini = stop)
{
    run_ok(retries, NULL);
}

/* ---- a crawl of a link graph by several clients ----
 *
 * Page i of host i % HOSTS links to pages 2i+1, 2i+2 and (i * 7) % N (a duplicate most of
 * the time): every page is reachable from page 0. taken[i] counts how often page i was
 * handed out, in memory shared with forked children. */

#define N_PAGES 600
#define HOSTS   7

typedef struct {
    const char *name;
    int tasks;    /* tasks sharing one frontier */
    int *taken;   /* N_PAGES counters, shared */
    int *seen_by; /* pages first added by this client */
    double lease;
} crawl_arg_t;

typedef struct {
    acio__rfrontier_t *f;
    crawl_arg_t *a;
    int fetched;
} worker_t;

static int add_page(acio__rfrontier_t *f, int page, int depth)
{
    return add_url(f, page % HOSTS, page, depth);
}

static void *crawl_task(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        acio__rfrontier_item_t *it = NULL;
        double wait = 0;
        int rc = acio__rfrontier_take(w->f, &it, &wait);
        CHECK(rc >= 0, "take: %s", acio_err_name(rc));
        if (rc == 0) {
            acio__rfrontier_stats_t st;
            acio__rfrontier_stats(w->f, &st);
            if (isinf(wait) && st.held == 0)
                return NULL; /* the crawl is over */
            CHECK(acio_sleep(fmin(wait, 0.02)) == 0, "sleep");
            continue;
        }
        int p = page_of(it);
        CHECK(p >= 0 && p < N_PAGES, "page %d", p);
        atomic_fetch_add((_Atomic int *)&w->a->taken[p], 1);
        CHECK(acio_sleep(0) == 0, "a fetch lets others run");
        int links[] = {2 * p + 1, 2 * p + 2, (p * 7) % N_PAGES};
        for (int k = 0; k < 3; k++)
            if (links[k] < N_PAGES) {
                rc = add_page(w->f, links[k], it->depth + 1);
                CHECK(rc >= 0, "add: %s", acio_err_name(rc));
            }
        rc = acio__rfrontier_done(w->f, it);
        CHECK(rc == 1, "done %d: %s", p, acio_err_name(rc));
        w->fetched++;
    }
}

static void *crawl_client(void *arg)
{
    crawl_arg_t *a = arg;
    acio__rfrontier_t *f;
    int rc = open_f(&f, a->name, 3, 0, a->lease);
    CHECK(rc == 0, "open: %s", acio_err_name(rc));
    rc = add_page(f, 0, 0); /* every client adds the seed: only one add counts */
    CHECK(rc >= 0, "seed: %s", acio_err_name(rc));
    worker_t w[8];
    acio_task_t *t[8];
    for (int i = 0; i < a->tasks; i++) {
        w[i] = (worker_t){.f = f, .a = a};
        CHECK(acio_create_task(&t[i], crawl_task, &w[i], NULL) == 0, "task");
    }
    int failed = 0;
    for (int i = 0; i < a->tasks; i++) {
        if (acio_await(t[i], NULL) != 0)
            failed = i + 1;
        acio_future_unref(t[i]);
    }
    acio__rfrontier_free(f);
    CHECK(!failed, "worker %d failed", failed - 1);
    return NULL;
}

/* Several clients (own connections) in one process. */
static void *in_process_clients(void *arg)
{
    crawl_arg_t *a = arg;
    acio_task_t *t[3];
    for (int i = 0; i < 3; i++)
        CHECK(acio_create_task(&t[i], crawl_client, a, NULL) == 0, "client");
    for (int i = 0; i < 3; i++) {
        int rc = acio_await(t[i], NULL);
        acio_future_unref(t[i]);
        CHECK(rc == 0, "client %d: %s", i, acio_err_name(rc));
    }
    return NULL;
}

static void *final_stats(void *arg)
{
    size_t *done = arg;
    acio__rfrontier_t *f;
    CHECK(open_f(&f, "graph", 0, 0, 0) == 0, "open");
    CHECK(acio__rfrontier_counters(f, NULL, NULL) == 0, "counters");
    acio__rfrontier_stats_t st;
    acio__rfrontier_stats(f, &st);
    done[0] = st.done;
    done[1] = st.seen;
    done[2] = st.queued;
    done[3] = st.leased;
    acio__rfrontier_free(f);
    return NULL;
}

static void check_graph_done(const int *taken, int max_twice)
{
    int twice = 0;
    for (int i = 0; i < N_PAGES; i++) {
        cr_assert(taken[i] >= 1, "page %d never taken", i);
        cr_assert(taken[i] <= 2, "page %d taken %d times", i, taken[i]);
        twice += taken[i] == 2;
    }
    cr_assert(twice <= max_twice, "%d pages taken twice (at most %d may be)", twice, max_twice);
    size_t s[4];
    run_ok(final_stats, s);
    cr_assert(s[0] == N_PAGES && s[1] == N_PAGES && s[2] == 0 && s[3] == 0,
              "redis: done %zu seen %zu queued %zu leased %zu", s[0], s[1], s[2], s[3]);
}

Test(crawl_redis, clients_in_one_process_take_each_url_once, .init = start, .fini = stop)
{
    static int taken[N_PAGES];
    crawl_arg_t a = {.name = "graph", .tasks = 4, .taken = taken, .lease = 30};
    run_ok(in_process_clients, &a);
    check_graph_done(taken, 0);
}

static int *shared_counters(void)
{
    void *p = mmap(NULL, N_PAGES * sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    cr_assert(p != MAP_FAILED);
    memset(p, 0, N_PAGES * sizeof(int));
    return p;
}

static pid_t fork_client(crawl_arg_t *a)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        char *msg = NULL;
        int rc = acio_run_ex(crawl_client, a, NULL, &msg);
        if (rc != 0)
            fprintf(stderr, "child %d: %s: %s\n", getpid(), acio_err_name(rc), msg ? msg : "");
        free(msg);
        _exit(rc == 0 ? 0 : 1);
    }
    return pid;
}

Test(crawl_redis, forked_processes_take_each_url_once, .init = start, .fini = stop)
{
    int *taken = shared_counters();
    crawl_arg_t a = {.name = "graph", .tasks = 4, .taken = taken, .lease = 30};
    pid_t pids[3];
    for (int i = 0; i < 3; i++)
        pids[i] = fork_client(&a);
    for (int i = 0; i < 3; i++) {
        int status;
        cr_assert(waitpid(pids[i], &status, 0) == pids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
    }
    check_graph_done(taken, 0);
    munmap(taken, N_PAGES * sizeof(int));
}

/* ---- a process that dies holding leases ---- */

typedef struct {
    int hold;   /* take this many and stop */
    int *taken; /* shared */
    int ready;  /* pipe: written once the leases are held */
    double lease;
} holder_arg_t;

static void *holder(void *arg)
{
    holder_arg_t *h = arg;
    acio__rfrontier_t *f;
    CHECK(open_f(&f, "graph", 3, 0, h->lease) == 0, "open");
    CHECK(add_page(f, 0, 0) >= 0, "seed");
    for (int i = 0; i < h->hold;) {
        acio__rfrontier_item_t *it;
        double wait;
        int rc = acio__rfrontier_take(f, &it, &wait);
        CHECK(rc >= 0, "take");
        if (rc == 0) {
            CHECK(acio_sleep(0.01) == 0, "sleep");
            continue;
        }
        int p = page_of(it);
        atomic_fetch_add((_Atomic int *)&h->taken[p], 1);
        /* Pages 0.. are done while the graph opens up; the last ones stay leased. */
        if (i < h->hold - 3) {
            int links[] = {2 * p + 1, 2 * p + 2};
            for (int k = 0; k < 2; k++)
                CHECK(add_page(f, links[k], 1) >= 0, "add");
            CHECK(acio__rfrontier_done(f, it) == 1, "done");
        }
        i++;
    }
    CHECK(write(h->ready, "x", 1) == 1, "ready");
    for (;;) /* held until killed */
        CHECK(acio_sleep(10) == 0, "sleep");
}

Test(crawl_redis, leases_of_a_killed_process_are_requeued_and_done_once, .init = start,
     .fini = stop)
{
    int *taken = shared_counters();
    int fds[2];
    cr_assert(pipe(fds) == 0);
    holder_arg_t h = {.hold = 8, .taken = taken, .ready = fds[1], .lease = 0.5};
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int rc = acio_run(holder, &h, NULL);
        _exit(rc == 0 ? 0 : 1);
    }
    char x;
    cr_assert(read(fds[0], &x, 1) == 1, "the holder did not get its leases");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    /* Two survivors finish the crawl; the dead one's 3 leases come back when they expire
     * (lease 0.5 s; the survivors wait for them instead of ending early). */
    crawl_arg_t a = {.name = "graph", .tasks = 3, .taken = taken, .lease = 0.5};
    pid_t pids[2];
    for (int i = 0; i < 2; i++)
        pids[i] = fork_client(&a);
    for (int i = 0; i < 2; i++) {
        int status;
        cr_assert(waitpid(pids[i], &status, 0) == pids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "survivor %d failed", i);
    }
    check_graph_done(taken, 3);
    int twice = 0;
    for (int i = 0; i < N_PAGES; i++)
        twice += taken[i] == 2;
    cr_assert_eq(twice, 3, "exactly the 3 pages leased by the dead process were taken again");
    munmap(taken, N_PAGES * sizeof(int));
}

/* In one process: a lease that expired is reclaimed by another client; the old holder's
 * done() then says so and completes nothing. */
static void *expired_lease(void *arg)
{
    (void)arg;
    acio__rfrontier_t *f1, *f2;
    CHECK(open_f(&f1, "expire", 0, 0, 0.2) == 0 && open_f(&f2, "expire", 0, 0, 0.2) == 0, "open");
    CHECK(add_url(f1, 1, 1, 0) == 1, "add");
    acio__rfrontier_item_t *a, *b = NULL;
    double wait;
    CHECK(acio__rfrontier_take(f1, &a, &wait) == 1, "f1 takes");
    CHECK(acio__rfrontier_take(f2, &b, &wait) == 0 && b == NULL, "f2 finds nothing");
    CHECK(wait > 0 && wait <= 0.2 + 0.002, "f2 looks again when the lease could expire: %g", wait);
    CHECK(acio_sleep(0.25) == 0, "sleep"); /* f1 stalls past its lease, renewing nothing */
    CHECK(acio__rfrontier_take(f2, &b, &wait) == 1, "f2 gets the reclaimed URL");
    CHECK(strcmp(a->url, b->url) == 0 && b->attempts == 0, "same URL");
    CHECK(acio__rfrontier_done(f1, a) == 0, "the stale holder's done completes nothing");
    CHECK(acio__rfrontier_done(f2, b) == 1, "the new holder's done");
    acio__rfrontier_stats_t st;
    acio__rfrontier_stats(f1, &st);
    CHECK(st.lost == 1 && st.held == 0, "f1 lost %zu", st.lost);
    CHECK(acio__rfrontier_counters(f2, NULL, NULL) == 0, "counters");
    acio__rfrontier_stats(f2, &st);
    CHECK(st.done == 1 && st.queued == 0 && st.leased == 0, "done once: %zu", st.done);

    /* A live holder renews: its lease outlasts lease_seconds. */
    CHECK(add_url(f1, 1, 2, 0) == 1, "add");
    CHECK(acio__rfrontier_take(f1, &a, &wait) == 1, "take");
    for (int i = 0; i < 5; i++) {
        CHECK(acio_sleep(0.06) == 0, "sleep");
        size_t lost = 1;
        CHECK(acio__rfrontier_renew(f1, &lost) == 0 && lost == 0, "renew");
    }
    CHECK(acio__rfrontier_take(f2, &b, &wait) == 0, "not reclaimed after 0.3 s > lease");
    CHECK(acio__rfrontier_done(f1, a) == 1, "done");
    acio__rfrontier_free(f1);
    acio__rfrontier_free(f2);
    return NULL;
}

Test(crawl_redis, an_expired_lease_moves_to_another_client, .init = start, .fini = stop)
{
    run_ok(expired_lease, NULL);
}

/* ---- politeness across processes ----
 *
 * Three processes take all pages of one host with a 0.15 s delay. The start times are
 * read on the server's clock: each lease's deadline is its take time + lease_seconds. */

#define POLITE_PAGES 8

static void *polite_client(void *arg)
{
    long long *starts = arg; /* shared, POLITE_PAGES */
    acio__rfrontier_t *f;
    CHECK(open_f(&f, "polite", 8, 0.15, 30) == 0, "open");
    for (int p = 0; p < POLITE_PAGES; p++)
        CHECK(add_url(f, 1, p, 0) >= 0, "add");
    acio_redis_t *c;
    CHECK(acio_redis_connect_url(&c, redis_url) == 0, "connect");
    for (;;) {
        acio__rfrontier_item_t *it;
        double wait;
        int rc = acio__rfrontier_take(f, &it, &wait);
        CHECK(rc >= 0, "take: %s", acio_err_name(rc));
        if (rc == 0) {
            if (isinf(wait))
                break;
            CHECK(acio_sleep(fmin(wait, 0.02)) == 0, "sleep");
            continue;
        }
        char tok[24], *score = NULL;
        snprintf(tok, sizeof tok, "%lld", it->token);
        acio_redis_reply_t *r = NULL;
        CHECK(acio_redis_command(c, &r, "ZSCORE", "acio-crawl:{polite}:lease", tok, NULL) == 0 &&
                  r->type == ACIO_REDIS_REPLY_STRING,
              "lease score");
        score = r->str;
        starts[page_of(it)] = atoll(score) - 30000000LL;
        acio_redis_reply_free(r);
        CHECK(acio__rfrontier_done(f, it) == 1, "done");
    }
    acio_redis_close(c);
    acio__rfrontier_free(f);
    return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

Test(crawl_redis, per_host_delay_holds_across_processes, .init = start, .fini = stop)
{
    long long *starts = mmap(NULL, POLITE_PAGES * sizeof(long long), PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert(starts != MAP_FAILED);
    memset(starts, 0, POLITE_PAGES * sizeof(long long));
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        cr_assert(pids[i] >= 0);
        if (pids[i] == 0) {
            char *msg = NULL;
            int rc = acio_run_ex(polite_client, starts, NULL, &msg);
            if (rc)
                fprintf(stderr, "polite child: %s\n", msg ? msg : "");
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < 3; i++) {
        int status;
        cr_assert(waitpid(pids[i], &status, 0) == pids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
    }
    qsort(starts, POLITE_PAGES, sizeof *starts, cmp_ll);
    for (int i = 0; i < POLITE_PAGES; i++)
        cr_assert(starts[i] > 0, "page %d not taken", i);
    for (int i = 1; i < POLITE_PAGES; i++)
        cr_assert(starts[i] - starts[i - 1] >= 150000, "takes %d and %d only %lld us apart", i - 1,
                  i, starts[i] - starts[i - 1]);
    munmap(starts, POLITE_PAGES * sizeof(long long));
}

/* The host's own delay (Crawl-delay) beats a smaller default. */
static void *host_delay(void *arg)
{
    (void)arg;
    acio__rfrontier_t *f;
    CHECK(open_f(&f, "hostdelay", 0, 0, 0) == 0, "open");
    CHECK(acio__rfrontier_set_host_delay(f, "http://h1.test:80", 0.5) == 0, "set delay");
    CHECK(acio__rfrontier_set_host_delay(f, "http://h1.test:80", -1) == -EINVAL, "bad delay");
    CHECK(add_url(f, 1, 1, 0) == 1 && add_url(f, 1, 2, 0) == 1 && add_url(f, 2, 1, 0) == 1, "add");
    acio__rfrontier_item_t *a, *b, *c;
    double wait;
    CHECK(acio__rfrontier_take(f, &a, &wait) == 1 && host_of(a) == 1, "h1");
    CHECK(acio__rfrontier_take(f, &b, &wait) == 1 && host_of(b) == 2, "h2 is not held back");
    CHECK(acio__rfrontier_take(f, &c, &wait) == 0 && wait > 0.4 && wait <= 0.5,
          "h1 waits its own delay: %g", wait);
    CHECK(acio__rfrontier_done(f, a) == 1 && acio__rfrontier_done(f, b) == 1, "done");
    acio__rfrontier_free(f);
    return NULL;
}

Test(crawl_redis, a_host_delay_beats_the_default, .init = start, .fini = stop)
{
    run_ok(host_delay, NULL);
}

/* ---- the seen-set's memory ---- */

#define MEM_URLS 60000

static long long used_memory(acio_redis_t *c)
{
    acio_redis_reply_t *r = NULL;
    if (acio_redis_command(c, &r, "INFO", "memory", NULL) != 0)
        return -1;
    const char *p = r->str ? strstr(r->str, "used_memory:") : NULL;
    long long v = p ? atoll(p + strlen("used_memory:")) : -1;
    acio_redis_reply_free(r);
    return v;
}

typedef struct {
    acio__rfrontier_t *f;
    int from, to;
} adder_t;

static void *adder(void *arg)
{
    adder_t *a = arg;
    for (int i = a->from; i < a->to; i++) {
        char url[64];
        int n = snprintf(url, sizeof url, "http://site.test/page/%d", i);
        CHECK(acio__rfrontier_add(a->f, url, (size_t)n, "http://site.test:80", 0, 0,
                                  ACIO__RFRONTIER_ADD_DONE) == 1,
              "add %d", i);
    }
    return NULL;
}

static void *seen_memory(void *arg)
{
    double *per_url = arg;
    acio_redis_t *c;
    CHECK(acio_redis_connect_url(&c, redis_url) == 0, "connect");
    acio__rfrontier_t *f;
    acio__rfrontier_opts_t o = {.url = redis_url, .name = "mem", .expected_urls = MEM_URLS};
    CHECK(acio__rfrontier_open(&f, &o) == 0, "open");
    unsigned buckets = 0;
    acio__rfrontier_config(f, NULL, NULL, NULL, &buckets);
    CHECK(buckets == 512, "buckets for %d URLs: %u", MEM_URLS, buckets);
    long long before = used_memory(c);
    /* Eight tasks: their commands share the connection's writes (pipelining). */
    adder_t a[8];
    acio_task_t *t[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (adder_t){f, i * MEM_URLS / 8, (i + 1) * MEM_URLS / 8};
        CHECK(acio_create_task(&t[i], adder, &a[i], NULL) == 0, "task");
    }
    int failed = 0;
    for (int i = 0; i < 8; i++) {
        failed |= acio_await(t[i], NULL) != 0;
        acio_future_unref(t[i]);
    }
    CHECK(!failed, "adders");
    long long after = used_memory(c);
    *per_url = (double)(after - before) / MEM_URLS;
    /* Every bucket is still an intset (8 bytes per fingerprint). */
    acio_redis_reply_t *r = NULL;
    CHECK(acio_redis_command(c, &r, "OBJECT", "ENCODING", "acio-crawl:{mem}:s:7", NULL) == 0 &&
              r->str && strcmp(r->str, "intset") == 0,
          "encoding %s", r && r->str ? r->str : "?");
    acio_redis_reply_free(r);
    acio__rfrontier_free(f);
    acio_redis_close(c);
    return NULL;
}

Test(crawl_redis, seen_set_costs_about_nine_bytes_per_url, .init = start, .fini = stop)
{
    double per_url = 0;
    run_ok(seen_memory, &per_url);
    cr_log_info("seen-set in redis: %.1f bytes per URL at %d URLs", per_url, MEM_URLS);
    /* A SET of 8-byte strings costs ~50-70 bytes per member; the bucketed intsets cost
     * 8 plus the buckets' own overhead. */
    cr_assert(per_url > 0 && per_url < 14, "%.1f bytes per URL", per_url);
}

/* ---- the server forgets, changes or dies ---- */

static void *script_flush(void *arg)
{
    (void)arg;
    acio__rfrontier_t *f;
    CHECK(open_f(&f, "flush", 0, 0, 0) == 0, "open");
    acio_redis_t *c;
    CHECK(acio_redis_connect_url(&c, redis_url) == 0, "connect");
    CHECK(acio_redis_command(c, NULL, "SCRIPT", "FLUSH", NULL) == 0, "flush");
    CHECK(add_url(f, 1, 1, 0) == 1, "add after SCRIPT FLUSH: loaded again on NOSCRIPT");
    acio__rfrontier_item_t *it;
    double wait;
    CHECK(acio__rfrontier_take(f, &it, &wait) == 1, "take");
    CHECK(acio_redis_command(c, NULL, "SCRIPT", "FLUSH", NULL) == 0, "flush");
    CHECK(acio__rfrontier_done(f, it) == 1, "done");

    /* Keys of someone else's under the crawl's name. */
    acio__rfrontier_t *g = NULL;
    CHECK(acio_redis_set(c, "acio-crawl:{foreign}:cfg", "x", 1, 0) == 0, "set");
    int rc = open_f(&g, "foreign", 0, 0, 0);
    CHECK(rc == ACIO_ECRAWL_REDIS_FORMAT && !g, "foreign cfg: %s", acio_err_name(rc));
    const char *cfg[] = {"format", "99"};
    CHECK(acio_redis_hset(c, "acio-crawl:{future}:cfg", cfg, 1, NULL) == 0, "hset");
    rc = open_f(&g, "future", 0, 0, 0);
    CHECK(rc == ACIO_ECRAWL_REDIS_FORMAT, "another format: %s", acio_err_name(rc));
    CHECK(acio_redis_set(c, "acio-crawl:{flush}:q:http://h9.test:80", "x", 1, 0) == 0, "set");
    rc = add_url(f, 9, 1, 0);
    CHECK(rc == ACIO_ECRAWL_REDIS_FORMAT, "a queue that is a string: %s", acio_err_name(rc));
    CHECK(strstr(acio__rfrontier_last_error(f), "WRONGTYPE"), "says why: %s",
          acio__rfrontier_last_error(f));
    /* The failed script changed nothing before its error?  Redis scripts are not
     * transactions: the SADD before the failing RPUSH stays. The URL now counts as seen;
     * document it rather than hide it. */
    CHECK(open_f(&g, "bad name", 0, 0, 0) == -EINVAL && open_f(&g, "a{b}", 0, 0, 0) == -EINVAL &&
              open_f(&g, "", 0, 0, 0) == -EINVAL,
          "bad names");

    /* Reset removes every key of the crawl and keeps it usable. */
    CHECK(acio__rfrontier_reset(f) == 0, "reset");
    acio_redis_reply_t *r = NULL;
    CHECK(acio_redis_command(c, &r, "KEYS", "acio-crawl:{flush}:*", NULL) == 0 &&
              r->elements == 1 && strcmp(r->element[0]->str, "acio-crawl:{flush}:cfg") == 0,
          "only the config is left: %zu keys", r ? r->elements : 0);
    acio_redis_reply_free(r);
    CHECK(add_url(f, 1, 1, 0) == 1, "a reset crawl starts afresh");
    acio_redis_close(c);
    acio__rfrontier_free(f);
    return NULL;
}

Test(crawl_redis, scripts_reloaded_foreign_keys_refused_reset, .init = start, .fini = stop)
{
    run_ok(script_flush, NULL);
}

static void *server_dies(void *arg)
{
    (void)arg;
    acio__rfrontier_t *f;
    CHECK(open_f(&f, "dies", 0, 0, 0) == 0, "open");
    for (int p = 0; p < 4; p++)
        CHECK(add_url(f, 1, p, 0) == 1, "add");
    acio__rfrontier_item_t *a, *b;
    double wait;
    CHECK(acio__rfrontier_take(f, &a, &wait) == 1 && acio__rfrontier_take(f, &b, &wait) == 1,
          "take");
    CHECK(acio__rfrontier_done(f, a) == 1, "done");
    kill(srv.pid, SIGKILL);
    waitpid(srv.pid, NULL, 0);
    srv.pid = 0;
    int rc = acio__rfrontier_done(f, b);
    CHECK(rc == ACIO_EREDIS_CONNECTION || rc == -ECONNREFUSED || rc == -ECONNRESET,
          "done with the server gone: %s", acio_err_name(rc));
    acio__rfrontier_stats_t st;
    acio__rfrontier_stats(f, &st);
    CHECK(st.held == 1, "the item is still held after a failed done");
    rc = acio__rfrontier_take(f, &a, &wait);
    CHECK(rc < 0, "take: %s", acio_err_name(rc));
    rc = add_url(f, 2, 1, 0);
    CHECK(rc < 0, "add: %s", acio_err_name(rc));
    CHECK(acio__rfrontier_renew(f, NULL) < 0, "renew");
    acio__rfrontier_free(f); /* frees the held item */
    acio__rfrontier_t *g = NULL;
    rc = open_f(&g, "dies", 0, 0, 0);
    CHECK(rc < 0 && !g, "open with no server: %s", acio_err_name(rc));
    return NULL;
}

Test(crawl_redis, server_killed_mid_crawl_gives_errors, .init = start, .fini = stop)
{
    run_ok(server_dies, NULL);
}

/* ---- failing allocations ---- */

static void *alloc_body(void *arg)
{
    long n = *(long *)arg;
    acio__alloc_fail_after(n);
    acio__rfrontier_t *f = NULL;
    int rc = open_f(&f, "alloc", 0, 0, 0);
    if (rc == 0) {
        char url[64];
        snprintf(url, sizeof url, "http://a.test/%ld", n);
        rc = acio__rfrontier_add(f, url, strlen(url), "http://a.test:80", 0, 0, 0);
        acio__rfrontier_item_t *it = NULL;
        double wait;
        if (rc >= 0)
            rc = acio__rfrontier_take(f, &it, &wait);
        if (rc == 1)
            rc = acio__rfrontier_retry(f, it, 0);
        if (rc >= 0)
            rc = acio__rfrontier_take(f, &it, &wait);
        if (rc == 1)
            rc = acio__rfrontier_done(f, it);
        if (rc >= 0)
            rc = acio__rfrontier_counters(f, NULL, NULL);
        if (rc >= 0) {
            char name[17];
            const char *seeds[] = {"b", "a"};
            rc = acio__rfrontier_name_from_seeds(name, seeds, 2);
        }
        acio__rfrontier_free(f);
    }
    bool fired = acio__alloc_fail_countdown == 0;
    acio__alloc_fail_after(0);
    return (void *)(intptr_t)(rc < 0 ? rc : fired ? 0 : 1);
}

Test(crawl_redis, every_allocation_failure_is_clean, .init = start, .fini = stop)
{
    /* Fail the 1st, 2nd, ... allocation until the whole sequence runs without reaching
     * the failing one. */
    long n;
    for (n = 1; n < 2000; n++) {
        void *res = NULL;
        int rc = acio_run(alloc_body, &n, &res);
        int brc = (int)(intptr_t)res;
        cr_assert(rc == 0 || rc == -ENOMEM, "step %ld: %s", n, acio_err_name(rc));
        if (rc == 0 && brc == 1)
            break;
        cr_assert(rc == -ENOMEM || brc == 0 || brc == -ENOMEM || brc == ACIO_EREDIS_CONNECTION,
                  "step %ld: %s", n, acio_err_name(brc));
    }
    cr_assert(n < 2000, "the sequence never completed");
    cr_log_info("%ld allocation failures tried", n - 1);
}

/* ---- as a frontier.h backend ---- */

static void *backend(void *arg)
{
    (void)arg;
    acio__frontier_opts_t fo = {.per_host_limit = 4, .default_delay = 0};
    /* f1 plays a process that stalls past its lease: no renewal task. */
    acio__frontier_redis_opts_t ro = {
        .url = redis_url, .name = "backend", .lease_seconds = 0.2, .manual_renew = true};
    acio__frontier_t *f1, *f2;
    const char *msg = NULL;
    int rc = acio__frontier_redis_new(&f1, &fo, &ro, &msg);
    CHECK(rc == 0, "new: %s %s", acio_err_name(rc), msg);
    CHECK(acio__frontier_redis_new(&f2, &fo, &ro, NULL) == 0, "second");
    CHECK(strcmp(f1->ops->name, "redis") == 0 && acio__frontier_redis_of(f1), "redis ops");
    CHECK(acio__frontier_add(f1, "http://a.test/1", 15, "http://a.test:80", 0, 0, 0) == 1 &&
              acio__frontier_add(f2, "http://a.test/1", 15, "http://a.test:80", 0, 0, 0) == 0 &&
              acio__frontier_add(f2, "http://a.test/2", 15, "http://a.test:80", 1, 2, 0) == 1 &&
              acio__frontier_add(f2, "http://a.test/3", 15, "http://a.test:80", 0, 0,
                                 ACIO__FRONTIER_ADD_DONE) == 1,
          "adds through both");
    double now = acio_loop_time(acio_get_running_loop());
    acio__frontier_item_t *a, *b, *c = NULL;
    double wake;
    CHECK(acio__frontier_take(f1, now, &a, &wake) == 1 && strcmp(a->url, "http://a.test/1") == 0,
          "take a");
    CHECK(acio__frontier_take(f2, now, &b, &wake) == 1 && b->depth == 1 && b->hops == 2 &&
              strcmp(b->host, "http://a.test:80") == 0,
          "take b");
    CHECK(acio__frontier_take(f2, now, &c, &wake) == 0 && !c, "nothing left");
    CHECK(wake > now && wake <= now + 0.21, "f1's lease may expire: wake in %g", wake - now);
    /* retry's not_before is a loop time: 0.1 s from now. */
    CHECK(acio__frontier_retry(f2, b, acio_loop_time(acio_get_running_loop()) + 0.1) == 0, "retry");
    acio__frontier_stats_t st;
    f2->ops->stats(f2, &st);
    CHECK(st.leased == 0 && st.seen == 3 && st.done == 1, "stats: leased %zu seen %zu done %zu",
          st.leased, st.seen, st.done);
    /* f1 stalls past its lease: f2 gets both URLs. */
    CHECK(acio_sleep(0.25) == 0, "sleep");
    now = acio_loop_time(acio_get_running_loop());
    acio__frontier_item_t *x, *y;
    CHECK(acio__frontier_take(f2, now, &x, &wake) == 1 &&
              acio__frontier_take(f2, now, &y, &wake) == 1,
          "both for f2");
    CHECK(x->attempts + y->attempts == 1, "the retried one counts its attempt");
    rc = acio__frontier_done(f1, a);
    CHECK(rc == ACIO_EFRONTIER_LEASE, "stale done: %s", acio_err_name(rc));
    CHECK(acio__frontier_done(f2, x) == 0 && acio__frontier_done(f2, y) == 0, "done");
    CHECK(acio__frontier_take(f2, now, &c, &wake) == 0 && isinf(wake), "over");
    CHECK(f1->ops->set_host_delay(f1, "http://a.test:80", 1) == 0, "set_host_delay");
    /* An item still held when the frontier is freed is freed with it. */
    CHECK(acio__frontier_add(f1, "http://a.test/4", 15, "http://a.test:80", 0, 0, 0) == 1, "add");
    CHECK(acio__frontier_take(f1, now, &c, &wake) == 1, "held at free");
    acio__frontier_free(f1);
    acio__frontier_free(f2);

    /* A bad name and a dead server explain themselves. */
    ro.name = "two words";
    CHECK(acio__frontier_redis_new(&f1, &fo, &ro, &msg) == -EINVAL && strstr(msg, "redis-key"),
          "bad name: %s", msg);
    ro.name = "x";
    ro.url = "redis://127.0.0.1:1";
    rc = acio__frontier_redis_new(&f1, &fo, &ro, &msg);
    CHECK(rc < 0 && *msg, "no server: %s: %s", acio_err_name(rc), msg);
    return NULL;
}

Test(crawl_redis, as_a_frontier_backend, .init = start, .fini = stop)
{
    run_ok(backend, NULL);
}

/* ---- names ---- */

Test(crawl_redis, name_from_seeds_ignores_order_and_duplicates)
{
    const char *a[] = {"http://b.test/", "http://a.test/", "http://b.test/"};
    const char *b[] = {"http://a.test/", "http://b.test/"};
    const char *c[] = {"http://a.test/", "http://c.test/"};
    char na[17], nb[17], nc[17];
    cr_assert_eq(acio__rfrontier_name_from_seeds(na, a, 3), 0);
    cr_assert_eq(acio__rfrontier_name_from_seeds(nb, b, 2), 0);
    cr_assert_eq(acio__rfrontier_name_from_seeds(nc, c, 2), 0);
    cr_assert_str_eq(na, nb);
    cr_assert_str_neq(na, nc);
    cr_assert_eq(strlen(na), 16);
}
