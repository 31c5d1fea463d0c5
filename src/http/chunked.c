/* The body decoder (RFC 9112 sections 6 and 7): Content-Length bodies, close-delimited
 * bodies and the chunked transfer coding, decoded in place. Its state lives in
 * acio_http_body_t, so a body may arrive in pieces of any size, split anywhere; chunk
 * framing is removed by moving data bytes down over it in the caller's buffer. Chunk
 * extensions are parsed to the RFC grammar and bounded (max_chunk_ext), trailer fields
 * are checked like header fields and bounded (max_trailer_bytes), then dropped. */
#include <string.h>

#include "http/chars.h"
#include "http/parser_int.h"

enum {
    S_SIZE_START,     /* first hex digit of a chunk-size */
    S_SIZE,           /* more hex digits, or what follows them */
    S_EXT_NAME_START, /* after ";": a token */
    S_EXT_NAME,       /* in the extension name */
    S_EXT_VAL_START,  /* after "=": a token or a quoted-string */
    S_EXT_VAL,        /* in a token value */
    S_EXT_QUOTED,     /* in a quoted-string value */
    S_EXT_QESC,       /* after a backslash in a quoted-string */
    S_EXT_AFTER_VAL,  /* after a quoted value: ";" or CR */
    S_SIZE_LF,        /* CR seen at the end of the size line */
    S_DATA,           /* chunk data, `remaining` bytes left */
    S_DATA_CR,        /* the CRLF after chunk data */
    S_DATA_LF,
    S_TR_START, /* start of a trailer line, or of the final empty line */
    S_TR_NAME,
    S_TR_VALUE,
    S_TR_LF,
    S_END_LF, /* CR of the final empty line seen */
};

void acio_http_body_init(acio_http_body_t *b, const acio_http_head_t *head,
                         const acio_http_limits_t *lim)
{
    memset(b, 0, sizeof *b);
    b->lim = lim ? lim : &acio__http_default_limits;
    b->kind = head->body_kind;
    b->state = S_SIZE_START;
    switch (b->kind) {
    case ACIO_HTTP_BODY_NONE:
        b->done = true;
        break;
    case ACIO_HTTP_BODY_LENGTH:
        b->remaining = head->content_length;
        b->done = b->remaining == 0;
        break;
    default:
        break;
    }
}

