/* A page's character encoding (WHATWG Encoding standard's labels and the HTML
 * standard's "determining the character encoding": BOM, transport layer, the <meta>
 * prescan of the first 1024 bytes, UTF-8 as the default) and decoding to UTF-8 with
 * iconv, invalid input replaced by U+FFFD as browsers do. */
#include <iconv.h>
#include <string.h>

#include "html/html_int.h"

typedef struct {
    const char *label;
    const char *name; /* the WHATWG name, which acio_html_encoding returns */
} label_t;

/* The WHATWG labels of the encodings iconv has, most of the standard's list. */
static const label_t labels[] = {
    {"unicode-1-1-utf-8", "UTF-8"},
    {"unicode11utf8", "UTF-8"},
    {"unicode20utf8", "UTF-8"},
    {"utf-8", "UTF-8"},
    {"utf8", "UTF-8"},
    {"x-unicode20utf8", "UTF-8"},
    {"866", "IBM866"},
    {"cp866", "IBM866"},
    {"csibm866", "IBM866"},
    {"ibm866", "IBM866"},
    {"csisolatin2", "ISO-8859-2"},
    {"iso-8859-2", "ISO-8859-2"},
    {"iso-ir-101", "ISO-8859-2"},
    {"iso8859-2", "ISO-8859-2"},
    {"iso88592", "ISO-8859-2"},
    {"iso_8859-2", "ISO-8859-2"},
    {"iso_8859-2:1987", "ISO-8859-2"},
    {"l2", "ISO-8859-2"},
    {"latin2", "ISO-8859-2"},
    {"csisolatin3", "ISO-8859-3"},
    {"iso-8859-3", "ISO-8859-3"},
    {"iso8859-3", "ISO-8859-3"},
    {"latin3", "ISO-8859-3"},
    {"csisolatin4", "ISO-8859-4"},
    {"iso-8859-4", "ISO-8859-4"},
    {"iso8859-4", "ISO-8859-4"},
    {"latin4", "ISO-8859-4"},
    {"csisolatincyrillic", "ISO-8859-5"},
    {"cyrillic", "ISO-8859-5"},
    {"iso-8859-5", "ISO-8859-5"},
    {"iso8859-5", "ISO-8859-5"},
    {"iso88595", "ISO-8859-5"},
    {"iso_8859-5", "ISO-8859-5"},
    {"arabic", "ISO-8859-6"},
    {"iso-8859-6", "ISO-8859-6"},
    {"iso8859-6", "ISO-8859-6"},
    {"greek", "ISO-8859-7"},
    {"iso-8859-7", "ISO-8859-7"},
    {"iso8859-7", "ISO-8859-7"},
    {"hebrew", "ISO-8859-8"},
    {"iso-8859-8", "ISO-8859-8"},
    {"iso8859-8", "ISO-8859-8"},
    {"iso-8859-10", "ISO-8859-10"},
    {"latin6", "ISO-8859-10"},
    {"iso-8859-13", "ISO-8859-13"},
    {"iso-8859-14", "ISO-8859-14"},
    {"csisolatin9", "ISO-8859-15"},
    {"iso-8859-15", "ISO-8859-15"},
    {"iso8859-15", "ISO-8859-15"},
    {"iso885915", "ISO-8859-15"},
    {"iso_8859-15", "ISO-8859-15"},
    {"l9", "ISO-8859-15"},
    {"iso-8859-16", "ISO-8859-16"},
    {"cskoi8r", "KOI8-R"},
    {"koi", "KOI8-R"},
    {"koi8", "KOI8-R"},
    {"koi8-r", "KOI8-R"},
    {"koi8_r", "KOI8-R"},
    {"koi8-ru", "KOI8-U"},
    {"koi8-u", "KOI8-U"},
    {"csmacintosh", "macintosh"},
    {"mac", "macintosh"},
    {"macintosh", "macintosh"},
    {"x-mac-roman", "macintosh"},
    {"dos-874", "windows-874"},
    {"iso-8859-11", "windows-874"},
    {"tis-620", "windows-874"},
    {"windows-874", "windows-874"},
    {"cp1250", "windows-1250"},
    {"windows-1250", "windows-1250"},
    {"x-cp1250", "windows-1250"},
    {"cp1251", "windows-1251"},
    {"windows-1251", "windows-1251"},
    {"x-cp1251", "windows-1251"},
    {"ansi_x3.4-1968", "windows-1252"},
    {"ascii", "windows-1252"},
    {"cp1252", "windows-1252"},
    {"cp819", "windows-1252"},
    {"csisolatin1", "windows-1252"},
    {"ibm819", "windows-1252"},
    {"iso-8859-1", "windows-1252"},
    {"iso-ir-100", "windows-1252"},
    {"iso8859-1", "windows-1252"},
    {"iso88591", "windows-1252"},
    {"iso_8859-1", "windows-1252"},
    {"iso_8859-1:1987", "windows-1252"},
    {"l1", "windows-1252"},
    {"latin1", "windows-1252"},
    {"us-ascii", "windows-1252"},
    {"windows-1252", "windows-1252"},
    {"x-cp1252", "windows-1252"},
    {"cp1253", "windows-1253"},
    {"windows-1253", "windows-1253"},
    {"cp1254", "windows-1254"},
    {"iso-8859-9", "windows-1254"},
    {"iso8859-9", "windows-1254"},
    {"l5", "windows-1254"},
    {"latin5", "windows-1254"},
    {"windows-1254", "windows-1254"},
    {"cp1255", "windows-1255"},
    {"windows-1255", "windows-1255"},
    {"cp1256", "windows-1256"},
    {"windows-1256", "windows-1256"},
    {"cp1257", "windows-1257"},
    {"windows-1257", "windows-1257"},
    {"cp1258", "windows-1258"},
    {"windows-1258", "windows-1258"},
    {"chinese", "GBK"},
    {"csgb2312", "GBK"},
    {"csiso58gb231280", "GBK"},
    {"gb2312", "GBK"},
    {"gb_2312", "GBK"},
    {"gb_2312-80", "GBK"},
    {"gbk", "GBK"},
    {"iso-ir-58", "GBK"},
    {"x-gbk", "GBK"},
    {"gb18030", "gb18030"},
    {"big5", "Big5"},
    {"big5-hkscs", "Big5"},
    {"cn-big5", "Big5"},
    {"csbig5", "Big5"},
    {"x-x-big5", "Big5"},
    {"cseucpkdfmtjapanese", "EUC-JP"},
    {"euc-jp", "EUC-JP"},
    {"x-euc-jp", "EUC-JP"},
    {"csiso2022jp", "ISO-2022-JP"},
    {"iso-2022-jp", "ISO-2022-JP"},
    {"csshiftjis", "Shift_JIS"},
    {"ms932", "Shift_JIS"},
    {"ms_kanji", "Shift_JIS"},
    {"shift-jis", "Shift_JIS"},
    {"shift_jis", "Shift_JIS"},
    {"sjis", "Shift_JIS"},
    {"windows-31j", "Shift_JIS"},
    {"x-sjis", "Shift_JIS"},
    {"cseuckr", "EUC-KR"},
    {"csksc56011987", "EUC-KR"},
    {"euc-kr", "EUC-KR"},
    {"iso-ir-149", "EUC-KR"},
    {"korean", "EUC-KR"},
    {"ks_c_5601-1987", "EUC-KR"},
    {"ks_c_5601-1989", "EUC-KR"},
    {"ksc5601", "EUC-KR"},
    {"ksc_5601", "EUC-KR"},
    {"windows-949", "EUC-KR"},
    {"unicodefffe", "UTF-16BE"},
    {"utf-16be", "UTF-16BE"},
    {"csunicode", "UTF-16LE"},
    {"iso-10646-ucs-2", "UTF-16LE"},
    {"ucs-2", "UTF-16LE"},
    {"unicode", "UTF-16LE"},
    {"unicodefeff", "UTF-16LE"},
    {"utf-16", "UTF-16LE"},
    {"utf-16le", "UTF-16LE"},
    {"x-user-defined", "x-user-defined"},
};

