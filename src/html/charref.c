/* Character references in attribute values (WHATWG tokenizer: character reference,
 * named character reference, numeric character reference states, "in an attribute"
 * rules), plus the input stream's preprocessing that matters for a value (CR LF and CR
 * become LF, NUL becomes U+FFFD in an attribute value). */
#include <string.h>

#include "html/html_int.h"

static size_t put_utf8(char *d, unsigned long cp)
{
    unsigned char *u = (unsigned char *)d;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | cp >> 18);
    u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Numeric references to C1 controls mean what windows-1252 has there (0 = no change). */
static const unsigned short c1_1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static inline bool alnum(unsigned char c)
{
    return acio__html_alpha(c) || (c >= '0' && c <= '9');
}

static const acio__html_entity_t *find(const char *s, size_t n)
{
    size_t lo = 0, hi = acio__html_entity_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const acio__html_entity_t *e = &acio__html_entities[mid];
        size_t m = e->name_len < n ? e->name_len : n;
        int c = memcmp(e->name, s, m);
        if (c == 0)
            c = (int)e->name_len - (int)n;
        if (c == 0)
            return e;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* s[0] is '&'. Writes the replacement to *d and returns the bytes consumed, or returns 0
 * if this '&' starts no reference (it is then plain text). */
static size_t charref(const char *s, size_t n, char **d)
{
    if (n >= 2 && s[1] == '#') {
        size_t i = 2;
        bool hex = i < n && (s[i] | 0x20) == 'x';
        if (hex)
            i++;
        size_t digits = i;
        unsigned long cp = 0;
        for (; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            int v;
            if (c >= '0' && c <= '9')
                v = c - '0';
            else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                v = (c | 0x20) - 'a' + 10;
            else
                break;
            cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            if (cp > 0x10FFFF)
                cp = 0x110000; /* saturate: still out of range */
        }
        if (i == digits)
            return 0; /* "&#" or "&#x" without digits: text */
        if (i < n && s[i] == ';')
            i++;
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            cp = 0xFFFD;
        else if (cp >= 0x80 && cp <= 0x9F && c1_1252[cp - 0x80])
            cp = c1_1252[cp - 0x80];
        *d += put_utf8(*d, cp);
        return i;
    }
    /* Named: the longest name in the table that is a prefix of what follows. */
    size_t run = 1;
    while (run < n && run <= ACIO__HTML_NAME_MAX && alnum((unsigned char)s[run]))
        run++;
    if (run == 1)
        return 0;
    size_t max = run - 1 + (run < n && s[run] == ';');
    for (size_t k = max; k >= 2; k--) {
        const acio__html_entity_t *e = find(s + 1, k);
        if (!e)
            continue;
        /* In an attribute, a legacy name without ';' followed by '=' or an alphanumeric
         * is not a reference (href="?a=1&copy=2" keeps its "&copy"). */
        if (s[k] != ';' && 1 + k < n && (s[1 + k] == '=' || alnum((unsigned char)s[1 + k])))
            return 0;
        memcpy(*d, e->utf8, e->utf8_len);
        *d += e->utf8_len;
        return 1 + k;
    }
    return 0;
}

bool acio__html_attr_needs_decoding(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '&' || c == '\r' || c == '\0')
            return true;
    }
    return false;
}

size_t acio__html_decode_attr(const char *v, size_t n, char *dst)
{
    char *d = dst;
    size_t i = 0;
    while (i < n) {
        char c = v[i];
        if (c == '&') {
            size_t used = charref(v + i, n - i, &d);
            if (used) {
                i += used;
                continue;
            }
            *d++ = '&';
        } else if (c == '\r') {
            *d++ = '\n';
            if (i + 1 < n && v[i + 1] == '\n')
                i++;
        } else if (c == '\0') {
            memcpy(d, "\xEF\xBF\xBD", 3);
            d += 3;
        } else {
            *d++ = c;
        }
        i++;
    }
    return (size_t)(d - dst);
}
