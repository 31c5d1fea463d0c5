/* Internals shared by the URL files: a URL as spans of borrowed bytes (what a reference
 * splits into before it becomes an acio_url_t), character classes of RFC 3986, and the
 * host converter. */
#ifndef ACIO_URL_INT_H
#define ACIO_URL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

typedef struct {
    const char *p;
    size_t n;
    bool set; /* present (RFC 3986 "defined"), even if empty */
} acio__span_t;

/* The longest host acio accepts after percent-decoding and IDNA (DNS allows 253). */
#define ACIO__HOST_MAX 512

typedef struct {
    acio__span_t scheme, userinfo, host, path, query, fragment;
    bool has_authority;
    int port; /* explicit port, -1 if none */
    /* The processed host (lowercase, decoded, IDNA) lives here when it came from text. */
    char hostbuf[ACIO__HOST_MAX];
} acio__url_parts_t;

/* Character classes of RFC 3986 section 2, one bit each, indexed by byte. */
enum {
    ACIO__UNRESERVED = 1, /* ALPHA DIGIT - . _ ~ */
    ACIO__SUBDELIM = 2,   /* ! $ & ' ( ) * + , ; = */
    ACIO__GENDELIM = 4,   /* : / ? # [ ] @ */
    ACIO__SCHEME = 8,     /* ALPHA DIGIT + - . */
    ACIO__HEX = 16,
};
extern const unsigned char acio__url_class[256];

static inline int acio__hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Turn the raw host text (between "//[userinfo@]" and ":port") into the parts' host:
 * an IPv6/IPvFuture literal is validated and lowercased without its brackets; a
 * registered name is percent-decoded, lowercased, checked, and converted to IDNA ASCII
 * if it has non-ASCII bytes. Returns 0, ACIO_EURL_HOST or ACIO_EURL_IDNA. */
int acio__url_host(acio__url_parts_t *pp, const char *raw, size_t n);

/* RFC 3986 6.2.2.1-2 percent-encoding normalisation of n bytes into dst (3 * n bytes):
 * hex digits uppercased, encodings of unreserved characters decoded, bytes RFC 3986
 * never allows encoded (and '#' when fragment). Returns the length written. Shared with
 * robots.txt matching (RFC 9309 2.2.2). */
size_t acio__url_pct_normalize(char *dst, const char *s, size_t n, bool fragment);

/* The default port of a (lowercase) scheme, or -1. */
int acio__url_default_port(const char *scheme, size_t n);

#endif
