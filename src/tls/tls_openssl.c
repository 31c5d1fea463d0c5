/* TLS over any transport, with OpenSSL memory BIOs (asyncio's sslproto design): the TLS
 * layer is a protocol on the "raw" transport below (ciphertext in data_received, out
 * through its write) and a transport for the application above (plaintext). It never
 * touches an fd, so it runs unchanged on a completion-based backend.
 *
 * States: HANDSHAKING (application writes are queued), WRAPPED, then closing. The
 * application's connection_made runs after a successful handshake; on the server side
 * the protocol factory is only called then, so a failed handshake leaves no protocol
 * state to free. close() sends close_notify, then closes the raw transport (asyncio
 * waits up to ssl_shutdown_timeout for the peer's close_notify; acio does not wait,
 * which is what most servers do). The layer is on its loop's registry from creation, so
 * closing the loop releases it in any state, handshake included (tls_loop_closed).
 * Compiled when ACIO_WITH_OPENSSL is defined. */
#ifdef ACIO_WITH_OPENSSL

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/fdwait.h"
#include "net/server_int.h"
#include "net/stream_int.h"
#include "tls/tls_int.h"

#define TLS_CHUNK (16 * 1024)

struct acio_ssl_context_s {
    SSL_CTX *ctx;
    int refs;
    bool server;
    bool check_hostname;
};

enum { ST_HANDSHAKING, ST_WRAPPED, ST_CLOSED };

typedef struct {
    acio_transport_t base; /* what the application sees */
    acio_transport_t *raw; /* a reference */
    acio_ssl_context_t *ctx;
    SSL *ssl;
    BIO *rbio, *wbio;
    int state;
    bool server_side;
    char *hostname;
    char *pending; /* application data written during the handshake */
    size_t npending;
    acio_handle_t *hs_timer;
    /* The application paused reading: nothing more is decrypted for it, even what the
     * raw transport already delivered (one raw read holds several records, and a
     * buffered protocol whose buffer is full has no room for them). Resuming schedules
     * `redeliver` to hand over what waited (asyncio's sslproto does the same). */
    bool app_paused;
    acio_handle_t *redeliver;
    /* server side: the protocol comes from the factory after the handshake */
    acio_protocol_factory factory;
    void *factory_data;
    /* A task waits in wait_client and holds a reference (and, for open_connection, the
     * stream's share, which it drops itself if the handshake fails). */
    bool waiting;
    bool finished; /* tls_finish ran: the SSL object and the raw transport are released */
    /* The protocol detached because the connection ended before connection_made (see
     * detach_protocol), for the waiting task's stream. */
    const acio_protocol_t *detached_proto;
    void *detached_data;
    /* On the loop's registry from creation until tls_finish (or, if a task still waits,
     * until it stopped waiting). See tls_loop_closed for why the layer registers itself. */
    acio__net_node_t reg;
} tls_t;

static __thread char last_error[256];

const char *acio_ssl_last_error(void)
{
    return last_error;
}

static void set_last_error(const char *what, unsigned long e)
{
    char reason[200] = "";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    snprintf(last_error, sizeof(last_error), "%s%s%s", what, *reason ? ": " : "", reason);
}

/* ---- contexts ---- */

int acio_ssl_context_new(acio_ssl_context_t **out, acio_ssl_purpose_t purpose)
{
    if (!out || (purpose != ACIO_SSL_CLIENT && purpose != ACIO_SSL_SERVER))
        return -EINVAL;
    acio_ssl_context_t *c = acio__calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->refs = 1;
    c->server = purpose == ACIO_SSL_SERVER;
    c->ctx = SSL_CTX_new(c->server ? TLS_server_method() : TLS_client_method());
    if (!c->ctx) {
        acio__free(c);
        return -ENOMEM;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_RELEASE_BUFFERS);
    if (!c->server) {
        /* ssl.create_default_context(): the system's CAs, verify peer and host name. */
        SSL_CTX_set_default_verify_paths(c->ctx);
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        c->check_hostname = true;
    }
    *out = c;
    return 0;
}

