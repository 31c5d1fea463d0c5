/* robots.txt for the crawler: fetched once per host key, the first time a URL of that
 * host is about to be fetched; tasks that ask while it is being fetched wait for it.
 * The rules come from acio/robots.h (RFC 9309: longest match, user-agent groups); a
 * 4xx allows everything; a 5xx or a network error makes the host "unreachable" (RFC 9309
 * 2.3.1.4: crawl nothing), and its URLs fail with the robots.txt request's error (the
 * network error's code, or ACIO_ECRAWL_ROBOTS for a 5xx), so that a host that is down
 * shows up as failures, not as refusals; Crawl-delay becomes the host's politeness delay in the
 * frontier. The robots.txt request itself is not held back by the host's delay. */
#include <errno.h>
#include <string.h>

#include "crawl/crawl_int.h"
#include "internal.h"

typedef struct {
    acio_robots_t *rules; /* NULL while fetching, or if no rules could be made */
    int unreachable;      /* 0, or the code every URL of the host fails with */
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

static acio_robots_t *fetch_rules(acio__crawl_t *c, const char *host, int *unreachable)
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
    if (!rules && rc != -ENOMEM && status >= 400 && status < 500) {
        acio__crawl_log(c, 2, "robots.txt of %s: status %d, everything allowed", host, status);
    } else if (!rules && rc != -ENOMEM && !(status >= 200 && status < 300)) {
        *unreachable = status ? ACIO_ECRAWL_ROBOTS : (rc < 0 ? rc : ACIO_ECRAWL_ROBOTS);
        acio__crawl_log(c, 1, "%s/robots.txt: %s: the host's URLs are not fetched (RFC 9309)", host,
                        status ? "server error" : acio_strerror(*unreachable));
    }
    acio_http_response_release(r);
    if (rules) {
        double d = acio_robots_crawl_delay(rules);
        if (d > 0)
            (void)c->frontier->ops->set_host_delay(c->frontier, host, d);
    }
    return rules;
}

int acio__crawl_robots_allowed(acio__crawl_t *c, const acio_url_t *url, const char *host)
{
    robots_entry_t *e = acio__strmap_get(&c->robots, host);
    if (!e) {
        e = acio__calloc(1, sizeof *e);
        if (!e)
            return 1; /* no memory to remember the rules: fetch without them */
        if (acio_event_new(&e->ready) < 0 || acio__strmap_put(&c->robots, host, e) < 0) {
            if (e->ready)
                acio_event_free(e->ready);
            acio__free(e);
            return 1;
        }
        e->rules = fetch_rules(c, host, &e->unreachable);
        e->done = true;
        acio_event_set(e->ready);
    } else if (!e->done) {
        if (acio_event_wait(e->ready) < 0)
            return -ECANCELED;
    }
    if (e->unreachable)
        return e->unreachable;
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