/* The iconv name of a WHATWG encoding (where they differ). */
static const char *iconv_name(const char *enc)
{
    static const char *const map[][2] = {
        {"IBM866", "CP866"},        {"windows-874", "CP874"},   {"windows-1250", "CP1250"},
        {"windows-1251", "CP1251"}, {"windows-1252", "CP1252"}, {"windows-1253", "CP1253"},
        {"windows-1254", "CP1254"}, {"windows-1255", "CP1255"}, {"windows-1256", "CP1256"},
        {"windows-1257", "CP1257"}, {"windows-1258", "CP1258"}, {"GBK", "GB18030"},
        {"gb18030", "GB18030"},     {"Big5", "BIG5-HKSCS"},     {"Shift_JIS", "CP932"},
        {"EUC-KR", "CP949"},        {"macintosh", "MACINTOSH"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(enc, map[i][0]) == 0)
            return map[i][1];
    return enc;
}

const char *acio__html_encoding_for_label(const char *s, size_t n)
{
    while (n && acio__html_ws((unsigned char)*s))
        s++, n--;
    while (n && acio__html_ws((unsigned char)s[n - 1]))
        n--;
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
        if (strlen(labels[i].label) == n && strncasecmp(labels[i].label, s, n) == 0)
            return labels[i].name;
    return NULL;
}

bool acio__html_charset_param(const char *s, size_t n, const char **label, size_t *label_n)
{
    size_t i = 0;
    for (;;) {
        /* "charset", case-insensitively. */
        while (i + 7 <= n && strncasecmp(s + i, "charset", 7) != 0)
            i++;
        if (i + 7 > n)
            return false;
        i += 7;
        while (i < n && acio__html_ws((unsigned char)s[i]))
            i++;
        if (i < n && s[i] == '=')
            break;
    }
    i++;
    while (i < n && acio__html_ws((unsigned char)s[i]))
        i++;
    if (i >= n)
        return false;
    if (s[i] == '"' || s[i] == '\'') {
        const char *close = memchr(s + i + 1, s[i], n - i - 1);
        if (!close)
            return false;
        *label = s + i + 1;
        *label_n = (size_t)(close - s - i - 1);
        return true;
    }
    size_t j = i;
    while (j < n && !acio__html_ws((unsigned char)s[j]) && s[j] != ';')
        j++;
    *label = s + i;
    *label_n = j - i;
    return j > i;
}

/* The <meta> prescan over the first 1024 bytes. */
static const char *prescan(const char *s, size_t n)
{
    if (n > 1024)
        n = 1024;
    size_t i = 0;
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i);
        if (!lt || (size_t)(lt - s) + 1 >= n)
            return NULL;
        i = (size_t)(lt - s);
        if (i + 3 < n && memcmp(s + i, "<!--", 4) == 0) {
            const char *end = memmem(s + i + 2, n - i - 2, "-->", 3);
            if (!end)
                return NULL;
            i = (size_t)(end - s) + 3;
            continue;
        }
        unsigned char c = (unsigned char)s[i + 1];
        bool tag = acio__html_alpha(c) ||
                   (c == '/' && i + 2 < n && acio__html_alpha((unsigned char)s[i + 2]));
        if (!tag) {
            const char *gt = memchr(s + i + 1, '>', n - i - 1);
            if (!gt)
                return NULL;
            i = (size_t)(gt - s) + 1;
            continue;
        }
        acio__html_tag_t t;
        size_t after = acio__html_tag(s, n, i, &t);
        if (after == 0)
            return NULL;
        i = after;
        if (t.end || t.name_len != 4 || memcmp(t.name, "meta", 4) != 0)
            continue;
        const char *enc = NULL;
        char buf[256];
        if (t.charset.set) {
            size_t cn = t.charset.n < sizeof(buf) / 3 ? t.charset.n : sizeof(buf) / 3;
            cn = acio__html_decode_attr(t.charset.p, cn, buf);
            enc = acio__html_encoding_for_label(buf, cn);
        } else if (t.http_equiv.set && t.content.set) {
            size_t hn = t.http_equiv.n < sizeof(buf) / 3 ? t.http_equiv.n : sizeof(buf) / 3;
            hn = acio__html_decode_attr(t.http_equiv.p, hn, buf);
            if (hn != 12 || strncasecmp(buf, "content-type", 12) != 0)
                continue;
            size_t cn = t.content.n < sizeof(buf) / 3 ? t.content.n : sizeof(buf) / 3;
            cn = acio__html_decode_attr(t.content.p, cn, buf);
            const char *label;
            size_t ln;
            if (acio__html_charset_param(buf, cn, &label, &ln))
                enc = acio__html_encoding_for_label(label, ln);
        }
        if (enc) {
            /* A page cannot declare itself UTF-16 in ASCII: that means UTF-8. */
            if (strncmp(enc, "UTF-16", 6) == 0)
                return "UTF-8";
            if (strcmp(enc, "x-user-defined") == 0)
                return "windows-1252";
            return enc;
        }
    }
    return NULL;
}