acio_ssl_context_t *acio_ssl_context_ref(acio_ssl_context_t *ctx)
{
    if (ctx)
        ctx->refs++;
    return ctx;
}

void acio_ssl_context_unref(acio_ssl_context_t *ctx)
{
    if (!ctx || --ctx->refs > 0)
        return;
    SSL_CTX_free(ctx->ctx);
    acio__free(ctx);
}

int acio_ssl_context_load_cert_chain(acio_ssl_context_t *ctx, const char *certfile,
                                     const char *keyfile)
{
    if (!ctx || !certfile)
        return -EINVAL;
    if (access(certfile, R_OK) < 0 || (keyfile && access(keyfile, R_OK) < 0))
        return -errno;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx->ctx, certfile) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx->ctx, keyfile ? keyfile : certfile, SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_check_private_key(ctx->ctx) != 1) {
        set_last_error("load_cert_chain", ERR_get_error());
        return -EPROTO;
    }
    return 0;
}

int acio_ssl_context_load_verify_locations(acio_ssl_context_t *ctx, const char *cafile,
                                           const char *capath)
{
    if (!ctx || (!cafile && !capath))
        return -EINVAL;
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(ctx->ctx, cafile, capath) != 1) {
        set_last_error("load_verify_locations", ERR_get_error());
        return (cafile && access(cafile, R_OK) < 0) ? -ENOENT : -EPROTO;
    }
    return 0;
}

int acio_ssl_context_set_verify(acio_ssl_context_t *ctx, bool verify)
{
    if (!ctx)
        return -EINVAL;
    int mode = SSL_VERIFY_NONE;
    if (verify)
        mode = SSL_VERIFY_PEER | (ctx->server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx->ctx, mode, NULL);
    if (!verify)
        ctx->check_hostname = false;
    return 0;
}

int acio_ssl_context_set_check_hostname(acio_ssl_context_t *ctx, bool check)
{
    if (!ctx || ctx->server)
        return -EINVAL;
    ctx->check_hostname = check;
    return 0;
}

/* ---- the TLS layer ---- */

static const acio__transport_ops_t tls_ops;
static const acio_protocol_t raw_proto;

/* Move what OpenSSL produced to the raw transport. */
static int flush(tls_t *t)
{
    char buf[TLS_CHUNK];
    int rc = 0;
    while (t->wbio && BIO_ctrl_pending(t->wbio) > 0) {
        int n = BIO_read(t->wbio, buf, sizeof(buf));
        if (n <= 0)
            break;
        int w = acio_transport_write(t->raw, buf, (size_t)n);
        if (w < 0 && rc == 0)
            rc = w;
    }
    return rc;
}

/* The protocol of a connection whose connection_made never ran, and whose creator waits
 * for it (create_connection, start_tls: only a server's protocols come from its factory,
 * after the handshake), is detached when the connection ends early: it hears nothing, and
 * its data (an open_connection stream) is released by that creator, possibly at once.
 * This also covers a cancelled create_connection, whose waiting future the cancellation
 * resolved before the transport was aborted. What was detached is kept for
 * tls_loop_closed, in case the creator never runs again. */
static void detach_protocol(tls_t *t)
{
    if (!t->base.proto)
        return;
    t->detached_proto = t->base.proto;
    t->detached_data = t->base.proto_data;
    t->base.proto = NULL;
    t->base.proto_data = NULL;
}

/* End the connection with err: the raw transport closes (after an alert, if any), and
 * its connection_lost ends ours. During the handshake the application's protocol is
 * detached first: it was never told connection_made, so it hears nothing. */
static void tls_fail(tls_t *t, int err)
{
    if (t->state == ST_CLOSED)
        return;
    if (t->state == ST_HANDSHAKING)
        detach_protocol(t);
    t->state = ST_CLOSED;
    t->base.closing = true;
    t->base.lost_error = err;
    if (t->hs_timer) {
        acio_handle_cancel(t->hs_timer);
        acio_handle_unref(t->hs_timer);
        t->hs_timer = NULL;
    }
    flush(t);
    acio_transport_close(t->raw);
}

