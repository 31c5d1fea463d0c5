/* The server object and uvicorn.run: configuration defaults, listening (plain or TLS,
 * with SO_REUSEPORT for workers), the timeout tick, graceful shutdown, and
 * acio_http_serve, which runs one loop per worker thread until SIGINT or SIGTERM.
 *
 * Graceful shutdown, as uvicorn does it: stop accepting; close connections that are
 * idle; let requests in flight finish (their responses say "Connection: close") for up
 * to shutdown_timeout; then cancel the handlers still running (their clients get 503)
 * and close whatever is left. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "http/server_int.h"

void acio_http_config_init(acio_http_config_t *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->port = 8000;
    cfg->backlog = 2048;
    cfg->workers = 1;
    cfg->header_timeout = 20;
    cfg->keepalive_timeout = 75;
    cfg->body_timeout = 30;
    cfg->write_timeout = 60;
    cfg->shutdown_timeout = 30;
    cfg->max_body = 1024 * 1024;
    cfg->max_connections = 10000;
    acio_http_limits_default(&cfg->limits);
    cfg->access_log = true;
}

static void server_free_now(acio_http_server_t *srv)
{
    while (srv->req_free) {
        acio_http_request_t *r = srv->req_free;
        srv->req_free = r->next_free;
        acio__free(r);
    }
    if (srv->drained)
        acio_future_unref(srv->drained);
    acio__free(srv);
}

void acio__http_server_maybe_release(acio_http_server_t *srv)
{
    if (srv->freed && srv->nalive == 0)
        server_free_now(srv);
}

int acio_http_server_start(acio_loop_t *loop, acio_http_app_t *app, const acio_http_config_t *cfg,
                           acio_http_server_t **out)
{
    if (!app || !out)
        return -EINVAL;
    *out = NULL;
    if (!loop && !(loop = acio_get_running_loop()))
        return ACIO_ENOLOOP;
    acio_http_server_t *srv = acio__calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    if (cfg)
        srv->cfg = *cfg;
    else
        acio_http_config_init(&srv->cfg);
    acio_http_config_t *c = &srv->cfg;
    if (!c->limits.max_head_bytes)
        acio_http_limits_default(&c->limits);
    if (!c->max_body)
        c->max_body = 1024 * 1024;
    srv->loop = loop;
    srv->app = app;
    srv->log = c->log ? c->log : stderr;
    srv->timeouts[TL_HEADER] = c->header_timeout;
    srv->timeouts[TL_IDLE] = c->keepalive_timeout;
    srv->timeouts[TL_BODY] = c->body_timeout;
    srv->timeouts[TL_WRITE] = c->write_timeout;
    srv->timeouts[TL_LINGER] = 2.0;
    double min = 1.0;
    for (int i = 0; i < TL_COUNT; i++)
        if (srv->timeouts[i] > 0 && srv->timeouts[i] / 4 < min)
            min = srv->timeouts[i] / 4;
    srv->tick_interval = min < 0.01 ? 0.01 : min;

    acio_server_opts_t o = {
        .backlog = c->backlog ? c->backlog : 2048,
        .reuse_port = c->workers > 1,
        .ssl = c->ssl,
    };
    int rc = acio_loop_create_server(loop, &srv->listener, acio__http_conn_factory, srv,
                                     c->host ? c->host : "127.0.0.1", c->port, &o);
    if (rc < 0) {
        acio__free(srv);
        return rc;
    }
    acio__http_tick_arm(srv);
    *out = srv;
    return 0;
}

int acio_http_server_port(const acio_http_server_t *srv)
{
    if (!srv || !srv->listener)
        return -EINVAL;
    return acio_server_port(srv->listener);
}

size_t acio_http_server_connections(const acio_http_server_t *srv)
{
    return srv ? srv->nconns : 0;
}

uint64_t acio_http_server_requests(const acio_http_server_t *srv)
{
    return srv ? srv->nrequests : 0;
}

/* Close every connection with no request in flight. */
static void close_idle(acio_http_server_t *srv)
{
    srv_conn_t *c = srv->conns.head;
    while (c) {
        srv_conn_t *next = c->all.next;
        if (c->tlist == TL_LINGER)
            acio_transport_close(c->t); /* its answer is out: no more lingering */
        else if (!c->req && !c->closing)
            acio__http_conn_close(c, false);
        c = next;
    }
}

