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
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%d", port);
    struct addrinfo hints = {0};
    hints.ai_socktype = SOCK_STREAM;
    int rc = acio_loop_getaddrinfo(s->loop, host, pbuf, &hints, &d->res, timeout);
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
