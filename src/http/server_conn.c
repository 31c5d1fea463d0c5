/* One HTTP connection: a buffered protocol that reads into the connection's own buffer,
 * parses request heads in place, dispatches each request to its handler on an eager
 * task, one request at a time, and enforces the connection's timeouts and limits.
 *
 * Life of a connection: connection_made puts it on the header-timeout list (a client
 * that connects and says nothing is dropped like one that trickles). Each complete head
 * is routed; 404/405/413 are answered without a task; otherwise the handler runs. A
 * handler that completes without awaiting is finished inline, so a batch of pipelined
 * requests is answered in one loop iteration and one send. A handler that awaits keeps
 * the connection's later requests waiting in the buffer (answers stay in order); its
 * end schedules the next step with call_soon. After each answer the rest of an unread
 * body is drained (or the connection closed when draining is not worth it), then the
 * next head is parsed. Errors close the connection after their answer is sent. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/server_int.h"

#define RBUF_INITIAL   4096
#define LINGER_SECONDS 2.0

static void process(srv_conn_t *c);
static void conn_maybe_free(srv_conn_t *c);

/* ---- lists ---- */

static void list_append(srv_list_t *l, srv_conn_t *c, srv_link_t *(*link)(srv_conn_t *))
{
    srv_link_t *k = link(c);
    k->prev = l->tail;
    k->next = NULL;
    if (l->tail)
        link(l->tail)->next = c;
    else
        l->head = c;
    l->tail = c;
}

static void list_remove(srv_list_t *l, srv_conn_t *c, srv_link_t *(*link)(srv_conn_t *))
{
    srv_link_t *k = link(c);
    if (k->prev)
        link(k->prev)->next = k->next;
    else
        l->head = k->next;
    if (k->next)
        link(k->next)->prev = k->prev;
    else
        l->tail = k->prev;
    k->prev = k->next = NULL;
}

static srv_link_t *all_link(srv_conn_t *c)
{
    return &c->all;
}

static srv_link_t *timed_link(srv_conn_t *c)
{
    return &c->timed;
}

void acio__http_conn_timed(srv_conn_t *c, int list)
{
    acio_http_server_t *srv = c->srv;
    if (c->tlist != TL_NONE)
        list_remove(&srv->timed[c->tlist], c, timed_link);
    c->tlist = TL_NONE;
    if (list == TL_NONE || c->lost || (list != TL_LINGER && srv->timeouts[list] <= 0))
        return;
    c->tlist = list;
    c->deadline_base = acio_loop_time(srv->loop);
    if (ACIO_UNLIKELY(!srv->tick))
        acio__http_tick_arm(srv);
    list_append(&srv->timed[list], c, timed_link);
}

/* ---- output ---- */

int acio__http_conn_out(srv_conn_t *c, const void *buf, size_t len)
{
    if (c->lost || !c->t)
        return -ENOTCONN;
    if (c->olen + len > c->ocap) {
        size_t ncap = c->ocap ? c->ocap : 1024;
        while (ncap < c->olen + len)
            ncap *= 2;
        char *nb = acio__realloc(c->obuf, ncap);
        if (!nb)
            return -ENOMEM;
        c->obuf = nb;
        c->ocap = ncap;
    }
    memcpy(c->obuf + c->olen, buf, len);
    c->olen += len;
    return 0;
}

void acio__http_conn_flush(srv_conn_t *c)
{
    if (!c->olen)
        return;
    size_t n = c->olen;
    c->olen = 0;
    if (c->lost)
        return;
    int rc = acio_transport_write(c->t, c->obuf, n);
    if (rc < 0 && rc != -ENOTCONN && !acio_transport_is_closing(c->t)) {
        /* Not accepted (no memory): the answers cannot reach the client in order any
         * more, so the connection ends rather than skip them. */
        c->closing = true;
        acio_transport_abort(c->t);
    }
    /* Keep a modest buffer for the next batch; give back a large one. */
    if (c->ocap > 64 * 1024) {
        acio__free(c->obuf);
        c->obuf = NULL;
        c->ocap = 0;
    }
}

/* ---- closing ---- */

