/* acio_html_links: the crawler's link step. Decode the page to UTF-8 only when needed
 * (valid UTF-8 is scanned in place), scan it once collecting the hrefs, take the first
 * <base href> as the base, then resolve, normalise and de-duplicate the links. The
 * hrefs are collected before resolving because a <base> after a link still applies to
 * it (the DOM resolves against the document's base URL, whichever tag came first). */
#include <string.h>

#include "html/html_int.h"

typedef struct {
    char *arena; /* every href, back to back */
    size_t used, cap;
    size_t *offs; /* start of href k in arena; offs[k + 1] its end */
    size_t count, offs_cap;
    char *base;
    size_t base_len;
    bool have_base;
} collect_t;

static int on_href(void *data, acio_html_kind_t kind, const char *v, size_t n)
{
    collect_t *c = data;
    if (kind == ACIO_HTML_BASE) {
        if (c->have_base)
            return 0;
        c->base = acio__malloc(n + 1);
        if (!c->base)
            return -ENOMEM;
        memcpy(c->base, v, n);
        c->base[n] = '\0';
        c->base_len = n;
        c->have_base = true;
        return 0;
    }
    if (c->used + n > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->used + n)
            cap *= 2;
        char *a = acio__realloc(c->arena, cap);
        if (!a)
            return -ENOMEM;
        c->arena = a;
        c->cap = cap;
    }
    if (c->count + 2 > c->offs_cap) {
        size_t cap = c->offs_cap ? c->offs_cap * 2 : 128;
        size_t *o = acio__realloc(c->offs, cap * sizeof(*o));
        if (!o)
            return -ENOMEM;
        c->offs = o;
        c->offs_cap = cap;
    }
    if (c->count == 0)
        c->offs[0] = 0;
    memcpy(c->arena + c->used, v, n);
    c->used += n;
    c->offs[++c->count] = c->used;
    return 0;
}

/* ASCII bytes are checked eight at a time; most pages are mostly ASCII. */
static bool valid_utf8(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
        if (!len || i + len > n)
            return false;
        unsigned char b = (unsigned char)s[i + 1];
        if ((c == 0xE0 && b < 0xA0) || (c == 0xED && b > 0x9F) || (c == 0xF0 && b < 0x90) ||
            (c == 0xF4 && b > 0x8F))
            return false;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

static uint64_t fnv1a64(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

int acio_html_links(const char *body, size_t len, const char *content_type, const acio_url_t *page,
                    acio_html_link_cb cb, void *data)
{
    size_t bom;
    const char *enc = acio_html_encoding(body, len, content_type, &bom);
    const char *text = body + bom;
    size_t tn = len - bom;
    char *decoded = NULL;
    if (strcmp(enc, "UTF-8") != 0 || !valid_utf8(text, tn)) {
        size_t dn;
        int rc = acio_html_to_utf8(text, tn, enc, &decoded, &dn);
        if (rc == -EINVAL) /* an encoding this iconv lacks: read it as UTF-8 */
            rc = acio_html_to_utf8(text, tn, "UTF-8", &decoded, &dn);
        if (rc)
            return rc;
        text = decoded;
        tn = dn;
    }
    collect_t c = {0};
    int rc = acio_html_scan(text, tn, on_href, &c);
    acio__free(decoded);

    acio_url_t *base_url = NULL;
    const acio_url_t *base = page;
    if (rc == 0 && c.have_base) {
        int brc = acio_url_join(page, c.base, c.base_len, ACIO_URL_HTTP_ONLY, &base_url);
        if (brc == -ENOMEM)
            rc = brc;
        else if (brc == 0)
            base = base_url;
    }
    /* Per-page de-duplication: a set of 64-bit hashes of the normalised links, sized to
     * twice the number of hrefs (collisions between two links of one page are
     * negligible, about n^2 / 2^65). */
    uint64_t *set = NULL;
    size_t mask = 0;
    if (rc == 0 && c.count) {
        size_t sz = 16;
        while (sz < c.count * 2)
            sz *= 2;
        set = acio__calloc(sz, sizeof(*set));
        if (!set)
            rc = -ENOMEM;
        mask = sz - 1;
    }
    int emitted = 0;
    for (size_t k = 0; rc == 0 && k < c.count; k++) {
        acio_url_t *u;
        int jrc = acio_url_join(base, c.arena + c.offs[k], c.offs[k + 1] - c.offs[k],
                                ACIO_URL_DROP_FRAGMENT | ACIO_URL_HTTP_ONLY, &u);
        if (jrc == -ENOMEM) {
            rc = jrc;
            break;
        }
        if (jrc)
            continue;
        uint64_t h = fnv1a64(u->href, u->href_len) | 1; /* 0 marks an empty slot */
        size_t slot = h & mask;
        bool dup = false;
        while (set[slot]) {
            if (set[slot] == h) {
                dup = true;
                break;
            }
            slot = (slot + 1) & mask;
        }
        if (!dup) {
            set[slot] = h;
            int crc = cb(data, u);
            if (crc)
                rc = crc;
            else
                emitted++;
        }
        acio_url_free(u);
    }
    acio__free(set);
    acio_url_free(base_url);
    acio__free(c.arena);
    acio__free(c.offs);
    acio__free(c.base);
    return rc ? rc : emitted;
}
