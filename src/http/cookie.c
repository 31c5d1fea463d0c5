/* The session's cookie jar (aiohttp's CookieJar): Set-Cookie fields stored and sent back
 * by the rules of RFC 6265 section 5: Domain (host-only unless given, and only a domain
 * the request's host belongs to), Path (the default path when absent), Expires and
 * Max-Age (Max-Age wins; a past date deletes), Secure (sent only over https, and set only
 * from https), HttpOnly (kept; it does not restrict a client that is not a browser). A
 * cookie with the same name, domain and path replaces the old one. Cookies sent are
 * ordered longest path first. There is no public-suffix list (see docs/deviations.md);
 * a Domain attribute without a dot is refused unless it equals the host. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/client_int.h"

typedef struct hc_cookie_s {
    struct hc_cookie_s *next;
    char *name, *value, *domain, *path; /* one block, name first */
    time_t expires;                     /* 0: a session cookie */
    bool host_only, secure, http_only;
    unsigned long order;
} cookie_t;

static unsigned long next_order;

static void cookie_free(cookie_t *c)
{
    acio__free(c->name);
    acio__free(c);
}

void hc_cookies_free(acio_http_session_t *s)
{
    while (s->cookies) {
        cookie_t *c = s->cookies;
        s->cookies = c->next;
        cookie_free(c);
    }
}

static bool domain_match(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    if (hl == dl)
        return strcmp(host, domain) == 0;
    return hl > dl && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, domain) == 0;
}

static bool path_match(const char *req, const char *cp)
{
    size_t n = strlen(cp);
    if (strncmp(req, cp, n) != 0)
        return false;
    return req[n] == '\0' || cp[n - 1] == '/' || req[n] == '/';
}

static time_t parse_date(const char *v)
{
    static const char *fmts[] = {"%a, %d %b %Y %H:%M:%S", "%a, %d-%b-%Y %H:%M:%S",
                                 "%a, %d-%b-%y %H:%M:%S", "%a %b %d %H:%M:%S %Y"};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        if (strptime(v, fmts[i], &tm))
            return timegm(&tm);
    }
    return (time_t)-1;
}

static char *trim(char *p, char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *end = '\0';
    return p;
}

/* Parse one Set-Cookie value (copied into tmp) and store it. */
static void store_one(acio_http_session_t *s, const acio_url_t *url, const char *sc)
{
    size_t len = strlen(sc);
    if (len > 8192)
        return;
    char *tmp = acio__malloc(len + 1);
    if (!tmp)
        return;
    memcpy(tmp, sc, len + 1);
    char *semi = strchr(tmp, ';');
    char *pair_end = semi ? semi : tmp + len;
    char *eq = memchr(tmp, '=', (size_t)(pair_end - tmp));
    if (!eq) {
        acio__free(tmp);
        return;
    }
    char *name = trim(tmp, eq);
    char *value = trim(eq + 1, pair_end);
    if (!*name) {
        acio__free(tmp);
        return;
    }
    char *domain = NULL, *path = NULL;
    bool secure = false, http_only = false, have_max_age = false;
    time_t expires = 0, now = time(NULL);
    char *attr = semi ? semi + 1 : NULL;
    while (attr) {
        char *next = strchr(attr, ';');
        char *aend = next ? next : attr + strlen(attr);
        char *aeq = memchr(attr, '=', (size_t)(aend - attr));
        char *an = trim(attr, aeq ? aeq : aend);
        char *av = aeq ? trim(aeq + 1, aend) : "";
        if (strcasecmp(an, "domain") == 0 && *av) {
            while (*av == '.')
                av++;
            for (char *p = av; *p; p++)
                *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            domain = av;
        } else if (strcasecmp(an, "path") == 0) {
            path = av[0] == '/' ? av : NULL;
        } else if (strcasecmp(an, "max-age") == 0 && *av) {
            char *e;
            long long ma = strtoll(av, &e, 10);
            if (!*e) {
                have_max_age = true;
                expires = ma <= 0 ? 1 : now + (time_t)ma;
            }
        } else if (strcasecmp(an, "expires") == 0 && !have_max_age) {
            time_t t = parse_date(av);
            if (t != (time_t)-1)
                expires = t <= 0 ? 1 : t;
        } else if (strcasecmp(an, "secure") == 0) {
            secure = true;
        } else if (strcasecmp(an, "httponly") == 0) {
            http_only = true;
        }
        attr = next ? next + 1 : NULL;
    }
    const char *host = url->host;
    bool https = strcmp(url->scheme, "https") == 0;
    if (secure && !https)
        goto out; /* RFC 6265bis: only a secure origin sets a Secure cookie */
    bool host_only = domain == NULL;
    if (domain) {
        if (!domain_match(host, domain) || (!strchr(domain, '.') && strcmp(domain, host) != 0))
            goto out;
    } else {
        domain = (char *)host;
    }
    char defpath[1024];
    if (!path) {
        const char *up = url->path;
        const char *slash = strrchr(up, '/');
        size_t n = (up[0] != '/' || !slash || slash == up) ? 1 : (size_t)(slash - up);
        if (n >= sizeof defpath)
            n = 1;
        memcpy(defpath, up[0] == '/' ? up : "/", n);
        defpath[n] = '\0';
        path = defpath;
    }
    /* Replace or delete an existing one. */
    for (cookie_t **pp = &s->cookies; *pp; pp = &(*pp)->next) {
        cookie_t *c = *pp;
        if (!strcmp(c->name, name) && !strcmp(c->domain, domain) && !strcmp(c->path, path)) {
            *pp = c->next;
            cookie_free(c);
            break;
        }
    }
    if (expires && expires <= now)
        goto out; /* expired: a deletion */
    size_t nl = strlen(name) + 1, vl = strlen(value) + 1, dl = strlen(domain) + 1,
           pl = strlen(path) + 1;
    cookie_t *c = acio__calloc(1, sizeof *c);
    char *blk = c ? acio__malloc(nl + vl + dl + pl) : NULL;
    if (!blk) {
        acio__free(c);
        goto out;
    }
    c->name = memcpy(blk, name, nl);
    c->value = memcpy(blk + nl, value, vl);
    c->domain = memcpy(blk + nl + vl, domain, dl);
    c->path = memcpy(blk + nl + vl + dl, path, pl);
    c->expires = expires;
    c->host_only = host_only;
    c->secure = secure;
    c->http_only = http_only;
    c->order = next_order++;
    c->next = s->cookies;
    s->cookies = c;
out:
    acio__free(tmp);
}

