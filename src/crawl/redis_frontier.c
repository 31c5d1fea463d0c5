/* The Redis frontier's client side (redis_frontier.h says what it guarantees,
 * redis_frontier_lua.c holds the scripts and the key layout): one connection, whose
 * automatic pipelining lets the crawl's many tasks share it; script calls by EVALSHA with
 * a reload on NOSCRIPT; the leases this process holds, kept alive from take() and done();
 * and the counters the last script returned, for a summary that needs no I/O. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acio.h"
#include "crawl/redis_frontier.h"
#include "crawl/redis_frontier_lua.h"
#include "internal.h"

/* The library does not link libm: fmin/fmax by hand (no NaN reaches them). */
static inline double min_d(double a, double b)
{
    return a < b ? a : b;
}
static inline double max_d(double a, double b)
{
    return a > b ? a : b;
}

#define RECLAIM_MAX       "32" /* expired leases a take() puts back at most */
#define RENEW_BATCH       256  /* tokens per renew script call */
#define NAME_MAX_LEN      200  /* bytes of a crawl name */
#define ENTRY_STACK       2048 /* entries up to this size are built on the stack */
#define SEEN_BITS_DEFAULT 12   /* 4096 buckets of <= 512 intset entries: ~1.5 M URLs */

/* An item and its place in the list of leases this process holds. */
typedef struct held_s held_t;
struct held_s {
    acio__rfrontier_item_t item;
    held_t *prev, *next;
};

struct acio__rfrontier_s {
    acio_redis_t *conn;
    char *prefix; /* "acio-crawl:{name}:" */
    char *cfgkey; /* prefix + "cfg": the scripts' declared key */
    char sha[ACIO__RF_NSCRIPTS][41];
    /* Crawl-wide settings as stored in Redis, and their script-argument forms. */
    size_t limit;
    double delay, lease;
    unsigned bits;
    char limit_s[24], delay_s[24], lease_s[24];
    double poll;
    held_t held; /* list head */
    double last_renew;
    acio__rfrontier_stats_t st;
};

/* ---- script calls ---- */

static int load_script(acio__rfrontier_t *f, int which)
{
    acio_redis_reply_t *r = NULL;
    int rc = acio_redis_command(f->conn, &r, "SCRIPT", "LOAD", acio__rf_lua[which], NULL);
    if (rc == 0 && (r->type != ACIO_REDIS_REPLY_STRING || r->len != 40))
        rc = ACIO_ECRAWL_REDIS_REPLY;
    if (rc == 0)
        memcpy(f->sha[which], r->str, 41);
    else if (rc == ACIO_EREDIS_REPLY)
        rc = ACIO_ECRAWL_REDIS_SCRIPT;
    acio_redis_reply_free(r);
    return rc;
}

/* EVALSHA script 1 P.."cfg" P args...: 0 and *out (the caller's), or an error. A server
 * that forgot the script (restarted, SCRIPT FLUSH) gets it again, once. */
static int eval(acio__rfrontier_t *f, int which, int nargs, const char *const *args,
                const size_t *lens, acio_redis_reply_t **out)
{
    enum { FIXED = 5, MAX_ARGS = FIXED + RENEW_BATCH + 2 };
    const char *argv[MAX_ARGS];
    size_t argl[MAX_ARGS];
    if (nargs + FIXED > MAX_ARGS)
        return -EINVAL;
    argv[0] = "EVALSHA";
    argv[1] = f->sha[which];
    argv[2] = "1";
    argv[3] = f->cfgkey;
    argv[4] = f->prefix;
    for (int i = 0; i < FIXED; i++)
        argl[i] = strlen(argv[i]);
    for (int i = 0; i < nargs; i++) {
        argv[FIXED + i] = args[i];
        argl[FIXED + i] = lens ? lens[i] : strlen(args[i]);
    }
    *out = NULL;
    for (int attempt = 0;; attempt++) {
        acio_redis_reply_t *r = NULL;
        int rc = acio_redis_command_argv(f->conn, &r, FIXED + nargs, argv, argl);
        if (rc == 0) {
            *out = r;
            return 0;
        }
        bool noscript = rc == ACIO_EREDIS_REPLY && r && r->str && !strncmp(r->str, "NOSCRIPT", 8);
        bool wrongtype = rc == ACIO_EREDIS_REPLY && r && r->str && strstr(r->str, "WRONGTYPE");
        acio_redis_reply_free(r);
        if (noscript && attempt == 0) {
            if ((rc = load_script(f, which)) < 0)
                return rc;
            continue;
        }
        if (wrongtype)
            return ACIO_ECRAWL_REDIS_FORMAT;
        return rc == ACIO_EREDIS_REPLY ? ACIO_ECRAWL_REDIS_SCRIPT : rc;
    }
}

