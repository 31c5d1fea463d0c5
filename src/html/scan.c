/* acio_html_scan: the WHATWG tokenizer's states that decide which bytes are tags, and
 * the few tree-construction rules that change what the tokenizer does or whether an
 * <a> reaches the document:
 *  - data state with markup declarations: comments (incl. "<!-->", "--!>"), DOCTYPE
 *    and bogus comments ("<?", "</ ", "<!x"), CDATA sections in foreign content;
 *  - RAWTEXT (style, xmp, iframe, noembed, noframes), RCDATA (title, textarea), script
 *    data with its escaped and double-escaped states ("<!--<script>" keeps a later
 *    "</script>" inside the script), PLAINTEXT: entered only for HTML elements, as the
 *    tree builder does (an <svg><style> holds markup);
 *  - foreign content (svg, math) with its integration points and the start tags that
 *    break out of it, so <svg><a href> (not an HTML link) is skipped;
 *  - <template> contents (a document fragment, not the document) and <select> (where
 *    the parser drops <a> and <area>) are skipped.
 * Scripting is off (<noscript> is an ordinary element), as in a crawler. The scan is
 * one forward pass; text is skipped with memchr. */
#include <string.h>

#include "html/html_int.h"

enum { NS_SVG = 1, NS_MATH = 2 };

typedef struct {
    uint32_t name_hash;
    unsigned char ns;
    bool integration; /* an HTML integration point: its start tags are HTML again */
} foreign_t;

#define FOREIGN_MAX 64

typedef struct {
    const char *s;
    size_t n;
    acio_html_href_cb cb;
    void *data;
    int rc;
    unsigned template_depth;
    unsigned table_depth; /* open <table>s, to tell "in select in table" from "in select" */
    bool in_select, select_in_table;
    int fdepth;
    unsigned foverflow; /* foreign elements not recorded because the stack was full */
    foreign_t fstack[FOREIGN_MAX];
} scan_t;

static uint32_t name_hash(const acio__html_tag_t *t)
{
    uint32_t h = 2166136261u;
    size_t n = t->name_len < ACIO__HTML_NAME_MAX ? t->name_len : ACIO__HTML_NAME_MAX;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)t->name[i]) * 16777619u;
    return h ^ (uint32_t)t->name_len;
}

static bool is(const acio__html_tag_t *t, const char *lit)
{
    size_t n = strlen(lit);
    return t->name_len == n && memcmp(t->name, lit, n) == 0;
}

/* is() for a literal: the length and the compare are constants the compiler inlines. */
#define IS(t, lit)                                                                                 \
    ((t)->name_len == sizeof(lit) - 1 && memcmp((t)->name, lit, sizeof(lit) - 1) == 0)

/* Start tags that leave foreign content (tree construction, "in foreign content"). */
static bool breaks_out(const acio__html_tag_t *t)
{
    static const char *const names[] = {
        "b",      "big",  "blockquote", "body",  "br",   "center", "code",    "dd",   "div",
        "dl",     "dt",   "em",         "embed", "h1",   "h2",     "h3",      "h4",   "h5",
        "h6",     "head", "hr",         "i",     "img",  "li",     "listing", "menu", "meta",
        "nobr",   "ol",   "p",          "pre",   "ruby", "s",      "small",   "span", "strong",
        "strike", "sub",  "sup",        "table", "tt",   "u",      "ul",      "var"};
    if (t->name_len > 10)
        return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (is(t, names[i]))
            return true;
    return IS(t, "font") && t->font_attr;
}

static bool html_content(const scan_t *sc)
{
    return sc->fdepth == 0 || sc->fstack[sc->fdepth - 1].integration;
}

static void foreign_push(scan_t *sc, const acio__html_tag_t *t, unsigned char ns)
{
    if (sc->fdepth == FOREIGN_MAX) {
        sc->foverflow++;
        return;
    }
    bool ip = false;
    if (ns == NS_SVG)
        ip = IS(t, "foreignobject") || IS(t, "desc") || IS(t, "title");
    else
        ip = IS(t, "mi") || IS(t, "mo") || IS(t, "mn") || IS(t, "ms") || IS(t, "mtext");
    sc->fstack[sc->fdepth++] = (foreign_t){name_hash(t), ns, ip};
}

