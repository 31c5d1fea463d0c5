/* The HTTP/1.1 client: aiohttp's ClientSession in C. A session owns a connection pool
 * (a total limit and a per-host limit, FIFO waiters, keep-alive with idle expiry), one
 * deadline model (aiohttp's ClientTimeout: total, connect, sock_connect, sock_read, on by
 * default), a DNS cache, TLS settings, a cookie jar and the redirect policy. Requests
 * return a response whose head is parsed and whose body streams from the connection.
 *
 * Coroutines (marked so) run inside a task on the session's loop. Every wait in them
 * is bounded by the request's deadlines; an expired deadline returns its own code
 * naming the phase (ACIO_EHTTP_POOL_TIMEOUT, ..._CONNECT_TIMEOUT, ..._TLS_TIMEOUT,
 * ..._HEADERS_TIMEOUT, ..._READ_TIMEOUT, ..._TOTAL_TIMEOUT). A task cancelled while it
 * waits gets -ECANCELED; the connection it was using is closed, never pooled.
 *
 * Ownership: the session is the caller's (acio_http_session_new / _close). A response
 * is the caller's from acio_http_request until acio_http_response_release. The
 * response's connection goes back to the pool as soon as its body has been read to the
 * end; releasing a response whose body was not read to the end closes the connection.
 * Strings and pointers a response hands out stay valid until it is released.
 * See docs/http_client.md. */
#ifndef ACIO_HTTP_CLIENT_H
#define ACIO_HTTP_CLIENT_H

#include <sys/types.h>

#include "common.h"
#include "http_headers.h"
#include "tls.h"

typedef struct acio_http_session_s acio_http_session_t;
typedef struct acio_http_response_s acio_http_response_t;
struct json_t;   /* jansson's */
struct addrinfo; /* <netdb.h> */

/* A host-name resolver for new connections (aiohttp's TCPConnector(resolver=...)):
 * resolve host (a name, never NULL) for port and set *res to a list released with
 * freeaddrinfo(3) (as getaddrinfo / acio_loop_getaddrinfo return it; a numeric host
 * resolves at once), then return 0; or return a negative code, which fails the request.
 * A coroutine: it runs in the request's task and may await (a query over UDP, a
 * lookup in its own table). The request's deadlines bound it: when the connect,
 * sock_connect or total deadline passes, the task is cancelled inside the resolver
 * (its await returns -ECANCELED, which it returns) and the request fails with
 * ACIO_EHTTP_DNS_TIMEOUT (or ACIO_EHTTP_TOTAL_TIMEOUT when total came first). Results
 * go through the session's DNS cache like acio_loop_getaddrinfo's. */
typedef int (*acio_http_resolver_cb)(void *data, const char *host, int port, struct addrinfo **res);

/* A name and a value, NUL-terminated: one header, query parameter or form field. */
typedef struct {
    const char *name;
    const char *value;
} acio_http_field_t;

/* aiohttp's ClientTimeout, in seconds. 0 takes the default; a negative value means no
 * limit. total bounds the whole request (pool wait, DNS, connect, TLS, head and the
 * whole body, redirects included); connect bounds getting a connection (pool wait
 * included); sock_connect bounds making a new one (DNS, TCP, TLS); sock_read bounds each
 * wait for bytes from the server (a body that stalls). */
typedef struct {
    double total;        /* default 300 */
    double connect;      /* default none */
    double sock_connect; /* default 30 (aiohttp 3.10+) */
    double sock_read;    /* default none */
} acio_http_timeout_t;

/* Session options: zero-initialised means aiohttp's defaults. */
typedef struct {
    size_t limit;             /* connections in total: 0 -> 100 */
    size_t limit_per_host;    /* 0 -> no per-host limit (aiohttp's default) */
    double keepalive_timeout; /* idle expiry: 0 -> 15 s; < 0 -> no keep-alive */
    acio_http_timeout_t timeout;
    double dns_ttl;                 /* DNS cache: 0 -> 10 s; < 0 -> no cache */
    acio_http_resolver_cb resolver; /* NULL: acio_loop_getaddrinfo (libc, /etc/hosts...) */
    void *resolver_data;
    int max_redirects;       /* 0 -> 10 */
    bool no_redirects;       /* aiohttp's allow_redirects=False, for every request */
    bool raise_for_status;   /* a status >= 400 fails the request with ACIO_EHTTP_STATUS */
    bool no_cookies;         /* aiohttp's DummyCookieJar */
    bool no_decompress;      /* aiohttp's auto_decompress=False */
    size_t max_decoded_size; /* content decoding: 0 -> 1 GiB of decoded bytes per body */
    double max_decode_ratio; /* decoded / encoded bytes: 0 -> 1000 (past the first 1 MiB) */
    /* TLS: ssl_verify_off is aiohttp's ssl=False (no certificate or host-name check);
     * ca_file adds trusted CAs (PEM); ssl, if set, replaces the session's context. */
    bool ssl_verify_off;
    const char *ca_file;
    acio_ssl_context_t *ssl;
    /* Proxies: an explicit proxy URL for every request, or, with trust_env, the
     * http_proxy / https_proxy / no_proxy environment variables. */
    const char *proxy;
    bool trust_env;
    /* Headers sent with every request (copied), unless the request sets the same name. */
    const acio_http_field_t *headers;
    size_t nheaders;
    /* Where a request body / response head may grow: response heads above this many
     * bytes fail with ACIO_EHTTP_HEAD_TOO_LARGE (parser limit, 0 -> 64 KiB). */
    size_t max_head_bytes;
} acio_http_session_opts_t;