const char *acio_html_encoding(const char *s, size_t n, const char *content_type, size_t *bom_len)
{
    const unsigned char *u = (const unsigned char *)s;
    *bom_len = 0;
    if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        *bom_len = 3;
        return "UTF-8";
    }
    if (n >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
        *bom_len = 2;
        return "UTF-16BE";
    }
    if (n >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
        *bom_len = 2;
        return "UTF-16LE";
    }
    if (content_type) {
        const char *label;
        size_t ln;
        if (acio__html_charset_param(content_type, strlen(content_type), &label, &ln)) {
            const char *enc = acio__html_encoding_for_label(label, ln);
            if (enc && strcmp(enc, "x-user-defined") != 0)
                return enc;
        }
    }
    const char *enc = prescan(s, n);
    return enc ? enc : "UTF-8";
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* The length of the maximal subpart at s, which utf8_seq found invalid (at least 1). */
static size_t invalid_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 1;
    if (n < 2 || s[1] < lo || s[1] > hi)
        return 1;
    size_t k = 2;
    while (k < len && k < n && (s[k] & 0xC0) == 0x80)
        k++;
    return k;
}

static int utf8_clean(const char *s, size_t n, char **out, size_t *out_len)
{
    char *d = acio__malloc(n * 3 + 1);
    if (!d)
        return -ENOMEM;
    size_t o = 0, i = 0;
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k) {
            memcpy(d + o, s + i, k);
            o += k;
            i += k;
        } else {
            /* One U+FFFD per maximal subpart (the Encoding standard's rule): a lead byte
             * and the continuation bytes that could still have completed it. */
            memcpy(d + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += invalid_len((const unsigned char *)s + i, n - i);
        }
    }
    d[o] = '\0';
    *out = d;
    *out_len = o;
    return 0;
}

