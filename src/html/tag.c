/* One tag, read by the WHATWG tokenizer's tag states (tag name, before/after attribute
 * name, attribute name, attribute value double-quoted/single-quoted/unquoted, after
 * attribute value, self-closing start tag). The states collapse into one loop because
 * acio needs no tokens, only the tag's name and a few attributes' raw values; their
 * character references are decoded later, and only for the values used. */
#include <string.h>

#include "html/html_int.h"

/* Byte classes for the tag states' loops: one table load per byte instead of a chain of
 * comparisons (the tag states are where the scan spends its time). */
enum { C_WS = 1, C_GT = 2, C_SLASH = 4, C_EQ = 8 };
static const unsigned char cls[256] = {
    [' '] = C_WS,  ['\n'] = C_WS, ['\t'] = C_WS,   ['\f'] = C_WS,
    ['\r'] = C_WS, ['>'] = C_GT,  ['/'] = C_SLASH, ['='] = C_EQ,
};
#define CLS(c) cls[(unsigned char)(c)]

static inline unsigned char lower(unsigned char c)
{
    return (unsigned char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
}

/* Case-insensitive name compare of an attribute name with a lowercase literal. */
static bool name_is(const char *a, size_t n, const char *lit, size_t ln)
{
    if (n != ln)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != (unsigned char)lit[i])
            return false;
    return true;
}

static void attribute(acio__html_tag_t *t, const char *name, size_t nn, const char *v, size_t vn)
{
    acio__html_span_t *slot = NULL;
    switch (nn) {
    case 4:
        if (name_is(name, nn, "href", 4))
            slot = &t->href;
        else if (name_is(name, nn, "face", 4) || name_is(name, nn, "size", 4))
            t->font_attr = true;
        break;
    case 5:
        if (name_is(name, nn, "color", 5))
            t->font_attr = true;
        break;
    case 7:
        if (name_is(name, nn, "charset", 7))
            slot = &t->charset;
        else if (name_is(name, nn, "content", 7))
            slot = &t->content;
        break;
    case 10:
        if (name_is(name, nn, "http-equiv", 10))
            slot = &t->http_equiv;
        break;
    default:
        break;
    }
    /* A repeated attribute is dropped by the tokenizer: the first one counts. */
    if (slot && !slot->set)
        *slot = (acio__html_span_t){v, vn, true};
}

size_t acio__html_tag(const char *s, size_t n, size_t i, acio__html_tag_t *t)
{
    t->end = t->self_closing = t->font_attr = false;
    t->href.set = t->charset.set = t->http_equiv.set = t->content.set = false;
    i++; /* '<' */
    if (s[i] == '/') {
        t->end = true;
        i++;
    }
    /* Tag name state: up to whitespace, '/' or '>'. */
    size_t start = i;
    while (i < n && !(CLS(s[i]) & (C_WS | C_GT | C_SLASH))) {
        if (i - start < ACIO__HTML_NAME_MAX)
            t->name[i - start] = (char)lower((unsigned char)s[i]);
        i++;
    }
    t->name_len = i - start;
    for (;;) {
        /* Before attribute name. */
        while (i < n && (CLS(s[i]) & C_WS))
            i++;
        if (i >= n)
            return 0;
        if (s[i] == '>')
            return i + 1;
        if (s[i] == '/') {
            /* Self-closing start tag state: '>' ends the tag, anything else is
             * reconsumed as the start of an attribute name. */
            i++;
            if (i < n && s[i] == '>') {
                t->self_closing = true;
                return i + 1;
            }
            continue;
        }
        /* Attribute name: the first character may be '=' (a parse error, kept). */
        const char *name = s + i++;
        while (i < n && !CLS(s[i]))
            i++;
        size_t nn = (size_t)(s + i - name);
        /* After attribute name. */
        while (i < n && (CLS(s[i]) & C_WS))
            i++;
        if (i >= n)
            return 0;
        if (s[i] != '=') {
            attribute(t, name, nn, s + i, 0);
            continue;
        }
        i++;
        /* Before attribute value. */
        while (i < n && (CLS(s[i]) & C_WS))
            i++;
        if (i >= n)
            return 0;
        char q = s[i];
        if (q == '"' || q == '\'') {
            /* Most values are short: a plain loop beats a memchr call on them. */
            const char *close = NULL;
            size_t k = i + 1, stop = n - i - 1 > 24 ? i + 25 : n;
            while (k < stop && s[k] != q)
                k++;
            if (k < stop)
                close = s + k;
            else if (k < n)
                close = memchr(s + k, q, n - k);
            if (!close)
                return 0;
            attribute(t, name, nn, s + i + 1, (size_t)(close - s - i - 1));
            i = (size_t)(close - s) + 1;
            /* After attribute value (quoted): anything but whitespace, '/' or '>' is
             * reconsumed as a new attribute name, which the loop does. */
        } else if (q == '>') {
            attribute(t, name, nn, s + i, 0);
            return i + 1;
        } else {
            size_t v = i;
            while (i < n && !(CLS(s[i]) & (C_WS | C_GT)))
                i++;
            if (i >= n)
                return 0;
            attribute(t, name, nn, s + v, i - v);
        }
    }
}