void acio__http_conn_close(srv_conn_t *c, bool abort)
{
    if (c->lost)
        return;
    acio__http_conn_flush(c);
    c->closing = true;
    if (abort) {
        acio_transport_abort(c->t);
        return;
    }
    /* Unread input makes the kernel answer our close with a reset, which can destroy
     * the response in flight to the client: shut down our side and read until the
     * client closes (or a short linger passes), as nginx's lingering close does. The
     * same when the client may still be sending a body we stopped reading (a 413, a
     * 408 for a stalled body, a refused head): the bytes it sends after our close would
     * draw the reset that destroys the answer in its receive buffer. */
    if ((c->rlen > c->rstart || c->may_send_more) && !c->peer_eof &&
        acio_transport_can_write_eof(c->t) && acio_transport_write_eof(c->t) == 0) {
        c->rstart = c->rlen = 0;
        if (c->rpaused) {
            acio_transport_resume_reading(c->t);
            c->rpaused = false;
        }
        acio__http_conn_timed(c, TL_LINGER);
        return;
    }
    acio_transport_close(c->t);
}

/* ---- buffer ---- */

int acio__http_conn_reserve(srv_conn_t *c, size_t need, size_t limit)
{
    if (c->rcap - c->rlen >= need)
        return 0;
    /* While a request is in flight its head (and the pointers a handler took into it)
     * must not move: the buffer only changes between requests. */
    if (c->req)
        return -E2BIG;
    if (c->rstart > 0) {
        memmove(c->rbuf, c->rbuf + c->rstart, c->rlen - c->rstart);
        c->rlen -= c->rstart;
        c->rstart = 0;
        c->prev_len = 0;
        if (c->rcap - c->rlen >= need)
            return 0;
    }
    if (c->rlen + need > limit)
        return -E2BIG;
    size_t ncap = c->rcap ? c->rcap : RBUF_INITIAL;
    while (ncap < c->rlen + need)
        ncap *= 2;
    if (ncap > limit)
        ncap = limit;
    char *nb = acio__realloc(c->rbuf, ncap + 1);
    if (!nb)
        return -ENOMEM;
    c->rbuf = nb;
    c->rcap = ncap;
    return 0;
}

/* Move a just-parsed head's pointers by d (the buffer moved under them). */
static void rebase(acio_http_request_t *req, ptrdiff_t d)
{
    req->head.method += d;
    req->head.target += d;
    if (req->head.reason)
        req->head.reason += d;
    for (size_t i = 0; i < req->head.num_headers; i++) {
        req->headers[i].name += d;
        if (req->headers[i].value)
            req->headers[i].value += d;
    }
}

/* Before a request with a body starts: the head at the buffer's start and room after
 * it, so the body can stream through without the buffer ever moving under the
 * handler (c->req is not set yet, so the buffer may still move). Failing to grow only
 * costs speed. */
static void prepare_body_room(srv_conn_t *c, acio_http_request_t *req)
{
    char *old_head = c->rbuf + c->rstart;
    if (c->rstart > 0) {
        memmove(c->rbuf, c->rbuf + c->rstart, c->rlen - c->rstart);
        c->rlen -= c->rstart;
        c->rstart = 0;
    }
    if (c->rcap - c->rlen < SRV_BODY_ROOM)
        acio__http_conn_reserve(c, SRV_BODY_ROOM, c->rlen + SRV_BODY_ROOM);
    ptrdiff_t d = (c->rbuf + c->rstart) - old_head;
    if (d)
        rebase(req, d);
}

static int get_buffer(acio_transport_t *t, size_t sizehint, void **buf, size_t *len, void *data)
{
    (void)t;
    (void)sizehint;
    srv_conn_t *c = data;
    size_t limit = c->rstart + c->srv->cfg.limits.max_head_bytes + SRV_READ_AHEAD;
    int rc = acio__http_conn_reserve(c, c->rlen < c->rcap ? 1 : 2048, limit);
    if (rc < 0 && c->rlen == c->rcap)
        return rc == -E2BIG ? -ENOBUFS : rc;
    *buf = c->rbuf + c->rlen;
    *len = c->rcap - c->rlen;
    return 0;
}

/* ---- body ---- */