static bool is_int(const acio_redis_reply_t *r)
{
    return r && r->type == ACIO_REDIS_REPLY_INTEGER;
}

static size_t nonneg(long long v)
{
    return v > 0 ? (size_t)v : 0;
}

/* ---- open / free ---- */

static bool name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        /* Braces would break the cluster hash tag; the rest are SCAN's glob characters. */
        if (c <= ' ' || c == 0x7f || strchr("{}[]*?\\", c))
            return false;
    }
    return true;
}

static unsigned seen_bits(size_t expected)
{
    if (expected == 0)
        return SEEN_BITS_DEFAULT;
    /* About 192 fingerprints per bucket at the expected size: far enough below 512 that
     * no bucket outgrows the intset encoding (Poisson tails). */
    unsigned bits = 4;
    while (bits < 24 && ((size_t)1 << bits) * 192 < expected)
        bits++;
    return bits;
}

static int read_config(acio__rfrontier_t *f, const acio_redis_reply_t *r)
{
    if (!r || r->type != ACIO_REDIS_REPLY_ARRAY || r->elements != 5)
        return ACIO_ECRAWL_REDIS_REPLY;
    for (size_t i = 0; i < 5; i++)
        if (r->element[i]->type != ACIO_REDIS_REPLY_STRING)
            return ACIO_ECRAWL_REDIS_FORMAT;
    if (strcmp(r->element[0]->str, ACIO__RF_FORMAT) != 0)
        return ACIO_ECRAWL_REDIS_FORMAT;
    char *end;
    long bits = strtol(r->element[1]->str, &end, 10);
    long long limit = strtoll(r->element[2]->str, &end, 10);
    long long delay = strtoll(r->element[3]->str, &end, 10);
    long long lease = strtoll(r->element[4]->str, &end, 10);
    if (bits < 0 || bits > 24 || limit < 1 || delay < 0 || lease < 1000)
        return ACIO_ECRAWL_REDIS_FORMAT;
    f->bits = (unsigned)bits;
    f->limit = (size_t)limit;
    f->delay = (double)delay / 1e6;
    f->lease = (double)lease / 1e6;
    snprintf(f->limit_s, sizeof f->limit_s, "%lld", limit);
    snprintf(f->delay_s, sizeof f->delay_s, "%lld", delay);
    snprintf(f->lease_s, sizeof f->lease_s, "%lld", lease);
    return 0;
}

