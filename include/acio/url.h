/* URLs (RFC 3986): parsing an absolute URL into its parts, resolving a reference against
 * a base (urllib.parse.urljoin, but by RFC 3986 section 5), normalising for use as a
 * crawl key (section 6), and the strings an HTTP client needs (request target, Host,
 * form-encoded query). yarl.URL / urllib.parse are the Python counterparts.
 *
 * Host names are lowercase; a non-ASCII host is converted to its IDNA ASCII form
 * (libidn2, UTS #46 non-transitional, transitional as fallback). An IPv6 literal is kept
 * without its brackets in `host` (so it can go to getaddrinfo) and bracketed again in
 * every string acio builds. See docs/url.md. */
#ifndef ACIO_URL_H
#define ACIO_URL_H

#include "common.h"

/* A parsed URL. Every string is NUL-terminated and owned by the URL (one block freed by
 * acio_url_free). Absent parts are NULL; present-but-empty parts are "" (RFC 3986
 * distinguishes "http://a/b?" from "http://a/b"). Read-only for the user, except data. */
typedef struct acio_url_s {
    const char *scheme;   /* lowercase, never NULL ("http") */
    const char *userinfo; /* "user:pass" as written, or NULL */
    const char *host;     /* lowercase, IDNA ASCII, IPv6 without brackets; NULL if the URL
                             has no authority (mailto:x); "" for an empty authority */
    const char *path;     /* never NULL, may be "" */
    const char *query;    /* without the '?', or NULL */
    const char *fragment; /* without the '#', or NULL */
    const char *href;     /* the whole URL, recomposed from the parts above */
    size_t href_len;
    int port;      /* effective port: the explicit one, else the scheme's default
                      (http 80, https 443, ws 80, wss 443, ftp 21), else -1 */
    bool has_port; /* an explicit, non-empty port was written */
    void *data;    /* for the user */
    char *buf_;    /* private: the block the strings live in */
} acio_url_t;

/* Flags for acio_url_join and acio_url_normalize. */
enum {
    /* Drop the fragment (crawl keys: http://a/b#x and http://a/b are one page). */
    ACIO_URL_DROP_FRAGMENT = 1u << 0,
    /* Fail with ACIO_EURL_SCHEME unless the result is http: or https:. */
    ACIO_URL_HTTP_ONLY = 1u << 1,
};

/* Parse an absolute URL (scheme ":" hier-part ["?" query] ["#" fragment]) of len bytes.
 * Leading and trailing C0 controls and spaces are stripped and tabs/newlines inside
 * removed, as urllib.parse and browsers do. The parts are kept as written except the
 * scheme and host (lowercased, IDNA) and the port (validated). On success *out is a new
 * URL the caller releases with acio_url_free. Errors: ACIO_EURL_RELATIVE (no scheme),
 * ACIO_EURL_INVALID, ACIO_EURL_HOST, ACIO_EURL_PORT, ACIO_EURL_IDNA, -ENOMEM. */
ACIO_EXTERN int acio_url_parse(const char *str, size_t len, acio_url_t **out);

/* Release a URL from acio_url_parse/acio_url_join/acio_url_copy. NULL is ignored. */
ACIO_EXTERN void acio_url_free(acio_url_t *url);

/* A new URL equal to url (caller frees). 0 or -ENOMEM. */
ACIO_EXTERN int acio_url_copy(const acio_url_t *url, acio_url_t **out);

/* Normalise in place (RFC 3986 section 6.2.2 plus scheme-based rules of 6.2.3): scheme
 * and host lowercase; the default port dropped; dot segments removed; percent-encodings
 * of unreserved characters decoded and the others' hex digits uppercased; bytes RFC 3986
 * does not allow (spaces, controls, non-ASCII, "<>\^`{|}) percent-encoded; an empty
 * path becomes "/" when there is an authority; with ACIO_URL_DROP_FRAGMENT the fragment
 * is dropped. Errors: ACIO_EURL_SCHEME (with ACIO_URL_HTTP_ONLY), -ENOMEM (the URL is
 * then unchanged). */
ACIO_EXTERN int acio_url_normalize(acio_url_t *url, unsigned flags);

/* Resolve the reference ref (len bytes; absolute or relative, e.g. an href) against base
 * by RFC 3986 section 5.2 and normalise the result (acio_url_normalize with flags).
 * On success *out is a new URL (caller frees). Errors: those of acio_url_parse (except
 * ACIO_EURL_RELATIVE), ACIO_EURL_SCHEME with ACIO_URL_HTTP_ONLY, -ENOMEM. */
ACIO_EXTERN int acio_url_join(const acio_url_t *base, const char *ref, size_t len, unsigned flags,
                              acio_url_t **out);

/* True for http: and https: URLs with a non-empty host. */
ACIO_EXTERN bool acio_url_is_http(const acio_url_t *url);

/* The functions below write snprintf-style: at most cap bytes including a terminating
 * NUL (nothing is written if cap is 0) and return the full length the string needs, not
 * counting the NUL; a return value >= cap means the output was truncated. */

/* The whole URL (url->href). */
ACIO_EXTERN size_t acio_url_to_string(const acio_url_t *url, char *dst, size_t cap);

/* The HTTP request target in origin-form: path ("/" if empty) and "?query" if any. The
 * fragment is never part of it. */
ACIO_EXTERN size_t acio_url_target(const acio_url_t *url, char *dst, size_t cap);

/* Flag for acio_url_authority: always append ":port" (a connection-pool key); without it
 * the port is left out when it is the scheme's default (the Host header, RFC 9110 7.2). */
enum { ACIO_URL_WITH_PORT = 1u << 0 };

/* "host[:port]", IPv6 literals in brackets, no userinfo. */
ACIO_EXTERN size_t acio_url_authority(const acio_url_t *url, unsigned flags, char *dst, size_t cap);

/* Percent-encode len bytes of src by the application/x-www-form-urlencoded rules (WHATWG
 * URL standard): ASCII letters, digits and "*-._" unchanged, space as '+', every other
 * byte as %XX with uppercase hex. */
ACIO_EXTERN size_t acio_url_form_encode(const char *src, size_t len, char *dst, size_t cap);

/* One name=value pair of a query string (NUL-terminated strings; value NULL gives a bare
 * "name"). */
typedef struct {
    const char *name;
    const char *value;
} acio_url_param_t;

/* Build "n1=v1&n2=v2..." from n pairs, each name and value form-encoded (aiohttp's
 * params=, urllib.parse.urlencode). */
ACIO_EXTERN size_t acio_url_build_query(const acio_url_param_t *params, size_t n, char *dst,
                                        size_t cap);

#endif
