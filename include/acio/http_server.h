/* The HTTP/1.1 server: uvicorn and a small FastAPI, on acio's loop.
 *
 * An app (acio_http_app_t) maps a method and a path pattern to a handler. Patterns are
 * FastAPI's: literal segments, "{name}" for one segment ("/items/{id}"), and a final
 * "{name:path}" for the rest of the path, slashes included ("/static/{file:path}", the
 * catch-all / prefix route). A path that matches no route gets 404; a path that matches
 * only with other methods gets 405 with an Allow header.
 *
 * A handler is a coroutine: a plain C function that runs on a task, so it may await
 * anything (sleep, a database query, another HTTP request). It receives the request and
 * answers it with one of the acio_http_respond_* functions, then returns 0. Returning a
 * negative code (optionally with acio_http_error() to attach a message) makes the
 * server answer 500; the message goes to the log (stderr), never to the client.
 *
 *     static int read_item(acio_http_request_t *req, void *arg)
 *     {
 *         const char *id = acio_http_request_path_param(req, "id");
 *         return acio_http_respond_text(req, 200, id);
 *     }
 *     ...
 *     acio_http_app_route(app, "GET", "/items/{id}", read_item, NULL);
 *     acio_http_serve(app, &cfg); // uvicorn.run(app): until SIGINT/SIGTERM
 *
 * The server speaks HTTP/1.0 and 1.1: keep-alive, pipelining (answers in request
 * order), HEAD (the GET route answers, without the body), Expect: 100-continue (sent
 * when the handler first reads the body), chunked request and response bodies, a Date
 * header, Connection: close. Defaults are safe (see acio_http_config_t): a header read
 * timeout against slowloris, body, header and connection caps, a keep-alive timeout
 * longer than clients' own. Malformed requests get 400 (413, 414, 431, 408 where they
 * apply) and the connection is closed.
 *
 * Threads: an app may be shared by several loops (workers) once routes are added; a
 * request belongs to its connection's loop. See docs/http_server.md. */
#ifndef ACIO_HTTP_SERVER_H
#define ACIO_HTTP_SERVER_H

#include <jansson.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common.h"
#include "http_headers.h"
#include "http_parser.h"
#include "net.h"

typedef struct acio_http_app_s acio_http_app_t;
typedef struct acio_http_request_s acio_http_request_t;
typedef struct acio_http_server_s acio_http_server_t;

/* A route handler: runs on a task (a coroutine); answers with acio_http_respond_*.
 * Returns 0, or a negative code: the server then answers 500 (if no response was
 * started) and logs the code and the message given to acio_http_error(). */
typedef int (*acio_http_handler)(acio_http_request_t *req, void *arg);

/* ---- the app: routes ---- */

/* A new app with no routes. Errors: -ENOMEM. Free it with acio_http_app_free() after
 * every server using it is gone. */
ACIO_EXTERN ACIO_NODISCARD int acio_http_app_new(acio_http_app_t **out);
ACIO_EXTERN void acio_http_app_free(acio_http_app_t *app);

typedef struct {
    /* Request body cap for this route, bytes (0: the server's max_body). */
    size_t max_body;
} acio_http_route_opts_t;

/* Route method ("GET", "POST", ...; "*" for any method) and pattern to handler(req, arg).
 * A GET route also answers HEAD. Routes are tried in the order they were added; the
 * first match wins. Strings are copied. Errors: -EINVAL (a pattern that does not start
 * with '/', an unclosed '{', a "{x:path}" that is not the last segment, a parameter
 * name used twice), -ENOMEM. */
ACIO_EXTERN int acio_http_app_route(acio_http_app_t *app, const char *method, const char *pattern,
                                    acio_http_handler handler, void *arg);
ACIO_EXTERN int acio_http_app_route_ex(acio_http_app_t *app, const char *method,
                                       const char *pattern, acio_http_handler handler, void *arg,
                                       const acio_http_route_opts_t *opts);

/* ---- the request (valid during the handler only) ---- */

/* Method, target as sent ("/items/7?q=x"), path (percent-decoded, without the query),
 * raw query string ("" if none). NUL-terminated. */
ACIO_EXTERN const char *acio_http_request_method(const acio_http_request_t *req);
ACIO_EXTERN const char *acio_http_request_target(const acio_http_request_t *req);
ACIO_EXTERN const char *acio_http_request_path(const acio_http_request_t *req);
ACIO_EXTERN const char *acio_http_request_query_string(const acio_http_request_t *req);
/* HTTP/1.<minor>: 0 or 1. */
ACIO_EXTERN int acio_http_request_version(const acio_http_request_t *req);
/* A path parameter ("{id}") or a query parameter (the first "name=value", decoded: '+'
 * is a space), NUL-terminated; NULL if absent (or if no memory was left to decode it). */