int acio__http_body_pump(srv_conn_t *c, acio_http_request_t *req)
{
    if (req->body_error)
        return req->body_error;
    /* Decoded bytes all consumed: reuse their room. */
    if (c->body_off == c->dec_end && c->dec_end > c->rstart + req->head_len) {
        size_t base = c->rstart + req->head_len;
        size_t gap = c->raw_off - base;
        memmove(c->rbuf + base, c->rbuf + c->raw_off, c->rlen - c->raw_off);
        c->rlen -= gap;
        c->body_off = c->dec_end = c->raw_off = base;
    }
    if (req->body.done || c->raw_off >= c->rlen)
        return 0;
    if (c->raw_off > c->dec_end) {
        size_t gap = c->raw_off - c->dec_end;
        memmove(c->rbuf + c->dec_end, c->rbuf + c->raw_off, c->rlen - c->raw_off);
        c->rlen -= gap;
        c->raw_off = c->dec_end;
    }
    size_t n = c->rlen - c->dec_end;
    ssize_t used = acio_http_body_decode(&req->body, c->rbuf + c->dec_end, &n);
    if (used < 0) {
        req->body_error = (int)used;
        return req->body_error;
    }
    c->raw_off = c->dec_end + (size_t)used;
    c->dec_end += n;
    req->body_total += n;
    if (req->body_total > req->max_body) {
        req->body_error = ACIO_EHTTP_BODY_TOO_LARGE;
        return req->body_error;
    }
    return 0;
}

void acio__http_wake(acio_future_t **waiter, int code)
{
    acio_future_t *w = *waiter;
    if (!w)
        return;
    *waiter = NULL;
    if (!acio_future_done(w))
        acio_future_set_result(w, (void *)(intptr_t)code);
    acio_future_unref(w);
}

/* ---- requests ---- */

static acio_http_request_t *req_get(acio_http_server_t *srv)
{
    acio_http_request_t *req = srv->req_free;
    if (req)
        srv->req_free = req->next_free;
    else if (!(req = acio__malloc(sizeof *req)))
        return NULL;
    memset(req, 0, offsetof(acio_http_request_t, headers));
    req->arena = req->arena_inline;
    req->arena_cap = sizeof req->arena_inline;
    return req;
}

static void req_put(acio_http_server_t *srv, acio_http_request_t *req)
{
    acio__http_req_reset(req);
    req->next_free = srv->req_free;
    srv->req_free = req;
}

/* Is the line ending that must exist somewhere in the first max bytes missing? */
static bool line_too_long(const char *p, size_t len, size_t max)
{
    return len > max && !memchr(p, '\n', max);
}

/* The status a parser verdict earns (RFC 9110 15.5 / RFC 6585). */
static int status_for_parse_error(ssize_t code)
{
    switch (code) {
    case ACIO_EHTTP_START_LINE_TOO_LONG:
        return 414;
    case ACIO_EHTTP_HEADER_LINE_TOO_LONG:
    case ACIO_EHTTP_TOO_MANY_HEADERS:
    case ACIO_EHTTP_HEAD_TOO_LARGE:
        return 431;
    case ACIO_EHTTP_TE_UNSUPPORTED:
        return 501;
    case ACIO_EHTTP_BAD_VERSION:
        return 505;
    default:
        return 400;
    }
}

/* Answer a request the server refuses (or a broken head) and close. */
static void refuse(srv_conn_t *c, acio_http_request_t *req, int status)
{
    acio_http_request_t tmp;
    if (!req) {
        memset(&tmp, 0, offsetof(acio_http_request_t, headers));
        tmp.conn = c;
        tmp.arena = tmp.arena_inline;
        tmp.arena_cap = sizeof tmp.arena_inline;
        req = &tmp;
    }
    req->conn = c;
    c->closing = true;
    c->may_send_more = !req->body.done;
    if (!req->responded) {
        const char *detail = acio__http_reason(status);
        char body[128];
        int n = snprintf(body, sizeof body, "{\"detail\":\"%s\"}", detail);
        acio__http_respond_full(req, status, "application/json", body, (size_t)n);
    }
    if (c->srv->cfg.access_log && req->method)
        acio__http_access_log(req);
    if (req == &tmp)
        acio__http_req_reset(req);
    acio__http_conn_close(c, false);
}

