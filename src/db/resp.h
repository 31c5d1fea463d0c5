/* Internal: what the Redis connection needs of the RESP reader and writer beyond the
 * public acio_resp_* functions. The connection reads straight into the reader's buffer
 * (a buffered protocol), so replies are parsed where the kernel put them. */
#ifndef ACIO_DB_RESP_H
#define ACIO_DB_RESP_H

#include "internal.h"

/* Free space at the end of the reader's buffer, at least hint bytes (a buffered
 * protocol's get_buffer). Errors: -ENOMEM, ACIO_EREDIS_PROTOCOL (the reader failed). */
int acio__resp_reader_space(acio_resp_reader_t *r, size_t hint, void **buf, size_t *len);
/* n bytes were written into that space. */
void acio__resp_reader_commit(acio_resp_reader_t *r, size_t n);

/* A growable byte buffer for outgoing commands. */
typedef struct {
    char *data;
    size_t len, cap;
} acio__bytes_t;

int acio__bytes_reserve(acio__bytes_t *b, size_t more);
void acio__bytes_close(acio__bytes_t *b);
/* Append one command (a RESP array of bulk strings). Errors: -ENOMEM. */
int acio__resp_append_command(acio__bytes_t *b, int argc, const char *const *argv,
                              const size_t *argvlen);

#endif
