/* One client connection: the protocol that reads straight into the connection's own
 * buffer, the waits a request makes on it (bounded by its deadlines), and opening it:
 * DNS through the session's cache, happy eyeballs across the addresses, then TLS.
 *
 * A connection belongs to exactly one place at a time: the task opening it, the
 * response reading from it, or its host's idle list. Only an idle connection reacts to
 * what the server does on its own (EOF, stray bytes): it is closed at once and its slot
 * offered to the waiters. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/client_int.h"
#include "net/fdwait.h"
#include "net/transport_int.h"

#define FIRST_CAP (16 * 1024)
#define MIN_FREE  (4 * 1024)
/* Past this much unread data the connection stops reading until the user catches up. */
#define HIGH_WATER (1024 * 1024)

/* ---- deadlines ---- */

typedef struct {
    acio_future_t *f;
    int code;
} tmo_t;

static void tmo_fire(void *data)
{
    tmo_t *t = data;
    if (!acio_future_done(t->f))
        acio_future_set_error(t->f, t->code, NULL);
}

int hc_await(acio_loop_t *loop, acio_future_t *f, double phase, int phase_code, double total)
{
    double when = hc_min_deadline(phase, total);
    tmo_t t = {f, (phase > 0 && (total <= 0 || phase <= total)) ? phase_code
                                                                : ACIO_EHTTP_TOTAL_TIMEOUT};
    acio_handle_t *h = NULL;
    if (when > 0) {
        int rc = acio_loop_call_at(loop, when, tmo_fire, &t, &h);
        if (rc < 0)
            return rc;
    }
    int rc = acio_await(f, NULL);
    if (h) {
        acio_handle_cancel(h);
        acio_handle_unref(h);
    }
    return rc;
}

/* Which code an -ETIMEDOUT from a wait bounded by min(phase, total) stands for. */
static int timeout_code(double phase, int phase_code, double total)
{
    return (phase > 0 && (total <= 0 || phase <= total)) ? phase_code : ACIO_EHTTP_TOTAL_TIMEOUT;
}

static double remaining(acio_loop_t *loop, double deadline)
{
    if (deadline <= 0)
        return 0;
    double r = deadline - acio_loop_time(loop);
    return r > 0.000001 ? r : 0.000001;
}

/* ---- the protocol ---- */

/* Set on a waiter's future when its connection is destroyed under it: the waiting task
 * must not touch the connection again. */
#define GONE ((void *)1)

static void wake_gone(acio_future_t **fp)
{
    acio_future_t *f = *fp;
    if (!f)
        return;
    *fp = NULL;
    acio_future_set_data(f, GONE);
    if (!acio_future_done(f))
        acio_future_set_result(f, NULL);
}

static void wake(acio_future_t **fp)
{
    acio_future_t *f = *fp;
    if (!f)
        return;
    *fp = NULL;
    if (!acio_future_done(f))
        acio_future_set_result(f, NULL);
}

static void p_connection_made(acio_transport_t *t, void *data)
{
    hc_conn_t *c = data;
    if (c->made)
        acio_transport_unref(c->made);
    c->made = acio_transport_ref(t);
}

static int p_get_buffer(acio_transport_t *t, size_t hint, void **buf, size_t *len, void *data)
{
    (void)t;
    (void)hint;
    hc_conn_t *c = data;
    size_t used = c->end - c->start;
    if (c->cap - c->end < MIN_FREE) {
        if (!c->pinned && used + MIN_FREE <= c->cap) {
            memmove(c->buf, c->buf + c->start, used);
        } else {
            /* Grow, or move out from under a piece the reader still holds: that piece
             * stays in old_buf until the reader's next call. */
            size_t cap = c->cap;
            while (cap < used + MIN_FREE)
                cap *= 2;
            char *nb = acio__malloc(cap);
            if (!nb)
                return -ENOMEM;
            memcpy(nb, c->buf + c->start, used);
            if (c->pinned) {
                acio__free(c->old_buf);
                c->old_buf = c->buf;
                c->pinned = false;
            } else {
                acio__free(c->buf);
            }
            c->buf = nb;
            c->cap = cap;
        }
        c->start = 0;
        c->end = used;
    }
    *buf = c->buf + c->end;
    *len = c->cap - c->end;
    return 0;
}

static void p_buffer_updated(acio_transport_t *t, size_t n, void *data)
{
    hc_conn_t *c = data;
    c->end += n;
    if (c->state == HC_CONN_IDLE) {
        /* Bytes nobody asked for: the connection cannot be trusted with a request. */
        hc_pool_idle_died(c);
        return;
    }
    wake(&c->waiter);
    if (!c->paused && c->end - c->start > HIGH_WATER && acio_transport_pause_reading(t) == 0)
        c->paused = true;
}