/* Pop to the innermost element of this name; false if there is none. */
static bool foreign_pop_to(scan_t *sc, const acio__html_tag_t *t)
{
    if (sc->foverflow) {
        sc->foverflow--;
        return true;
    }
    uint32_t h = name_hash(t);
    for (int k = sc->fdepth - 1; k >= 0; k--) {
        if (sc->fstack[k].name_hash == h) {
            sc->fdepth = k;
            return true;
        }
    }
    return false;
}

/* Pop until the current node is an HTML element or an integration point. */
static void foreign_break_out(scan_t *sc)
{
    sc->foverflow = 0;
    while (sc->fdepth > 0 && !sc->fstack[sc->fdepth - 1].integration)
        sc->fdepth--;
}

/* "</name" followed by whitespace, '/' or '>' at s[i]: the appropriate end tag that
 * ends RAWTEXT, RCDATA and script data. */
static bool end_tag_at(const char *s, size_t n, size_t i, const char *name, size_t nl)
{
    if (i + 2 + nl >= n || s[i + 1] != '/')
        return false;
    for (size_t k = 0; k < nl; k++)
        if ((s[i + 2 + k] | 0x20) != name[k] || !acio__html_alpha((unsigned char)s[i + 2 + k]))
            return false;
    unsigned char c = (unsigned char)s[i + 2 + nl];
    return acio__html_ws(c) || c == '/' || c == '>';
}

/* RAWTEXT / RCDATA: the index of the '<' of the closing tag, or n. */
static size_t skip_raw(const char *s, size_t n, size_t i, const char *name, size_t nl)
{
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i);
        if (!lt)
            return n;
        i = (size_t)(lt - s);
        if (end_tag_at(s, n, i, name, nl))
            return i;
        i++;
    }
    return n;
}

/* Script data and its escaped / double-escaped states. Returns the index of the '<' of
 * "</script" that ends the script, or n. */
static size_t skip_script(const char *s, size_t n, size_t i)
{
    enum { DATA, ESC, ESC_DASH, ESC_DASHDASH, DBL, DBL_DASH, DBL_DASHDASH } st = DATA;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        switch (st) {
        case DATA: {
            const char *lt = memchr(s + i, '<', n - i);
            if (!lt)
                return n;
            i = (size_t)(lt - s);
            if (end_tag_at(s, n, i, "script", 6))
                return i;
            if (i + 3 < n && s[i + 1] == '!' && s[i + 2] == '-' && s[i + 3] == '-') {
                st = ESC_DASHDASH;
                i += 4;
            } else {
                i++;
            }
            continue;
        }
        case ESC:
        case DBL: {
            /* Only '-' and '<' matter here. */
            size_t j = i;
            while (j < n && s[j] != '-' && s[j] != '<')
                j++;
            i = j;
            if (i >= n)
                return n;
            c = (unsigned char)s[i];
            if (c == '-') {
                st = st == ESC ? ESC_DASH : DBL_DASH;
                i++;
                continue;
            }
            break; /* '<' below */
        }
        case ESC_DASH:
        case DBL_DASH:
            if (c == '-') {
                st = st == ESC_DASH ? ESC_DASHDASH : DBL_DASHDASH;
                i++;
                continue;
            }
            if (c != '<') {
                st = st == ESC_DASH ? ESC : DBL;
                i++;
                continue;
            }
            break;
        case ESC_DASHDASH:
        case DBL_DASHDASH:
            if (c == '-') {
                i++;
                continue;
            }
            if (c == '>') {
                st = DATA;
                i++;
                continue;
            }
            if (c != '<') {
                st = st == ESC_DASHDASH ? ESC : DBL;
                i++;
                continue;
            }
            break;
        }
        /* s[i] == '<' in an escaped or double-escaped state. */
        bool dbl = st == DBL || st == DBL_DASH || st == DBL_DASHDASH;
        if (!dbl && end_tag_at(s, n, i, "script", 6))
            return i;
        size_t j = i + 1;
        bool closing = false;
        if (dbl) {
            if (j < n && s[j] == '/') {
                closing = true;
                j++;
            } else {
                st = DBL;
                i++;
                continue;
            }
        } else if (j < n && s[j] == '/') {
            st = ESC;
            i += 2;
            continue;
        }
        /* Double escape start ("<script") or end ("</script"): letters, then whitespace,
         * '/' or '>' decide. */
        size_t k = j;
        while (k < n && acio__html_alpha((unsigned char)s[k]))
            k++;
        if (k >= n)
            return n;
        bool script = k - j == 6 && strncasecmp(s + j, "script", 6) == 0;
        unsigned char e = (unsigned char)s[k];
        if (k > j && (acio__html_ws(e) || e == '/' || e == '>')) {
            if (script)
                st = dbl ? ESC : DBL;
            else
                st = dbl ? DBL : ESC;
            i = k + 1;
        } else {
            st = dbl ? DBL : ESC;
            i = k > j ? k : (closing ? j : i + 1);
        }
    }
    return n;
}

