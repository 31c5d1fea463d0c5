/* Byte classes of HTTP/1.1 (RFC 9110 5.6.2 token, 5.5 field-value), shared by the head
 * parser, the chunked decoder and the header list's validation. One 256-entry table,
 * one bit per class, so each check is a load and a test. */
#ifndef ACIO_HTTP_CHARS_H
#define ACIO_HTTP_CHARS_H

#include <stdint.h>

enum {
    ACIO_HC_TCHAR = 1,  /* token: ALPHA DIGIT and !#$%&'*+-.^_`|~ */
    ACIO_HC_FIELD = 2,  /* field-value byte: VCHAR, obs-text (0x80-0xFF), SP, HTAB */
    ACIO_HC_TARGET = 4, /* request-target byte: VCHAR (0x21-0x7E) */
    ACIO_HC_REASON = 8, /* reason-phrase byte: same as FIELD */
};

extern const uint8_t acio__http_chars[256];
/* ASCII lower case of every byte (others unchanged). */
extern const uint8_t acio__http_lower[256];

static inline int acio__http_is_tchar(unsigned char c)
{
    return acio__http_chars[c] & ACIO_HC_TCHAR;
}
static inline int acio__http_is_field(unsigned char c)
{
    return acio__http_chars[c] & ACIO_HC_FIELD;
}

/* Case-insensitive comparison of a (not NUL-terminated) with the lower-case b of the
 * same length. */
int acio__http_lower_eq(const char *a, size_t alen, const char *lower_b, size_t blen);
/* Case-insensitive comparison of two byte ranges. */
int acio__http_case_eq(const char *a, size_t alen, const char *b, size_t blen);

#endif
