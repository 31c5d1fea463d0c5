/* The inside of the HTTP client (acio/http_client.h): the session, its pool of
 * connections, the connection protocol, deadlines, and the response's body pipeline.
 *
 * Files: session.c (the session and its loop-close report), pool.c (slots, idle
 * connections, FIFO waiters), conn.c (one connection: its protocol, its read buffer,
 * opening it with DNS, happy eyeballs and TLS), dnscache.c, request.c (building and
 * sending a request, redirects), response.c (the head, the body stream, read / text /
 * json), decode.c (content codings), blocking.c (the one-call form). */
#ifndef ACIO_HTTP_CLIENT_INT_H
#define ACIO_HTTP_CLIENT_INT_H

#include <netdb.h>

#include "internal.h"
#include "net/registry.h"
#include "acio/http_client.h"
#include "acio/http_parser.h"
#include "acio/url.h"

typedef struct hc_conn_s hc_conn_t;
typedef struct hc_host_s hc_host_t;
typedef struct hc_waiter_s hc_waiter_t;
typedef struct hc_dns_s hc_dns_t;
typedef struct hc_decoder_s hc_decoder_t;

/* ---- deadlines ---- */

/* A request's deadlines in loop time (0: none) and its per-wait read limit. */
typedef struct {
    double total;        /* the whole request */
    double connect;      /* getting a connection, pool wait included */
    double sock_connect; /* seconds for a new connection (0: none) */
    double sock_read;    /* seconds of silence allowed per read (0: none) */
} hc_deadline_t;

/* Await f until it is done or the earlier of the two deadlines passes; a deadline that
 * passes finishes f with its code (phase_code for phase, ACIO_EHTTP_TOTAL_TIMEOUT for
 * total). Returns what awaiting f returns. */
int hc_await(acio_loop_t *loop, acio_future_t *f, double phase, int phase_code, double total);
/* The earlier of two deadlines (0 meaning none). */
static inline double hc_min_deadline(double a, double b)
{
    if (a <= 0)
        return b;
    if (b <= 0)
        return a;
    return a < b ? a : b;
}

/* ---- connections ---- */

enum { HC_CONN_CONNECTING, HC_CONN_BUSY, HC_CONN_IDLE };

struct hc_conn_s {
    acio_http_session_t *s;
    hc_host_t *host;
    acio_transport_t *t; /* our reference */
    /* The transport whose connection_made ran last (a reference) while the connection
     * is being opened: if opening fails after it, its callbacks are cut off from us. */
    acio_transport_t *made;
    int state;
    /* The read buffer: bytes [start, end) are unread. old_buf is a buffer the body reader
     * may still have handed out (freed at the next read call). */
    char *buf;
    size_t start, end, cap;
    char *old_buf;
    bool pinned;   /* a piece of buf before start is handed out: never move buf */
    bool eof;      /* the server closed its side */
    bool lost;     /* connection_lost ran */
    bool body_cut; /* the server answered before the request body was all sent */
    bool paused;   /* we paused reading (too much buffered) */
    bool write_paused;
    int err;                        /* what ended the connection */
    acio_future_t *waiter;          /* the task reading */
    acio_future_t *drain;           /* the task waiting for the write buffer to drain */
    unsigned served;                /* responses completed on this connection */
    double idle_until;              /* loop time when an idle connection expires */
    double keepalive;               /* the server's Keep-Alive timeout, 0 if none */
    hc_conn_t *prev, *next;         /* the host's idle list */
    hc_conn_t *all_prev, *all_next; /* the session's list of every connection */
};

/* Open a new connection to host (scheme/hostname/port from url) within the deadlines.
 * The slot is the caller's (already counted). Coroutine. */
int hc_conn_open(acio_http_session_t *s, hc_host_t *host, const acio_url_t *url,
                 const acio_url_t *proxy, const hc_deadline_t *dl, hc_conn_t **out);
/* Wait for more bytes (or EOF) until the earlier of now + sock_read and total; phase_code
 * names a sock_read expiry. Returns 0 (data or EOF arrived: look at the buffer and eof),
 * or a negative code. Coroutine. */
int hc_conn_wait(hc_conn_t *c, const hc_deadline_t *dl, int phase_code);
/* Wait until the transport's write buffer drained below its low-water mark. */
int hc_conn_drain(hc_conn_t *c, const hc_deadline_t *dl);
/* Make room: the pinned piece is no longer in use (a new read call started). */
void hc_conn_unpin(hc_conn_t *c);
/* Is an idle connection still usable (no EOF, no stray bytes)? Peeks at the socket. */
bool hc_conn_alive(hc_conn_t *c);
/* Close the transport and free c (it must be off every pool list; the caller adjusts
 * the counts). */
