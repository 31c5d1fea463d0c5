/* The WARC/1.1 writer: archives a crawler's HTTP exchanges as wget --warc-file and
 * Heritrix do (ISO 28500:2017). A file starts with one `warcinfo` record; each exchange
 * becomes a `request` record and a `response` record linked both ways by
 * WARC-Concurrent-To, with SHA-1 block and payload digests in base32. Every record is
 * its own gzip member, so `zcat` reads the whole file and tools can seek to a record.
 *
 * The writer is synchronous (plain write(2) on a regular file), like the crawler's TSV:
 * a record is a few KiB, written with one call after it is built and compressed in
 * memory, so a record is either wholly in the file or not at all (a failed or short
 * write is truncated away). See docs/warc.md. */
#ifndef ACIO_WARC_H
#define ACIO_WARC_H

#include "common.h"

typedef struct acio_warc_s acio_warc_t;

typedef struct {
    /* Open for appending to an existing file instead of truncating it; a warcinfo record
     * is still written first. */
    bool append;
    /* Write plain records (a .warc file) instead of one gzip member per record. */
    bool uncompressed;
    /* zlib level 1-9; 0: 6. */
    int level;
    /* The `software` field of the warcinfo record; NULL: "acio/<version>". */
    const char *software;
    /* More warcinfo fields, "name: value" lines each ending in CRLF ("operator: me\r\n");
     * NULL: none. Written as given after the standard fields. */
    const char *info_fields;
} acio_warc_opts_t;

/* One HTTP exchange. The heads are the bytes as sent and received (request line or
 * status line, header lines, the blank line); the body is the entity body, written
 * verbatim after the response head: if it was de-chunked or decompressed, pass a head
 * that says so (no Transfer-Encoding / Content-Encoding, a true Content-Length), so a
 * reader of the archive sees a consistent message. */
typedef struct {
    const char *target_uri;   /* required: the URL requested */
    const char *ip_address;   /* the peer's address (WARC-IP-Address); NULL: left out */
    const void *request_head; /* NULL: no request record is written */
    size_t request_head_len;
    const void *response_head; /* required */
    size_t response_head_len;
    const void *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    /* When the exchange happened (WARC-Date), seconds since the epoch; 0: now. */
    double time;
} acio_warc_exchange_t;

/* Create (or with opts->append, extend) the file at path and write its warcinfo record.
 * opts may be NULL (defaults). *out is the caller's, closed with acio_warc_close.
 * Errors: -EINVAL (NULL path or out, level out of range, a field with CR/LF), -errno of
 * open/write (-EACCES, -ENOENT, -ENOSPC...), -ENOMEM; on error no file is left behind
 * unless it existed before (append). */
ACIO_EXTERN ACIO_NODISCARD int acio_warc_open(const char *path, const acio_warc_opts_t *opts,
                                              acio_warc_t **out);

/* Append the request record (if request_head is set) and the response record of one
 * exchange, as one write. Errors: -EINVAL (missing target_uri or response_head, a URI or
 * address with CR or LF), -EFBIG (a head or body above 1 GiB), -ENOMEM, -errno of write (-ENOSPC,
 * -EIO...). On any error the file is as before the call and the writer stays usable. */
ACIO_EXTERN ACIO_NODISCARD int acio_warc_write_exchange(acio_warc_t *w,
                                                        const acio_warc_exchange_t *ex);

/* Records written so far (warcinfo included) and bytes in the file. */
ACIO_EXTERN uint64_t acio_warc_records(const acio_warc_t *w);
ACIO_EXTERN uint64_t acio_warc_bytes(const acio_warc_t *w);

/* Flush to the disk (fsync) and close; frees w (NULL is a no-op). Returns 0 or the
 * -errno of fsync/close, the writer being freed in every case. */
ACIO_EXTERN int acio_warc_close(acio_warc_t *w);

#endif
