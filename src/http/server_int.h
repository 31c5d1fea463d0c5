/* The HTTP server's internals, shared by app.c (routes), server_conn.c (the
 * per-connection protocol: reading, parsing, dispatching, timeouts), server_request.c
 * (request accessors, body reading), server_response.c (responses) and server.c
 * (listening, shutdown, workers, serve).
 *
 * A connection reads straight into its own buffer (a buffered protocol: no copy); the
 * parser works in place on it, and a request's head, path and headers are pointers into
 * that buffer, NUL-terminated in place. Requests on one connection run one at a time in
 * arrival order (pipelining answers in order by construction); each handler runs on an
 * eager task, so one that completes without awaiting costs no trip through the loop.
 * Responses produced while a batch of pipelined requests is processed are gathered in
 * the connection's output buffer and written with one send at the end of the batch. */
#ifndef ACIO_HTTP_SERVER_INT_H
#define ACIO_HTTP_SERVER_INT_H

#include <stdarg.h>

#include "acio.h"
#include "acio/http_server.h"
#include "internal.h"

#define SRV_MAX_HEADERS 100
#define SRV_MAX_PARAMS  16
#define SRV_READ_AHEAD  (64 * 1024) /* read-buffer room beyond a head being parsed */
#define SRV_BODY_ROOM   (16 * 1024) /* free room a request with a body starts with */

typedef struct route_seg_s {
    char *text; /* literal text, or the parameter's name */
    size_t len;
    bool param;
    bool rest; /* {name:path}: the rest of the path */
} route_seg_t;

typedef struct route_s {
    char *method; /* "*" matches any */
    char *pattern;
    route_seg_t *segs;
    size_t nsegs;
    acio_http_handler handler;
    void *arg;
    size_t max_body;
} route_t;

struct acio_http_app_s {
    route_t *routes;
    size_t n, cap;
};

/* Match path against the app: *route set on a match (params filled); else returns 404,
 * or 405 with allow (a buffer of allow_cap bytes) listing the methods that match. */
typedef struct {
    const char *name;
    const char *value; /* points into the path copy, NUL-terminated */
} srv_param_t;
int acio__http_app_match(const acio_http_app_t *app, const char *method, char *path,
                         const route_t **route, srv_param_t *params, size_t *nparams, char *allow,
                         size_t allow_cap);

/* Timed lists: each holds connections whose deadline is a constant after when they
 * joined, so appending keeps the list sorted and the tick only looks at the heads. */
enum { TL_NONE = -1, TL_HEADER = 0, TL_IDLE, TL_BODY, TL_WRITE, TL_LINGER, TL_COUNT };

typedef struct srv_conn_s srv_conn_t;
typedef struct srv_link_s {
    srv_conn_t *prev, *next;
} srv_link_t;
typedef struct {
    srv_conn_t *head, *tail;
} srv_list_t;

struct acio_http_request_s {
    srv_conn_t *conn;
    acio_http_head_t head;
    size_t head_len;
    char *method, *target, *path, *query;
    const route_t *route;
    srv_param_t params[SRV_MAX_PARAMS];
    size_t nparams;
    char *query_copy; /* decoded query pairs, built on first lookup */
    size_t query_len;
    size_t max_body;
    bool is_head;
    /* Body. */
    acio_http_body_t body;
    uint64_t body_total; /* decoded bytes seen */
    bool body_whole, body_streamed, continue_sent;
    int body_error; /* sticky: a body error already met */
    const char *whole_data;
    size_t whole_len;
    char *whole_copy; /* the whole body, copied out of the read buffer */
    size_t whole_cap;
    acio_future_t *body_waiter;
    /* Response. */
    int status;
    bool responded; /* the head is queued */
    bool streaming; /* chunked / close-delimited body in progress */
    bool ended;     /* the body is complete */
    bool chunked;
    bool keep_alive;    /* decided at respond time */
    uint64_t bytes_out; /* body bytes, for the access log */
    char *rh;           /* extra response header lines, "Name: value\r\n"... */
    size_t rh_len, rh_cap;
    acio_future_t *write_waiter;
    /* Handler. */
    acio_task_t *task;
    int rc;
    char *err_msg;
    double start;
    void *data;
    /* Small allocations for decoded strings, freed with the request. */
    char *arena;
    size_t arena_used, arena_cap;
    void *arena_chain; /* overflow blocks */
    bool returned;     /* the handler has returned */
    bool sync_phase;   /* inside the eager first step */
    bool done;         /* the handler's part is over; only the body drain may remain */
    bool self_finish;  /* run_handler schedules the finish itself */
    acio_http_request_t *next_free;
    /* Not cleared between requests (everything above is, up to here). */
    acio_http_header_t headers[SRV_MAX_HEADERS];
    char arena_inline[256];
};

