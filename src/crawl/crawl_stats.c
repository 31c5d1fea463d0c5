/* The crawler's counters and what it tells people: the per-URL log lines (areq.py's
 * "aiohttp exception for URL [status]: message", here "ERROR: URL: reason (message)"),
 * failures counted by reason, and the final summary as text or as one JSON object. */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "crawl/crawl_int.h"
#include "internal.h"

void acio__crawl_reason_of(int rc, int status, char *dst, size_t cap)
{
    if (rc == ACIO_ECRAWL_STATUS || (rc == 0 && status >= 400)) {
        snprintf(dst, cap, "http_%d", status);
        return;
    }
    const char *n = acio_err_name(rc);
    if (strncmp(n, "ACIO_", 5) == 0)
        n += 5;
    snprintf(dst, cap, "%s", n);
}

void acio__crawl_count_failure(acio__crawl_t *c, const char *reason)
{
    c->st.failed++;
    for (size_t i = 0; i < c->st.nreasons; i++) {
        if (strcmp(c->st.reasons[i].name, reason) == 0) {
            c->st.reasons[i].count++;
            return;
        }
    }
    size_t i =
        c->st.nreasons < ACIO__CRAWL_MAX_REASONS ? c->st.nreasons++ : ACIO__CRAWL_MAX_REASONS - 1;
    if (i == ACIO__CRAWL_MAX_REASONS - 1 && c->st.reasons[i].count &&
        strcmp(c->st.reasons[i].name, "other") != 0) {
        snprintf(c->st.reasons[i].name, sizeof c->st.reasons[i].name, "other");
    } else if (!c->st.reasons[i].count) {
        snprintf(c->st.reasons[i].name, sizeof c->st.reasons[i].name, "%s", reason);
    }
    c->st.reasons[i].count++;
}

void acio__crawl_log(acio__crawl_t *c, int level, const char *fmt, ...)
{
    if (level > c->o.verbosity || !c->o.log)
        return;
    char when[16];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%H-%M-%S", &tm);
    if (c->o.log_clears_line)
        fputs("\r\033[K", c->o.log);
    fprintf(c->o.log, "%s %s: acio-crawl: ", when, level <= 1 ? "ERROR" : "INFO");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->o.log, fmt, ap);
    va_end(ap);
    fputc('\n', c->o.log);
}

static double rate(const acio__crawl_stats_t *st)
{
    return st->elapsed > 0 ? (double)st->fetched / st->elapsed : 0;
}

char *acio__crawl_stats_json(const acio__crawl_stats_t *st, const acio__crawl_opts_t *o)
{
    json_t *failed = json_object();
    for (size_t i = 0; failed && i < st->nreasons; i++)
        json_object_set_new(failed, st->reasons[i].name,
                            json_integer((json_int_t)st->reasons[i].count));
    json_t *j = json_pack(
        "{s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:s?,s:s?,s:s?}",
        "pages", (json_int_t)st->fetched, "ok", (json_int_t)st->ok, "parsed",
        (json_int_t)st->parsed, "failed", (json_int_t)st->failed, "failed_by_reason", failed,
        "redirects", (json_int_t)st->redirects, "robots_disallowed",
        (json_int_t)st->robots_disallowed, "robots_fetched", (json_int_t)st->robots_fetched,
        "retries", (json_int_t)st->retries, "links", (json_int_t)st->links, "discovered",
        (json_int_t)st->discovered, "queued", (json_int_t)st->queued, "bytes",
        (json_int_t)st->bytes, "resumed_done", (json_int_t)st->resumed_done, "warc_records",
        (json_int_t)st->warc_records, "time", st->elapsed, "pages_per_s", rate(st), "tsv",
        o ? o->tsv_path : NULL, "jsonl", o ? o->jsonl_path : NULL, "warc", o ? o->warc_path : NULL);
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

void acio__crawl_stats_print(const acio__crawl_stats_t *st, const acio__crawl_opts_t *o, FILE *out)
{
    fprintf(out, "pages fetched: %llu (%llu ok, %llu parsed as HTML, %llu redirects)\n",
            (unsigned long long)st->fetched, (unsigned long long)st->ok,
            (unsigned long long)st->parsed, (unsigned long long)st->redirects);
    fprintf(out, "failed: %llu", (unsigned long long)st->failed);
    for (size_t i = 0; i < st->nreasons; i++)
        fprintf(out, "%s%s %llu", i ? ", " : " (", st->reasons[i].name,
                (unsigned long long)st->reasons[i].count);
    fprintf(out, "%s\n", st->nreasons ? ")" : "");
    fprintf(out, "robots.txt: %llu fetched, %llu URLs disallowed; retries: %llu\n",
            (unsigned long long)st->robots_fetched, (unsigned long long)st->robots_disallowed,
            (unsigned long long)st->retries);
    fprintf(out, "links found: %llu (TSV rows), URLs discovered: %llu, left queued: %zu\n",
            (unsigned long long)st->links, (unsigned long long)st->discovered, st->queued);
    if (st->resumed_done || st->resumed_queued)
        fprintf(out, "resumed: %llu done before, %llu queued again\n",
                (unsigned long long)st->resumed_done, (unsigned long long)st->resumed_queued);
    fprintf(out, "bytes: %llu, time: %.2f s, %.1f pages/s\n", (unsigned long long)st->bytes,
            st->elapsed, rate(st));
    if (o && o->tsv_path)
        fprintf(out, "TSV written to %s\n", o->tsv_path);
    if (o && o->jsonl_path)
        fprintf(out, "JSONL written to %s\n", o->jsonl_path);
    if (o && o->warc_path)
        fprintf(out, "WARC written to %s (%llu exchanges)\n", o->warc_path,
                (unsigned long long)st->warc_records);
}