static int wait_drained(acio_http_server_t *srv, double timeout)
{
    if (srv->nconns == 0)
        return 0;
    if (!srv->drained || acio_future_done(srv->drained)) {
        if (srv->drained)
            acio_future_unref(srv->drained);
        srv->drained = NULL;
        int rc = acio_future_new(srv->loop, &srv->drained);
        if (rc < 0)
            return rc;
    }
    acio_future_t *d = acio_future_ref(srv->drained);
    int rc = timeout > 0 ? acio_wait_for(d, timeout, NULL) : acio_await(d, NULL);
    acio_future_unref(d);
    if (srv->nconns == 0)
        return 0;
    return rc < 0 ? rc : 0;
}

int acio_http_server_shutdown(acio_http_server_t *srv, double timeout)
{
    if (!srv)
        return -EINVAL;
    if (timeout < 0)
        timeout = srv->cfg.shutdown_timeout;
    srv->closing = true;
    acio_server_close(srv->listener);
    close_idle(srv);
    int rc = wait_drained(srv, timeout > 0 ? timeout : 0.001);
    if (rc == -ECANCELED && acio_current_task() && acio_task_cancelling(acio_current_task()) > 0)
        return rc;
    if (srv->nconns == 0)
        return 0;
    /* The deadline passed: cancel the handlers still running, give them a moment to
     * answer (503) and return, then close what is left. */
    for (srv_conn_t *c = srv->conns.head; c; c = c->all.next)
        if (c->req && c->req->task && !c->req->done)
            acio_task_cancel(c->req->task, "server shutdown");
    wait_drained(srv, 1.0);
    srv_conn_t *c = srv->conns.head;
    while (c) {
        srv_conn_t *next = c->all.next;
        acio__http_conn_close(c, true);
        c = next;
    }
    wait_drained(srv, 1.0);
    return -ETIMEDOUT;
}

void acio_http_server_free(acio_http_server_t *srv)
{
    if (!srv)
        return;
    srv->closing = true;
    if (srv->tick) {
        acio_handle_cancel(srv->tick);
        acio_handle_unref(srv->tick);
        srv->tick = NULL;
    }
    srv_conn_t *c = srv->conns.head;
    while (c) {
        srv_conn_t *next = c->all.next;
        if (c->req && c->req->task && !c->req->done)
            acio_task_cancel(c->req->task, "server freed");
        acio__http_conn_close(c, true);
        c = next;
    }
    acio_server_free(srv->listener);
    srv->listener = NULL;
    srv->freed = true;
    acio__http_server_maybe_release(srv);
}

/* ---- acio_http_serve ---- */

typedef struct {
    acio_http_app_t *app;
    acio_http_config_t cfg;
    int index;
    int rc;
    /* Worker 0 publishes the port it bound (for port 0) before the others start. */
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *port_out;
    acio_future_t *stop;
} worker_t;

static void on_signal(int signo, void *data)
{
    (void)signo;
    worker_t *w = data;
    if (w->stop && !acio_future_done(w->stop))
        acio_future_set_result(w->stop, NULL);
}