ACIO_EXTERN const char *acio_http_request_path_param(acio_http_request_t *req, const char *name);
ACIO_EXTERN const char *acio_http_request_query(acio_http_request_t *req, const char *name);
/* The first header field named name (case-insensitive), NUL-terminated, or NULL. */
ACIO_EXTERN const char *acio_http_request_header(const acio_http_request_t *req, const char *name);
/* Every header field in order (names and values also NUL-terminated). */
ACIO_EXTERN const acio_http_header_t *acio_http_request_headers(const acio_http_request_t *req,
                                                                size_t *count);
/* The peer's address as "host:port" ("[::1]:5000" for IPv6), and as a sockaddr (*len
 * in/out). Errors: -ENOTCONN, -ENOSPC. */
ACIO_EXTERN const char *acio_http_request_peer(acio_http_request_t *req);
ACIO_EXTERN int acio_http_request_peername(acio_http_request_t *req, struct sockaddr *addr,
                                           socklen_t *len);
/* The body's length if the request declared one (Content-Length), else -1 (chunked)
 * or 0 (no body). */
ACIO_EXTERN int64_t acio_http_request_content_length(const acio_http_request_t *req);

/* Read the whole body (FastAPI's `await request.body()`). Coroutine. *data points to
 * len bytes owned by the request (valid until the handler returns; a NUL follows
 * them). A second call returns the same bytes. Sends "100 Continue" first if the client
 * asked for it. Errors: ACIO_EHTTP_BODY_TOO_LARGE (over the route's cap: the server
 * answers 413 whatever the handler does), ACIO_EHTTP_BODY_STREAMED (the body was already
 * read with acio_http_request_read), ACIO_EHTTP_BODY_TIMEOUT (the client stalled longer than
 * body_timeout: the server answers 408), -ECONNRESET (the client went away), a parser
 * code (ACIO_EHTTP_*) for malformed chunked framing (the server answers 400),
 * -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_http_request_body(acio_http_request_t *req, const char **data,
                                                      size_t *len);
/* Stream the body: up to len bytes into buf. Coroutine. Returns the count, 0 at the end
 * of the body, or a negative code as acio_http_request_body (the cap applies too). */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_http_request_read(acio_http_request_t *req, void *buf,
                                                          size_t len);
/* The body parsed as JSON (jansson). Coroutine. *out is a new reference (json_decref).
 * Errors: as acio_http_request_body, or -EBADMSG (not JSON: the message says where). */
ACIO_EXTERN ACIO_NODISCARD int acio_http_request_json(acio_http_request_t *req, json_t **out);

/* The user slot, and the loop the request runs on. */
ACIO_EXTERN void acio_http_request_set_data(acio_http_request_t *req, void *data);
ACIO_EXTERN void *acio_http_request_get_data(const acio_http_request_t *req);
ACIO_EXTERN acio_loop_t *acio_http_request_get_loop(const acio_http_request_t *req);

/* Attach a message to a failure and return code (negative), for
 * `return acio_http_error(req, rc, "query failed: %s", acio_strerror(rc));`.
 * The message is logged with the 500; it is not sent. */
ACIO_EXTERN int acio_http_error(acio_http_request_t *req, int code, const char *fmt, ...)
    ACIO_PRINTF(3, 4);

/* ---- the response: one per request ---- */

/* Add a response header (before the response starts). Content-Length, Transfer-Encoding,
 * Date and Connection are the server's: setting them gives -EINVAL. Strings are copied.
 * Errors: ACIO_EHTTP_INVALID_NAME (not a token), ACIO_EHTTP_INVALID_VALUE (CR, LF, NUL
 * or another control byte: header injection), ACIO_EHTTP_RESPONDED, -ENOMEM. */
ACIO_EXTERN int acio_http_respond_header(acio_http_request_t *req, const char *name,
                                         const char *value);

/* Answer with status and len bytes of body (copied) of content_type (NULL: none). The
 * response is queued at once; the handler may go on (e.g. clean up) and return.
 * Errors: ACIO_EHTTP_RESPONDED (already answered), -EINVAL (status outside 100-999 or a
 * 1xx), -ENOMEM, -ENOTCONN (the client is gone). */
ACIO_EXTERN int acio_http_respond(acio_http_request_t *req, int status, const char *content_type,
                                  const void *body, size_t len);
/* text/plain; charset=utf-8 (text NUL-terminated). */
ACIO_EXTERN int acio_http_respond_text(acio_http_request_t *req, int status, const char *text);
/* application/json: value serialised compactly (the caller keeps its reference). */
ACIO_EXTERN int acio_http_respond_json(acio_http_request_t *req, int status, const json_t *value);
/* FastAPI's HTTPException: {"detail": detail} with status. */
ACIO_EXTERN int acio_http_respond_error(acio_http_request_t *req, int status, const char *detail);
/* A file (FileResponse): sent with sendfile(2) on plain connections, read and written
 * in chunks over TLS. content_type NULL: guessed from the extension. Coroutine.
 * Errors: -ENOENT / -EACCES / -EISDIR (nothing was sent: the handler can answer 404),
 * ACIO_EHTTP_RESPONDED, -ECONNRESET, -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_http_respond_file(acio_http_request_t *req, int status,
                                                      const char *path, const char *content_type);

/* A streamed response (StreamingResponse): start it, write pieces, end it. On HTTP/1.1
 * the body is sent with chunked encoding; to an HTTP/1.0 client it is delimited by
 * closing the connection. acio_http_write is a coroutine: it waits while the client is
 * slower than the handler (flow control). Errors: ACIO_EHTTP_RESPONDED (start twice),
 * ACIO_EHTTP_NOT_STARTED (write before start), -ECONNRESET / -ENOTCONN (the client is
 * gone: stop producing), -ECANCELED. If the handler returns without calling
 * acio_http_write_end, the server ends the body itself. */