static void nul_terminate(acio_http_request_t *req)
{
    acio_http_head_t *h = &req->head;
    req->method = (char *)h->method;
    req->method[h->method_len] = '\0';
    req->target = (char *)h->target;
    req->target[h->target_len] = '\0';
    for (size_t i = 0; i < h->num_headers; i++) {
        acio_http_header_t *f = &req->headers[i];
        ((char *)f->name)[f->name_len] = '\0';
        if (f->value)
            ((char *)f->value)[f->value_len] = '\0';
        else
            f->value = "";
    }
}

static void request_complete(acio_http_request_t *req);

static void task_end(void *data)
{
    request_complete(data);
}

static void *run_handler(void *arg)
{
    acio_http_request_t *req = arg;
    req->rc = req->route->handler(req, req->route->arg);
    req->returned = true;
    /* Normally the task's done callback finishes the request from the loop (never from
     * this task's stack: finishing starts the next pipelined request, which must not
     * nest inside this one). If that callback could not be added (no memory), finish
     * from here the same way, or inline as a last resort. */
    if (req->self_finish && acio_loop_call_soon(req->conn->srv->loop, task_end, req, NULL) < 0)
        request_complete(req);
    return NULL;
}

static void task_done_cb(acio_future_t *fut, void *data)
{
    (void)fut;
    request_complete(data);
}

/* The connection moves on to the bytes after the finished request. */
static void advance(srv_conn_t *c)
{
    acio_http_request_t *req = c->req;
    if (!req->body.done) {
        /* Drain what arrived; wait for the rest (bounded by the body cap). */
        acio__http_body_pump(c, req);
        c->body_off = c->dec_end;
        if (req->body_error) {
            c->may_send_more = !req->body.done;
            c->req = NULL;
            req_put(c->srv, req);
            acio__http_conn_close(c, false);
            return;
        }
        if (!req->body.done) {
            c->draining = true;
            acio__http_conn_timed(c, TL_BODY);
            return;
        }
    }
    c->draining = false;
    c->rstart = c->raw_off;
    c->req = NULL;
    c->srv->nrequests++;
    req_put(c->srv, req);
    if (c->rpaused && !c->lost && !c->closing) {
        acio_transport_resume_reading(c->t);
        c->rpaused = false;
    }
    process(c);
}

static void request_complete(acio_http_request_t *req)
{
    srv_conn_t *c = req->conn;
    req->done = true;
    if (req->task) {
        acio_future_unref(req->task);
        req->task = NULL;
    }
    acio__http_wake(&req->body_waiter, -ECONNRESET);
    acio__http_wake(&req->write_waiter, -ECONNRESET);
    if (c->lost) {
        if (req->responded || req->rc < 0)
            acio__http_response_finish(req); /* logs the error and the line */
        c->req = NULL;
        req_put(c->srv, req);
        conn_maybe_free(c);
        return;
    }
    acio__http_response_finish(req);
    if (!req->keep_alive || c->closing) {
        c->may_send_more = !req->body.done;
        c->req = NULL;
        c->srv->nrequests++;
        req_put(c->srv, req);
        acio__http_conn_close(c, false);
        return;
    }
    advance(c);
}

