/* Internal interface between the pieces of the HTTP/1.1 head parser: parser.c (the entry
 * points, start lines and the incremental fast path), fields.c (the field-line block)
 * and framing.c (what the fields say about the body and the connection). */
#ifndef ACIO_HTTP_PARSER_INT_H
#define ACIO_HTTP_PARSER_INT_H

#include <sys/types.h>

#include "acio/error.h"
#include "acio/http_parser.h"

extern const acio_http_limits_t acio__http_default_limits;

/* Parse field lines from p up to and including the blank line that ends the head.
 * Returns the head's total length (from buf), ACIO_HTTP_INCOMPLETE or an error. */
ssize_t acio__http_parse_fields(const char *buf, const char *p, const char *end,
                                acio_http_head_t *head, acio_http_header_t *headers,
                                size_t max_headers, const acio_http_limits_t *lim);

/* Derive body_kind, content_length, keep_alive, expect_continue and upgrade from a
 * parsed head. request_method is NULL for a request, the request's method for a
 * response. Returns 0 or an ACIO_EHTTP_* code. */
int acio__http_framing(acio_http_head_t *head, bool is_request, const char *request_method);

#endif