/* A request body produced piece by piece (aiohttp's async generator body): called in the
 * request's task (it may await); write up to cap bytes into buf and return the count,
 * 0 at the end, or a negative code to fail the request. Sent chunked unless the
 * request gives body_len. */
typedef ssize_t (*acio_http_body_cb)(void *data, void *buf, size_t cap);

/* Request options: zero-initialised means none. At most one body source. */
typedef struct {
    const acio_http_field_t *headers; /* case-insensitive, order kept, repeats allowed */
    size_t nheaders;
    const acio_http_headers_t *header_list; /* more headers, sent after `headers` */
    const acio_http_field_t *params;        /* appended to the URL's query, form-encoded */
    size_t nparams;
    /* Body sources. */
    const void *body; /* bytes */
    size_t body_len;
    const acio_http_field_t *form; /* application/x-www-form-urlencoded */
    size_t nform;
    const char *json;      /* JSON text, sent as application/json */
    const char *file_path; /* a file's contents (Content-Length from its size) */
    acio_http_body_cb body_cb;
    void *body_cb_data;
    const char *content_type; /* for body / body_cb (default application/octet-stream) */
    /* Basic auth (aiohttp's auth=BasicAuth(user, password)). */
    const char *auth_user;
    const char *auth_password;
    /* Redirects: the session's policy unless overridden. */
    bool no_redirects;
    int max_redirects;
    /* Overrides the session's deadlines when non-NULL (0 fields take the defaults). */
    const acio_http_timeout_t *timeout;
    bool raise_for_status;
    const char *proxy; /* overrides the session's */
} acio_http_request_opts_t;

/* ---- session ---- */

/* A new session on the running loop (aiohttp.ClientSession()). opts may be NULL. *out is
 * the caller's; close it with acio_http_session_close before the loop closes (a session
 * left open is reported at loop close with the place it was created, and its connections
 * are closed then). Errors: ACIO_ENOLOOP, -EINVAL, -ENOMEM, TLS context errors. */
ACIO_EXTERN int acio_http_session_new(acio_http_session_t **out,
                                      const acio_http_session_opts_t *opts);
/* Close every connection the session owns, fail the requests waiting for one with
 * ACIO_EHTTP_SESSION_CLOSED, and release the session. Responses still held stay valid
 * (their bodies, if not read yet, end with ACIO_EHTTP_SESSION_CLOSED). Safe after the
 * loop closed. NULL is a no-op. */
ACIO_EXTERN void acio_http_session_close(acio_http_session_t *s);
/* Connections open (busy + idle) and idle, for tests and monitoring. */
ACIO_EXTERN size_t acio_http_session_connections(const acio_http_session_t *s, size_t *idle);
ACIO_EXTERN void acio_http_session_set_data(acio_http_session_t *s, void *data);
ACIO_EXTERN void *acio_http_session_get_data(const acio_http_session_t *s);

/* ---- requests ---- */

/* session.request(method, url, ...). Coroutine. Sends the request, follows redirects,
 * and returns once the final response's head has arrived; *out is the caller's.
 * opts may be NULL. Errors: ACIO_EURL_* (bad URL), ACIO_EHTTP_* (client and parser
 * codes), the timeouts above, connection errors (-ECONNREFUSED, -ECONNRESET, ...,
 * ACIO_EHTTP_DISCONNECTED: the server closed before answering), TLS errors
 * (ACIO_ECERTVERIFY, ACIO_EHOSTMISMATCH, ACIO_ETLSHANDSHAKE), -ECANCELED, -ENOMEM. */
ACIO_EXTERN int acio_http_request(acio_http_session_t *s, const char *method, const char *url,
                                  const acio_http_request_opts_t *opts, acio_http_response_t **out);
/* session.get(url) / session.post(url, data=...). Coroutines. */
ACIO_EXTERN int acio_http_get(acio_http_session_t *s, const char *url, acio_http_response_t **out);
ACIO_EXTERN int acio_http_post(acio_http_session_t *s, const char *url, const void *body,
                               size_t len, acio_http_response_t **out);