static void dispatch(srv_conn_t *c, acio_http_request_t *req, size_t head_len)
{
    acio_http_server_t *srv = c->srv;
    req->conn = c;
    req->head_len = head_len;
    req->head.headers = req->headers;
    if (req->head.body_kind != ACIO_HTTP_BODY_NONE)
        prepare_body_room(c, req);
    nul_terminate(req);
    if (srv->cfg.access_log) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        req->start = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    }
    c->req = req;
    c->body_off = c->dec_end = c->raw_off = c->rstart + head_len;
    acio__http_conn_timed(c, TL_NONE);
    req->is_head = strcmp(req->method, "HEAD") == 0;

    /* The path: origin-form "/p?q", absolute-form "http://h/p?q", or "*". */
    const char *t = req->target;
    if (t[0] != '/' && t[0] != '*') {
        const char *s = strstr(t, "://");
        t = s ? strchr(s + 3, '/') : NULL;
        if (!t)
            t = "/";
    }
    const char *q = strchr(t, '?');
    size_t plen = q ? (size_t)(q - t) : strlen(t);
    req->query = q ? (char *)q + 1 : (char *)"";
    req->path = acio__http_decode(req, t, plen, false);
    char *match = req->path ? acio__http_req_alloc(req, strlen(req->path) + 1) : NULL;
    acio_http_body_init(&req->body, &req->head, &srv->cfg.limits);
    if (req->head.body_kind == ACIO_HTTP_BODY_NONE)
        req->body.done = true;
    if (!match) {
        c->req = NULL;
        refuse(c, req, 500);
        req_put(srv, req);
        return;
    }
    strcpy(match, req->path);
    char allow[256];
    int st = acio__http_app_match(srv->app, req->method, match, &req->route, req->params,
                                  &req->nparams, allow, sizeof allow);
    req->max_body = req->route && req->route->max_body ? req->route->max_body : srv->cfg.max_body;
    if (req->head.body_kind == ACIO_HTTP_BODY_LENGTH && req->head.content_length > req->max_body)
        st = 413;
    if (st == 413) {
        c->req = NULL;
        refuse(c, req, 413);
        req_put(srv, req);
        return;
    }
    /* Decode what is already here, so a complete request's end is known. */
    acio__http_body_pump(c, req);
    if (st) {
        if (st == 405)
            acio_http_respond_header(req, "Allow", allow);
        acio_http_respond_error(req, st, acio__http_reason(st));
        request_complete(req);
        return;
    }
    req->sync_phase = true;
    acio_task_opts_t opts = {.eager = true};
    int rc = acio_loop_create_task(srv->loop, &req->task, run_handler, req, &opts);
    req->sync_phase = false;
    if (rc < 0) {
        req->rc = acio_http_error(req, rc, "cannot start a task for the handler");
        request_complete(req);
        return;
    }
    if (req->returned) {
        request_complete(req);
        return;
    }
    /* The handler awaits: the task's end finishes the request. */
    if (acio_future_add_done_callback(req->task, task_done_cb, req) < 0)
        req->self_finish = true;
}

/* Parse and dispatch every complete request in the buffer, in order. */
static void process(srv_conn_t *c)
{
    if (c->in_process)
        return;
    acio_http_server_t *srv = c->srv;
    c->in_process = true;
    while (!c->req && !c->closing && !c->lost && !c->wpaused) {
        size_t avail = c->rlen - c->rstart;
        if (!avail) {
            c->rstart = c->rlen = 0;
            break;
        }
        if (srv->closing) {
            c->closing = true; /* a new request after shutdown began: not served */
            break;
        }
        acio_http_request_t *req = req_get(srv);
        if (!req) {
            refuse(c, NULL, 503);
            break;
        }
        const char *p = c->rbuf + c->rstart;
        ssize_t n = acio_http_parse_request(p, avail, c->prev_len, &req->head, req->headers,
                                            SRV_MAX_HEADERS, &srv->cfg.limits);
        if (n == ACIO_HTTP_INCOMPLETE) {
            req_put(srv, req);
            int st = 0;
            if (line_too_long(p, avail, srv->cfg.limits.max_start_line + 2))
                st = 414;
            else if (avail > srv->cfg.limits.max_head_bytes)
                st = 431;
            if (st) {
                refuse(c, NULL, st);
                break;
            }
            c->prev_len = avail;
            if (c->tlist != TL_HEADER)
                acio__http_conn_timed(c, TL_HEADER);
            break;
        }
        c->prev_len = 0;
        if (n < 0) {
            req_put(srv, req);
            int st = status_for_parse_error(n);
            if (line_too_long(p, avail, srv->cfg.limits.max_start_line + 2))
                st = 414;
            refuse(c, NULL, st);
            break;
        }
        dispatch(c, req, (size_t)n);
    }
    c->in_process = false;
    acio__http_conn_flush(c);
    if (c->lost)
        return;
    if ((c->closing || c->peer_eof) && !c->req) {
        acio__http_conn_close(c, false);
        return;
    }
    /* A request in flight with the buffer full of what follows it: stop reading until it
     * is done (the buffer cannot grow under a running handler). */
    if (c->req && c->rlen == c->rcap && !c->rpaused) {
        acio_transport_pause_reading(c->t);
        c->rpaused = true;
    }
    if (!c->req && c->tlist == TL_NONE)
        acio__http_conn_timed(c, c->rlen > c->rstart ? TL_HEADER : TL_IDLE);
}

