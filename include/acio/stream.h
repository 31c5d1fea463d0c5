/* Streams: asyncio's StreamReader / StreamWriter, open_connection and start_server (TCP
 * and Unix), built on the protocol layer (transport.h): the reader is a buffered
 * protocol that receives bytes straight into its own buffer.
 *
 * Reading functions and drain / wait_closed are coroutines: call them from a task on
 * the stream's loop. Only one task may wait on a reader at a time (-EBUSY otherwise,
 * asyncio's RuntimeError).
 *
 * Ownership: a reader and a writer are reference counted handles on one connection.
 * open_connection gives the caller one reference to each (acio_stream_reader_unref /
 * acio_stream_writer_unref). Releasing the last handle (reader and writer both gone)
 * closes the transport if it is still open (asyncio closes it when the writer is garbage
 * collected). If the loop closes first, the transport is aborted then: reads return what
 * was buffered, then EOF; write, drain and wait_closed return ACIO_ECLOSED; the handles
 * are still released with the _unref functions. */
#ifndef ACIO_STREAM_H
#define ACIO_STREAM_H

#include <sys/types.h>
#include <sys/uio.h>

#include "common.h"
#include "net.h"
#include "transport.h"

typedef struct acio_stream_reader_s acio_stream_reader_t;
typedef struct acio_stream_writer_s acio_stream_writer_t;

/* asyncio's default limit: 64 KiB. */
#define ACIO_STREAM_DEFAULT_LIMIT (64 * 1024)

/* A start_server client handler, run as a task for each connection. reader and writer
 * are borrowed for the duration of the call: when it returns acio releases them, which
 * closes the connection unless the handler took references of its own. arg is the
 * start_server argument. The return value becomes the task's result. */
typedef void *(*acio_client_connected_cb)(acio_stream_reader_t *reader,
                                          acio_stream_writer_t *writer, void *arg);

/* asyncio.open_connection: create_connection with a stream protocol. Coroutine.
 * limit 0 means ACIO_STREAM_DEFAULT_LIMIT. On success *reader and *writer are the
 * caller's. Errors: those of acio_loop_create_connection, -ENOMEM. opts may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_open_connection(acio_stream_reader_t **reader,
                                                    acio_stream_writer_t **writer, const char *host,
                                                    int port, size_t limit,
                                                    const acio_connection_opts_t *opts);
ACIO_EXTERN ACIO_NODISCARD int acio_open_unix_connection(acio_stream_reader_t **reader,
                                                         acio_stream_writer_t **writer,
                                                         const char *path, size_t limit,
                                                         const acio_connection_opts_t *opts);
/* asyncio.start_server: a server whose connections each run cb(reader, writer, arg) in
 * a new task. Coroutine. *out is released with acio_server_free(). */
ACIO_EXTERN ACIO_NODISCARD int acio_start_server(acio_server_t **out, acio_client_connected_cb cb,
                                                 void *arg, const char *host, int port,
                                                 size_t limit, const acio_server_opts_t *opts);
ACIO_EXTERN ACIO_NODISCARD int acio_start_unix_server(acio_server_t **out,
                                                      acio_client_connected_cb cb, void *arg,
                                                      const char *path, size_t limit,
                                                      const acio_server_opts_t *opts);
/* Streams over a pipe (connect_read_pipe / connect_write_pipe with a stream protocol): a
 * reader on the read end, a writer on the write end; a pipe has no half-close, so the
 * writer's write_eof closes it. A child process's PIPE stdin / stdout / stderr are such
 * streams (acio/subprocess.h). On success the stream owns fd. Coroutines. */
ACIO_EXTERN ACIO_NODISCARD int acio_open_pipe_reader(acio_stream_reader_t **reader, int fd,
                                                     size_t limit);
ACIO_EXTERN ACIO_NODISCARD int acio_open_pipe_writer(acio_stream_writer_t **writer, int fd);

/* ---- StreamReader ---- */

/* A reader fed by hand (feed_data / feed_eof), not attached to any transport; the
 * caller owns it. Errors: -ENOMEM, ACIO_ENOLOOP (needs the running loop). */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_reader_new(acio_stream_reader_t **out, size_t limit);
