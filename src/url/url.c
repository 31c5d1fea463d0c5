/* acio_url_t: parsing (RFC 3986 appendix B's split, then the authority checked part by
 * part), reference resolution (section 5.2), and normalisation (section 6.2.2 and the
 * http scheme rules of 6.2.3). A URL is built in one pass from spans of borrowed bytes
 * into a single owned block, so parse, join, normalise and copy share one builder. */
#include <string.h>

#include "url/url_int.h"

#define U ACIO__UNRESERVED
#define S ACIO__SUBDELIM
#define G ACIO__GENDELIM
#define C ACIO__SCHEME
#define H ACIO__HEX
const unsigned char acio__url_class[256] = {
    ['A' ... 'F'] = U | C | H,
    ['G' ... 'Z'] = U | C,
    ['a' ... 'f'] = U | C | H,
    ['g' ... 'z'] = U | C,
    ['0' ... '9'] = U | C | H,
    ['-'] = U | C,
    ['.'] = U | C,
    ['_'] = U,
    ['~'] = U,
    ['+'] = S | C,
    ['!'] = S,
    ['$'] = S,
    ['&'] = S,
    ['\''] = S,
    ['('] = S,
    [')'] = S,
    ['*'] = S,
    [','] = S,
    [';'] = S,
    ['='] = S,
    [':'] = G,
    ['/'] = G,
    ['?'] = G,
    ['#'] = G,
    ['['] = G,
    [']'] = G,
    ['@'] = G,
};
#undef U
#undef S
#undef G
#undef C
#undef H

static inline bool is_http_scheme(const char *s, size_t n)
{
    return (n == 4 && strncasecmp(s, "http", 4) == 0) ||
           (n == 5 && strncasecmp(s, "https", 5) == 0);
}

/* Strip leading/trailing C0 controls and spaces and drop tabs and newlines inside, as
 * urllib.parse.urlsplit and the WHATWG URL parser do. A NUL inside is an error (every
 * part must be a C string). *tmp is set when a copy was needed. */
static int clean(const char **sp, size_t *np, char **tmp)
{
    const char *s = *sp;
    size_t n = *np;
    *tmp = NULL;
    while (n && (unsigned char)s[0] <= 0x20)
        s++, n--;
    while (n && (unsigned char)s[n - 1] <= 0x20)
        n--;
    size_t drop = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (ACIO_UNLIKELY(c <= '\r')) {
            if (c == 0)
                return ACIO_EURL_INVALID;
            if (c == '\t' || c == '\n' || c == '\r')
                drop++;
        }
    }
    if (drop) {
        char *t = acio__malloc(n - drop + 1);
        if (!t)
            return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                t[o++] = s[i];
        t[o] = '\0';
        *tmp = t;
        s = t;
        n = o;
    }
    *sp = s;
    *np = n;
    return 0;
}

/* RFC 3986 appendix B: scheme, authority, path, query, fragment. */
static void split(const char *s, size_t n, acio__url_parts_t *pp, acio__span_t *auth)
{
    memset(pp, 0, offsetof(acio__url_parts_t, hostbuf));
    pp->port = -1;
    *auth = (acio__span_t){0};
    size_t i = 0;
    if (n && (acio__url_class[(unsigned char)s[0]] & ACIO__SCHEME) &&
        !(s[0] >= '0' && s[0] <= '9') && s[0] != '+' && s[0] != '-' && s[0] != '.') {
        size_t j = 1;
        while (j < n && (acio__url_class[(unsigned char)s[j]] & ACIO__SCHEME))
            j++;
        if (j < n && s[j] == ':') {
            pp->scheme = (acio__span_t){s, j, true};
            i = j + 1;
        }
    }
    if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        size_t j = i + 2;
        while (j < n && s[j] != '/' && s[j] != '?' && s[j] != '#')
            j++;
        *auth = (acio__span_t){s + i + 2, j - i - 2, true};
        pp->has_authority = true;
        i = j;
    }
    size_t j = i;
    while (j < n && s[j] != '?' && s[j] != '#')
        j++;
    pp->path = (acio__span_t){s + i, j - i, true};
    i = j;
    if (i < n && s[i] == '?') {
        j = i + 1;
        while (j < n && s[j] != '#')
            j++;
        pp->query = (acio__span_t){s + i + 1, j - i - 1, true};
        i = j;
    }
    if (i < n && s[i] == '#')
        pp->fragment = (acio__span_t){s + i + 1, n - i - 1, true};
}