void hc_conn_destroy(hc_conn_t *c);
/* Resume reading if we paused it and little is buffered now. */
void hc_conn_maybe_resume(hc_conn_t *c);

/* ---- the pool (pool.c) ---- */

struct hc_host_s {
    hc_host_t *next; /* hash chain */
    char *key;       /* "scheme://host:port" */
    size_t count;    /* connections counted for this host (connecting, busy, idle) */
    size_t refs;     /* waiters referring to it */
    hc_conn_t *idle; /* most recently used first */
};

struct hc_waiter_s {
    hc_waiter_t *prev, *next;
    hc_host_t *host;
    acio_future_t *fut;
    hc_conn_t *conn; /* an idle connection handed over */
    bool slot;       /* a slot for a new connection handed over */
};

#define HC_HOST_BUCKETS 256

/* Get a connection for url: a live idle one, or a new one in a free slot, or wait (FIFO)
 * for either. fresh skips idle connections (the retry after a dead reused one).
 * Coroutine. */
int hc_pool_acquire(acio_http_session_t *s, const acio_url_t *url, const acio_url_t *proxy,
                    const char *key, bool fresh, const hc_deadline_t *dl, hc_conn_t **out);
/* Give a connection back: kept idle when reusable, else closed. Either way its slot is
 * offered to the waiters. */
void hc_pool_release(hc_conn_t *c, bool reusable);
/* Close every connection and fail every waiter (session close, loop close). */
void hc_pool_close_all(acio_http_session_t *s, int code);
void hc_pool_free(acio_http_session_t *s);
/* A connection died while idle (its protocol saw EOF or data): close it. */
void hc_pool_idle_died(hc_conn_t *c);

/* ---- DNS cache (dnscache.c) ---- */

struct hc_dns_s {
    hc_dns_t *next;
    char *key; /* "host:port" */
    struct addrinfo *res;
    double expires;
    int refs; /* users connecting with res right now, plus 1 while cached */
};

/* Resolve host:port through the cache (ttl <= 0: no cache). *out is released with
 * hc_dns_put. Coroutine. */
int hc_dns_get(acio_http_session_t *s, const char *host, int port, double timeout, hc_dns_t **out);
void hc_dns_put(hc_dns_t *d);
void hc_dns_clear(acio_http_session_t *s);

/* ---- the session ---- */

struct acio_http_session_s {
    acio_loop_t *loop;
    int refs;                   /* the user's (until close) and each request in flight */
    bool closed;                /* acio_http_session_close was called */
    bool loop_gone;             /* the loop closed under the session */
    acio_http_session_opts_t o; /* defaults filled in; strings copied below */
    acio_http_field_t *headers; /* copied default headers */
    char *strings;              /* the copies' storage */
    double keepalive;           /* seconds, < 0: no keep-alive */
    hc_deadline_t tmo;          /* relative (seconds) defaults */
    acio_ssl_context_t *ssl;    /* created on first https use unless given */
    /* pool */
    size_t count; /* connections (connecting, busy, idle) */
    size_t nidle;
    hc_host_t *hosts[HC_HOST_BUCKETS];
    hc_waiter_t *wait_head, *wait_tail;
    hc_conn_t *all;         /* every connection */
    acio_handle_t *cleanup; /* idle-expiry timer */
    double cleanup_at;
    /* DNS */
    hc_dns_t *dns;
    /* responses the user holds that still use a connection */
    acio_http_response_t *live;
    /* scratch for building request heads */
    char *scratch;
    size_t scratch_cap;
    /* cookies */
    struct hc_cookie_s *cookies;
    /* leak report */
    acio__net_node_t reg;
    void *created_at;
    void *data;
};

void hc_session_unref(acio_http_session_t *s);
/* Make sure the scratch buffer holds cap bytes. */
int hc_scratch(acio_http_session_t *s, size_t cap);
/* The session's TLS context (created on first use). */
int hc_session_ssl(acio_http_session_t *s, acio_ssl_context_t **out);

/* ---- responses (response.c) ---- */