void hc_cookies_store(acio_http_session_t *s, const acio_url_t *url, const acio_http_response_t *r)
{
    if (!url->host)
        return;
    size_t n = acio_http_response_header_count(r);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        acio_http_response_header_at(r, i, &name, &value);
        if (strcasecmp(name, "set-cookie") == 0)
            store_one(s, url, value);
    }
}

size_t hc_cookies_header(acio_http_session_t *s, const acio_url_t *url, char *dst, size_t cap)
{
    if (!s->cookies || !url->host)
        return 0;
    time_t now = time(NULL);
    bool https = strcmp(url->scheme, "https") == 0;
    const char *path = url->path[0] ? url->path : "/";
    /* Matching cookies, longest path first, then oldest first (RFC 6265 5.4). */
    cookie_t *m[64];
    size_t nm = 0;
    for (cookie_t **pp = &s->cookies; *pp;) {
        cookie_t *c = *pp;
        if (c->expires && c->expires <= now) {
            *pp = c->next;
            cookie_free(c);
            continue;
        }
        pp = &c->next;
        bool dom =
            c->host_only ? strcmp(url->host, c->domain) == 0 : domain_match(url->host, c->domain);
        if (dom && path_match(path, c->path) && (!c->secure || https) && nm < 64)
            m[nm++] = c;
    }
    if (!nm)
        return 0;
    for (size_t i = 1; i < nm; i++) {
        cookie_t *c = m[i];
        size_t j = i;
        while (j > 0 &&
               (strlen(m[j - 1]->path) < strlen(c->path) ||
                (strlen(m[j - 1]->path) == strlen(c->path) && m[j - 1]->order > c->order))) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = c;
    }
    size_t len = 0;
#define PUT(str, n)                                                                                \
    do {                                                                                           \
        if (len + (n) <= cap)                                                                      \
            memcpy(dst + len, str, n);                                                             \
        len += (n);                                                                                \
    } while (0)
    PUT("Cookie: ", 8);
    for (size_t i = 0; i < nm; i++) {
        if (i)
            PUT("; ", 2);
        PUT(m[i]->name, strlen(m[i]->name));
        PUT("=", 1);
        PUT(m[i]->value, strlen(m[i]->value));
    }
    PUT("\r\n", 2);
#undef PUT
    return len;
}