/* authority = [ userinfo "@" ] host [ ":" port ] */
static int authority(acio__url_parts_t *pp, const char *a, size_t n)
{
    const char *at = memrchr(a, '@', n);
    if (at) {
        pp->userinfo = (acio__span_t){a, (size_t)(at - a), true};
        n -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    size_t hl;
    if (n && a[0] == '[') {
        const char *rb = memchr(a, ']', n);
        if (!rb)
            return ACIO_EURL_HOST;
        hl = (size_t)(rb - a) + 1;
        if (hl < n && a[hl] != ':')
            return ACIO_EURL_HOST;
    } else {
        const char *colon = memchr(a, ':', n);
        hl = colon ? (size_t)(colon - a) : n;
    }
    int rc = acio__url_host(pp, a, hl);
    if (rc)
        return rc;
    if (hl + 1 < n) {
        long port = 0;
        for (size_t i = hl + 1; i < n; i++) {
            if (a[i] < '0' || a[i] > '9')
                return ACIO_EURL_PORT;
            port = port * 10 + (a[i] - '0');
            if (port > 65535)
                return ACIO_EURL_PORT;
        }
        pp->port = (int)port;
    }
    return 0;
}

/* Bytes RFC 3986 does not allow anywhere in a URI, percent-encoded by normalisation
 * (browsers do the same before sending a request). */
static inline bool must_encode(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
           c == '`' || c == '{' || c == '|' || c == '}';
}

static const char hexdig[] = "0123456789ABCDEF";

/* Section 6.2.2.1-2: uppercase hex in percent-encodings, decode those of unreserved
 * characters, encode what must be encoded. A '%' not followed by two hex digits is kept
 * (browsers send it so). Writes at most 3*n bytes. */
size_t acio__url_pct_normalize(char *dst, const char *s, size_t n, bool fragment)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n) {
            int hi = acio__hexval((unsigned char)s[i + 1]);
            int lo = hi >= 0 ? acio__hexval((unsigned char)s[i + 2]) : -1;
            if (lo >= 0) {
                unsigned char v = (unsigned char)(hi << 4 | lo);
                if (acio__url_class[v] & ACIO__UNRESERVED) {
                    dst[o++] = (char)v;
                } else {
                    dst[o++] = '%';
                    dst[o++] = hexdig[hi];
                    dst[o++] = hexdig[lo];
                }
                i += 2;
                continue;
            }
        }
        if (must_encode(c) || (fragment && c == '#')) {
            dst[o++] = '%';
            dst[o++] = hexdig[c >> 4];
            dst[o++] = hexdig[c & 15];
        } else {
            dst[o++] = (char)c;
        }
    }
    return o;
}

/* Section 5.2.4, in place (the output never overtakes the input). */
static size_t remove_dot_segments(char *s, size_t n)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t r = n - i;
        const char *p = s + i;
        if (r >= 3 && p[0] == '.' && p[1] == '.' && p[2] == '/') {
            i += 3;
        } else if (r >= 2 && p[0] == '.' && p[1] == '/') {
            i += 2;
        } else if (r >= 3 && p[0] == '/' && p[1] == '.' && p[2] == '/') {
            i += 2;
        } else if (r == 2 && p[0] == '/' && p[1] == '.') {
            s[o++] = '/';
            i = n;
        } else if ((r >= 4 && memcmp(p, "/../", 4) == 0) || (r == 3 && memcmp(p, "/..", 3) == 0)) {
            while (o > 0 && s[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            if (r == 3) {
                s[o++] = '/';
                i = n;
            } else {
                i += 3;
            }
        } else if ((r == 1 && p[0] == '.') || (r == 2 && p[0] == '.' && p[1] == '.')) {
            i = n;
        } else {
            size_t j = i + (p[0] == '/');
            while (j < n && s[j] != '/')
                j++;
            memmove(s + o, s + i, j - i);
            o += j - i;
            i = j;
        }
    }
    return o;
}