static int emit(scan_t *sc, acio_html_kind_t kind, const acio__html_span_t *v)
{
    if (!acio__html_attr_needs_decoding(v->p, v->n))
        return sc->cb(sc->data, kind, v->p, v->n);
    char stack[4096];
    char *buf = v->n * 3 <= sizeof(stack) ? stack : acio__malloc(v->n * 3);
    if (!buf)
        return -ENOMEM;
    size_t dn = acio__html_decode_attr(v->p, v->n, buf);
    int rc = sc->cb(sc->data, kind, buf, dn);
    if (buf != stack)
        acio__free(buf);
    return rc;
}

/* A start tag in HTML content. Returns where scanning continues. */
static bool table_part(const acio__html_tag_t *t)
{
    return IS(t, "caption") || IS(t, "table") || IS(t, "tbody") || IS(t, "tfoot") ||
           IS(t, "thead") || IS(t, "tr") || IS(t, "td") || IS(t, "th");
}

static size_t html_start_tag(scan_t *sc, const acio__html_tag_t *t, size_t after)
{
    const char *s = sc->s;
    size_t n = sc->n;
    if (sc->in_select) {
        /* "in select": script and template work; input, keygen and textarea (and, in
         * "in select in table", table parts) close the select and are handled again;
         * a nested <select> closes it; the rest is ignored. */
        if (IS(t, "select")) {
            sc->in_select = false;
            return after;
        }
        if (IS(t, "input") || IS(t, "keygen") || IS(t, "textarea") ||
            (sc->select_in_table && table_part(t)))
            sc->in_select = false;
        else if (!IS(t, "script") && !IS(t, "template"))
            return after;
    }
    switch (t->name_len) {
    case 1:
        if (t->name[0] == 'a' && t->href.set && sc->template_depth == 0)
            sc->rc = emit(sc, ACIO_HTML_A, &t->href);
        return after;
    case 3:
        if (IS(t, "svg") && !t->self_closing)
            foreign_push(sc, t, NS_SVG);
        else if (IS(t, "xmp"))
            return skip_raw(s, n, after, "xmp", 3);
        return after;
    case 4:
        if (IS(t, "area") && t->href.set && sc->template_depth == 0)
            sc->rc = emit(sc, ACIO_HTML_AREA, &t->href);
        else if (IS(t, "base") && t->href.set && sc->template_depth == 0)
            sc->rc = emit(sc, ACIO_HTML_BASE, &t->href);
        else if (IS(t, "math") && !t->self_closing)
            foreign_push(sc, t, NS_MATH);
        return after;
    case 5:
        if (IS(t, "table"))
            sc->table_depth++;
        else if (IS(t, "style"))
            return skip_raw(s, n, after, "style", 5);
        if (IS(t, "title"))
            return skip_raw(s, n, after, "title", 5);
        return after;
    case 6:
        if (IS(t, "script"))
            return skip_script(s, n, after);
        if (IS(t, "iframe"))
            return skip_raw(s, n, after, "iframe", 6);
        if (IS(t, "select")) {
            sc->in_select = true;
            sc->select_in_table = sc->table_depth > 0;
        }
        return after;
    case 7:
        if (IS(t, "noembed"))
            return skip_raw(s, n, after, "noembed", 7);
        return after;
    case 8:
        if (IS(t, "textarea"))
            return skip_raw(s, n, after, "textarea", 8);
        if (IS(t, "template"))
            sc->template_depth++;
        else if (IS(t, "noframes"))
            return skip_raw(s, n, after, "noframes", 8);
        return after;
    case 9:
        if (IS(t, "plaintext"))
            return n;
        return after;
    default:
        return after;
    }
}