/* ---- protocol callbacks ---- */

static void buffer_updated(acio_transport_t *t, size_t n, void *data)
{
    (void)t;
    srv_conn_t *c = data;
    c->rlen += n;
    if (c->tlist == TL_LINGER) {
        c->rstart = c->rlen = 0; /* discarded while we wait for the client to close */
        return;
    }
    acio_http_request_t *req = c->req;
    if (!req) {
        if (c->tlist == TL_IDLE)
            acio__http_conn_timed(c, TL_HEADER);
        process(c);
        return;
    }
    /* A request is in flight: decode body bytes, wake a reader, bound read-ahead. */
    int rc = acio__http_body_pump(c, req);
    if (c->draining) {
        c->body_off = c->dec_end;
        if (rc < 0 || req->body.done) {
            if (rc < 0) {
                c->req = NULL;
                req_put(c->srv, req);
                acio__http_conn_close(c, false);
                return;
            }
            advance(c);
        } else {
            acio__http_conn_timed(c, TL_BODY);
        }
        return;
    }
    if (req->body_waiter) {
        if (c->dec_end > c->body_off || req->body.done || rc < 0)
            acio__http_wake(&req->body_waiter, 0);
        else
            acio__http_conn_timed(c, TL_BODY); /* bytes arrived: the silence restarts */
    }
    if (c->rlen == c->rcap && !c->rpaused) {
        acio_transport_pause_reading(c->t);
        c->rpaused = true;
    }
}

static bool eof_received(acio_transport_t *t, void *data)
{
    (void)t;
    srv_conn_t *c = data;
    c->peer_eof = true;
    acio_http_request_t *req = c->req;
    if (!req)
        return false; /* every complete request was answered; a partial head is dropped */
    /* Keep the write side open: the request in flight, and those pipelined behind it,
     * are answered before the close (process() closes once they are). A body cut
     * short is an error for its reader. */
    if (!req->body.done && !req->body_error) {
        int rc = acio_http_body_eof(&req->body);
        if (rc < 0)
            req->body_error = -ECONNRESET;
        else
            req->body.done = true;
    }
    acio__http_wake(&req->body_waiter, 0);
    return true;
}

static void conn_free(srv_conn_t *c)
{
    acio_http_server_t *srv = c->srv;
    acio__free(c->rbuf);
    acio__free(c->obuf);
    acio__free(c);
    srv->nalive--;
    acio__http_server_maybe_release(srv);
}

static void conn_maybe_free(srv_conn_t *c)
{
    if (c->lost && !c->req)
        conn_free(c);
}

static void connection_made(acio_transport_t *t, void *data)
{
    srv_conn_t *c = data;
    c->t = t;
    acio__http_conn_timed(c, TL_HEADER);
    if (c->srv->cfg.max_connections && c->srv->nconns > c->srv->cfg.max_connections) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n";
        acio__http_conn_out(c, busy, sizeof busy - 1);
        acio__http_conn_close(c, false);
    } else if (c->srv->closing) {
        acio__http_conn_close(c, false);
    }
}

static void connection_lost(acio_transport_t *t, int error, void *data)
{
    (void)t;
    (void)error;
    srv_conn_t *c = data;
    acio_http_server_t *srv = c->srv;
    acio__http_conn_timed(c, TL_NONE);
    c->lost = true;
    c->t = NULL;
    list_remove(&srv->conns, c, all_link);
    srv->nconns--;
    acio_http_request_t *req = c->req;
    if (req) {
        if (!req->body.done && !req->body_error)
            req->body_error = -ECONNRESET;
        acio__http_wake(&req->body_waiter, -ECONNRESET);
        acio__http_wake(&req->write_waiter, -ECONNRESET);
        if (req->done) { /* only draining was left */
            c->req = NULL;
            req_put(srv, req);
        }
    }
    if (srv->nconns == 0 && srv->drained && !acio_future_done(srv->drained))
        acio_future_set_result(srv->drained, NULL);
    conn_maybe_free(c);
}

