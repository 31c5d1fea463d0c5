/* Redis connection URLs, as redis-py's from_url reads them:
 *   redis://[[username]:password@]host[:port][/db][?protocol=3&client_name=x&db=n]
 *   rediss://...            (the same over TLS)
 *   unix://[[username]:password@]/path/to/socket[?db=n]
 * Percent-escapes in the user, password and path are decoded. */
#include <stdlib.h>
#include <string.h>

#include "redis_int.h"

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Copy s[0..n) percent-decoded to *p, NUL-terminate, advance *p. */
static int put_decoded(char **p, const char *s, size_t n, const char **out)
{
    char *d = *p;
    *out = d;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n)
                return -EINVAL;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            char ch = (char)(hi * 16 + lo);
            if (ch == '\0')
                return -EINVAL;
            *d++ = ch;
            i += 2;
        } else {
            *d++ = s[i];
        }
    }
    *d++ = '\0';
    *p = d;
    return 0;
}

static int parse_int(const char *s, size_t n, long lo, long hi, long *out)
{
    if (n == 0 || n > 9)
        return -EINVAL;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_query(acio_redis_opts_t *o, const char *q, char **p)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        if (!eq)
            return -EINVAL;
        size_t klen = (size_t)(eq - q), vlen = n - klen - 1;
        const char *v = eq + 1;
        long num;
        if (klen == 2 && memcmp(q, "db", 2) == 0) {
            if (parse_int(v, vlen, 0, 1000000, &num) < 0)
                return -EINVAL;
            o->db = (int)num;
        } else if (klen == 8 && memcmp(q, "protocol", 8) == 0) {
            if (parse_int(v, vlen, 2, 3, &num) < 0)
                return -EINVAL;
            o->protocol = (int)num;
        } else if ((klen == 11 && memcmp(q, "client_name", 11) == 0) ||
                   (klen == 4 && memcmp(q, "name", 4) == 0)) {
            if (put_decoded(p, v, vlen, &o->client_name) < 0)
                return -EINVAL;
        } else {
            return -EINVAL; /* an option we do not know is an option we would ignore */
        }
        q += n + (amp ? 1 : 0);
    }
    return 0;
}

int acio_redis_opts_from_url(acio_redis_opts_t *o, const char *url, char **storage)
{
    if (!o || !url || !storage)
        return -EINVAL;
    *storage = NULL;
    memset(o, 0, sizeof(*o));
    const char *rest;
    bool is_unix = false;
    if (strncmp(url, "redis://", 8) == 0)
        rest = url + 8;
    else if (strncmp(url, "rediss://", 9) == 0)
        rest = url + 9;
    else if (strncmp(url, "unix://", 7) == 0)
        rest = url + 7, is_unix = true;
    else
        return -EINVAL;
    char *store = malloc(strlen(url) * 2 + 8);
    if (!store)
        return -ENOMEM;
    char *p = store;
    int rc = -EINVAL;

    const char *query = strchr(rest, '?');
    size_t mainlen = query ? (size_t)(query - rest) : strlen(rest);
    /* userinfo: up to the last '@' before the path */
    const char *at = NULL;
    for (size_t i = 0; i < mainlen; i++) {
        if (!is_unix && rest[i] == '/')
            break;
        if (rest[i] == '@')
            at = rest + i;
    }
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        if (colon) {
            if (colon > rest && put_decoded(&p, rest, (size_t)(colon - rest), &o->username) < 0)
                goto out;
            if (put_decoded(&p, colon + 1, (size_t)(at - colon - 1), &o->password) < 0)
                goto out;
        } else if (at > rest) {
            /* redis://password@host is how older clients spelled a password alone */
            if (put_decoded(&p, rest, (size_t)(at - rest), &o->password) < 0)
                goto out;
        }
        mainlen -= (size_t)(at + 1 - rest);
        rest = at + 1;
    }
    if (is_unix) {
        if (mainlen == 0 || rest[0] != '/')
            goto out;
        if (put_decoded(&p, rest, mainlen, &o->unix_path) < 0)
            goto out;
    } else {
        const char *slash = memchr(rest, '/', mainlen);
        size_t hostport = slash ? (size_t)(slash - rest) : mainlen;
        const char *host = rest;
        size_t hostlen = hostport;
        const char *portstr = NULL;
        size_t portlen = 0;
        if (hostport > 0 && rest[0] == '[') {
            const char *close = memchr(rest, ']', hostport);
            if (!close)
                goto out;
            host = rest + 1;
            hostlen = (size_t)(close - rest - 1);
            if ((size_t)(close - rest) + 1 < hostport) {
                if (close[1] != ':')
                    goto out;
                portstr = close + 2;
                portlen = hostport - (size_t)(close - rest) - 2;
            }
        } else {
            const char *colon = memchr(rest, ':', hostport);
            if (colon) {
                hostlen = (size_t)(colon - rest);
                portstr = colon + 1;
                portlen = hostport - hostlen - 1;
            }
        }
        if (hostlen > 0 && put_decoded(&p, host, hostlen, &o->host) < 0)
            goto out;
        if (portstr) {
            long port;
            if (parse_int(portstr, portlen, 1, 65535, &port) < 0)
                goto out;
            o->port = (int)port;
        }
        if (slash && mainlen - hostport > 1) {
            long db;
            if (parse_int(slash + 1, mainlen - hostport - 1, 0, 1000000, &db) < 0)
                goto out;
            o->db = (int)db;
        }
    }
    if (query && parse_query(o, query + 1, &p) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0) {
        free(store);
        memset(o, 0, sizeof(*o));
        return rc;
    }
    *storage = store;
    return 0;
}