int acio_http_body_eof(acio_http_body_t *b)
{
    if (b->kind == ACIO_HTTP_BODY_EOF)
        b->done = true;
    return b->done ? 0 : ACIO_EHTTP_TRUNCATED;
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* qdtext (RFC 9110 5.6.4): HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text. */
static inline bool is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

/* One byte of a chunk-size line after the digits: chunk extensions, RFC 9112 7.1.1,
 * without the "bad whitespace" around ";" and "=" that the RFC asks recipients to skip:
 * no sender produces it, h11 rejects it, and every accepted variation is one more way
 * for two parsers to differ. Returns the next state or an error. */
static int ext_byte(acio_http_body_t *b, int st, unsigned char c)
{
    if (c == '\n')
        return ACIO_EHTTP_BARE_LF;
    if (++b->ext_len > b->lim->max_chunk_ext)
        return ACIO_EHTTP_CHUNK_EXT_TOO_LONG;
    switch (st) {
    case S_EXT_NAME_START:
        return acio__http_is_tchar(c) ? S_EXT_NAME : ACIO_EHTTP_BAD_CHUNK_EXT;
    case S_EXT_NAME:
        if (acio__http_is_tchar(c))
            return S_EXT_NAME;
        if (c == '\r')
            return S_SIZE_LF;
        if (c == ';')
            return S_EXT_NAME_START;
        return c == '=' ? S_EXT_VAL_START : ACIO_EHTTP_BAD_CHUNK_EXT;
    case S_EXT_VAL_START:
        if (c == '"')
            return S_EXT_QUOTED;
        return acio__http_is_tchar(c) ? S_EXT_VAL : ACIO_EHTTP_BAD_CHUNK_EXT;
    case S_EXT_VAL:
        if (acio__http_is_tchar(c))
            return S_EXT_VAL;
        if (c == '\r')
            return S_SIZE_LF;
        return c == ';' ? S_EXT_NAME_START : ACIO_EHTTP_BAD_CHUNK_EXT;
    case S_EXT_QUOTED:
        if (c == '"')
            return S_EXT_AFTER_VAL;
        if (c == '\\')
            return S_EXT_QESC;
        return is_qdtext(c) ? S_EXT_QUOTED : ACIO_EHTTP_BAD_CHUNK_EXT;
    case S_EXT_QESC:
        return c == '\t' || (c >= 0x20 && c != 0x7F) ? S_EXT_QUOTED : ACIO_EHTTP_BAD_CHUNK_EXT;
    case S_EXT_AFTER_VAL:
        if (c == '\r')
            return S_SIZE_LF;
        return c == ';' ? S_EXT_NAME_START : ACIO_EHTTP_BAD_CHUNK_EXT;
    default:
        return ACIO_EHTTP_BAD_CHUNK_EXT;
    }
}

/* One byte of the trailer section. Returns the next state, S_END_LF + 1 when the body
 * is complete, or an error. */
#define S_COMPLETE (S_END_LF + 1)
static int trailer_byte(acio_http_body_t *b, int st, unsigned char c)
{
    if (++b->trailer_len > b->lim->max_trailer_bytes)
        return ACIO_EHTTP_TRAILER_TOO_LARGE;
    switch (st) {
    case S_TR_START:
        if (c == '\r')
            return S_END_LF;
        if (c == '\n')
            return ACIO_EHTTP_BARE_LF;
        if (is_ws(c))
            return ACIO_EHTTP_OBS_FOLD;
        return acio__http_is_tchar(c) ? S_TR_NAME : ACIO_EHTTP_BAD_HEADER_NAME;
    case S_TR_NAME:
        if (acio__http_is_tchar(c))
            return S_TR_NAME;
        if (c == ':')
            return S_TR_VALUE;
        if (is_ws(c))
            return ACIO_EHTTP_HEADER_WS;
        return c == '\r' || c == '\n' ? ACIO_EHTTP_MISSING_COLON : ACIO_EHTTP_BAD_HEADER_NAME;
    case S_TR_VALUE:
        if (acio__http_is_field(c))
            return S_TR_VALUE;
        if (c == '\r')
            return S_TR_LF;
        return c == '\n' ? ACIO_EHTTP_BARE_LF : ACIO_EHTTP_BAD_HEADER_VALUE;
    case S_TR_LF:
        return c == '\n' ? S_TR_START : ACIO_EHTTP_BARE_CR;
    case S_END_LF:
        return c == '\n' ? S_COMPLETE : ACIO_EHTTP_BARE_CR;
    default:
        return ACIO_EHTTP_BAD_HEADER_NAME;
    }
}

static ssize_t decode_chunked(acio_http_body_t *b, char *buf, size_t *len)
{
    const unsigned char *in = (const unsigned char *)buf, *end = in + *len;
    char *out = buf;
    int st = b->state;

    while (in < end) {
        if (st == S_DATA) {
            size_t avail = (size_t)(end - in);
            size_t n = b->remaining < avail ? (size_t)b->remaining : avail;
            if (out != (const char *)in)
                memmove(out, in, n);
            out += n;
            in += n;
            b->remaining -= n;
            if (b->remaining == 0)
                st = S_DATA_CR;
            continue;
        }
        unsigned char c = *in++;
        int next;
        switch (st) {
        case S_SIZE_START:
        case S_SIZE: {
            int v = hexval(c);
            if (v >= 0) {
                if (++b->line_len > 32 || (b->remaining >> 59) != 0) {
                    next = ACIO_EHTTP_CHUNK_SIZE_OVERFLOW;
                    break;
                }
                b->remaining = (b->remaining << 4) | (unsigned)v;
                next = S_SIZE;
            } else if (st == S_SIZE_START) {
                next = c == '\n' ? ACIO_EHTTP_BARE_LF : ACIO_EHTTP_BAD_CHUNK_SIZE;
            } else if (c == '\r') {
                next = S_SIZE_LF;
            } else if (c == ';') {
                next = S_EXT_NAME_START;
                b->ext_len = 1;
            } else {
                next = c == '\n' ? ACIO_EHTTP_BARE_LF : ACIO_EHTTP_BAD_CHUNK_SIZE;
            }
            break;
        }
        case S_SIZE_LF:
            if (c != '\n') {
                next = ACIO_EHTTP_BARE_CR;
                break;
            }
            b->line_len = 0;
            b->ext_len = 0;
            next = b->remaining ? S_DATA : S_TR_START;
            break;
        case S_DATA_CR:
            next = c == '\r' ? S_DATA_LF : ACIO_EHTTP_BAD_CHUNK_END;
            break;
        case S_DATA_LF:
            next = c == '\n' ? S_SIZE_START : ACIO_EHTTP_BAD_CHUNK_END;
            break;
        case S_TR_START:
        case S_TR_NAME:
        case S_TR_VALUE:
        case S_TR_LF:
        case S_END_LF:
            next = trailer_byte(b, st, c);
            if (next == S_COMPLETE) {
                b->done = true;
                b->state = st;
                *len = (size_t)(out - buf);
                return (const char *)in - buf;
            }
            break;
        default:
            next = ext_byte(b, st, c);
            break;
        }
        if (next < 0) {
            b->error = next;
            return next;
        }
        st = next;
    }
    b->state = st;
    *len = (size_t)(out - buf);
    return (const char *)in - buf;
}

ssize_t acio_http_body_decode(acio_http_body_t *b, char *buf, size_t *len)
{
    if (b->error)
        return b->error;
    if (b->done) {
        *len = 0;
        return 0;
    }
    switch (b->kind) {
    case ACIO_HTTP_BODY_LENGTH: {
        size_t n = b->remaining < *len ? (size_t)b->remaining : *len;
        b->remaining -= n;
        b->done = b->remaining == 0;
        *len = n;
        return (ssize_t)n;
    }
    case ACIO_HTTP_BODY_EOF:
        return (ssize_t)*len;
    case ACIO_HTTP_BODY_CHUNKED:
        return decode_chunked(b, buf, len);
    default:
        *len = 0;
        return 0;
    }
}