static bool p_eof_received(acio_transport_t *t, void *data)
{
    (void)t;
    hc_conn_t *c = data;
    c->eof = true;
    if (c->state == HC_CONN_IDLE) {
        hc_pool_idle_died(c);
        return false;
    }
    wake(&c->waiter);
    return false;
}

static void p_connection_lost(acio_transport_t *t, int error, void *data)
{
    (void)t;
    hc_conn_t *c = data;
    c->lost = true;
    c->eof = true;
    if (error && !c->err)
        c->err = error;
    if (c->state == HC_CONN_IDLE) {
        hc_pool_idle_died(c);
        return;
    }
    wake(&c->waiter);
    wake(&c->drain);
}

static void p_pause_writing(acio_transport_t *t, void *data)
{
    (void)t;
    ((hc_conn_t *)data)->write_paused = true;
}

static void p_resume_writing(acio_transport_t *t, void *data)
{
    (void)t;
    hc_conn_t *c = data;
    c->write_paused = false;
    wake(&c->drain);
}

static const acio_protocol_t conn_protocol = {
    .connection_made = p_connection_made,
    .get_buffer = p_get_buffer,
    .buffer_updated = p_buffer_updated,
    .eof_received = p_eof_received,
    .connection_lost = p_connection_lost,
    .pause_writing = p_pause_writing,
    .resume_writing = p_resume_writing,
};

/* What a closed connection's transport talks to: nothing. */
static const acio_protocol_t dead_protocol;

/* ---- waits ---- */

int hc_conn_wait(hc_conn_t *c, const hc_deadline_t *dl, int phase_code)
{
    if (c->eof || c->lost)
        return 0;
    if (c->waiter)
        return -EBUSY;
    acio_loop_t *loop = c->s->loop;
    if (c->paused) {
        c->paused = false;
        acio_transport_resume_reading(c->t);
    }
    acio_future_t *f;
    int rc = acio_future_new(loop, &f);
    if (rc < 0)
        return rc;
    acio_future_set_label(f, "http read");
    c->waiter = f;
    double phase = dl->sock_read > 0 ? acio_loop_time(loop) + dl->sock_read : 0;
    rc = hc_await(loop, f, phase, phase_code, dl->total);
    bool gone = acio_future_get_data(f) == GONE;
    acio_future_unref(f);
    if (gone)
        return rc < 0 ? rc : ACIO_EHTTP_RELEASED;
    if (c->waiter == f)
        c->waiter = NULL;
    return rc;
}

int hc_conn_drain(hc_conn_t *c, const hc_deadline_t *dl)
{
    while (c->write_paused && !c->lost) {
        acio_future_t *f;
        int rc = acio_future_new(c->s->loop, &f);
        if (rc < 0)
            return rc;
        acio_future_set_label(f, "http write");
        c->drain = f;
        rc = hc_await(c->s->loop, f, 0, 0, dl->total);
        bool gone = acio_future_get_data(f) == GONE;
        acio_future_unref(f);
        if (gone)
            return rc < 0 ? rc : ACIO_EHTTP_RELEASED;
        if (c->drain == f)
            c->drain = NULL;
        if (rc < 0)
            return rc;
    }
    return c->lost ? (c->err ? c->err : -ECONNRESET) : 0;
}

void hc_conn_unpin(hc_conn_t *c)
{
    c->pinned = false;
    if (c->old_buf) {
        acio__free(c->old_buf);
        c->old_buf = NULL;
    }
}

void hc_conn_maybe_resume(hc_conn_t *c)
{
    if (c->paused && c->end - c->start <= HIGH_WATER / 4 && !c->lost) {
        c->paused = false;
        acio_transport_resume_reading(c->t);
    }
}

