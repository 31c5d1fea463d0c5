/* HTTP/1.1 message parsing (RFC 9112): a pure function over a byte range, in the style
 * of picohttpparser. No I/O, no allocation: the parsed head points into the caller's
 * buffer, headers land in an array the caller provides. The HTTP client and server
 * (acio/http_client.h, acio/http_server.h) own the buffers, timeouts and sockets around
 * it; this header is public so programs can parse HTTP on their own transports too.
 *
 * Incremental use: call the head parser each time more bytes arrive, on the whole
 * buffer so far, passing how many bytes the previous call saw (prev_len) so it can skip
 * re-scanning for the end of the head. It returns ACIO_HTTP_INCOMPLETE until the head is
 * whole, then the head's length; a message split at any byte parses identically.
 *
 * Strict by default: every deviation from RFC 9112 that could let two parsers disagree
 * about where a message ends (request smuggling) is an error with its own code
 * (ACIO_EHTTP_*, acio_strerror names each). */
#ifndef ACIO_HTTP_PARSER_H
#define ACIO_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"

/* Returned (as a positive count's absence) by the parsers while more bytes are needed. */
#define ACIO_HTTP_INCOMPLETE (-2)

/* One header field: name and value point into the parsed buffer, not NUL-terminated.
 * The value has its leading and trailing whitespace removed. */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} acio_http_header_t;

/* Limits, all configurable; acio_http_limits_default() fills the defaults given here. */
typedef struct {
    size_t max_start_line;    /* request line or status line, bytes: 8190 (-> 414 / error) */
    size_t max_header_line;   /* one field line, bytes: 8190 */
    size_t max_headers;       /* field lines: 100 (-> 431) */
    size_t max_head_bytes;    /* whole head, start line to blank line: 65536 (-> 431) */
    size_t max_chunk_ext;     /* chunk extensions on one chunk-size line: 4096 */
    size_t max_trailer_bytes; /* all trailer fields of a chunked body: 65536 */
} acio_http_limits_t;

ACIO_EXTERN void acio_http_limits_default(acio_http_limits_t *lim);

/* How the body that follows the head is framed (RFC 9112 §6.3). */
typedef enum {
    ACIO_HTTP_BODY_NONE,   /* no body: Content-Length 0 or absent on a request, HEAD, 1xx/204/304 */
    ACIO_HTTP_BODY_LENGTH, /* exactly content_length bytes */
    ACIO_HTTP_BODY_CHUNKED, /* chunked transfer coding */
    ACIO_HTTP_BODY_EOF,     /* a response body delimited by the connection's close */
} acio_http_body_kind_t;

/* A parsed head (request or response). Pointers refer into the parsed buffer. */
typedef struct {
    /* Request line (requests only). */
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    /* Status line (responses only). */
    int status;
    const char *reason;
    size_t reason_len;
    /* Both. */
    int version_minor;           /* HTTP/1.<version_minor>: 0 or 1 */
    acio_http_header_t *headers; /* the caller's array, filled */
    size_t num_headers;
    /* Framing and connection semantics, derived from the fields. */
    acio_http_body_kind_t body_kind;
    uint64_t content_length; /* for ACIO_HTTP_BODY_LENGTH */
    bool keep_alive;         /* 1.1 unless "Connection: close"; 1.0 only with "keep-alive" */
    bool expect_continue;    /* request with "Expect: 100-continue" */
    bool upgrade;            /* "Connection: upgrade" with an Upgrade field */
} acio_http_head_t;

/* Parse a request head from buf[0..len). headers/max_headers: the caller's array (its
 * size is also a limit; lim->max_headers applies too). prev_len: how many bytes of buf
 * the previous call on this message saw (0 the first time). lim may be NULL (defaults).
 * Returns the head's length in bytes (the body starts there), ACIO_HTTP_INCOMPLETE, or
 * an ACIO_EHTTP_* code. */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_http_parse_request(const char *buf, size_t len,
                                                           size_t prev_len, acio_http_head_t *head,
                                                           acio_http_header_t *headers,
                                                           size_t max_headers,
                                                           const acio_http_limits_t *lim);

/* Parse a response head. request_method is the method of the request it answers (its
 * framing depends on it: HEAD and a successful CONNECT have no body), NUL-terminated;
 * NULL means GET. 1xx interim responses parse as heads too (status 100-199, body NONE):
 * the caller skips them and parses again after them. Returns as acio_http_parse_request. */
ACIO_EXTERN ACIO_NODISCARD ssize_t
acio_http_parse_response(const char *buf, size_t len, size_t prev_len, const char *request_method,
                         acio_http_head_t *head, acio_http_header_t *headers, size_t max_headers,
                         const acio_http_limits_t *lim);

/* The body decoder: framing state carried between calls, so a body may arrive in any
 * pieces. Initialise it from a parsed head, then feed it the bytes after the head. */
typedef struct {
    acio_http_body_kind_t kind;
    uint64_t remaining; /* LENGTH: bytes left; CHUNKED: bytes left in the current chunk */
    int state;          /* internal */
    size_t ext_len;     /* internal: chunk-extension bytes seen on this line */
    size_t trailer_len; /* internal: trailer bytes seen */
    size_t line_len;    /* internal */
    const acio_http_limits_t *lim;
    bool done; /* the whole body (and trailers) has been seen */
    int error; /* internal: the first error, returned again by later calls */
} acio_http_body_t;

ACIO_EXTERN void acio_http_body_init(acio_http_body_t *b, const acio_http_head_t *head,
                                     const acio_http_limits_t *lim);

/* Decode buf[0..*len) in place: on return buf[0..*len) holds body bytes only (chunk
 * framing removed), and the return value is how many of the input bytes were consumed
 * (the rest, if b->done, belong to the next message: pipelining). Returns a negative
 * ACIO_EHTTP_* code on malformed framing. For BODY_EOF everything is body until the
 * caller sees the connection close (then it sets b->done itself by calling
 * acio_http_body_eof). */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_http_body_decode(acio_http_body_t *b, char *buf,
                                                         size_t *len);

/* The connection closed: 0 if that ends the body properly (BODY_EOF, or already done),
 * ACIO_EHTTP_TRUNCATED otherwise. */
ACIO_EXTERN int acio_http_body_eof(acio_http_body_t *b);

/* Case-insensitive lookup of the first field named name (NUL-terminated) in a head;
 * NULL if absent. *value_len receives the value's length. */
ACIO_EXTERN const char *acio_http_head_get(const acio_http_head_t *head, const char *name,
                                           size_t *value_len);

#endif
