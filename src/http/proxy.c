/* Proxies (aiohttp's proxy= and trust_env): which proxy a request goes through, the
 * no_proxy rules, and the CONNECT tunnel that carries https:// through an HTTP proxy.
 * A plain http:// request goes to the proxy itself with its URL in absolute form (see
 * request.c). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/client_int.h"

/* no_proxy: a comma- or space-separated list of host names (a leading dot or "*." is
 * optional: "example.com" also covers "www.example.com"), optionally with ":port", or
 * "*" for every host (curl's and requests' reading). */
bool hc_no_proxy_match(const char *list, const char *host, int port)
{
    if (!list || !host)
        return false;
    size_t hl = strlen(host);
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        size_t n = (size_t)(e - p);
        if (n == 1 && *p == '*')
            return true;
        const char *colon = memchr(p, ':', n);
        int want_port = -1;
        size_t nl = n;
        if (colon && !memchr(colon + 1, ':', (size_t)(e - colon - 1))) {
            want_port = atoi(colon + 1);
            nl = (size_t)(colon - p);
        }
        const char *name = p;
        if (nl >= 2 && name[0] == '*' && name[1] == '.')
            name++, nl--;
        if (nl && name[0] == '.')
            name++, nl--;
        if (nl && (want_port < 0 || want_port == port)) {
            if (hl == nl && strncasecmp(host, name, nl) == 0)
                return true;
            if (hl > nl && host[hl - nl - 1] == '.' && strncasecmp(host + hl - nl, name, nl) == 0)
                return true;
        }
        p = e;
    }
    return false;
}

int hc_proxy_for(acio_http_session_t *s, const char *explicit_proxy, const acio_url_t *u,
                 acio_url_t **out)
{
    *out = NULL;
    const char *px = explicit_proxy ? explicit_proxy : s->o.proxy;
    if (!px && s->o.trust_env) {
        bool https = strcmp(u->scheme, "https") == 0;
        px = getenv(https ? "https_proxy" : "http_proxy");
        if (!px || !*px)
            px = getenv(https ? "HTTPS_PROXY" : "HTTP_PROXY");
        const char *np = getenv("no_proxy");
        if (!np || !*np)
            np = getenv("NO_PROXY");
        if (px && *px && hc_no_proxy_match(np, u->host, u->port))
            px = NULL;
    }
    if (!px || !*px)
        return 0;
    acio_url_t *p;
    int rc = acio_url_parse(px, strlen(px), &p);
    if (rc < 0)
        return rc;
    if (strcmp(p->scheme, "http") != 0 || !p->host || !*p->host) {
        acio_url_free(p);
        return ACIO_EHTTP_SCHEME; /* only http:// proxies */
    }
    *out = p;
    return 0;
}

/* "Basic ..." for the proxy's userinfo into dst, or "" (request.c has the encoder). */
int hc_basic_auth_userinfo(const char *userinfo, char *dst, size_t cap);

int hc_proxy_tunnel(hc_conn_t *c, const acio_url_t *target, const acio_url_t *proxy,
                    const hc_deadline_t *dl)
{
    char auth[512] = "";
    if (proxy->userinfo && *proxy->userinfo) {
        int rc = hc_basic_auth_userinfo(proxy->userinfo, auth, sizeof auth);
        if (rc < 0)
            return rc;
    }
    char hostport[300];
    if (acio_url_authority(target, ACIO_URL_WITH_PORT, hostport, sizeof hostport) >=
        sizeof hostport)
        return -ENAMETOOLONG;
    char req[1200];
    size_t n = 0;
#define ADD(str)                                                                                   \
    do {                                                                                           \
        size_t l_ = strlen(str);                                                                   \
        if (n + l_ >= sizeof req)                                                                  \
            return -ENAMETOOLONG;                                                                  \
        memcpy(req + n, str, l_);                                                                  \
        n += l_;                                                                                   \
    } while (0)
    ADD("CONNECT ");
    ADD(hostport);
    ADD(" HTTP/1.1\r\nHost: ");
    ADD(hostport);
    ADD("\r\n");
    if (auth[0]) {
        ADD("Proxy-Authorization: ");
        ADD(auth);
        ADD("\r\n");
    }
    ADD("\r\n");
#undef ADD
    int rc = acio_transport_write(c->t, req, n);
    if (rc < 0)
        return rc;
    acio_http_limits_t lim;
    acio_http_limits_default(&lim);
    acio_http_header_t hdrs[64];
    acio_http_head_t h;
    size_t prev = 0;
    for (;;) {
        size_t avail = c->end - c->start;
        if (avail) {
            ssize_t hl = acio_http_parse_response(c->buf + c->start, avail, prev, "CONNECT", &h,
                                                  hdrs, 64, &lim);
            if (hl >= 0) {
                c->start += (size_t)hl;
                if (h.status >= 100 && h.status < 200)
                    continue;
                if (h.status < 200 || h.status > 299)
                    return ACIO_EHTTP_PROXY;
                /* Anything after the 2xx head is the tunnel's (the TLS server speaks
                 * only after our ClientHello, so there is nothing). */
                return c->start == c->end ? 0 : ACIO_EHTTP_PROXY;
            }
            if (hl != ACIO_HTTP_INCOMPLETE)
                return (int)hl;
            prev = avail;
        }
        if (c->eof)
            return c->err ? c->err : ACIO_EHTTP_PROXY;
        rc = hc_conn_wait(c, dl, ACIO_EHTTP_CONNECT_TIMEOUT);
        if (rc < 0)
            return rc;
    }
}
