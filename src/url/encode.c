/* The strings an HTTP client builds from a URL: the whole URL, the request target
 * (origin-form, RFC 9112 3.2.1), the authority for Host and for pool keys, and
 * application/x-www-form-urlencoded query strings. All snprintf-style, no allocation. */
#include <stdio.h>
#include <string.h>

#include "url/url_int.h"

/* A writer that counts everything and stores what fits. */
typedef struct {
    char *dst;
    size_t cap, len;
} out_t;

static void out_bytes(out_t *o, const char *s, size_t n)
{
    if (o->len + 1 < o->cap) {
        size_t room = o->cap - 1 - o->len;
        memcpy(o->dst + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void out_byte(out_t *o, char c)
{
    out_bytes(o, &c, 1);
}

static size_t out_end(out_t *o)
{
    if (o->cap)
        o->dst[o->len < o->cap ? o->len : o->cap - 1] = '\0';
    return o->len;
}

size_t acio_url_to_string(const acio_url_t *url, char *dst, size_t cap)
{
    out_t o = {dst, cap, 0};
    out_bytes(&o, url->href, url->href_len);
    return out_end(&o);
}

size_t acio_url_target(const acio_url_t *url, char *dst, size_t cap)
{
    out_t o = {dst, cap, 0};
    if (url->path[0])
        out_bytes(&o, url->path, strlen(url->path));
    else
        out_byte(&o, '/');
    if (url->query) {
        out_byte(&o, '?');
        out_bytes(&o, url->query, strlen(url->query));
    }
    return out_end(&o);
}

size_t acio_url_authority(const acio_url_t *url, unsigned flags, char *dst, size_t cap)
{
    out_t o = {dst, cap, 0};
    const char *host = url->host ? url->host : "";
    bool v6 = strchr(host, ':') != NULL;
    if (v6)
        out_byte(&o, '[');
    out_bytes(&o, host, strlen(host));
    if (v6)
        out_byte(&o, ']');
    int dport = acio__url_default_port(url->scheme, strlen(url->scheme));
    if (url->port >= 0 && ((flags & ACIO_URL_WITH_PORT) || url->port != dport)) {
        char digits[8];
        int n = snprintf(digits, sizeof(digits), ":%d", url->port);
        out_bytes(&o, digits, (size_t)n);
    }
    return out_end(&o);
}

static void form_encode(out_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '*' || c == '-' || c == '.' || c == '_') {
            out_byte(o, (char)c);
        } else if (c == ' ') {
            out_byte(o, '+');
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            out_bytes(o, e, 3);
        }
    }
}

size_t acio_url_form_encode(const char *src, size_t len, char *dst, size_t cap)
{
    out_t o = {dst, cap, 0};
    form_encode(&o, src, len);
    return out_end(&o);
}

size_t acio_url_build_query(const acio_url_param_t *params, size_t n, char *dst, size_t cap)
{
    out_t o = {dst, cap, 0};
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_byte(&o, '&');
        form_encode(&o, params[i].name, strlen(params[i].name));
        if (params[i].value) {
            out_byte(&o, '=');
            form_encode(&o, params[i].value, strlen(params[i].value));
        }
    }
    return out_end(&o);
}