static int ssl_failure(tls_t *t, int r, const char *when)
{
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    unsigned long code = ERR_peek_error();
    long vr = SSL_get_verify_result(t->ssl);
    /* Only a connection someone waits for records its failure: a server's background
     * handshakes would otherwise overwrite the message a client in the same thread is
     * about to read. */
    bool record = t->factory == NULL;
    if (t->state == ST_HANDSHAKING && vr != X509_V_OK) {
        /* Python's SSLCertVerificationError, split in two: a name that does not match a
         * valid certificate is a different mistake (and fix) from an untrusted chain. */
        bool host = vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH;
        if (record) {
            char what[200];
            snprintf(what, sizeof(what), "%s: certificate verify failed: %s (%ld)", when,
                     X509_verify_cert_error_string(vr), vr);
            set_last_error(what, 0);
        }
        ERR_clear_error();
        return host ? ACIO_EHOSTMISMATCH : ACIO_ECERTVERIFY;
    }
    if (record)
        set_last_error(when, code);
    ERR_clear_error();
    return t->state == ST_HANDSHAKING ? ACIO_ETLSHANDSHAKE : ACIO_ETLS;
}

static void deliver(tls_t *t);

static void handshake_done(tls_t *t)
{
    t->state = ST_WRAPPED;
    if (t->hs_timer) {
        acio_handle_cancel(t->hs_timer);
        acio_handle_unref(t->hs_timer);
        t->hs_timer = NULL;
    }
    if (t->server_side && t->factory) {
        const acio_protocol_t *proto = NULL;
        void *data = NULL;
        int rc = t->factory(t->factory_data, &proto, &data);
        if (rc < 0 || !proto) {
            tls_fail(t, rc < 0 ? rc : -EINVAL);
            return;
        }
        t->base.proto = proto;
        t->base.proto_data = data;
    }
    /* connection_made through call_soon, like every transport. */
    if (acio__transport_schedule_start(&t->base) < 0) {
        /* connection_made will not run, so neither may connection_lost: a server gives
         * the factory's object back to it, a client's creator releases its own. */
        if (t->factory && t->base.server) {
            acio__server_release_protocol(t->base.server, t->base.proto, t->base.proto_data);
            t->base.proto = NULL;
            t->base.proto_data = NULL;
        } else {
            detach_protocol(t);
        }
        tls_fail(t, -ENOMEM);
        return;
    }
}

static void do_handshake(tls_t *t)
{
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    int rc = r == 1 ? 0 : ssl_failure(t, r, "TLS handshake");
    flush(t);
    if (rc < 0) {
        tls_fail(t, rc);
        return;
    }
    if (r == 1)
        handshake_done(t);
}