ACIO_EXTERN int acio_http_respond_start(acio_http_request_t *req, int status,
                                        const char *content_type);
ACIO_EXTERN ACIO_NODISCARD int acio_http_write(acio_http_request_t *req, const void *buf,
                                               size_t len);
ACIO_EXTERN int acio_http_write_end(acio_http_request_t *req);

/* ---- the server ---- */

typedef struct {
    const char *host; /* NULL: 127.0.0.1 (uvicorn's default); "0.0.0.0" or "::" for all */
    int port;         /* 0: a free port (acio_http_server_port tells which) */
    int backlog;      /* 0: 2048 (uvicorn's) */
    /* workers > 1: acio_http_serve runs that many loops, each on its own thread and its
     * own listening socket (SO_REUSEPORT: the kernel spreads connections). */
    int workers;
    acio_ssl_context_t *ssl; /* a server context: HTTPS */
    /* Timeouts, seconds; <= 0 turns one off. */
    double header_timeout;     /* whole request head, from its first byte (or from connect
                                  or the previous response): 20 (slowloris -> 408, close) */
    double keepalive_timeout;  /* idle connection between requests: 75 (nginx's; above
                                  aiohttp's 15 s, curl's and Go's 90 s is the exception) */
    double body_timeout;       /* silence while a handler waits for body bytes: 30 (408) */
    double write_timeout;      /* a client that does not read its responses: 60 (closed) */
    double shutdown_timeout;   /* graceful shutdown: in-flight requests get this long: 30 */
    size_t max_body;           /* request body cap, bytes: 1 MiB (routes may override) */
    size_t max_connections;    /* more are closed at once after a 503: 10000 */
    acio_http_limits_t limits; /* head limits: acio_http_limits_default() (414, 431) */
    bool access_log;           /* one line per request on log (default stderr): true */
    FILE *log;                 /* access log and handler errors: NULL means stderr */
    const char *server_header; /* "Server:" value; NULL: none (uvicorn sends "uvicorn") */
} acio_http_config_t;

/* Fill cfg with the defaults above (port 8000, like uvicorn). */
ACIO_EXTERN void acio_http_config_init(acio_http_config_t *cfg);

/* uvicorn.run(app): listen, serve on a new loop (or cfg->workers loops) until SIGINT or
 * SIGTERM, then shut down gracefully (stop accepting, let in-flight requests finish up
 * to shutdown_timeout, close idle connections) and return 0. Prints "Serving on
 * http://HOST:PORT" on the log first. cfg NULL: defaults. Errors: -EADDRINUSE and other
 * listen errors, ACIO_ERUNNING (called inside a running loop: use
 * acio_http_server_start there). */
ACIO_EXTERN ACIO_NODISCARD int acio_http_serve(acio_http_app_t *app, const acio_http_config_t *cfg);

/* Embed a server in a running loop: listen and serve app until shut down. Coroutine
 * (it may resolve cfg->host). *out is the caller's. Errors: as acio_loop_create_server. */
ACIO_EXTERN ACIO_NODISCARD int acio_http_server_start(acio_loop_t *loop, acio_http_app_t *app,
                                                      const acio_http_config_t *cfg,
                                                      acio_http_server_t **out);
/* The listening port (after port 0), or a negative code. */
ACIO_EXTERN int acio_http_server_port(const acio_http_server_t *srv);
/* Graceful shutdown: stop accepting, close idle connections, let requests in flight
 * finish for up to timeout seconds (< 0: cfg->shutdown_timeout), then cancel the
 * handlers still running and close what is left. Coroutine. Returns 0, or -ETIMEDOUT if
 * some requests had to be cancelled, -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_http_server_shutdown(acio_http_server_t *srv, double timeout);
/* Connections open now, and requests answered so far. */
ACIO_EXTERN size_t acio_http_server_connections(const acio_http_server_t *srv);
ACIO_EXTERN uint64_t acio_http_server_requests(const acio_http_server_t *srv);
/* Abort every connection (if not shut down) and release the server. NULL: no-op. */
ACIO_EXTERN void acio_http_server_free(acio_http_server_t *srv);

/* The reason phrase for a status ("Not Found"), "" if unknown. */
/* (acio_http_reason lives in acio/http_headers.h.) */

#endif
