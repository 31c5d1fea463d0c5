/* An owned, ordered, case-insensitive, multi-valued list of HTTP header fields: what the
 * HTTP client sends (request headers) and keeps (response headers, copied out of the
 * parse buffer), and what the server sends (response headers). aiohttp's CIMultiDict,
 * in C: names compare case-insensitively, a name may appear several times, order is
 * kept (it matters for Set-Cookie and for what goes on the wire).
 *
 * Every name and value is checked when it is added, so a list can always be serialised:
 * a name must be a token, a value must not contain CR, LF, NUL or another control byte
 * (header injection). Returned strings are NUL-terminated and owned by the list; they
 * stay valid until the list is next modified.
 *
 * Also here: the standard reason phrases and the Date header's format. */
#ifndef ACIO_HTTP_HEADERS_H
#define ACIO_HTTP_HEADERS_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "common.h"
#include "http_parser.h"

typedef struct acio_http_headers_s acio_http_headers_t;

/* Public so it can be embedded (init/close) in the caller's own structures; treat the
 * members as private. */
struct acio_http_headers_s {
    struct acio_http_field_s *fields; /* count entries, cap allocated */
    size_t count, cap;
    char *bytes; /* names and values, each NUL-terminated */
    size_t used, size;
    size_t dead; /* bytes of removed fields still in `bytes` */
    void *data;  /* the user's */
};

/* In-place lifecycle: init allocates nothing; close frees what the list holds. */
ACIO_EXTERN void acio_http_headers_init(acio_http_headers_t *h);
ACIO_EXTERN void acio_http_headers_close(acio_http_headers_t *h);
/* Heap lifecycle: NULL when out of memory. */
ACIO_EXTERN acio_http_headers_t *acio_http_headers_new(void);
ACIO_EXTERN void acio_http_headers_free(acio_http_headers_t *h);
/* Remove every field, keeping the memory for reuse. */
ACIO_EXTERN void acio_http_headers_clear(acio_http_headers_t *h);

/* Append a field. Returns 0, ACIO_EHTTP_INVALID_NAME, ACIO_EHTTP_INVALID_VALUE or -ENOMEM
 * (the list is unchanged on error). The _n forms take lengths instead of NUL-terminated
 * strings. */
ACIO_EXTERN ACIO_NODISCARD int acio_http_headers_add(acio_http_headers_t *h, const char *name,
                                                     const char *value);
ACIO_EXTERN ACIO_NODISCARD int acio_http_headers_addn(acio_http_headers_t *h, const char *name,
                                                      size_t name_len, const char *value,
                                                      size_t value_len);
/* Replace every field of this name by one (at the first one's place, or appended).
 * Returns as acio_http_headers_add. */
ACIO_EXTERN ACIO_NODISCARD int acio_http_headers_set(acio_http_headers_t *h, const char *name,
                                                     const char *value);
ACIO_EXTERN ACIO_NODISCARD int acio_http_headers_setn(acio_http_headers_t *h, const char *name,
                                                      size_t name_len, const char *value,
                                                      size_t value_len);
/* Copy fields parsed by acio_http_parse_* (out of the parse buffer). Returns as add; on
 * error the fields added so far are removed again. */
ACIO_EXTERN ACIO_NODISCARD int
acio_http_headers_add_parsed(acio_http_headers_t *h, const acio_http_header_t *fields, size_t n);

/* The first value of name (NUL-terminated), or NULL. *len (may be NULL) gets its length. */
ACIO_EXTERN const char *acio_http_headers_get(const acio_http_headers_t *h, const char *name,
                                              size_t *len);
/* Iterate: *pos starts at 0; each call stores the next field (whose name is `name`, or
 * any field if name is NULL) in *out and returns true, false at the end. */
ACIO_EXTERN bool acio_http_headers_next(const acio_http_headers_t *h, size_t *pos, const char *name,
                                        acio_http_header_t *out);
/* How many fields in all; how many named `name`. */
ACIO_EXTERN size_t acio_http_headers_count(const acio_http_headers_t *h);
ACIO_EXTERN size_t acio_http_headers_count_name(const acio_http_headers_t *h, const char *name);
/* Remove every field named name; returns how many were removed. */
ACIO_EXTERN size_t acio_http_headers_remove(acio_http_headers_t *h, const char *name);

/* The serialised size: the sum of "Name: value\r\n" over the fields. */
ACIO_EXTERN size_t acio_http_headers_size(const acio_http_headers_t *h);
/* Write every field as "Name: value\r\n" into buf (cap bytes, no NUL added). Returns the
 * number of bytes written, or -ENOSPC if acio_http_headers_size() exceeds cap (nothing
 * written). */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_http_headers_serialize(const acio_http_headers_t *h,
                                                               char *buf, size_t cap);

/* Validation on its own: 0, ACIO_EHTTP_INVALID_NAME or ACIO_EHTTP_INVALID_VALUE. */
ACIO_EXTERN ACIO_NODISCARD int acio_http_check_name(const char *name, size_t len);
ACIO_EXTERN ACIO_NODISCARD int acio_http_check_value(const char *value, size_t len);

/* The standard reason phrase of a status code ("OK", "Not Found"); "" if unknown. */
ACIO_EXTERN const char *acio_http_reason(int status);

/* An RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for time t, written with a
 * terminating NUL into buf, which must hold ACIO_HTTP_DATE_SIZE bytes. Returns buf. */
#define ACIO_HTTP_DATE_LEN  29
#define ACIO_HTTP_DATE_SIZE (ACIO_HTTP_DATE_LEN + 1)
ACIO_EXTERN char *acio_http_date(time_t t, char *buf);

#endif
