/* The session's DNS cache: getaddrinfo results kept for a short time (aiohttp keeps
 * them 10 s), so a burst of requests to one host resolves it once. An entry is
 * reference counted: a request connecting with its addresses keeps them alive even if
 * the entry expires or the session closes meanwhile. */
#include <stdio.h>
#include <string.h>

#include "http/client_int.h"

static void dns_free(hc_dns_t *d)
{
    if (d->res)
        freeaddrinfo(d->res);
    acio__free(d->key);
    acio__free(d);
}

void hc_dns_put(hc_dns_t *d)
{
    if (d && --d->refs == 0)
        dns_free(d);
}

static void unlink_entry(acio_http_session_t *s, hc_dns_t *d)
{
    hc_dns_t **pp = &s->dns;
    while (*pp && *pp != d)
        pp = &(*pp)->next;
    if (*pp)
        *pp = d->next;
    d->next = NULL;
}

/* The user's resolver under the request's deadline (a timeout scope: the task is
 * cancelled inside the resolver when it passes), or libc's through the loop. */
static int resolve(acio_http_session_t *s, const char *host, int port, double timeout,
                   struct addrinfo **res)
{
    if (!s->o.resolver) {
        char pbuf[16];
        snprintf(pbuf, sizeof pbuf, "%d", port);
        struct addrinfo hints = {0};
        hints.ai_socktype = SOCK_STREAM;
        return acio_loop_getaddrinfo(s->loop, host, pbuf, &hints, res, timeout);
    }
    acio_timeout_t scope;
    int rc = 0;
    if (timeout > 0)
        rc = acio_timeout_enter(&scope, timeout);
    if (rc < 0)
        return rc;
    struct addrinfo *r = NULL;
    rc = s->o.resolver(s->o.resolver_data, host, port, &r);
    if (timeout > 0) {
        bool expired = acio_timeout_expired(&scope);
        rc = acio_timeout_exit(&scope, rc);
        /* A resolver that answered without awaiting after the deadline passed: the
         * deadline still wins (its cancellation was consumed by the scope's exit). */
        if (rc == 0 && expired)
            rc = -ETIMEDOUT;
    }
    if (rc == 0 && !r)
        rc = -ENXIO;
    if (rc < 0) {
        if (r)
            freeaddrinfo(r);
        return rc;
    }
    *res = r;
    return 0;
}

int hc_dns_get(acio_http_session_t *s, const char *host, int port, double timeout, hc_dns_t **out)
{
    char key[300];
    int n = snprintf(key, sizeof key, "%s:%d", host, port);
    if (n < 0 || (size_t)n >= sizeof key)
        return -ENAMETOOLONG;
    double now = acio_loop_time(s->loop);
    bool cache = s->o.dns_ttl > 0;
    if (cache) {
        for (hc_dns_t *d = s->dns; d; d = d->next) {
            if (strcmp(d->key, key) != 0)
                continue;
            if (d->expires > now) {
                d->refs++;
                *out = d;
                return 0;
            }
            unlink_entry(s, d);
            hc_dns_put(d);
            break;
        }
    }
    hc_dns_t *d = acio__calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->key = acio__strdup(key);
    if (!d->key) {
        acio__free(d);
        return -ENOMEM;
    }
    int rc = resolve(s, host, port, timeout, &d->res);
    if (rc < 0) {
        d->res = NULL;
        dns_free(d);
        return rc;
    }
    d->refs = 1;
    if (cache && !s->closed && !s->loop_gone) {
        d->expires = acio_loop_time(s->loop) + s->o.dns_ttl;
        d->refs++;
        d->next = s->dns;
        s->dns = d;
    }
    *out = d;
    return 0;
}

void hc_dns_clear(acio_http_session_t *s)
{
    while (s->dns) {
        hc_dns_t *d = s->dns;
        s->dns = d->next;
        hc_dns_put(d);
    }
}