ACIO_EXTERN acio_stream_reader_t *acio_stream_reader_ref(acio_stream_reader_t *r);
ACIO_EXTERN void acio_stream_reader_unref(acio_stream_reader_t *r);

/* read(n): wait until at least one byte is buffered or EOF, then take up to n bytes.
 * Returns the count, 0 at EOF (or when n is 0), or a negative code: the error that
 * ended the connection, -ECANCELED, -EBUSY. */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_stream_reader_read(acio_stream_reader_t *r, void *buf,
                                                           size_t n);
/* read(-1): everything until EOF in a malloc'd buffer (*out, free() it; *len bytes,
 * plus a terminating NUL not counted). Returns 0 or a negative code (what was read
 * before an error is discarded, as asyncio raises). */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_reader_read_all(acio_stream_reader_t *r, void **out,
                                                           size_t *len);
/* readline(): read through the next '\n' into buf (at most cap bytes). Returns the
 * line's length including '\n'; at EOF the last partial line without it, then 0.
 * Errors: ACIO_ELIMITOVERRUN (the line is longer than the limit: the data up to and
 * including the separator, or the whole buffer if none was found, is discarded, as
 * asyncio's readline does before raising ValueError), -ENOBUFS (the line fits the limit
 * but not cap: nothing is consumed; call again with a bigger buffer, or use
 * acio_stream_reader_readline_alloc), and read's errors. */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_stream_reader_readline(acio_stream_reader_t *r, void *buf,
                                                               size_t cap);
/* readline() returning the line as asyncio does: on success *out is a malloc'd block of
 * exactly the line (free() it), NUL-terminated, and *len its length with the '\n'; at
 * EOF the last partial line without it, then an empty line (*len 0). The limit still
 * applies. Errors: ACIO_ELIMITOVERRUN (as readline), -ENOMEM (nothing consumed),
 * read's errors; *out is NULL then. */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_reader_readline_alloc(acio_stream_reader_t *r,
                                                                 char **out, size_t *len);
/* readuntil(separator): read through sep (seplen > 0) into buf. Returns the length with
 * the separator. Errors: ACIO_EINCOMPLETEREAD (EOF first: the remaining bytes are
 * moved into buf and *partial, if non-NULL, gets their count; -ENOBUFS instead, nothing
 * consumed, if they do not fit cap), ACIO_ELIMITOVERRUN (not found within the limit;
 * the data stays buffered), -ENOBUFS (found, but longer than cap; nothing consumed),
 * -EINVAL, read's errors. acio_stream_reader_last_error() gives LimitOverrunError's
 * consumed and IncompleteReadError's partial bytes and message. */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_stream_reader_readuntil(acio_stream_reader_t *r,
                                                                const void *sep, size_t seplen,
                                                                void *buf, size_t cap,
                                                                size_t *partial);
/* readuntil(separator) returning the chunk: on success *out is a malloc'd,
 * NUL-terminated block of exactly the chunk with its separator (free() it), *len its
 * length. Errors: ACIO_EINCOMPLETEREAD (EOF first: the buffer is emptied into the
 * error's partial bytes, read them with acio_stream_reader_last_error), and
 * ACIO_ELIMITOVERRUN (the data stays buffered), -ENOMEM (nothing consumed), -EINVAL,
 * read's errors; *out is NULL on every error. */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_reader_readuntil_alloc(acio_stream_reader_t *r,
                                                                  const void *sep, size_t seplen,
                                                                  char **out, size_t *len);
/* readexactly(n): returns 0 once n bytes are in buf. ACIO_EINCOMPLETEREAD if EOF came
 * first: buf then holds the *partial (may be NULL) bytes that did arrive (and
 * acio_stream_reader_last_error gives them with expected = n). */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_reader_readexactly(acio_stream_reader_t *r, void *buf,
                                                              size_t n, size_t *partial);

/* What the last read call on a reader returned, with the attributes asyncio's exception
 * carries and its str(e). Filled by acio_stream_reader_last_error(); the pointers are the
 * reader's, valid until its next read call or its release. */