struct acio_http_response_s {
    acio_http_session_t *s;              /* NULL once detached */
    acio_http_response_t *lprev, *lnext; /* the session's live list */
    hc_conn_t *conn;                     /* while the body streams from it */
    char *method;                        /* the request's method (framing depends on it) */
    char *url;
    /* the head, copied out of the connection's buffer, NUL-terminated in place */
    char *head;
    size_t head_len;
    acio_http_head_t h;
    acio_http_header_t *hdrs;
    size_t nhdrs;
    const char *reason;
    char charset[32];
    /* the body */
    acio_http_body_t body;
    acio_http_limits_t lim;
    hc_deadline_t dl;
    bool body_done; /* every body byte was delivered */
    int body_err;
    size_t dstart, dlen; /* framed body bytes in the connection's buffer not handed out */
    hc_decoder_t *dec;
    const char *dec_in; /* framed bytes not yet fed to the decoder */
    size_t dec_in_len;
    char *dec_out;
    /* what read() / text() keep */
    char *all;
    size_t all_len;
    bool all_done;
    char *text;
    size_t text_len;
    /* readline's carry-over: bytes of the last piece not yet consumed */
    const char *carry;
    size_t carry_len;
    /* redirects followed */
    acio_http_response_t **hist;
    size_t nhist;
    bool keep_alive;
    bool live;      /* on the session's list */
    bool got_bytes; /* any byte of a response arrived (no retry then) */
    bool dec_ended; /* the coded stream ended */
    bool dec_full;  /* the decoder filled the output buffer: it may hold more */
};

/* A response for a request with method to url (both copied). */
int hc_response_new(acio_http_session_t *s, const char *method, const char *url,
                    acio_http_response_t **out);
/* Read and parse the head from c (1xx skipped); on success the response owns c until
 * its body is done. An EOF before any byte is ACIO_EHTTP_DISCONNECTED (r->got_bytes
 * tells the caller whether a retry is safe). */
int hc_response_read_head(acio_http_response_t *r, hc_conn_t *c, const hc_deadline_t *dl);
/* Read and drop the body (up to max bytes; past that, close the connection). */
int hc_response_discard(acio_http_response_t *r, size_t max);
/* Detach from the connection and the session: close the connection if the body is not
 * done. The response stays readable for whatever was already kept. */
void hc_response_detach(acio_http_response_t *r, int code);

/* ---- content decoding (decode.c) ---- */

/* A decoder for a Content-Encoding value; *out NULL for identity. Errors:
 * ACIO_EHTTP_ENCODING (unknown coding), -ENOMEM. */
int hc_decoder_new(const char *coding, size_t coding_len, size_t max_out, double max_ratio,
                   hc_decoder_t **out);
/* Decode from *in (advancing it) into out[0..cap); *produced gets the count. Returns
 * 1 when the coded stream ended, 0 when it needs more input or room, or a negative
 * code (ACIO_EHTTP_DECODE, ACIO_EHTTP_BOMB). */
int hc_decoder_run(hc_decoder_t *d, const char **in, size_t *in_len, char *out, size_t cap,
                   size_t *produced);
void hc_decoder_free(hc_decoder_t *d);

/* ---- proxies (proxy.c) ---- */

/* The proxy for a request to u: explicit_proxy, else the session's, else (trust_env)
 * the environment's unless no_proxy matches. *out is NULL for none (caller frees).
 * Errors: ACIO_EURL_*, ACIO_EHTTP_SCHEME (not an http:// proxy), -ENOMEM. */
int hc_proxy_for(acio_http_session_t *s, const char *explicit_proxy, const acio_url_t *u,
                 acio_url_t **out);
bool hc_no_proxy_match(const char *list, const char *host, int port);
/* Open a CONNECT tunnel to target through the proxy c is connected to. Coroutine.
 * Errors: ACIO_EHTTP_PROXY (refused), the connection's, the deadlines'. */
int hc_proxy_tunnel(hc_conn_t *c, const acio_url_t *target, const acio_url_t *proxy,
                    const hc_deadline_t *dl);
/* "Basic base64(userinfo)" into dst. */
int hc_basic_auth_userinfo(const char *userinfo, char *dst, size_t cap);

/* ---- cookies (cookie.c) ---- */

struct hc_cookie_s;
/* Store the Set-Cookie fields of a response from url. */
void hc_cookies_store(acio_http_session_t *s, const acio_url_t *url, const acio_http_response_t *r);
/* Write "Cookie: ...\r\n" for url into dst (at most cap bytes) if any cookie matches.
 * Returns the length it needs (0: no cookie); more than cap means nothing useful was
 * written and the caller retries with a bigger buffer. */
size_t hc_cookies_header(acio_http_session_t *s, const acio_url_t *url, char *dst, size_t cap);
void hc_cookies_free(acio_http_session_t *s);

/* Case-insensitive comparison of n bytes with a NUL-terminated lowercase name. */
bool hc_name_eq(const char *a, size_t alen, const char *lower);

#endif