static char *put(char **w, const char *s, size_t n)
{
    char *start = *w;
    if (n)
        memcpy(start, s, n);
    start[n] = '\0';
    *w = start + n + 1;
    return start;
}

static char *put_norm(char **w, const acio__span_t *sp, bool fragment)
{
    char *start = *w;
    size_t n = acio__url_pct_normalize(start, sp->p, sp->n, fragment);
    start[n] = '\0';
    *w = start + n + 1;
    return start;
}

/* Build url's strings from pp into a fresh block; on success the old block is freed. */
static int build(acio_url_t *url, const acio__url_parts_t *pp, unsigned flags, bool norm)
{
    size_t body = pp->scheme.n + pp->host.n + 3 * (pp->userinfo.n + pp->path.n + pp->query.n) +
                  3 * pp->fragment.n;
    if (body > SIZE_MAX / 4)
        return -ENOMEM;
    size_t total = 2 * body + 64;
    char *buf = acio__malloc(total);
    if (!buf)
        return -ENOMEM;
    char *w = buf;

    char *scheme = w;
    for (size_t i = 0; i < pp->scheme.n; i++) {
        char c = pp->scheme.p[i];
        scheme[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
    scheme[pp->scheme.n] = '\0';
    w += pp->scheme.n + 1;

    const char *userinfo = NULL, *host = NULL, *query = NULL, *fragment = NULL;
    if (pp->userinfo.set)
        userinfo =
            norm ? put_norm(&w, &pp->userinfo, false) : put(&w, pp->userinfo.p, pp->userinfo.n);
    if (pp->has_authority)
        host = put(&w, pp->host.p, pp->host.n);
    int dport = acio__url_default_port(scheme, pp->scheme.n);
    int port = pp->port;
    if (norm && port == dport)
        port = -1;

    char *path = w;
    size_t pn;
    if (norm) {
        pn = acio__url_pct_normalize(path, pp->path.p, pp->path.n, false);
        pn = remove_dot_segments(path, pn);
        if (pn == 0 && pp->has_authority)
            path[pn++] = '/';
    } else {
        pn = pp->path.n;
        if (pn)
            memcpy(path, pp->path.p, pn);
    }
    path[pn] = '\0';
    w += pn + 1;
    if (pp->query.set)
        query = norm ? put_norm(&w, &pp->query, false) : put(&w, pp->query.p, pp->query.n);
    if (pp->fragment.set && !(flags & ACIO_URL_DROP_FRAGMENT))
        fragment =
            norm ? put_norm(&w, &pp->fragment, true) : put(&w, pp->fragment.p, pp->fragment.n);

    char *href = w;
    memcpy(w, scheme, pp->scheme.n);
    w += pp->scheme.n;
    *w++ = ':';
    if (host) {
        *w++ = '/';
        *w++ = '/';
        if (userinfo) {
            size_t n = strlen(userinfo);
            memcpy(w, userinfo, n);
            w += n;
            *w++ = '@';
        }
        bool v6 = memchr(host, ':', pp->host.n) != NULL;
        if (v6)
            *w++ = '[';
        memcpy(w, host, pp->host.n);
        w += pp->host.n;
        if (v6)
            *w++ = ']';
        if (port >= 0) {
            char digits[8];
            int k = 0, p = port;
            do
                digits[k++] = (char)('0' + p % 10);
            while ((p /= 10) > 0);
            *w++ = ':';
            while (k)
                *w++ = digits[--k];
        }
    }
    memcpy(w, path, pn);
    w += pn;
    if (query) {
        size_t n = strlen(query);
        *w++ = '?';
        memcpy(w, query, n);
        w += n;
    }
    if (fragment) {
        size_t n = strlen(fragment);
        *w++ = '#';
        memcpy(w, fragment, n);
        w += n;
    }
    *w = '\0';

    acio__free(url->buf_);
    url->buf_ = buf;
    url->scheme = scheme;
    url->userinfo = userinfo;
    url->host = host;
    url->path = path;
    url->query = query;
    url->fragment = fragment;
    url->href = href;
    url->href_len = (size_t)(w - href);
    url->has_port = port >= 0;
    url->port = port >= 0 ? port : dport;
    return 0;
}

/* http(s), ws(s) URLs need a host (RFC 9110 4.2.1). */
static int check_host(const acio_url_t *url)
{
    size_t sn = strlen(url->scheme);
    if (acio__url_default_port(url->scheme, sn) >= 0 && strcmp(url->scheme, "ftp") != 0 &&
        (!url->host || !url->host[0]))
        return ACIO_EURL_HOST;
    return 0;
}

static int finish(acio__url_parts_t *pp, unsigned flags, bool norm, acio_url_t **out)
{
    acio_url_t *url = acio__calloc(1, sizeof(*url));
    if (!url)
        return -ENOMEM;
    int rc = build(url, pp, flags, norm);
    if (rc == 0)
        rc = check_host(url);
    if (rc == 0 && (flags & ACIO_URL_HTTP_ONLY) && !acio_url_is_http(url))
        rc = ACIO_EURL_SCHEME;
    if (rc) {
        acio_url_free(url);
        return rc;
    }
    *out = url;
    return 0;
}

int acio_url_parse(const char *str, size_t len, acio_url_t **out)
{
    *out = NULL;
    char *tmp;
    int rc = clean(&str, &len, &tmp);
    if (rc)
        return rc;
    acio__url_parts_t *pp = acio__malloc(sizeof(*pp));
    if (!pp) {
        acio__free(tmp);
        return -ENOMEM;
    }
    acio__span_t auth;
    split(str, len, pp, &auth);
    if (!pp->scheme.set)
        rc = len == 0 ? ACIO_EURL_INVALID : ACIO_EURL_RELATIVE;
    else if (pp->has_authority)
        rc = authority(pp, auth.p, auth.n);
    if (rc == 0)
        rc = finish(pp, 0, false, out);
    acio__free(pp);
    acio__free(tmp);
    return rc;
}

void acio_url_free(acio_url_t *url)
{
    if (!url)
        return;
    acio__free(url->buf_);
    acio__free(url);
}

static void parts_of(const acio_url_t *url, acio__url_parts_t *pp)
{
    memset(pp, 0, offsetof(acio__url_parts_t, hostbuf));
    pp->scheme = (acio__span_t){url->scheme, strlen(url->scheme), true};
    if (url->userinfo)
        pp->userinfo = (acio__span_t){url->userinfo, strlen(url->userinfo), true};
    pp->has_authority = url->host != NULL;
    if (url->host)
        pp->host = (acio__span_t){url->host, strlen(url->host), true};
    pp->port = url->has_port ? url->port : -1;
    pp->path = (acio__span_t){url->path, strlen(url->path), true};
    if (url->query)
        pp->query = (acio__span_t){url->query, strlen(url->query), true};
    if (url->fragment)
        pp->fragment = (acio__span_t){url->fragment, strlen(url->fragment), true};
}

int acio_url_copy(const acio_url_t *url, acio_url_t **out)
{
    *out = NULL;
    acio__url_parts_t *pp = acio__malloc(sizeof(*pp));
    if (!pp)
        return -ENOMEM;
    parts_of(url, pp);
    int rc = finish(pp, 0, false, out);
    acio__free(pp);
    if (rc == 0)
        (*out)->data = url->data;
    return rc;
}

int acio_url_normalize(acio_url_t *url, unsigned flags)
{
    if ((flags & ACIO_URL_HTTP_ONLY) && !acio_url_is_http(url))
        return ACIO_EURL_SCHEME;
    acio__url_parts_t *pp = acio__malloc(sizeof(*pp));
    if (!pp)
        return -ENOMEM;
    parts_of(url, pp);
    int rc = build(url, pp, flags, true);
    acio__free(pp);
    return rc;
}

bool acio_url_is_http(const acio_url_t *url)
{
    return url->host && url->host[0] && is_http_scheme(url->scheme, strlen(url->scheme));
}

/* Section 5.2.3: the base path up to its last '/', then the reference's path. */
static char *merge(const acio_url_t *base, const acio__span_t *rpath, size_t *n)
{
    size_t bn = 0;
    const char *slash = strrchr(base->path, '/');
    bool root = base->host && base->path[0] == '\0';
    if (slash)
        bn = (size_t)(slash - base->path) + 1;
    char *m = acio__malloc(bn + rpath->n + 2);
    if (!m)
        return NULL;
    size_t o = 0;
    if (root)
        m[o++] = '/';
    else
        memcpy(m, base->path, bn), o = bn;
    memcpy(m + o, rpath->p, rpath->n);
    o += rpath->n;
    m[o] = '\0';
    *n = o;
    return m;
}

int acio_url_join(const acio_url_t *base, const char *ref, size_t len, unsigned flags,
                  acio_url_t **out)
{
    *out = NULL;
    char *tmp, *merged = NULL;
    int rc = clean(&ref, &len, &tmp);
    if (rc)
        return rc;
    acio__url_parts_t *pp = acio__malloc(sizeof(*pp));
    if (!pp) {
        acio__free(tmp);
        return -ENOMEM;
    }
    acio__span_t auth;
    split(ref, len, pp, &auth);
    /* Section 5.2.2's non-strict mode, as browsers and urljoin: "http:g" against an
     * http base is the relative reference "g". */
    if (pp->scheme.set && pp->scheme.n == strlen(base->scheme) &&
        strncasecmp(pp->scheme.p, base->scheme, pp->scheme.n) == 0 && base->host)
        pp->scheme.set = false, pp->scheme.n = 0;
    if (pp->scheme.set) {
        if ((flags & ACIO_URL_HTTP_ONLY) && !is_http_scheme(pp->scheme.p, pp->scheme.n))
            rc = ACIO_EURL_SCHEME;
        else if (pp->has_authority)
            rc = authority(pp, auth.p, auth.n);
        goto done;
    }
    pp->scheme = (acio__span_t){base->scheme, strlen(base->scheme), true};
    if (pp->has_authority) {
        rc = authority(pp, auth.p, auth.n);
        goto done;
    }
    pp->has_authority = base->host != NULL;
    if (base->userinfo)
        pp->userinfo = (acio__span_t){base->userinfo, strlen(base->userinfo), true};
    if (base->host)
        pp->host = (acio__span_t){base->host, strlen(base->host), true};
    pp->port = base->has_port ? base->port : -1;
    if (pp->path.n == 0) {
        pp->path = (acio__span_t){base->path, strlen(base->path), true};
        if (!pp->query.set && base->query)
            pp->query = (acio__span_t){base->query, strlen(base->query), true};
    } else if (pp->path.p[0] != '/') {
        size_t mn;
        merged = merge(base, &pp->path, &mn);
        if (!merged)
            rc = -ENOMEM;
        else
            pp->path = (acio__span_t){merged, mn, true};
    }
done:
    if (rc == 0)
        rc = finish(pp, flags, true, out);
    acio__free(merged);
    acio__free(pp);
    acio__free(tmp);
    return rc;
}