typedef struct {
    int code;            /* the read's error, or 0 if it succeeded */
    size_t consumed;     /* ACIO_ELIMITOVERRUN: LimitOverrunError.consumed */
    const void *partial; /* ACIO_EINCOMPLETEREAD: IncompleteReadError.partial (may be NULL */
    size_t partial_len;  /*   when empty) and its length */
    long long expected;  /* ACIO_EINCOMPLETEREAD: .expected (readexactly's n), -1 for None */
    const char *message; /* str(e), e.g. "3 bytes read on a total of 8 expected bytes",
                            "Separator is not found, and chunk exceed the limit"; "" if none */
} acio_stream_read_error_t;
/* Fill *out with the details of the last read call's outcome (read, read_all,
 * readline, readuntil, readexactly and the _alloc forms). Returns out->code, or -EINVAL. */
ACIO_EXTERN int acio_stream_reader_last_error(const acio_stream_reader_t *r,
                                              acio_stream_read_error_t *out);
/* True when EOF was fed and the buffer is empty. */
ACIO_EXTERN bool acio_stream_reader_at_eof(const acio_stream_reader_t *r);
ACIO_EXTERN size_t acio_stream_reader_get_limit(const acio_stream_reader_t *r);
/* Bytes buffered and not yet read. */
ACIO_EXTERN size_t acio_stream_reader_buffered(const acio_stream_reader_t *r);
/* Feeding by hand (asyncio's feed_data / feed_eof / set_exception). feed_data errors:
 * -EPIPE after EOF, -ENOMEM. set_exception's code must be negative. */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_reader_feed_data(acio_stream_reader_t *r,
                                                            const void *buf, size_t len);
ACIO_EXTERN void acio_stream_reader_feed_eof(acio_stream_reader_t *r);
ACIO_EXTERN void acio_stream_reader_set_exception(acio_stream_reader_t *r, int code);
/* The error set on the reader, or 0 (StreamReader.exception()). */
ACIO_EXTERN int acio_stream_reader_exception(const acio_stream_reader_t *r);

/* ---- StreamWriter ---- */

ACIO_EXTERN acio_stream_writer_t *acio_stream_writer_ref(acio_stream_writer_t *w);
ACIO_EXTERN void acio_stream_writer_unref(acio_stream_writer_t *w);
/* write / writelines: see acio_transport_write (the same errors). Never blocks; call
 * drain() to wait for the buffer to empty below the high-water mark. */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_writer_write(acio_stream_writer_t *w, const void *buf,
                                                        size_t len);
ACIO_EXTERN ACIO_NODISCARD int acio_stream_writer_writelines(acio_stream_writer_t *w,
                                                             const struct iovec *iov, int n);
/* drain(): return at once unless the transport's write buffer is above its high-water
 * mark; then wait until it falls to the low-water mark. Coroutine. Errors: the
 * reader's error, -ECONNRESET (connection lost), the error that ended the connection,
 * -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_writer_drain(acio_stream_writer_t *w);
ACIO_EXTERN int acio_stream_writer_write_eof(acio_stream_writer_t *w);
ACIO_EXTERN bool acio_stream_writer_can_write_eof(acio_stream_writer_t *w);
/* Close the transport (buffered data is still sent). Idempotent. */
ACIO_EXTERN void acio_stream_writer_close(acio_stream_writer_t *w);
/* Wait until the connection is closed. Coroutine. Returns 0, the error that ended the
 * connection (as asyncio raises it), or -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_writer_wait_closed(acio_stream_writer_t *w);
ACIO_EXTERN bool acio_stream_writer_is_closing(acio_stream_writer_t *w);
/* See acio_transport_get_extra_info. */
ACIO_EXTERN ACIO_NODISCARD int acio_stream_writer_get_extra_info(acio_stream_writer_t *w,
                                                                 const char *name, void *buf,
                                                                 size_t *len);
/* The underlying transport (borrowed; valid while you hold the writer). */
ACIO_EXTERN acio_transport_t *acio_stream_writer_transport(acio_stream_writer_t *w);

#endif