bool hc_conn_alive(hc_conn_t *c)
{
    if (c->eof || c->lost || c->start != c->end || !c->t || acio_transport_is_closing(c->t))
        return false;
    int fd = acio_transport_get_fd(c->t);
    if (fd < 0)
        return true;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- lifetime ---- */

static void link_all(hc_conn_t *c)
{
    acio_http_session_t *s = c->s;
    c->all_prev = NULL;
    c->all_next = s->all;
    if (s->all)
        s->all->all_prev = c;
    s->all = c;
}

static void unlink_all(hc_conn_t *c)
{
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else if (c->s->all == c)
        c->s->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    c->all_prev = c->all_next = NULL;
}

/* Opening failed or finished: a transport that told us connection_made but that we do
 * not keep (a cancellation raced the handshake) must never call us again. */
static void forget_made(hc_conn_t *c)
{
    if (!c->made)
        return;
    if (c->made != c->t) {
        acio_transport_set_protocol(c->made, &dead_protocol, NULL);
        acio_transport_abort(c->made);
    }
    acio_transport_unref(c->made);
    c->made = NULL;
}

void hc_conn_destroy(hc_conn_t *c)
{
    unlink_all(c);
    forget_made(c);
    if (c->t) {
        acio_transport_set_protocol(c->t, &dead_protocol, NULL);
        /* A connection in the middle of anything is aborted; one that finished its
         * exchanges is closed politely. */
        if (c->state == HC_CONN_IDLE && !c->lost)
            acio_transport_close(c->t);
        else
            acio_transport_abort(c->t);
        acio_transport_unref(c->t);
        c->t = NULL;
    }
    wake_gone(&c->waiter);
    wake_gone(&c->drain);
    acio__free(c->buf);
    acio__free(c->old_buf);
    acio__free(c);
}

int hc_conn_open(acio_http_session_t *s, hc_host_t *host, const acio_url_t *url,
                 const acio_url_t *proxy, const hc_deadline_t *dl, hc_conn_t **out)
{
    acio_loop_t *loop = s->loop;
    hc_conn_t *c = acio__calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->s = s;
    c->host = host;
    c->state = HC_CONN_CONNECTING;
    c->cap = FIRST_CAP;
    c->buf = acio__malloc(c->cap);
    if (!c->buf) {
        acio__free(c);
        return -ENOMEM;
    }
    link_all(c);
    double est = dl->sock_connect > 0 ? acio_loop_time(loop) + dl->sock_connect : 0;
    double phase = hc_min_deadline(dl->connect, est);
    double until = hc_min_deadline(phase, dl->total);

    hc_dns_t *d = NULL;
    /* Through a proxy, the TCP connection goes to the proxy. */
    const acio_url_t *to = proxy ? proxy : url;
    int rc = hc_dns_get(s, to->host, to->port, remaining(loop, until), &d);
    if (rc == -ETIMEDOUT)
        rc = timeout_code(phase, ACIO_EHTTP_DNS_TIMEOUT, dl->total);
    if (rc < 0)
        goto fail;
    int fd = -1;
    rc = acio__connect_addrinfo(loop, d->res, NULL, 0.25, 1, until, &fd);
    hc_dns_put(d);
    if (rc == -ETIMEDOUT)
        rc = timeout_code(phase, ACIO_EHTTP_CONNECT_TIMEOUT, dl->total);
    if (rc < 0)
        goto fail;
    acio_transport_t *t;
    rc = acio__sock_transport_new(loop, fd, ACIO__ST_SOCKET, &conn_protocol, c, &t);
    if (rc < 0) {
        close(fd);
        goto fail;
    }
    acio_transport_ref(t); /* ours, whatever the wait gives */
    c->t = t;
    rc = acio__transport_await_made(t, NULL);
    if (rc < 0)
        goto fail;
    forget_made(c);
    if (proxy && strcmp(url->scheme, "https") == 0) {
        hc_deadline_t tdl = *dl;
        tdl.total = until;
        tdl.sock_read = 0;
        rc = hc_proxy_tunnel(c, url, proxy, &tdl);
        if (rc == ACIO_EHTTP_TOTAL_TIMEOUT)
            rc = timeout_code(phase, ACIO_EHTTP_CONNECT_TIMEOUT, dl->total);
        if (rc < 0)
            goto fail;
    }
    if (strcmp(url->scheme, "https") == 0) {
        acio_ssl_context_t *ctx;
        rc = hc_session_ssl(s, &ctx);
        if (rc < 0)
            goto fail;
        acio_transport_t *tls = NULL;
        rc = acio_loop_start_tls(loop, c->t, &conn_protocol, c, ctx, false, url->host,
                                 until > 0 ? remaining(loop, until) : 0, &tls);
        if (rc == -ETIMEDOUT)
            rc = timeout_code(phase, ACIO_EHTTP_TLS_TIMEOUT, dl->total);
        if (rc < 0)
            goto fail;
        acio_transport_unref(c->t);
        c->t = tls;
        forget_made(c);
    }
    c->state = HC_CONN_BUSY;
    *out = c;
    return 0;
fail:
    hc_conn_destroy(c);
    return rc;
}
