/* Link extraction from HTML pages for the crawler: the links a browser's DOM would hold
 * in document.links (a[href], area[href]), resolved against the page's URL or its first
 * <base href>, with the page's character encoding honoured. The seeds' crawler (areq.py)
 * does this with a regex or lxml; acio uses the WHATWG tokenizer's states, enough of
 * them to see exactly the tags a full parser sees (comments, script/style/textarea
 * contents, CDATA, <template>, foreign content), without building a tree. See
 * docs/html.md. */
#ifndef ACIO_HTML_H
#define ACIO_HTML_H

#include "common.h"
#include "url.h"

/* What acio_html_scan reports. */
typedef enum {
    ACIO_HTML_A = 1, /* <a href> */
    ACIO_HTML_AREA,  /* <area href> */
    ACIO_HTML_BASE,  /* <base href>; the document's base is the first one */
} acio_html_kind_t;

/* Called for each href in document order with the attribute's value, character
 * references decoded, CR LF as LF, NUL as U+FFFD (value is not NUL-terminated and is
 * valid only during the call). A non-zero return stops the scan and is returned. */
typedef int (*acio_html_href_cb)(void *data, acio_html_kind_t kind, const char *value, size_t len);

/* Tokenize len bytes of UTF-8 HTML and report every a/area/base href attribute of an
 * HTML element outside <template> contents, in source order. Allocates nothing. Returns
 * 0, or the callback's non-zero value. */
ACIO_EXTERN int acio_html_scan(const char *html, size_t len, acio_html_href_cb cb, void *data);

/* The page's character encoding by the WHATWG rules, in this order: a byte order mark,
 * the charset parameter of content_type (the Content-Type header's value, or NULL), a
 * <meta charset> or <meta http-equiv=Content-Type content="...charset=..."> within the
 * first 1024 bytes, else UTF-8. Returns the encoding's WHATWG name ("UTF-8",
 * "windows-1252", "Shift_JIS", ...): a static string. Labels are mapped as browsers map
 * them ("latin1" and "iso-8859-1" are windows-1252, "gb2312" is GBK). *bom_len is set
 * to the BOM's length (0 if none). */
ACIO_EXTERN const char *acio_html_encoding(const char *body, size_t len, const char *content_type,
                                           size_t *bom_len);

/* Decode body (without its BOM) from encoding (a name acio_html_encoding returned) into
 * a new NUL-terminated UTF-8 buffer *out of *out_len bytes, invalid sequences replaced
 * by U+FFFD; the caller frees it with acio_html_free. For UTF-8 input only invalid
 * sequences are replaced. Errors: -ENOMEM, -EINVAL (an encoding iconv does not
 * have). */
ACIO_EXTERN int acio_html_to_utf8(const char *body, size_t len, const char *encoding, char **out,
                                  size_t *out_len);
ACIO_EXTERN void acio_html_free(void *p);

/* Called once per distinct link of a page. url is resolved, normalised, http(s) only,
 * without fragment, and borrowed for the call (acio_url_copy keeps it). Non-zero
 * return stops the extraction and is returned. */
typedef int (*acio_html_link_cb)(void *data, const acio_url_t *url);

/* The crawler's step: decode body (acio_html_encoding + acio_html_to_utf8), scan it,
 * resolve each a/area href against the first <base href> (itself resolved against
 * page) or page, with ACIO_URL_DROP_FRAGMENT | ACIO_URL_HTTP_ONLY; skip links that do
 * not resolve (mailto:, javascript:, bad hosts); drop duplicates within the page (first
 * one kept, as areq.py's set of links); call cb for each in document order. Returns the
 * number of links reported, the callback's non-zero value, or -ENOMEM. */
ACIO_EXTERN int acio_html_links(const char *body, size_t len, const char *content_type,
                                const acio_url_t *page, acio_html_link_cb cb, void *data);

#endif
