/* robots.txt for the crawler: fetched once per host key, the first time a URL of that
 * host is about to be fetched; tasks that ask while it is being fetched wait for it.
 * The rules come from acio/robots.h (RFC 9309: longest match, user-agent groups); a
 * 4xx allows everything, a 5xx or a network error disallows everything (the RFC's
 * "unreachable"); Crawl-delay becomes the host's politeness delay in the frontier. The
 * robots.txt request itself is not held back by the host's delay. */
#include <errno.h>
#include <string.h>

#include "crawl/crawl_int.h"
#include "internal.h"

typedef struct {
    acio_robots_t *rules; /* NULL while fetching, or if no rules could be made */
    acio_event_t *ready;
    bool done;
} robots_entry_t;

/* The product token of the user agent: "acio-crawl/0.1 (+url)" -> "acio-crawl". */
static void product_token(const char *ua, char *dst, size_t cap)
{
    size_t n = strcspn(ua, "/ ");
    if (n == 0 || n >= cap) {
        snprintf(dst, cap, "acio-crawl");
        return;
    }
    memcpy(dst, ua, n);
    dst[n] = '\0';
}

static acio_robots_t *fetch_rules(acio__crawl_t *c, const char *host)
{
    char url[600];
    snprintf(url, sizeof url, "%s/robots.txt", host);
    char token[64];
    product_token(c->o.user_agent, token, sizeof token);
    acio_http_request_opts_t ro = {.timeout = &c->tmo, .max_redirects = 5};
    acio_http_response_t *r = NULL;
    acio_robots_t *rules = NULL;
    c->st.robots_fetched++;
    int rc = acio_http_request(c->session, "GET", url, &ro, &r);
    int status = rc < 0 ? 0 : acio_http_response_status(r);
    if (rc == 0 && status >= 200 && status < 300) {
        const void *body;
        size_t len;
        rc = acio_http_response_read(r, &body, &len);
        if (rc == 0)
            rc = acio_robots_parse(body, len, token, &rules);
        else
            status = 0; /* the body failed: unreachable */
    }
    if (!rules && rc != -ENOMEM && !(status >= 200 && status < 300)) {
        rc = acio_robots_for_status(status, &rules);
        acio__crawl_log(c, status >= 400 && status < 500 ? 2 : 1, "robots.txt of %s: %s%s", host,
                        status ? "status " : "unreachable, nothing allowed",
                        status ? (status >= 500 ? "5xx, nothing allowed" : "4xx, all allowed")
                               : "");
    }
    acio_http_response_release(r);
    if (rules) {
        double d = acio_robots_crawl_delay(rules);
        if (d > 0)
            (void)c->frontier->ops->set_host_delay(c->frontier, host, d);
    }
    return rules;
}

bool acio__crawl_robots_allowed(acio__crawl_t *c, const acio_url_t *url, const char *host)
{
    robots_entry_t *e = acio__strmap_get(&c->robots, host);
    if (!e) {
        e = acio__calloc(1, sizeof *e);
        if (!e)
            return true; /* no memory to remember the rules: fetch without them */
        if (acio_event_new(&e->ready) < 0 || acio__strmap_put(&c->robots, host, e) < 0) {
            if (e->ready)
                acio_event_free(e->ready);
            acio__free(e);
            return true;
        }
        e->rules = fetch_rules(c, host);
        e->done = true;
        acio_event_set(e->ready);
    } else if (!e->done) {
        if (acio_event_wait(e->ready) < 0)
            return true; /* cancelled: the fetch fails on its own */
    }
    return !e->rules || acio_robots_allowed_url(e->rules, url);
}

static void entry_free(void *v)
{
    robots_entry_t *e = v;
    acio_robots_free(e->rules);
    acio_event_free(e->ready);
    acio__free(e);
}

void acio__crawl_robots_free(acio__crawl_t *c)
{
    acio__strmap_clear(&c->robots, entry_free);
}