/* requests.request(): a whole request outside any loop. It runs its own loop and a
 * session with sopts (may be NULL), reads the whole body, and returns a response whose
 * body is in memory (the read / text / json functions then need no loop). Errors: as
 * acio_http_request and the body's, ACIO_ERUNNING (called inside a running loop). */
ACIO_EXTERN int acio_http_fetch_blocking(const char *method, const char *url,
                                         const acio_http_request_opts_t *opts,
                                         const acio_http_session_opts_t *sopts,
                                         acio_http_response_t **out);

/* ---- responses ---- */

ACIO_EXTERN int acio_http_response_status(const acio_http_response_t *r);
/* The reason phrase (NUL-terminated; "" if the server sent none). */
ACIO_EXTERN const char *acio_http_response_reason(const acio_http_response_t *r);
/* 10 for HTTP/1.0, 11 for HTTP/1.1. */
ACIO_EXTERN int acio_http_response_version(const acio_http_response_t *r);
/* The final URL (after redirects). */
ACIO_EXTERN const char *acio_http_response_url(const acio_http_response_t *r);
/* The first header named name (case-insensitive), NUL-terminated, or NULL. */
ACIO_EXTERN const char *acio_http_response_header(const acio_http_response_t *r, const char *name);
/* Headers in the order received: count, and the i-th as name / value. */
ACIO_EXTERN size_t acio_http_response_header_count(const acio_http_response_t *r);
ACIO_EXTERN int acio_http_response_header_at(const acio_http_response_t *r, size_t i,
                                             const char **name, const char **value);
/* Content-Length, or -1 when the body's length is not announced. */
ACIO_EXTERN int64_t acio_http_response_content_length(const acio_http_response_t *r);
/* The charset parameter of Content-Type, lowercased ("" if none). */
ACIO_EXTERN const char *acio_http_response_charset(const acio_http_response_t *r);
/* Redirects followed: how many, and the i-th earlier response (borrowed; its body was
 * discarded). */
ACIO_EXTERN size_t acio_http_response_history_count(const acio_http_response_t *r);
ACIO_EXTERN const acio_http_response_t *acio_http_response_history(const acio_http_response_t *r,
                                                                   size_t i);
/* raise_for_status(): 0 for status < 400, else ACIO_EHTTP_STATUS (the status is
 * acio_http_response_status). */
ACIO_EXTERN int acio_http_response_raise_for_status(const acio_http_response_t *r);

/* read(): the whole (decoded) body, kept by the response: *body (NUL-terminated, not
 * counted in *len) stays valid until release. Later calls return the same bytes.
 * Coroutine. Errors: the connection's, the timeouts, ACIO_EHTTP_* framing and decoding
 * errors, -ECANCELED (the connection is then closed). */
ACIO_EXTERN int acio_http_response_read(acio_http_response_t *r, const void **body, size_t *len);
/* text(): the body converted from its charset (Content-Type's, else UTF-8) to UTF-8,
 * kept by the response. Coroutine. Errors: read's, -EILSEQ (invalid in that charset),
 * -ENOTSUP (unknown charset). */
ACIO_EXTERN int acio_http_response_text(acio_http_response_t *r, const char **text, size_t *len);
/* json(): the body parsed by jansson; *out is the caller's (json_decref). Coroutine.
 * Errors: read's, ACIO_EHTTP_JSON (not JSON). */
ACIO_EXTERN int acio_http_response_json(acio_http_response_t *r, struct json_t **out);
/* readany(): the next piece of the body, zero-copy: *data points into the response's
 * buffer, valid until the next read call. Returns the length, 0 at the end of the body,
 * or a negative code. Coroutine. */
ACIO_EXTERN ssize_t acio_http_response_readany(acio_http_response_t *r, const void **data);
/* iter_chunked(n) / content.read(n): up to cap bytes copied into buf. Returns the count,
 * 0 at the end, or a negative code. Coroutine. */
ACIO_EXTERN ssize_t acio_http_response_read_chunk(acio_http_response_t *r, void *buf, size_t cap);
/* content.readline(): through the next '\n' (or the end of the body) into buf. Returns
 * the length, 0 at the end; -ENOBUFS if the line does not fit cap (nothing consumed).
 * Coroutine. */
ACIO_EXTERN ssize_t acio_http_response_readline(acio_http_response_t *r, void *buf, size_t cap);
/* True once the whole body has been read. */
ACIO_EXTERN bool acio_http_response_at_eof(const acio_http_response_t *r);
/* release(): give the connection back (body read to the end) or close it (not), and
 * free the response and its history. Not a coroutine; works after the session or the
 * loop closed. NULL is a no-op. */
ACIO_EXTERN void acio_http_response_release(acio_http_response_t *r);

#endif