int acio__rfrontier_open(acio__rfrontier_t **out, const acio__rfrontier_opts_t *o)
{
    *out = NULL;
    if (!o || !o->url || !name_ok(o->name) || o->default_delay < 0 || o->lease_seconds < 0 ||
        !isfinite(o->default_delay) || !isfinite(o->lease_seconds))
        return -EINVAL;
    acio__rfrontier_t *f = acio__calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->held.prev = f->held.next = &f->held;
    f->poll = o->poll_interval > 0 ? o->poll_interval : 0.25;
    size_t nlen = strlen(o->name);
    f->prefix = acio__malloc(nlen + 16);
    f->cfgkey = acio__malloc(nlen + 19);
    if (!f->prefix || !f->cfgkey) {
        acio__rfrontier_free(f);
        return -ENOMEM;
    }
    snprintf(f->prefix, nlen + 16, "acio-crawl:{%s}:", o->name);
    snprintf(f->cfgkey, nlen + 19, "%scfg", f->prefix);

    acio_redis_opts_t ro;
    char *storage = NULL;
    int rc = acio_redis_opts_from_url(&ro, o->url, &storage);
    if (rc == 0) {
        ro.command_timeout = o->command_timeout > 0 ? o->command_timeout : 10;
        rc = acio_redis_connect(&f->conn, &ro);
    }
    free(storage);
    for (int i = 0; rc == 0 && i < ACIO__RF_NSCRIPTS; i++)
        rc = load_script(f, i);
    if (rc == 0) {
        char bits[8], limit[24], delay[24], lease[24];
        snprintf(bits, sizeof bits, "%u", seen_bits(o->expected_urls));
        snprintf(limit, sizeof limit, "%zu", o->per_host_limit ? o->per_host_limit : 8);
        snprintf(delay, sizeof delay, "%.0f", o->default_delay * 1e6);
        snprintf(lease, sizeof lease, "%.0f",
                 (o->lease_seconds > 0 ? max_d(o->lease_seconds, 0.001) : 30) * 1e6);
        const char *args[] = {ACIO__RF_FORMAT, bits, limit, delay, lease};
        acio_redis_reply_t *r = NULL;
        rc = eval(f, ACIO__RF_INIT, 5, args, NULL, &r);
        if (rc == 0)
            rc = read_config(f, r);
        acio_redis_reply_free(r);
    }
    if (rc < 0) {
        acio__rfrontier_free(f);
        return rc;
    }
    f->last_renew = acio_loop_time(acio_get_running_loop());
    *out = f;
    return 0;
}

void acio__rfrontier_free(acio__rfrontier_t *f)
{
    if (!f)
        return;
    while (f->held.next != &f->held) {
        held_t *h = f->held.next;
        h->prev->next = h->next;
        h->next->prev = h->prev;
        acio__free(h);
    }
    if (f->conn)
        acio_redis_close(f->conn);
    acio__free(f->prefix);
    acio__free(f->cfgkey);
    acio__free(f);
}

void acio__rfrontier_config(const acio__rfrontier_t *f, size_t *per_host_limit,
                            double *default_delay, double *lease_seconds, unsigned *seen_buckets)
{
    if (per_host_limit)
        *per_host_limit = f->limit;
    if (default_delay)
        *default_delay = f->delay;
    if (lease_seconds)
        *lease_seconds = f->lease;
    if (seen_buckets)
        *seen_buckets = 1u << f->bits;
}

const char *acio__rfrontier_prefix(const acio__rfrontier_t *f)
{
    return f->prefix;
}

const char *acio__rfrontier_last_error(const acio__rfrontier_t *f)
{
    return f->conn ? acio_redis_last_error(f->conn) : "";
}

/* ---- add ---- */

static bool has_separator(const char *s, size_t n)
{
    return memchr(s, '\t', n) || memchr(s, '\n', n) || memchr(s, '\r', n) || memchr(s, '\0', n);
}