static void publish_port(worker_t *w, int port)
{
    if (!w->mu)
        return;
    pthread_mutex_lock(w->mu);
    *w->port_out = port;
    pthread_cond_broadcast(w->cv);
    pthread_mutex_unlock(w->mu);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_http_server_t *srv;
    int rc = acio_http_server_start(loop, w->app, &w->cfg, &srv);
    if (w->index == 0)
        publish_port(w, rc < 0 ? rc : acio_http_server_port(srv));
    if (rc < 0) {
        w->rc = rc;
        return acio_raise(rc, "cannot listen on %s:%d: %s", w->cfg.host ? w->cfg.host : "127.0.0.1",
                          w->cfg.port, acio_strerror(rc));
    }
    if (w->index == 0) {
        FILE *log = w->cfg.log ? w->cfg.log : stderr;
        fprintf(log, "acio http: serving on http%s://%s:%d (%d worker%s; Ctrl-C to quit)\n",
                w->cfg.ssl ? "s" : "", w->cfg.host ? w->cfg.host : "127.0.0.1",
                acio_http_server_port(srv), w->cfg.workers > 1 ? w->cfg.workers : 1,
                w->cfg.workers > 1 ? "s" : "");
        fflush(log);
    }
    rc = acio_future_new(loop, &w->stop);
    if (rc == 0)
        rc = acio_loop_add_signal_handler(loop, SIGINT, on_signal, w);
    if (rc == 0)
        rc = acio_loop_add_signal_handler(loop, SIGTERM, on_signal, w);
    if (rc == 0) {
        /* Until a signal; a cancellation of this task (acio_run's own Ctrl-C) counts
         * as one too. */
        int wrc = acio_await(w->stop, NULL);
        if (wrc < 0 && wrc != -ECANCELED)
            rc = wrc;
    } else {
        FILE *log = w->cfg.log ? w->cfg.log : stderr;
        fprintf(log, "acio http: cannot wait for signals: %s\n", acio_strerror(rc));
    }
    acio_loop_remove_signal_handler(loop, SIGINT);
    acio_loop_remove_signal_handler(loop, SIGTERM);
    if (w->stop)
        acio_future_unref(w->stop);
    w->stop = NULL;
    /* The shutdown's verdict (-ETIMEDOUT when handlers had to be cancelled) is logged by
     * the requests themselves; serving ended as asked, so it is not an error. */
    int src = acio_http_server_shutdown(srv, -1);
    if (src == -ETIMEDOUT) {
        FILE *log = w->cfg.log ? w->cfg.log : stderr;
        fprintf(log,
                "acio http: shutdown deadline passed; requests still running were cancelled\n");
    }
    acio_http_server_free(srv);
    w->rc = rc;
    return NULL;
}

static void *worker_thread(void *arg)
{
    worker_t *w = arg;
    int rc = acio_run(worker_main, w, NULL);
    if (rc < 0 && w->rc == 0)
        w->rc = rc;
    return NULL;
}

int acio_http_serve(acio_http_app_t *app, const acio_http_config_t *cfg)
{
    if (!app)
        return -EINVAL;
    if (acio_get_running_loop())
        return ACIO_ERUNNING;
    acio_http_config_t base;
    if (cfg)
        base = *cfg;
    else
        acio_http_config_init(&base);
    int n = base.workers > 1 ? base.workers : 1;
    if (n == 1) {
        worker_t w = {.app = app, .cfg = base};
        int rc = acio_run(worker_main, &w, NULL);
        return w.rc < 0 ? w.rc : rc;
    }
    worker_t *ws = acio__calloc((size_t)n, sizeof *ws);
    pthread_t *th = acio__calloc((size_t)n, sizeof *th);
    if (!ws || !th) {
        acio__free(ws);
        acio__free(th);
        return -ENOMEM;
    }
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int port = 0;
    int rc = 0, started = 0;
    for (int i = 0; i < n; i++) {
        ws[i] = (worker_t){.app = app, .cfg = base, .index = i};
        if (i == 0) {
            ws[i].mu = &mu;
            ws[i].cv = &cv;
            ws[i].port_out = &port;
        } else {
            ws[i].cfg.port = port;
        }
        if (pthread_create(&th[i], NULL, worker_thread, &ws[i]) != 0) {
            if (i == 0) {
                rc = -EAGAIN;
                break;
            }
            fprintf(base.log ? base.log : stderr,
                    "acio http: could not start worker %d of %d; serving with %d\n", i + 1, n, i);
            break;
        }
        started++;
        if (i == 0) {
            pthread_mutex_lock(&mu);
            while (port == 0)
                pthread_cond_wait(&cv, &mu);
            pthread_mutex_unlock(&mu);
            if (port < 0) {
                rc = port;
                break;
            }
        }
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        if (ws[i].rc < 0 && rc == 0)
            rc = ws[i].rc;
    }
    acio__free(ws);
    acio__free(th);
    return rc;
}