int acio_html_to_utf8(const char *s, size_t n, const char *encoding, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (strcmp(encoding, "UTF-8") == 0)
        return utf8_clean(s, n, out, out_len);
    iconv_t cd = iconv_open("UTF-8", iconv_name(encoding));
    if (cd == (iconv_t)-1)
        return -EINVAL;
    size_t cap = n * 4 + 16;
    char *d = acio__malloc(cap);
    if (!d) {
        iconv_close(cd);
        return -ENOMEM;
    }
    char *in = (char *)s, *o = d;
    size_t inleft = n, outleft = cap - 1;
    while (inleft > 0) {
        if (iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1)
            break;
        if (errno == E2BIG) {
            size_t used = (size_t)(o - d);
            char *nd = acio__realloc(d, cap * 2);
            if (!nd) {
                acio__free(d);
                iconv_close(cd);
                return -ENOMEM;
            }
            d = nd;
            cap *= 2;
            o = d + used;
            outleft = cap - 1 - used;
            continue;
        }
        /* EILSEQ or EINVAL (truncated at the end): one U+FFFD, skip one byte. */
        if (outleft < 3) {
            errno = E2BIG;
            size_t used = (size_t)(o - d);
            char *nd = acio__realloc(d, cap * 2);
            if (!nd) {
                acio__free(d);
                iconv_close(cd);
                return -ENOMEM;
            }
            d = nd;
            cap *= 2;
            o = d + used;
            outleft = cap - 1 - used;
        }
        memcpy(o, "\xEF\xBF\xBD", 3);
        o += 3;
        outleft -= 3;
        in++;
        inleft--;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    iconv_close(cd);
    *o = '\0';
    *out = d;
    *out_len = (size_t)(o - d);
    return 0;
}

void acio_html_free(void *p)
{
    acio__free(p);
}