int acio__rfrontier_add(acio__rfrontier_t *f, const char *url, size_t len, const char *host,
                        int depth, int hops, unsigned flags)
{
    if (!url || len == 0 || !host || !*host || has_separator(url, len) ||
        has_separator(host, strlen(host)) || depth < 0 || hops < 0)
        return -EINVAL;
    uint64_t fp = acio_seen_fingerprint(url, len);
    char bucket[24], fps[24], done_only[2] = {flags & ACIO__RFRONTIER_ADD_DONE ? '1' : '0'};
    snprintf(bucket, sizeof bucket, "%llu",
             (unsigned long long)(fp & (((uint64_t)1 << f->bits) - 1)));
    snprintf(fps, sizeof fps, "%lld", (long long)(int64_t)fp);

    /* The queue entry: "depth hops attempts url". */
    char stackbuf[ENTRY_STACK];
    char head[40];
    int hn = snprintf(head, sizeof head, "%d %d 0 ", depth, hops);
    size_t elen = (size_t)hn + len;
    char *entry = elen <= sizeof stackbuf ? stackbuf : acio__malloc(elen);
    if (!entry)
        return -ENOMEM;
    memcpy(entry, head, (size_t)hn);
    memcpy(entry + hn, url, len);

    const char *args[] = {f->limit_s, bucket, fps, host, entry, done_only};
    size_t lens[] = {strlen(f->limit_s), strlen(bucket), strlen(fps), strlen(host), elen, 1};
    acio_redis_reply_t *r = NULL;
    int rc = eval(f, ACIO__RF_ADD, 6, args, lens, &r);
    if (entry != stackbuf)
        acio__free(entry);
    if (rc == 0)
        rc = is_int(r) && (r->integer == 0 || r->integer == 1) ? (int)r->integer
                                                               : ACIO_ECRAWL_REDIS_REPLY;
    acio_redis_reply_free(r);
    if (rc == 1) {
        f->st.seen++;
        if (flags & ACIO__RFRONTIER_ADD_DONE)
            f->st.done++;
        else
            f->st.queued++;
    }
    return rc;
}

/* ---- leases ---- */

static size_t held_count(const acio__rfrontier_t *f)
{
    return f->st.held;
}