/* Decrypt what is available and give it to the application. */
static void deliver(tls_t *t)
{
    static __thread char plain[TLS_CHUNK];
    while (t->state == ST_WRAPPED && t->base.started && !t->base.closing && !t->app_paused) {
        const acio_protocol_t *p = t->base.proto;
        void *buf = plain;
        size_t len = sizeof(plain);
        if (p && p->get_buffer) {
            int rc = p->get_buffer(&t->base, TLS_CHUNK, &buf, &len, t->base.proto_data);
            if (rc < 0 || !buf || !len) {
                tls_fail(t, rc < 0 ? rc : -ENOBUFS);
                return;
            }
        }
        ERR_clear_error();
        int n = SSL_read(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
        if (n > 0) {
            if (p && p->get_buffer) {
                if (p->buffer_updated)
                    p->buffer_updated(&t->base, (size_t)n, t->base.proto_data);
            } else if (p && p->data_received) {
                p->data_received(&t->base, buf, (size_t)n, t->base.proto_data);
            }
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN) {
            /* close_notify: TLS has no half-close, so EOF ends the connection after the
             * protocol heard it (asyncio's sslproto ignores keep_open too). */
            if (p && p->eof_received)
                p->eof_received(&t->base, t->base.proto_data);
            acio_transport_close(&t->base);
            return;
        }
        int rc = ssl_failure(t, n, "TLS read");
        flush(t);
        if (rc < 0)
            tls_fail(t, rc);
        return;
    }
}

/* ---- the raw side (a protocol on the transport below) ---- */

static void raw_made(acio_transport_t *raw, void *data)
{
    (void)raw;
    tls_t *t = data;
    if (!t->server_side)
        do_handshake(t); /* send ClientHello */
}

static void raw_data(acio_transport_t *raw, const void *buf, size_t len, void *data)
{
    (void)raw;
    tls_t *t = data;
    if (t->state == ST_CLOSED)
        return;
    BIO_write(t->rbio, buf, (int)len);
    if (t->state == ST_HANDSHAKING) {
        do_handshake(t);
        if (t->state != ST_WRAPPED)
            return;
    }
    deliver(t);
}

static bool raw_eof(acio_transport_t *raw, void *data)
{
    (void)raw;
    tls_t *t = data;
    if (t->state == ST_HANDSHAKING) {
        set_last_error("TLS handshake: the peer closed the connection", 0);
        tls_fail(t, -ECONNRESET);
        return false;
    }
    /* EOF without close_notify: tell the application and close. */
    const acio_protocol_t *p = t->base.proto;
    if (t->state == ST_WRAPPED && t->base.started && p && p->eof_received)
        p->eof_received(&t->base, t->base.proto_data);
    return false;
}

static void raw_lost(acio_transport_t *raw, int err, void *data)
{
    (void)raw;
    tls_t *t = data;
    t->base.fd = -1; /* the raw transport closed it */
    int e = t->base.lost_error ? t->base.lost_error : err;
    if (t->state == ST_HANDSHAKING) {
        /* The connection below ended (a reset, a read error) before the handshake did:
         * the application's protocol never had connection_made, so it must not get
         * connection_lost either; its creator, waiting for the handshake, hears the
         * error and releases it. */
        detach_protocol(t);
        if (!e)
            e = -ECONNRESET;
        if (t->factory == NULL && !t->base.lost_error)
            set_last_error("TLS handshake: the connection was lost", 0);
    }
    t->state = ST_CLOSED;
    acio__transport_schedule_lost(&t->base, e);
}

static void raw_pause(acio_transport_t *raw, void *data)
{
    (void)raw;
    tls_t *t = data;
    acio__transport_maybe_pause(&t->base, SIZE_MAX);
}

static void raw_resume(acio_transport_t *raw, void *data)
{
    (void)raw;
    tls_t *t = data;
    acio__transport_maybe_resume(&t->base, 0);
}

static const acio_protocol_t raw_proto = {
    .connection_made = raw_made,
    .data_received = raw_data,
    .eof_received = raw_eof,
    .connection_lost = raw_lost,
    .pause_writing = raw_pause,
    .resume_writing = raw_resume,
};

/* ---- the application side (a transport) ---- */

static int tls_write(acio_transport_t *bt, const struct iovec *iov, int n, size_t total)
{
    tls_t *t = (tls_t *)bt;
    if (bt->closing || t->state == ST_CLOSED)
        return bt->lost_error ? bt->lost_error : -ENOTCONN;
    if (t->state == ST_HANDSHAKING) {
        char *np = acio__realloc(t->pending, t->npending + total);
        if (!np)
            return -ENOMEM;
        t->pending = np;
        for (int i = 0; i < n; i++) {
            memcpy(t->pending + t->npending, iov[i].iov_base, iov[i].iov_len);
            t->npending += iov[i].iov_len;
        }
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left > 0) {
            int chunk = left > (1u << 30) ? (1 << 30) : (int)left;
            ERR_clear_error();
            int w = SSL_write(t->ssl, p, chunk);
            if (w <= 0) {
                int rc = ssl_failure(t, w, "TLS write");
                if (rc == 0)
                    rc = ACIO_ETLS; /* a write that wants to read: renegotiation, refused */
                tls_fail(t, rc);
                return rc;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    return flush(t);
}

static bool tls_can_write_eof(acio_transport_t *bt)
{
    (void)bt;
    return false; /* TLS cannot half-close (asyncio's SSL transport says the same) */
}

static void tls_close(acio_transport_t *bt)
{
    tls_t *t = (tls_t *)bt;
    if (t->waiting && !bt->started)
        detach_protocol(t);
    bt->closing = true;
    if (t->state == ST_WRAPPED) {
        SSL_shutdown(t->ssl); /* queue close_notify */
        flush(t);
    }
    t->state = ST_CLOSED;
    acio_transport_close(t->raw);
}

static void tls_abort(acio_transport_t *bt)
{
    tls_t *t = (tls_t *)bt;
    if (t->waiting && !bt->started)
        detach_protocol(t);
    bt->closing = true;
    t->state = ST_CLOSED;
    acio_transport_abort(t->raw);
}

/* After tls_finish there is no raw transport: reading is over, as on a closed socket
 * transport (pausing and resuming are then no-ops). */
static int tls_pause_reading(acio_transport_t *bt)
{
    tls_t *t = (tls_t *)bt;
    t->app_paused = true;
    return t->raw ? acio_transport_pause_reading(t->raw) : 0;
}

/* Hand over what arrived while reading was paused. tls_finish cancels it, so t is
 * alive whenever it runs. */
static void redeliver_cb(void *arg)
{
    tls_t *t = arg;
    acio_handle_unref(t->redeliver);
    t->redeliver = NULL;
    deliver(t);
}

static int tls_resume_reading(acio_transport_t *bt)
{
    tls_t *t = (tls_t *)bt;
    t->app_paused = false;
    int rc = t->raw ? acio_transport_resume_reading(t->raw) : 0;
    /* Not from here: resume_reading is often called from inside the protocol's own
     * callbacks, which must not be re-entered. */
    if (t->state == ST_WRAPPED && t->ssl && !t->redeliver &&
        (SSL_pending(t->ssl) > 0 || BIO_ctrl_pending(t->rbio) > 0) &&
        acio_loop_call_soon(bt->loop, redeliver_cb, t, &t->redeliver) < 0) {
        t->redeliver = NULL;
        tls_fail(t, -ENOMEM);
        return -ENOMEM;
    }
    return rc;
}

static bool tls_is_reading(const acio_transport_t *bt)
{
    const tls_t *t = (const tls_t *)bt;
    return !bt->closing && t->raw && acio_transport_is_reading(t->raw);
}

static int put_string(const char *s, void *buf, size_t *len)
{
    if (!s)
        return -ENOENT;
    size_t n = strlen(s) + 1;
    if (*len < n) {
        *len = n;
        return -ENOSPC;
    }
    memcpy(buf, s, n);
    *len = n;
    return 0;
}

static int tls_extra(acio_transport_t *bt, const char *name, void *buf, size_t *len)
{
    tls_t *t = (tls_t *)bt;
    if (strcmp(name, "cipher") == 0)
        return put_string(t->state == ST_WRAPPED ? SSL_get_cipher_name(t->ssl) : NULL, buf, len);
    if (strcmp(name, "version") == 0)
        return put_string(t->state == ST_WRAPPED ? SSL_get_version(t->ssl) : NULL, buf, len);
    if (strcmp(name, "server_hostname") == 0)
        return put_string(t->hostname, buf, len);
    return t->raw ? acio_transport_get_extra_info(t->raw, name, buf, len) : -ENOENT;
}

static size_t tls_wsize(const acio_transport_t *bt)
{
    const tls_t *t = (const tls_t *)bt;
    return t->npending + (t->raw ? acio_transport_get_write_buffer_size(t->raw) : 0);
}

static void tls_limits_changed(acio_transport_t *bt)
{
    tls_t *t = (tls_t *)bt;
    /* bt's limits were checked when they were set, so the raw transport accepts them. */
    if (t->raw) {
        int rc = acio_transport_set_write_buffer_limits(t->raw, bt->high, bt->low);
        (void)rc;
    }
}

/* After connection_made: send what was written during the handshake. */
static void tls_start(acio_transport_t *bt)
{
    tls_t *t = (tls_t *)bt;
    if (t->npending) {
        struct iovec iov = {t->pending, t->npending};
        t->npending = 0;
        tls_write(bt, &iov, 1, iov.iov_len);
    }
    acio__free(t->pending);
    t->pending = NULL;
    /* Records that arrived with the last handshake message. */
    deliver(t);
}

/* The connection is over (after connection_lost, or when the loop closed under it):
 * release what only a live connection needs, the SSL object with its buffers, the
 * handshake timer, queued plaintext, the context and the raw transport, so that a
 * transport the application still holds costs only its struct. Idempotent. */
static void tls_finish(acio_transport_t *bt)
{
    tls_t *t = (tls_t *)bt;
    t->state = ST_CLOSED;
    t->finished = true;
    if (t->hs_timer) {
        acio_handle_cancel(t->hs_timer);
        acio_handle_unref(t->hs_timer);
        t->hs_timer = NULL;
    }
    if (t->redeliver) {
        acio_handle_cancel(t->redeliver);
        acio_handle_unref(t->redeliver);
        t->redeliver = NULL;
    }
    SSL_free(t->ssl); /* frees rbio and wbio too */
    t->ssl = NULL;
    t->rbio = t->wbio = NULL;
    acio_ssl_context_unref(t->ctx);
    t->ctx = NULL;
    acio__free(t->pending);
    t->pending = NULL;
    t->npending = 0;
    if (t->raw) {
        acio_transport_t *raw = t->raw;
        t->raw = NULL;
        /* The raw transport may outlive us (start_tls callers hold it): it must not
         * call back into freed memory, nor hand it out as its protocol data. */
        if (raw->proto == &raw_proto && raw->proto_data == t) {
            raw->proto = NULL;
            raw->proto_data = NULL;
        }
        acio_transport_unref(raw);
    }
    /* A task still waiting for the handshake's outcome keeps the layer on the registry:
     * if the loop closes before that task runs again, it is discarded, and
     * tls_loop_closed drops what it held. */
    if (!t->waiting)
        acio__net_unregister(&t->reg);
}

static void tls_destroy(acio_transport_t *bt)
{
    tls_t *t = (tls_t *)bt;
    tls_finish(bt);
    acio__net_unregister(&t->reg);
    acio__free(t->hostname);
    acio__free(t);
}

static const acio__transport_ops_t tls_ops = {
    .write = tls_write,
    .can_write_eof = tls_can_write_eof,
    .close = tls_close,
    .abort = tls_abort,
    .pause_reading = tls_pause_reading,
    .resume_reading = tls_resume_reading,
    .is_reading = tls_is_reading,
    .get_extra_info = tls_extra,
    .get_write_buffer_size = tls_wsize,
    .limits_changed = tls_limits_changed,
    .start = tls_start,
    .finish = tls_finish,
    .destroy = tls_destroy,
};

static void hs_timeout(void *arg)
{
    tls_t *t = arg;
    acio_handle_unref(t->hs_timer);
    t->hs_timer = NULL;
    if (t->state == ST_HANDSHAKING) {
        set_last_error("TLS handshake timed out", 0);
        tls_fail(t, -ETIMEDOUT);
    }
}

/* The loop is closing with this TLS connection in some state (handshaking on either
 * side, established, in start_tls, shutting down, or failed with callbacks still queued).
 *
 * Why the layer registers itself, from creation, rather than relying on the transports
 * below and above it: the raw transport's own abort at close only closes the fd, and it
 * cannot tell the TLS layer (its protocol is detached without a call, and transport.c
 * knows nothing of TLS); the application-side transport joins the registry only once
 * connection_made is scheduled, after the handshake. Before that nothing else owns the
 * SSL object, the timer, the server's count of this connection, or the references of the
 * task waiting for the handshake, and in start_tls the raw transport is even older than
 * the layer. So the layer settles what is its own here, whatever the order in which the
 * registry reaches it, the raw transport and the application side:
 * - the application side: if it is registered (connection_made scheduled or run), the
 *   common abort in transport.c handles it (and calls tls_finish); otherwise the same
 *   thing is done here: nothing of the protocol is called, the stream protocol's share is
 *   released, the server forgets the connection, the connection's reference goes;
 * - a task waiting in wait_client is discarded with the loop without running again: its
 *   reference, and the stream share it would have dropped on failure, are dropped here;
 * - the raw transport is aborted by its own registry entry; tls_finish only drops the
 *   layer's reference to it. */
static void tls_loop_closed(acio__net_node_t *n)
{
    tls_t *t = acio_container_of(n, tls_t, reg);
    acio_transport_t *b = &t->base;
    acio_transport_ref(b); /* keep it while the references below go */
    if (!b->reg.reg && !b->lost_done) {
        /* lost_cb, if queued, is discarded by the loop: its reference is the
         * connection's, dropped below. */
        b->closing = true;
        b->lost_scheduled = true;
        b->lost_done = true;
        b->lost_error = ACIO_ECLOSED;
        if (b->proto == &acio__stream_protocol)
            acio__stream_loop_closed(b->proto_data);
        b->proto = NULL;
        b->proto_data = NULL;
        tls_finish(b);
        b->fd = -1;
        if (b->server) {
            acio_server_t *s = b->server;
            b->server = NULL;
            acio__server_client_lost(s, b);
        }
        acio_transport_unref(b);
    }
    if (t->waiting) {
        t->waiting = false;
        if (t->detached_proto == &acio__stream_protocol)
            acio__stream_loop_closed(t->detached_data);
        else if (b->proto == &acio__stream_protocol)
            acio__stream_creator_gone(b->proto_data); /* see transport_loop_closed */
        t->detached_proto = NULL;
        t->detached_data = NULL;
        acio_transport_unref(b);
    }
    acio_transport_unref(b);
}

static bool is_ip(const char *h)
{
    unsigned char b[16];
    return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* A TLS layer in HANDSHAKING state, not attached to any raw transport yet. */
static int tls_new(acio_loop_t *loop, acio_ssl_context_t *ctx, bool server_side,
                   const char *hostname, double timeout, tls_t **out)
{
    if (!ctx || ctx->server != server_side)
        return -EINVAL;
    tls_t *t = acio__calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    acio__transport_init(&t->base, &tls_ops, loop, -1);
    t->server_side = server_side;
    t->ssl = SSL_new(ctx->ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio || (hostname && !(t->hostname = acio__strdup(hostname)))) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        acio__free(t->hostname);
        acio__free(t);
        return -ENOMEM;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    t->ctx = acio_ssl_context_ref(ctx);
    int rc = acio__net_register(loop, &t->reg, tls_loop_closed);
    if (rc < 0) {
        acio_transport_unref(&t->base); /* tls_destroy */
        return rc;
    }
    if (server_side) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        if (hostname && !is_ip(hostname))
            SSL_set_tlsext_host_name(t->ssl, hostname); /* SNI */
        if (ctx->check_hostname) {
            X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
            if (!hostname)
                SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL); /* and fail below */
            else if (is_ip(hostname))
                X509_VERIFY_PARAM_set1_ip_asc(vp, hostname);
            else
                SSL_set1_host(t->ssl, hostname);
        }
    }
    /* A handshake without its timer could stall for ever: fail instead. */
    rc = acio_loop_call_later(loop, timeout > 0 ? timeout : 60.0, hs_timeout, t, &t->hs_timer);
    if (rc < 0) {
        acio_transport_unref(&t->base); /* tls_destroy */
        return rc;
    }
    *out = t;
    return 0;
}

static int wait_client(tls_t *t, acio_transport_t **out)
{
    acio_transport_ref(&t->base);
    t->waiting = true;
    int rc = acio__transport_wait_made(&t->base);
    t->waiting = false;
    t->detached_proto = NULL;
    t->detached_data = NULL;
    /* tls_finish ran while we waited and left the layer registered for us. */
    if (t->finished)
        acio__net_unregister(&t->reg);
    if (rc < 0 || !out)
        acio_transport_unref(&t->base);
    else
        *out = &t->base;
    return rc;
}

static int start_on_fd(acio_loop_t *loop, int fd, tls_t *t)
{
    t->base.fd = fd; /* for acio_transport_get_fd; the raw transport owns it */
    int rc = acio__sock_transport_new(loop, fd, ACIO__ST_SOCKET, &raw_proto, t, &t->raw);
    if (rc < 0)
        return rc;
    acio_transport_ref(t->raw);
    return 0;
}

int acio__tls_connect(acio_loop_t *loop, int fd, acio_transport_t **out,
                      const acio_protocol_t *proto, void *proto_data, acio_ssl_context_t *ctx,
                      const char *server_hostname, double handshake_timeout)
{
    if (ctx && !ctx->server && ctx->check_hostname && !server_hostname) {
        close(fd);
        return -EINVAL; /* asyncio: "check_hostname requires server_hostname" */
    }
    tls_t *t;
    int rc = tls_new(loop, ctx, false, server_hostname, handshake_timeout, &t);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    t->base.proto = proto;
    t->base.proto_data = proto_data;
    if ((rc = start_on_fd(loop, fd, t)) < 0) {
        close(fd);
        acio_transport_unref(&t->base);
        return rc;
    }
    return wait_client(t, out);
}

int acio__tls_accept_socket(acio_loop_t *loop, int fd, acio_transport_t **out,
                            const acio_protocol_t *proto, void *proto_data, acio_ssl_context_t *ctx,
                            double handshake_timeout)
{
    tls_t *t;
    int rc = tls_new(loop, ctx, true, NULL, handshake_timeout, &t);
    if (rc < 0)
        return rc;
    t->base.proto = proto;
    t->base.proto_data = proto_data;
    if ((rc = start_on_fd(loop, fd, t)) < 0) {
        acio_transport_unref(&t->base);
        return rc;
    }
    return wait_client(t, out);
}

int acio__tls_server_start(acio_loop_t *loop, int fd, acio_protocol_factory factory,
                           void *factory_data, acio_ssl_context_t *ctx, double handshake_timeout,
                           acio_server_t *server)
{
    tls_t *t;
    int rc = tls_new(loop, ctx, true, NULL, handshake_timeout, &t);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    t->factory = factory;
    t->factory_data = factory_data;
    if ((rc = start_on_fd(loop, fd, t)) < 0) {
        close(fd);
        acio_transport_unref(&t->base);
        return rc;
    }
    acio__server_add_client(server, &t->base);
    return 0;
}

int acio_loop_start_tls(acio_loop_t *loop, acio_transport_t *transport,
                        const acio_protocol_t *proto, void *proto_data, acio_ssl_context_t *ctx,
                        bool server_side, const char *server_hostname, double handshake_timeout,
                        acio_transport_t **out)
{
    if (out)
        *out = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!transport || !proto || transport->closing || transport->dproto)
        return -EINVAL;
    if (!server_side && ctx && ctx->check_hostname && !server_hostname)
        return -EINVAL;
    tls_t *t;
    if ((rc = tls_new(loop, ctx, server_side, server_hostname, handshake_timeout, &t)) < 0)
        return rc;
    t->base.proto = proto;
    t->base.proto_data = proto_data;
    t->base.fd = transport->fd;
    t->raw = acio_transport_ref(transport);
    acio_transport_set_protocol(transport, &raw_proto, t);
    if (!server_side)
        do_handshake(t);
    return wait_client(t, out);
}

#endif
