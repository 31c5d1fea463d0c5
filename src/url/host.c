/* URL hosts: IP literals, registered names, and internationalised names converted to
 * IDNA ASCII with libidn2 (UTS #46 non-transitional processing, as browsers do; the
 * transitional mapping is the fallback curl and wget also use). */
#include <arpa/inet.h>
#include <idn2.h>
#include <string.h>

#include "url/url_int.h"

/* Bytes a registered name may hold once percent-decoded: unreserved and sub-delims. */
static bool host_byte_ok(unsigned char c)
{
    return (acio__url_class[c] & (ACIO__UNRESERVED | ACIO__SUBDELIM)) != 0;
}

static int ip_literal(acio__url_parts_t *pp, const char *raw, size_t n)
{
    /* raw is "[...]"; the brackets are checked by the caller. */
    const char *s = raw + 1;
    size_t len = n - 2;
    if (len == 0 || len >= 64)
        return ACIO_EURL_HOST;
    for (size_t i = 0; i < len; i++)
        pp->hostbuf[i] = (char)((unsigned char)s[i] | ((s[i] >= 'A' && s[i] <= 'Z') ? 0x20 : 0));
    pp->hostbuf[len] = '\0';
    if (pp->hostbuf[0] == 'v') {
        /* IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
        size_t i = 1;
        while (i < len && (acio__url_class[(unsigned char)pp->hostbuf[i]] & ACIO__HEX))
            i++;
        if (i == 1 || i >= len - 1 || pp->hostbuf[i] != '.')
            return ACIO_EURL_HOST;
        for (i++; i < len; i++)
            if (!host_byte_ok((unsigned char)pp->hostbuf[i]) && pp->hostbuf[i] != ':')
                return ACIO_EURL_HOST;
    } else {
        /* Written back in RFC 5952's canonical text form, so one address is one key. */
        struct in6_addr a;
        if (inet_pton(AF_INET6, pp->hostbuf, &a) != 1 ||
            !inet_ntop(AF_INET6, &a, pp->hostbuf, INET6_ADDRSTRLEN))
            return ACIO_EURL_HOST;
        len = strlen(pp->hostbuf);
    }
    pp->host = (acio__span_t){pp->hostbuf, len, true};
    return 0;
}

static int idna(acio__url_parts_t *pp, size_t len)
{
    char *out = NULL;
    int rc = idn2_to_ascii_8z(pp->hostbuf, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK)
        rc = idn2_to_ascii_8z(pp->hostbuf, &out, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    if (rc == IDN2_MALLOC)
        return -ENOMEM;
    if (rc != IDN2_OK)
        return ACIO_EURL_IDNA;
    len = strlen(out);
    int err = 0;
    if (len >= ACIO__HOST_MAX) {
        err = ACIO_EURL_HOST;
    } else {
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)out[i];
            if (c >= 'A' && c <= 'Z')
                c |= 0x20;
            if (!host_byte_ok(c)) {
                err = ACIO_EURL_HOST;
                break;
            }
            pp->hostbuf[i] = (char)c;
        }
        pp->hostbuf[len] = '\0';
    }
    idn2_free(out);
    if (err)
        return err;
    pp->host = (acio__span_t){pp->hostbuf, len, true};
    return 0;
}

int acio__url_host(acio__url_parts_t *pp, const char *raw, size_t n)
{
    if (n > 0 && raw[0] == '[') {
        if (n < 2 || raw[n - 1] != ']')
            return ACIO_EURL_HOST;
        return ip_literal(pp, raw, n);
    }
    size_t len = 0;
    bool ascii = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < n ? acio__hexval((unsigned char)raw[i + 1]) : -1;
            int lo = hi >= 0 ? acio__hexval((unsigned char)raw[i + 2]) : -1;
            if (lo < 0)
                return ACIO_EURL_HOST;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c >= 0x80)
            ascii = false;
        else if (c >= 'A' && c <= 'Z')
            c |= 0x20;
        else if (!host_byte_ok(c))
            return ACIO_EURL_HOST;
        if (len + 1 >= ACIO__HOST_MAX)
            return ACIO_EURL_HOST;
        pp->hostbuf[len++] = (char)c;
    }
    pp->hostbuf[len] = '\0';
    if (!ascii)
        return idna(pp, len);
    pp->host = (acio__span_t){pp->hostbuf, len, true};
    return 0;
}

int acio__url_default_port(const char *s, size_t n)
{
    switch (n) {
    case 2:
        return memcmp(s, "ws", 2) == 0 ? 80 : -1;
    case 3:
        return memcmp(s, "wss", 3) == 0 ? 443 : memcmp(s, "ftp", 3) == 0 ? 21 : -1;
    case 4:
        return memcmp(s, "http", 4) == 0 ? 80 : -1;
    case 5:
        return memcmp(s, "https", 5) == 0 ? 443 : -1;
    default:
        return -1;
    }
}