struct srv_conn_s {
    acio_http_server_t *srv;
    acio_transport_t *t;
    srv_link_t all;   /* the server's list of connections */
    srv_link_t timed; /* one of the timed lists */
    int tlist;
    double deadline_base;
    char *rbuf;
    size_t rcap, rstart, rlen;
    size_t prev_len; /* bytes the head parser already saw */
    /* In-flight request's body bookkeeping (offsets in rbuf). */
    size_t body_off, dec_end, raw_off;
    acio_http_request_t *req; /* in flight, or NULL */
    char *obuf;
    size_t olen, ocap;
    char peer[64];
    bool peer_done;
    bool in_process;      /* inside process(): flush at its end */
    bool closing;         /* no more requests: close once the output is sent */
    bool peer_eof;        /* the client closed its side: answer what is complete, then close */
    bool lost;            /* connection_lost ran */
    bool wpaused;         /* the transport asked us to stop writing */
    bool rpaused;         /* we paused reading */
    bool draining;        /* discarding the rest of an unread body */
    bool may_send_more;   /* closing with a request body (or head) not read to its end */
    bool pending_process; /* a process() is scheduled */
    bool is_tls;
};

struct acio_http_server_s {
    acio_loop_t *loop;
    acio_http_app_t *app;
    acio_http_config_t cfg;
    acio_server_t *listener;
    srv_list_t conns;
    srv_list_t timed[TL_COUNT];
    double timeouts[TL_COUNT];
    size_t nconns;
    size_t nalive; /* connection objects not yet freed (they outlive connection_lost
                      while their handler runs) */
    uint64_t nrequests;
    acio_handle_t *tick;
    double tick_interval;
    acio_future_t *drained; /* set when the last connection is gone during shutdown */
    FILE *log;
    bool closing;
    bool freed; /* the owner released it; memory goes with the last connection */
    bool free_pending;
    acio_http_request_t *req_free; /* free list (chained through ->next_free) */
};

/* server_conn.c */
int acio__http_conn_factory(void *data, const acio_protocol_t **proto, void **pdata);
void acio__http_conn_close(srv_conn_t *c, bool abort);
void acio__http_conn_flush(srv_conn_t *c);
int acio__http_conn_out(srv_conn_t *c, const void *buf, size_t len);
void acio__http_conn_timed(srv_conn_t *c, int list);
void acio__http_tick(void *data);
void acio__http_tick_arm(acio_http_server_t *srv);
void acio__http_server_maybe_release(acio_http_server_t *srv);
/* Make room for need more bytes after rlen; 0 or -ENOMEM / -E2BIG (limit). */
int acio__http_conn_reserve(srv_conn_t *c, size_t need, size_t limit);
/* Decode what is buffered of the in-flight request's body. 0 or a parser code. */
int acio__http_body_pump(srv_conn_t *c, acio_http_request_t *req);
/* The handler is waiting on data: wake it. */
void acio__http_wake(acio_future_t **waiter, int code);
/* A request is being shut down by the server's rules (bad body, timeout): answer with
 * status (if nothing was sent yet) and close. */
void acio__http_request_fail(acio_http_request_t *req, int status);

/* server_request.c */
char *acio__http_req_alloc(acio_http_request_t *req, size_t n);
void acio__http_req_reset(acio_http_request_t *req);
/* Percent-decode src[0..len) into a new arena string ('+' -> ' ' if plus). */
char *acio__http_decode(acio_http_request_t *req, const char *src, size_t len, bool plus);
int acio__http_send_continue(acio_http_request_t *req);

/* server_response.c */
/* Queue a complete response; body may be NULL. */
int acio__http_respond_full(acio_http_request_t *req, int status, const char *ctype,
                            const void *body, size_t len);
/* The handler is done (rc its code): complete whatever response is outstanding. */
void acio__http_response_finish(acio_http_request_t *req);
/* The cached Date header line "Date: ...\r\n" for now. */
const char *acio__http_date_line(size_t *len);
const char *acio__http_reason(int status);
void acio__http_access_log(acio_http_request_t *req);
const char *acio__http_conn_peer(srv_conn_t *c);

#endif