static void pause_writing(acio_transport_t *t, void *data)
{
    (void)t;
    srv_conn_t *c = data;
    c->wpaused = true;
    if (c->tlist == TL_NONE || c->tlist == TL_IDLE || c->tlist == TL_HEADER)
        acio__http_conn_timed(c, TL_WRITE);
}

static void resume_writing(acio_transport_t *t, void *data)
{
    (void)t;
    srv_conn_t *c = data;
    c->wpaused = false;
    if (c->tlist == TL_WRITE)
        acio__http_conn_timed(c, TL_NONE);
    if (c->req)
        acio__http_wake(&c->req->write_waiter, 0);
    else
        process(c);
}

static const acio_protocol_t conn_protocol = {
    .connection_made = connection_made,
    .get_buffer = get_buffer,
    .buffer_updated = buffer_updated,
    .eof_received = eof_received,
    .connection_lost = connection_lost,
    .pause_writing = pause_writing,
    .resume_writing = resume_writing,
};

/* The factory hands out a bootstrap protocol whose connection_made allocates the
 * connection: memory taken in the factory itself would leak if the transport could not
 * be created afterwards (no protocol callback ever runs then). */
static void boot_connection_made(acio_transport_t *t, void *data)
{
    acio_http_server_t *srv = data;
    srv_conn_t *c = acio__calloc(1, sizeof *c);
    if (!c || acio_transport_set_protocol(t, &conn_protocol, c) < 0) {
        acio__free(c);
        acio_transport_abort(t);
        return;
    }
    c->srv = srv;
    c->tlist = TL_NONE;
    c->is_tls = srv->cfg.ssl != NULL;
    list_append(&srv->conns, c, all_link);
    srv->nconns++;
    srv->nalive++;
    connection_made(t, c);
}

static const acio_protocol_t boot_protocol = {.connection_made = boot_connection_made};

int acio__http_conn_factory(void *data, const acio_protocol_t **proto, void **pdata)
{
    *proto = &boot_protocol;
    *pdata = data;
    return 0;
}
/* ---- timeouts ---- */

void acio__http_request_fail(acio_http_request_t *req, int status)
{
    srv_conn_t *c = req->conn;
    if (!req->responded && !c->lost)
        acio_http_respond_error(req, status, acio__http_reason(status));
    c->closing = true;
}

static void expire(srv_conn_t *c, int list)
{
    acio__http_conn_timed(c, TL_NONE);
    switch (list) {
    case TL_HEADER:
        if (c->rlen > c->rstart)
            refuse(c, NULL, 408); /* a partial head: tell the client why */
        else
            acio__http_conn_close(c, false);
        break;
    case TL_IDLE:
        acio__http_conn_close(c, false);
        break;
    case TL_BODY:
        if (c->draining) {
            acio__http_conn_close(c, true);
        } else if (c->req) {
            c->req->body_error = ACIO_EHTTP_BODY_TIMEOUT;
            acio__http_wake(&c->req->body_waiter, 0);
        }
        break;
    default: /* TL_WRITE, TL_LINGER */
        acio__http_conn_close(c, true);
        break;
    }
}

/* (Re)arm the timeout tick. If no timer could be made (no memory), the next call of
 * acio__http_conn_timed tries again, so timeouts are late, never lost. */
void acio__http_tick_arm(acio_http_server_t *srv)
{
    if (srv->tick || srv->freed)
        return;
    if (acio_loop_call_later(srv->loop, srv->tick_interval, acio__http_tick, srv, &srv->tick) < 0)
        srv->tick = NULL;
}

void acio__http_tick(void *data)
{
    acio_http_server_t *srv = data;
    if (srv->tick) {
        acio_handle_unref(srv->tick);
        srv->tick = NULL;
    }
    acio_loop_update_time(srv->loop);
    double now = acio_loop_time(srv->loop);
    for (int l = 0; l < TL_COUNT; l++) {
        double to = l == TL_LINGER ? LINGER_SECONDS : srv->timeouts[l];
        srv_conn_t *c;
        while ((c = srv->timed[l].head) != NULL && c->deadline_base + to <= now)
            expire(c, l);
    }
    if (!srv->freed)
        acio__http_tick_arm(srv);
}