static size_t tag(scan_t *sc, size_t i)
{
    acio__html_tag_t t;
    size_t after = acio__html_tag(sc->s, sc->n, i, &t);
    if (after == 0)
        return sc->n; /* EOF inside a tag: the tag is dropped */
    if (t.end) {
        if (sc->fdepth > 0 || sc->foverflow) {
            if (!html_content(sc) && (IS(&t, "br") || IS(&t, "p"))) {
                foreign_break_out(sc);
                return after;
            }
            if (foreign_pop_to(sc, &t))
                return after;
        }
        if (IS(&t, "template")) {
            if (sc->template_depth > 0)
                sc->template_depth--;
        } else if (IS(&t, "select") || (sc->in_select && sc->select_in_table && table_part(&t))) {
            sc->in_select = false;
        }
        if (IS(&t, "table") && !sc->in_select && sc->table_depth > 0)
            sc->table_depth--;
        return after;
    }
    if (!html_content(sc)) {
        if (breaks_out(&t)) {
            foreign_break_out(sc);
        } else {
            if (!t.self_closing) {
                unsigned char ns = IS(&t, "svg")    ? NS_SVG
                                   : IS(&t, "math") ? NS_MATH
                                                    : sc->fstack[sc->fdepth - 1].ns;
                foreign_push(sc, &t, ns);
            }
            return after;
        }
        if (!html_content(sc))
            return after;
    }
    return html_start_tag(sc, &t, after);
}

/* The end of a comment that starts at s[i] ("<!--"): past its "-->" or "--!>". */
static size_t comment(const char *s, size_t n, size_t i)
{
    size_t p = i + 4;
    if (p < n && s[p] == '>')
        return p + 1; /* "<!-->" */
    if (p + 1 < n && s[p] == '-' && s[p + 1] == '>')
        return p + 2; /* "<!--->" */
    while (p + 2 < n) {
        const char *d = memchr(s + p, '-', n - p - 2);
        if (!d)
            return n;
        p = (size_t)(d - s);
        if (s[p + 1] == '-') {
            if (s[p + 2] == '>')
                return p + 3;
            if (s[p + 2] == '!' && p + 3 < n && s[p + 3] == '>')
                return p + 4;
        }
        p++;
    }
    return n;
}

static size_t to_gt(const char *s, size_t n, size_t i)
{
    const char *gt = memchr(s + i, '>', n - i);
    return gt ? (size_t)(gt - s) + 1 : n;
}

int acio_html_scan(const char *s, size_t n, acio_html_href_cb cb, void *data)
{
    scan_t sc = {.s = s, .n = n, .cb = cb, .data = data};
    size_t i = 0;
    while (i < n && sc.rc == 0) {
        const char *lt = memchr(s + i, '<', n - i);
        if (!lt)
            break;
        i = (size_t)(lt - s);
        if (i + 1 >= n)
            break;
        unsigned char c = (unsigned char)s[i + 1];
        if (acio__html_alpha(c)) {
            i = tag(&sc, i);
        } else if (c == '/') {
            if (i + 2 >= n)
                break;
            if (acio__html_alpha((unsigned char)s[i + 2]))
                i = tag(&sc, i);
            else if (s[i + 2] == '>')
                i += 3; /* "</>" is dropped */
            else
                i = to_gt(s, n, i + 2); /* bogus comment */
        } else if (c == '!') {
            if (i + 3 < n && s[i + 2] == '-' && s[i + 3] == '-') {
                i = comment(s, n, i);
            } else if (i + 8 < n && memcmp(s + i + 2, "[CDATA[", 7) == 0 && sc.fdepth > 0 &&
                       !html_content(&sc)) {
                const char *end = memmem(s + i + 9, n - i - 9, "]]>", 3);
                i = end ? (size_t)(end - s) + 3 : n;
            } else {
                i = to_gt(s, n, i + 2); /* DOCTYPE or bogus comment: both end at '>' */
            }
        } else if (c == '?') {
            i = to_gt(s, n, i + 2);
        } else {
            i++;
        }
    }
    return sc.rc;
}
