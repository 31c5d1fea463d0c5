/* Which discovered links the crawler follows: links stay on the seeds' hosts (and the
 * hosts a seed redirected to), or on --allow-domain domains and their subdomains, and
 * never match a --deny-pattern regex. Also the politeness key of a URL. */
#include <errno.h>
#include <string.h>

#include "crawl/crawl_int.h"
#include "internal.h"

size_t acio__crawl_host_key(const acio_url_t *url, char *dst, size_t cap)
{
    size_t n = (size_t)snprintf(dst, cap, "%s://", url->scheme);
    if (n >= cap)
        return n;
    return n + acio_url_authority(url, ACIO_URL_WITH_PORT, dst + n, cap - n);
}

int acio__crawl_add_host(acio__crawl_t *c, const char *host)
{
    if (acio__strmap_get(&c->seed_hosts, host))
        return 0;
    return acio__strmap_put(&c->seed_hosts, host, (void *)1);
}

static bool domain_match(const char *host, const char *dom)
{
    size_t hl = strlen(host), dl = strlen(dom);
    if (hl == dl)
        return strcasecmp(host, dom) == 0;
    return hl > dl && host[hl - dl - 1] == '.' && strcasecmp(host + hl - dl, dom) == 0;
}

bool acio__crawl_follow(acio__crawl_t *c, const acio_url_t *url)
{
    if (!url->host || !acio__strmap_get(&c->seed_hosts, url->host)) {
        bool ok = false;
        for (size_t i = 0; i < c->o.nallow && !ok && url->host; i++)
            ok = domain_match(url->host, c->o.allow_domains[i]);
        if (!ok)
            return false;
    }
    for (size_t i = 0; i < c->ndeny; i++)
        if (regexec(&c->deny[i], url->href, 0, NULL, 0) == 0)
            return false;
    return true;
}

int acio__crawl_filter_init(acio__crawl_t *c, const char **msg)
{
    if (!c->o.ndeny)
        return 0;
    c->deny = acio__calloc(c->o.ndeny, sizeof *c->deny);
    if (!c->deny)
        return -ENOMEM;
    for (size_t i = 0; i < c->o.ndeny; i++) {
        int rc = regcomp(&c->deny[i], c->o.deny_patterns[i], REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char err[128];
            regerror(rc, &c->deny[i], err, sizeof err);
            snprintf(c->errmsg, sizeof c->errmsg, "--deny-pattern '%s': %s", c->o.deny_patterns[i],
                     err);
            *msg = c->errmsg;
            return -EINVAL;
        }
        c->ndeny++;
    }
    return 0;
}

void acio__crawl_filter_free(acio__crawl_t *c)
{
    for (size_t i = 0; i < c->ndeny; i++)
        regfree(&c->deny[i]);
    acio__free(c->deny);
    c->deny = NULL;
    c->ndeny = 0;
    acio__strmap_clear(&c->seed_hosts, NULL);
}