int acio__rfrontier_renew(acio__rfrontier_t *f, size_t *lost)
{
    if (lost)
        *lost = 0;
    f->last_renew = acio_loop_time(acio_get_running_loop());
    held_t *h = f->held.next;
    while (h != &f->held) {
        char toks[RENEW_BATCH][24];
        const char *args[RENEW_BATCH + 1];
        args[0] = f->lease_s;
        int n = 0;
        for (; h != &f->held && n < RENEW_BATCH; h = h->next, n++) {
            snprintf(toks[n], sizeof toks[n], "%lld", h->item.token);
            args[n + 1] = toks[n];
        }
        acio_redis_reply_t *r = NULL;
        int rc = eval(f, ACIO__RF_RENEW, n + 1, args, NULL, &r);
        if (rc == 0 && !is_int(r))
            rc = ACIO_ECRAWL_REDIS_REPLY;
        if (rc == 0 && lost)
            *lost += nonneg(r->integer);
        acio_redis_reply_free(r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Renew when a third of the lease has passed since the last renewal: a lease then never
 * expires while its process lives and keeps calling the frontier. */
static int maybe_renew(acio__rfrontier_t *f)
{
    if (held_count(f) == 0)
        return 0;
    double now = acio_loop_time(acio_get_running_loop());
    if (now - f->last_renew < f->lease / 3)
        return 0;
    return acio__rfrontier_renew(f, NULL);
}

static void crawl_counters(acio__rfrontier_t *f, acio_redis_reply_t *const *c)
{
    f->st.queued = nonneg(c[0]->integer);
    f->st.seen = nonneg(c[1]->integer);
    f->st.done = nonneg(c[2]->integer);
    f->st.hosts = nonneg(c[3]->integer);
    f->st.leased = nonneg(c[4]->integer);
}

/* "depth hops attempts url" into a new held item. */
static int make_item(held_t **out, long long token, const acio_redis_reply_t *host,
                     const acio_redis_reply_t *entry)
{
    const char *s = entry->str, *end = entry->str + entry->len;
    long v[3];
    for (int i = 0; i < 3; i++) {
        char *e;
        errno = 0;
        v[i] = strtol(s, &e, 10);
        if (e == s || e >= end || *e != ' ' || errno || v[i] < 0 || v[i] > 1000000)
            return ACIO_ECRAWL_REDIS_REPLY;
        s = e + 1;
    }
    size_t ulen = (size_t)(end - s);
    if (ulen == 0)
        return ACIO_ECRAWL_REDIS_REPLY;
    held_t *h = acio__malloc(sizeof *h + ulen + 1 + host->len + 1);
    if (!h)
        return -ENOMEM;
    char *p = (char *)(h + 1);
    memcpy(p, s, ulen);
    p[ulen] = '\0';
    memcpy(p + ulen + 1, host->str, host->len + 1);
    h->item = (acio__rfrontier_item_t){.url = p,
                                       .url_len = ulen,
                                       .host = p + ulen + 1,
                                       .depth = (int)v[0],
                                       .hops = (int)v[1],
                                       .attempts = (int)v[2],
                                       .token = token};
    *out = h;
    return 0;
}

static bool take_reply_ok(const acio_redis_reply_t *r)
{
    if (!r || r->type != ACIO_REDIS_REPLY_ARRAY || r->elements < 8 || !is_int(r->element[0]))
        return false;
    acio_redis_reply_t **e = r->element;
    if (e[0]->integer == 1)
        return r->elements == 9 && is_int(e[1]) && e[2]->type == ACIO_REDIS_REPLY_STRING &&
               e[3]->type == ACIO_REDIS_REPLY_STRING && is_int(e[4]) && is_int(e[5]) &&
               is_int(e[6]) && is_int(e[7]) && is_int(e[8]);
    for (size_t i = 1; i < 8; i++)
        if (!is_int(e[i]))
            return false;
    return e[0]->integer == 0;
}

int acio__rfrontier_take(acio__rfrontier_t *f, acio__rfrontier_item_t **out, double *wait)
{
    *out = NULL;
    *wait = INFINITY;
    int rc = maybe_renew(f);
    if (rc < 0)
        return rc;
    const char *args[] = {f->limit_s, f->delay_s, f->lease_s, RECLAIM_MAX};
    acio_redis_reply_t *r = NULL;
    rc = eval(f, ACIO__RF_TAKE, 4, args, NULL, &r);
    if (rc == 0 && !take_reply_ok(r))
        rc = ACIO_ECRAWL_REDIS_REPLY;
    if (rc < 0) {
        acio_redis_reply_free(r);
        return rc;
    }
    acio_redis_reply_t **e = r->element;
    if (e[0]->integer == 1) {
        held_t *h = NULL;
        rc = make_item(&h, e[1]->integer, e[2], e[3]);
        if (rc == 0) {
            crawl_counters(f, e + 4);
            h->next = &f->held;
            h->prev = f->held.prev;
            h->prev->next = h;
            f->held.prev = h;
            f->st.held++;
            f->st.taken++;
            *out = &h->item;
            rc = 1;
        }
        /* On failure the lease stays in Redis unheld: it expires and is reclaimed. */
        acio_redis_reply_free(r);
        return rc;
    }
    crawl_counters(f, e + 3);
    long long ready_in = e[1]->integer, lease_in = e[2]->integer;
    double w = INFINITY;
    if (ready_in >= 0)
        w = (double)ready_in / 1e6;
    if (f->st.leased > held_count(f)) {
        /* Others hold leases: they may add URLs or die; look again soon, and right after
         * the first lease could expire. */
        w = min_d(w, f->poll);
        if (lease_in >= 0)
            w = min_d(w, (double)lease_in / 1e6 + 0.001);
    }
    *wait = w;
    acio_redis_reply_free(r);
    return 0;
}

static void unhold(acio__rfrontier_t *f, acio__rfrontier_item_t *item)
{
    held_t *h = acio_container_of(item, held_t, item);
    h->prev->next = h->next;
    h->next->prev = h->prev;
    f->st.held--;
    acio__free(h);
}

/* Run DONE or RETRY for item; 1 / 0 as the scripts answer, item freed on both. */
static int finish(acio__rfrontier_t *f, acio__rfrontier_item_t *item, int which, int nargs,
                  const char *const *args, const size_t *lens)
{
    int rc = maybe_renew(f);
    if (rc < 0)
        return rc;
    acio_redis_reply_t *r = NULL;
    rc = eval(f, which, nargs, args, lens, &r);
    if (rc == 0)
        rc = is_int(r) && (r->integer == 0 || r->integer == 1) ? (int)r->integer
                                                               : ACIO_ECRAWL_REDIS_REPLY;
    acio_redis_reply_free(r);
    if (rc < 0)
        return rc;
    if (rc == 0)
        f->st.lost++;
    unhold(f, item);
    return rc;
}

int acio__rfrontier_done(acio__rfrontier_t *f, acio__rfrontier_item_t *item)
{
    char tok[24];
    snprintf(tok, sizeof tok, "%lld", item->token);
    const char *args[] = {f->limit_s, tok};
    int rc = finish(f, item, ACIO__RF_DONE, 2, args, NULL);
    if (rc == 1) {
        f->st.completed++;
        f->st.done++;
    }
    return rc;
}

int acio__rfrontier_retry(acio__rfrontier_t *f, acio__rfrontier_item_t *item, double delay)
{
    if (!(delay >= 0) || !isfinite(delay))
        return -EINVAL;
    char tok[24], hold[32], head[40];
    snprintf(tok, sizeof tok, "%lld", item->token);
    snprintf(hold, sizeof hold, "%.0f", min_d(delay, 1e9) * 1e6);
    int hn = snprintf(head, sizeof head, "%d %d %d ", item->depth, item->hops,
                      item->attempts < 1000000 ? item->attempts + 1 : item->attempts);
    size_t elen = (size_t)hn + item->url_len;
    char stackbuf[ENTRY_STACK];
    char *entry = elen <= sizeof stackbuf ? stackbuf : acio__malloc(elen);
    if (!entry)
        return -ENOMEM;
    memcpy(entry, head, (size_t)hn);
    memcpy(entry + hn, item->url, item->url_len);
    const char *args[] = {f->limit_s, tok, entry, hold};
    size_t lens[] = {strlen(f->limit_s), strlen(tok), elen, strlen(hold)};
    int rc = finish(f, item, ACIO__RF_RETRY, 4, args, lens);
    if (entry != stackbuf)
        acio__free(entry);
    return rc;
}

/* ---- politeness, counters, reset ---- */

int acio__rfrontier_set_host_delay(acio__rfrontier_t *f, const char *host, double delay)
{
    if (!host || !*host || !(delay >= 0) || !isfinite(delay))
        return -EINVAL;
    char key[NAME_MAX_LEN + 32], us[32];
    snprintf(key, sizeof key, "%sdelay", f->prefix);
    snprintf(us, sizeof us, "%.0f", min_d(delay, 1e9) * 1e6);
    return acio_redis_command(f->conn, NULL, "HSET", key, host, us, NULL);
}

int acio__rfrontier_count(acio__rfrontier_t *f, const char *counter, long long by)
{
    if (!counter || !*counter)
        return -EINVAL;
    char key[NAME_MAX_LEN + 32], n[24];
    snprintf(key, sizeof key, "%sstats", f->prefix);
    snprintf(n, sizeof n, "%lld", by);
    return acio_redis_command(f->conn, NULL, "HINCRBY", key, counter, n, NULL);
}

int acio__rfrontier_counters(acio__rfrontier_t *f,
                             void (*fn)(void *arg, const char *name, long long value), void *arg)
{
    acio_redis_reply_t *r = NULL;
    int rc = eval(f, ACIO__RF_STATS, 0, NULL, NULL, &r);
    if (rc == 0 && (r->type != ACIO_REDIS_REPLY_ARRAY || r->elements != 3 ||
                    r->element[0]->type != ACIO_REDIS_REPLY_ARRAY || r->element[0]->elements % 2 ||
                    !is_int(r->element[1]) || !is_int(r->element[2])))
        rc = ACIO_ECRAWL_REDIS_REPLY;
    if (rc < 0) {
        acio_redis_reply_free(r);
        return rc;
    }
    const acio_redis_reply_t *kv = r->element[0];
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        const char *name = kv->element[i]->str, *val = kv->element[i + 1]->str;
        if (!name || !val)
            continue;
        long long v = strtoll(val, NULL, 10);
        if (!strcmp(name, "queued"))
            f->st.queued = nonneg(v);
        else if (!strcmp(name, "seen"))
            f->st.seen = nonneg(v);
        else if (!strcmp(name, "done"))
            f->st.done = nonneg(v);
        if (fn)
            fn(arg, name, v);
    }
    f->st.hosts = nonneg(r->element[1]->integer);
    f->st.leased = nonneg(r->element[2]->integer);
    acio_redis_reply_free(r);
    return 0;
}

void acio__rfrontier_stats(const acio__rfrontier_t *f, acio__rfrontier_stats_t *out)
{
    *out = f->st;
}

int acio__rfrontier_reset(acio__rfrontier_t *f)
{
    char pattern[NAME_MAX_LEN + 32];
    snprintf(pattern, sizeof pattern, "%s*", f->prefix);
    acio_redis_scan_t *s = NULL;
    int rc = acio_redis_scan_new(&s, f->conn, pattern, 500, NULL);
    if (rc < 0)
        return rc;
    enum { BATCH = 128 };
    char *keys[BATCH + 1];
    const char *argv[BATCH + 1];
    size_t lens[BATCH + 1];
    int n = 0;
    for (;;) {
        const char *key;
        size_t len;
        int more = acio_redis_scan_next(s, &key, &len);
        if (more < 0) {
            rc = more;
            break;
        }
        if (more == 1) {
            char *k = acio__malloc(len + 1);
            if (!k) {
                rc = -ENOMEM;
                break;
            }
            memcpy(k, key, len + 1);
            keys[n + 1] = k;
            lens[n + 1] = len;
            n++;
        }
        if (n > 0 && (n == BATCH || more == 0)) {
            argv[0] = "UNLINK";
            lens[0] = 6;
            for (int i = 1; i <= n; i++)
                argv[i] = keys[i];
            rc = acio_redis_command_argv(f->conn, NULL, n + 1, argv, lens);
            for (int i = 1; i <= n; i++)
                acio__free(keys[i]);
            n = 0;
            if (rc < 0)
                break;
        }
        if (more == 0)
            break;
    }
    for (int i = 1; i <= n; i++)
        acio__free(keys[i]);
    acio_redis_scan_free(s);
    if (rc == 0)
        memset(&f->st, 0, sizeof f->st);
    /* The config went with the rest: write this process's settings back. */
    if (rc == 0) {
        char bits[8];
        snprintf(bits, sizeof bits, "%u", f->bits);
        const char *args[] = {ACIO__RF_FORMAT, bits, f->limit_s, f->delay_s, f->lease_s};
        acio_redis_reply_t *r = NULL;
        rc = eval(f, ACIO__RF_INIT, 5, args, NULL, &r);
        acio_redis_reply_free(r);
    }
    return rc;
}

/* ---- names ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int acio__rfrontier_name_from_seeds(char out[17], const char *const *seeds, size_t n)
{
    const char **sorted = acio__malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return -ENOMEM;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        sorted[i] = seeds[i];
        total += strlen(seeds[i]) + 1;
    }
    qsort(sorted, n, sizeof *sorted, cmp_str);
    char *buf = acio__malloc(total ? total : 1);
    if (!buf) {
        acio__free(sorted);
        return -ENOMEM;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !strcmp(sorted[i], sorted[i - 1]))
            continue;
        size_t l = strlen(sorted[i]);
        memcpy(buf + len, sorted[i], l);
        buf[len + l] = '\n';
        len += l + 1;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)acio_seen_fingerprint(buf, len));
    acio__free(buf);
    acio__free(sorted);
    return 0;
}
