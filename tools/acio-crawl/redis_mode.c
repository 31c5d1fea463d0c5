/* acio-crawl --redis (redis_mode.h): the program's side of the shared frontier. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acio.h>

#include "crawl/redis_frontier.h"
#include "redis_mode.h"

/* The seeds for the default name: URL arguments, and the URL lines of files (the same
 * rules as the crawl's reader: trimmed, blank lines and # comments skipped). */
static int collect(char *const *args, size_t n, char ***out, size_t *count)
{
    char **v = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        FILE *f = NULL;
        if (!strstr(args[i], "://") && !(f = fopen(args[i], "r"))) {
            rc = -errno;
            break;
        }
        char *line = NULL;
        size_t lcap = 0;
        bool once = !f;
        for (;;) {
            const char *s;
            if (once) {
                s = args[i];
            } else {
                if (getline(&line, &lcap, f) < 0)
                    break;
                char *t = line + strspn(line, " \t");
                size_t l = strlen(t);
                while (l && strchr("\r\n \t", t[l - 1]))
                    t[--l] = '\0';
                if (!l || t[0] == '#')
                    continue;
                s = t;
            }
            if (len == cap) {
                char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof *v);
                if (!nv) {
                    rc = -ENOMEM;
                    break;
                }
                v = nv;
                cap = cap ? cap * 2 : 16;
            }
            if (!(v[len] = strdup(s))) {
                rc = -ENOMEM;
                break;
            }
            len++;
            if (once)
                break;
        }
        free(line);
        if (f)
            fclose(f);
    }
    *out = v;
    *count = len;
    return rc;
}

int redis_mode_open(redis_mode_t *r, acio__crawl_opts_t *o, char *const *seeds, size_t nseeds,
                    bool *usage)
{
    *usage = false;
    if (o->state_dir) {
        fprintf(stderr, "acio-crawl: --redis and --state do not go together: the shared "
                        "frontier in Redis is what survives a process's death\n");
        *usage = true;
        return -1;
    }
    const char *name = r->key;
    if (!name) {
        for (size_t i = 0; i < nseeds; i++)
            if (!strcmp(seeds[i], "-")) {
                fprintf(stderr, "acio-crawl: seeds from stdin need --redis-key NAME (every "
                                "process of the crawl must find the same name)\n");
                *usage = true;
                return -1;
            }
        char **v = NULL;
        size_t n = 0;
        int rc = collect(seeds, nseeds, &v, &n);
        if (rc == 0)
            rc = acio__rfrontier_name_from_seeds(r->name, (const char *const *)v, n);
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        if (rc < 0) {
            /* The crawl reports an unreadable file itself; a name is still needed. */
            fprintf(stderr, "acio-crawl: cannot derive the --redis-key from the seeds: %s\n",
                    acio_strerror(rc));
            *usage = true;
            return -1;
        }
        name = r->name;
    }
    acio__frontier_opts_t fo = {.per_host_limit = o->per_host ? o->per_host : 8,
                                .default_delay = o->delay};
    acio__frontier_redis_opts_t ro = {
        .url = r->url, .name = name, .lease_seconds = r->lease, .reset = r->reset};
    const char *msg = "";
    int rc = acio__frontier_redis_new(&r->frontier, &fo, &ro, &msg);
    if (rc < 0) {
        fprintf(stderr, "acio-crawl: --redis %s: %s (%s)\n", r->url, acio_strerror(rc), msg);
        *usage = rc == -EINVAL;
        return -1;
    }
    o->frontier = r->frontier;
    return 0;
}

static void print_counter(void *arg, const char *name, long long value)
{
    FILE *out = arg;
    fprintf(out, " %s=%lld", name, value);
}

void redis_mode_finish(redis_mode_t *r, const acio__crawl_stats_t *st, bool quiet)
{
    acio__rfrontier_t *rf = acio__frontier_redis_of(r->frontier);
    if (!rf)
        return;
    struct {
        const char *name;
        unsigned long long v;
    } totals[] = {{"pages", st->fetched},       {"ok", st->ok},
                  {"parsed", st->parsed},       {"failed", st->failed},
                  {"redirects", st->redirects}, {"robots_disallowed", st->robots_disallowed},
                  {"retries", st->retries},     {"links", st->links},
                  {"bytes", st->bytes},         {"processes", 1}};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof totals / sizeof totals[0]; i++)
        if (totals[i].v)
            rc = acio__rfrontier_count(rf, totals[i].name, (long long)totals[i].v);
    for (size_t i = 0; rc == 0 && i < st->nreasons; i++) {
        char name[64];
        snprintf(name, sizeof name, "failed:%s", st->reasons[i].name);
        rc = acio__rfrontier_count(rf, name, (long long)st->reasons[i].count);
    }
    if (rc == 0)
        rc = acio__rfrontier_counters(rf, NULL, NULL);
    if (rc < 0) {
        fprintf(stderr, "acio-crawl: --redis: could not record this process's totals: %s\n",
                acio_strerror(rc));
        return;
    }
    if (quiet)
        return;
    acio__rfrontier_stats_t fs;
    acio__rfrontier_stats(rf, &fs);
    const char *prefix = acio__rfrontier_prefix(rf); /* "acio-crawl:{NAME}:" */
    fprintf(stderr, "redis crawl %.*s: ", (int)strlen(prefix) - 1, prefix);
    if (fs.queued || fs.leased) {
        fprintf(stderr, "%zu URLs queued and %zu being fetched by other processes\n", fs.queued,
                fs.leased);
        return;
    }
    fprintf(stderr, "over; crawl-wide counters (of the processes finished so far):");
    (void)acio__rfrontier_counters(rf, print_counter, stderr);
    fputc('\n', stderr);
}
