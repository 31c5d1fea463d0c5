/* The Redis connection: connecting and the handshake, automatic pipelining, matching
 * replies to commands in order, reconnecting, and closing.
 *
 * Commands are encoded into one outgoing buffer; the first command of a loop iteration
 * schedules a flush with call_soon, so every command issued by any task before the loop
 * turns leaves in a single write (redis-py needs an explicit pipeline for that). Replies
 * come back in the order the commands were written, so a FIFO of in-flight commands is
 * all the matching there is. The transport is a buffered protocol that reads straight
 * into the RESP reader's buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redis_int.h"

static __thread char connect_error[256];

const char *acio_redis_connect_error(void)
{
    return connect_error;
}

void acio__redis_set_error(acio_redis_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
    va_end(ap);
}

bool acio__redis_word_eq(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* ---- commands in flight ---- */

void acio__redis_cmd_unref(acio__redis_cmd_t *cmd)
{
    if (!cmd || --cmd->refs > 0)
        return;
    acio_redis_reply_free(cmd->reply);
    acio_future_unref(cmd->fut);
    acio__free(cmd);
}

/* The connection is done with cmd: hand over reply (ours until then) or code. */
static void complete(acio__redis_cmd_t *cmd, acio_redis_reply_t *reply, int code)
{
    if (cmd->abandoned || acio_future_done(cmd->fut)) {
        acio_redis_reply_free(reply);
    } else if (code) {
        acio_redis_reply_free(reply);
        acio_future_set_error(cmd->fut, code, "%s", acio_strerror(code));
    } else {
        cmd->reply = reply;
        acio_future_set_result(cmd->fut, reply);
    }
    acio__redis_cmd_unref(cmd);
}

static acio__redis_cmd_t *pop_cmd(acio_redis_t *c)
{
    acio__redis_cmd_t *cmd = c->head;
    if (cmd) {
        c->head = cmd->next;
        if (!c->head)
            c->tail = NULL;
        c->npending--;
    }
    return cmd;
}

/* Fail every command in flight (the link is gone). */
static void fail_pending(acio_redis_t *c, int code)
{
    acio__redis_cmd_t *cmd;
    while ((cmd = pop_cmd(c)))
        complete(cmd, NULL, code);
    c->out.len = 0;
    acio__redis_pubsub_fail(c, code);
}

/* ---- the protocol ---- */

/* What a transport we let go of talks to: nothing (its callbacks are all skipped). */
static const acio_protocol_t detached_protocol = {0};

static int on_get_buffer(acio_transport_t *t, size_t hint, void **buf, size_t *len, void *data)
{
    (void)t;
    acio_redis_t *c = data;
    return acio__resp_reader_space(c->rd, hint < 16384 ? 16384 : hint, buf, len);
}

static void drop_link(acio_redis_t *c, int code, const char *why)
{
    if (why)
        acio__redis_set_error(c, "%s", why);
    if (c->t) {
        acio_transport_t *t = c->t;
        c->t = NULL;
        acio_transport_set_protocol(t, &detached_protocol, NULL);
        acio_transport_abort(t);
        acio_transport_unref(t);
    }
    c->subscribed = false;
    c->nchannels = c->npatterns = c->nshards = 0;
    c->in_multi = c->watching = false;
    fail_pending(c, code);
}

static void deliver(acio_redis_t *c, acio_redis_reply_t *reply)
{
    if ((reply->type == ACIO_REDIS_REPLY_PUSH || c->subscribed) &&
        acio__redis_pubsub_dispatch(c, reply))
        return;
    if (reply->type == ACIO_REDIS_REPLY_PUSH) {
        acio_redis_reply_free(reply); /* client-side caching invalidations and the like */
        return;
    }
    acio__redis_cmd_t *cmd = pop_cmd(c);
    if (!cmd) {
        acio_redis_reply_free(reply);
        drop_link(c, ACIO_EREDIS_PROTOCOL, "the Redis server sent a reply nobody asked for");
        return;
    }
    if (reply->type == ACIO_REDIS_REPLY_ERROR)
        acio__redis_set_error(c, "%s", reply->str);
    complete(cmd, reply, 0);
}

static void on_buffer_updated(acio_transport_t *t, size_t n, void *data)
{
    (void)t;
    acio_redis_t *c = data;
    acio__resp_reader_commit(c->rd, n);
    for (;;) {
        acio_redis_reply_t *reply = NULL;
        int rc = acio_resp_reader_get(c->rd, &reply);
        if (rc == 0)
            return;
        if (rc < 0) {
            char why[200];
            snprintf(why, sizeof(why), "Redis protocol error: %s", acio_resp_reader_error(c->rd));
            drop_link(c, rc == -ENOMEM ? -ENOMEM : ACIO_EREDIS_PROTOCOL, why);
            return;
        }
        deliver(c, reply);
        if (!c->t)
            return;
    }
}

static void on_connection_lost(acio_transport_t *t, int error, void *data)
{
    acio_redis_t *c = data;
    if (c->t != t)
        return;
    c->t = NULL;
    acio_transport_unref(t);
    acio__redis_set_error(c, "the connection to Redis was lost: %s",
                          error ? acio_strerror(error) : "closed by the server");
    c->subscribed = false;
    c->nchannels = c->npatterns = c->nshards = 0;
    c->in_multi = c->watching = false;
    fail_pending(c, ACIO_EREDIS_CONNECTION);
}

static const acio_protocol_t redis_protocol = {
    .get_buffer = on_get_buffer,
    .buffer_updated = on_buffer_updated,
    .connection_lost = on_connection_lost,
};

/* ---- writing ---- */

static void flush_cb(void *data)
{
    acio_redis_t *c = data;
    acio_handle_unref(c->flush);
    c->flush = NULL;
    if (!c->t || c->out.len == 0)
        return;
    size_t len = c->out.len;
    c->out.len = 0;
    int rc = acio_transport_write(c->t, c->out.data, len);
    if (rc < 0 && c->t)
        drop_link(c, ACIO_EREDIS_CONNECTION, "writing to Redis failed");
    /* Give back a buffer that a huge command inflated. */
    if (c->out.cap > (1u << 20)) {
        acio__bytes_close(&c->out);
    }
}

static int schedule_flush(acio_redis_t *c)
{
    if (c->flush)
        return 0;
    return acio_loop_call_soon(c->loop, flush_cb, c, &c->flush);
}

static bool is_blocking(int argc, const char *const *argv, const size_t *argvlen)
{
    static const char *const names[] = {"BLPOP",    "BRPOP",  "BLMOVE", "BRPOPLPUSH", "BZPOPMIN",
                                        "BZPOPMAX", "BLMPOP", "BZMPOP", "WAIT",       "WAITAOF"};
    size_t n0 = argvlen ? argvlen[0] : strlen(argv[0]);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (acio__redis_word_eq(argv[0], n0, names[i]))
            return true;
    if (acio__redis_word_eq(argv[0], n0, "XREAD") || acio__redis_word_eq(argv[0], n0, "XREADGROUP"))
        for (int i = 1; i < argc; i++)
            if (acio__redis_word_eq(argv[i], argvlen ? argvlen[i] : strlen(argv[i]), "BLOCK"))
                return true;
    return false;
}

static bool allowed_when_subscribed(const char *s, size_t n)
{
    static const char *const ok[] = {"SUBSCRIBE",   "PSUBSCRIBE",   "SSUBSCRIBE",
                                     "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
                                     "PING",        "QUIT",         "RESET"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (acio__redis_word_eq(s, n, ok[i]))
            return true;
    return false;
}

static void track_state(acio_redis_t *c, const char *s, size_t n)
{
    if (acio__redis_word_eq(s, n, "MULTI"))
        c->in_multi = true;
    else if (acio__redis_word_eq(s, n, "EXEC") || acio__redis_word_eq(s, n, "DISCARD"))
        c->in_multi = c->watching = false;
    else if (acio__redis_word_eq(s, n, "WATCH"))
        c->watching = true;
    else if (acio__redis_word_eq(s, n, "UNWATCH"))
        c->watching = false;
}

/* Queue without reconnecting (the handshake uses it while connecting). */
static int submit_now(acio_redis_t *c, int argc, const char *const *argv, const size_t *argvlen,
                      int expect, acio__redis_cmd_t **out)
{
    if (argc < 1 || !argv || !argv[0])
        return -EINVAL;
    if (!c->t)
        return ACIO_EREDIS_CONNECTION;
    size_t n0 = argvlen ? argvlen[0] : strlen(argv[0]);
    if (c->subscribed && c->proto == 2 && !allowed_when_subscribed(argv[0], n0))
        return ACIO_EREDIS_PUBSUB;
    acio__redis_cmd_t *cmd = acio__calloc(1, sizeof(*cmd));
    if (!cmd)
        return -ENOMEM;
    int rc = acio_future_new(c->loop, &cmd->fut);
    if (rc < 0) {
        acio__free(cmd);
        return rc;
    }
    size_t mark = c->out.len;
    rc = acio__resp_append_command(&c->out, argc, argv, argvlen);
    if (rc == 0)
        rc = schedule_flush(c);
    if (rc < 0) {
        c->out.len = mark;
        acio_future_unref(cmd->fut);
        acio__free(cmd);
        return rc;
    }
    acio_future_set_label(cmd->fut, "redis command");
    cmd->refs = 2;
    cmd->expect = expect;
    cmd->blocking = is_blocking(argc, argv, argvlen);
    if (c->tail)
        c->tail->next = cmd;
    else
        c->head = cmd;
    c->tail = cmd;
    c->npending++;
    track_state(c, argv[0], n0);
    *out = cmd;
    return 0;
}

int acio__redis_submit(acio_redis_t *c, int argc, const char *const *argv, const size_t *argvlen,
                       int expect, acio__redis_cmd_t **out)
{
    if (c->closed)
        return ACIO_ECLOSED;
    int rc = acio__redis_ensure_connected(c);
    if (rc < 0)
        return rc;
    return submit_now(c, argc, argv, argvlen, expect, out);
}

int acio__redis_wait(acio_redis_t *c, acio__redis_cmd_t *cmd, acio_redis_reply_t **reply)
{
    int rc = c->opts.command_timeout > 0 ? acio_wait_for(cmd->fut, c->opts.command_timeout, NULL)
                                         : acio_await(cmd->fut, NULL);
    if (rc == 0) {
        acio_redis_reply_t *r = cmd->reply;
        cmd->reply = NULL;
        if (r && r->type == ACIO_REDIS_REPLY_ERROR)
            rc = ACIO_EREDIS_REPLY;
        if (reply)
            *reply = r;
        else
            acio_redis_reply_free(r);
    } else {
        cmd->abandoned = true;
        bool timed_out = rc == -ETIMEDOUT;
        /* Still in flight (the connection holds its reference) and the server may hold the
         * link for it: close rather than leave later commands queued behind it. */
        if (cmd->refs > 1 && (timed_out || (cmd->blocking && rc == -ECANCELED))) {
            drop_link(c, ACIO_EREDIS_CONNECTION,
                      timed_out
                          ? "a Redis command timed out; the connection was closed"
                          : "a blocking Redis command was cancelled; the connection was closed");
        }
        if (reply)
            *reply = NULL;
    }
    acio__redis_cmd_unref(cmd);
    return rc;
}

int acio_redis_command_argv(acio_redis_t *c, acio_redis_reply_t **reply, int argc,
                            const char *const *argv, const size_t *argvlen)
{
    if (reply)
        *reply = NULL;
    if (!c || argc < 1 || !argv)
        return -EINVAL;
    acio__redis_cmd_t *cmd;
    int rc = acio__redis_submit(c, argc, argv, argvlen, 1, &cmd);
    if (rc < 0)
        return rc;
    return acio__redis_wait(c, cmd, reply);
}

#define MAX_VA_ARGS 64

int acio_redis_command(acio_redis_t *c, acio_redis_reply_t **reply, ...)
{
    const char *argv[MAX_VA_ARGS];
    int argc = 0;
    va_list ap;
    va_start(ap, reply);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        if (argc == MAX_VA_ARGS) {
            va_end(ap);
            return -E2BIG;
        }
        argv[argc++] = a;
    }
    va_end(ap);
    return acio_redis_command_argv(c, reply, argc, argv, NULL);
}

/* ---- connecting ---- */

static int handshake_step(acio_redis_t *c, int argc, const char *const *argv, bool auth)
{
    acio__redis_cmd_t *cmd;
    int rc = submit_now(c, argc, argv, NULL, 1, &cmd);
    if (rc < 0)
        return rc;
    acio_redis_reply_t *reply = NULL;
    rc = acio_await(cmd->fut, NULL);
    if (rc == 0) {
        reply = cmd->reply;
        cmd->reply = NULL;
    } else {
        cmd->abandoned = true;
    }
    acio__redis_cmd_unref(cmd);
    if (rc < 0)
        return rc;
    if (reply->type == ACIO_REDIS_REPLY_ERROR) {
        snprintf(connect_error, sizeof(connect_error), "%s: %s", argv[0], reply->str);
        bool authfail = auth && (strncmp(reply->str, "WRONGPASS", 9) == 0 ||
                                 strncmp(reply->str, "NOAUTH", 6) == 0 ||
                                 strstr(reply->str, "password") != NULL);
        acio_redis_reply_free(reply);
        return authfail ? ACIO_EREDIS_AUTH : ACIO_EREDIS_REPLY;
    }
    if (argc >= 2 && strcmp(argv[0], "HELLO") == 0) {
        const acio_redis_reply_t *proto = acio_redis_reply_map_get(reply, "proto");
        if (proto && proto->type == ACIO_REDIS_REPLY_INTEGER)
            c->proto = (int)proto->integer;
    }
    acio_redis_reply_free(reply);
    return 0;
}

static int handshake(acio_redis_t *c)
{
    const acio_redis_opts_t *o = &c->opts;
    const char *user = o->username ? o->username : "default";
    int rc;
    c->proto = 2;
    if (o->protocol == 3) {
        const char *argv[7] = {"HELLO", "3"};
        int argc = 2;
        if (o->password) {
            argv[argc++] = "AUTH";
            argv[argc++] = user;
            argv[argc++] = o->password;
        }
        if (o->client_name) {
            argv[argc++] = "SETNAME";
            argv[argc++] = o->client_name;
        }
        rc = handshake_step(c, argc, argv, o->password != NULL);
        if (rc < 0)
            return rc;
    } else {
        if (o->password) {
            const char *argv[3] = {"AUTH", o->username ? o->username : o->password, o->password};
            rc = handshake_step(c, o->username ? 3 : 2, argv, true);
            if (rc < 0)
                return rc;
        }
        if (o->client_name) {
            const char *argv[3] = {"CLIENT", "SETNAME", o->client_name};
            if ((rc = handshake_step(c, 3, argv, false)) < 0)
                return rc;
        }
    }
    if (o->db > 0) {
        char db[16];
        snprintf(db, sizeof(db), "%d", o->db);
        const char *argv[2] = {"SELECT", db};
        if ((rc = handshake_step(c, 2, argv, false)) < 0)
            return rc;
    }
    return 0;
}

/* One attempt: connect and handshake within connect_timeout. */
static int connect_once(acio_redis_t *c)
{
    connect_error[0] = '\0';
    acio_resp_reader_free(c->rd);
    c->rd = NULL;
    acio_resp_limits_t lim = {.max_bulk = c->opts.max_bulk};
    int rc = acio_resp_reader_new(&c->rd, &lim);
    if (rc < 0)
        return rc;
    acio_timeout_t to;
    double limit = c->opts.connect_timeout > 0 ? c->opts.connect_timeout : 10.0;
    rc = acio_timeout_enter(&to, limit);
    if (rc < 0)
        return rc;
    acio_transport_t *t = NULL;
    acio_connection_opts_t co = {0};
    co.ssl = c->ssl;
    co.server_hostname = c->opts.server_hostname;
    if (c->opts.unix_path)
        rc = acio_loop_create_unix_connection(c->loop, &t, &redis_protocol, c, c->opts.unix_path,
                                              &co);
    else
        rc = acio_loop_create_connection(c->loop, &t, &redis_protocol, c,
                                         c->opts.host ? c->opts.host : "127.0.0.1",
                                         c->opts.port > 0 ? c->opts.port : 6379, &co);
    if (rc == 0) {
        c->t = t;
        rc = handshake(c);
    }
    rc = acio_timeout_exit(&to, rc);
    if (rc < 0) {
        if (!connect_error[0])
            snprintf(connect_error, sizeof(connect_error), "connecting to Redis at %s: %s",
                     c->opts.unix_path ? c->opts.unix_path
                                       : (c->opts.host ? c->opts.host : "127.0.0.1"),
                     acio_strerror(rc));
        if (c->t)
            drop_link(c, ACIO_EREDIS_CONNECTION, NULL);
        acio__redis_set_error(c, "%s", connect_error);
        return rc;
    }
    return 0;
}

int acio__redis_ensure_connected(acio_redis_t *c)
{
    if (c->t)
        return 0;
    int attempts = c->opts.reconnect_attempts == 0 ? 3 : c->opts.reconnect_attempts;
    if (attempts < 0)
        return ACIO_EREDIS_CONNECTION;
    double delay = c->opts.reconnect_backoff > 0 ? c->opts.reconnect_backoff : 0.05;
    int rc = 0;
    for (int i = 0; i < attempts; i++) {
        if (i > 0) {
            double jitter = delay * (0.5 + (double)rand() / RAND_MAX / 2);
            rc = acio_sleep(jitter);
            if (rc < 0)
                return rc;
            delay = delay * 2 > 2.0 ? 2.0 : delay * 2;
        }
        rc = connect_once(c);
        if (rc == 0 || rc == -ECANCELED || rc == ACIO_EREDIS_AUTH)
            return rc;
    }
    return rc;
}

int acio__redis_copy_opts(acio_redis_t *c, const acio_redis_opts_t *o)
{
    const char *const *src[] = {&o->host,     &o->unix_path,   &o->username,
                                &o->password, &o->client_name, &o->server_hostname};
    const char **dst[] = {&c->opts.host,     &c->opts.unix_path,   &c->opts.username,
                          &c->opts.password, &c->opts.client_name, &c->opts.server_hostname};
    size_t total = 0;
    for (size_t i = 0; i < 6; i++)
        if (*src[i])
            total += strlen(*src[i]) + 1;
    c->opts = *o;
    c->optstore = acio__malloc(total ? total : 1);
    if (!c->optstore)
        return -ENOMEM;
    char *p = c->optstore;
    for (size_t i = 0; i < 6; i++) {
        if (*src[i]) {
            size_t n = strlen(*src[i]) + 1;
            memcpy(p, *src[i], n);
            *dst[i] = p;
            p += n;
        }
    }
    return 0;
}

static void redis_free(acio_redis_t *c)
{
    drop_link(c, ACIO_ECLOSED, NULL);
    if (c->flush) {
        acio_handle_cancel(c->flush);
        acio_handle_unref(c->flush);
    }
    acio__redis_pubsub_drop_queue(c);
    acio_resp_reader_free(c->rd);
    acio__bytes_close(&c->out);
    if (c->ssl)
        acio_ssl_context_unref(c->ssl);
    acio__free(c->optstore);
    acio__free(c);
}

int acio_redis_connect(acio_redis_t **out, const acio_redis_opts_t *opts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    acio_loop_t *loop = acio_get_running_loop();
    if (!loop)
        return ACIO_ENOLOOP;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    acio_redis_opts_t defaults = {0};
    if (!opts)
        opts = &defaults;
    if (opts->protocol != 0 && opts->protocol != 2 && opts->protocol != 3)
        return -EINVAL;
    acio_redis_t *c = acio__calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    c->proto = 2;
    int rc = acio__redis_copy_opts(c, opts);
    if (rc == 0 && opts->ssl)
        c->ssl = acio_ssl_context_ref(opts->ssl);
    if (rc == 0)
        rc = connect_once(c);
    if (rc < 0) {
        redis_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int acio_redis_connect_url(acio_redis_t **out, const char *url)
{
    acio_redis_opts_t o;
    char *store = NULL;
    int rc = acio_redis_opts_from_url(&o, url, &store);
    if (rc < 0)
        return rc;
    acio_ssl_context_t *ssl = NULL;
    if (o.ssl == NULL && strncmp(url, "rediss://", 9) == 0) {
        rc = acio_ssl_context_new(&ssl, ACIO_SSL_CLIENT);
        if (rc < 0) {
            free(store);
            return rc;
        }
        o.ssl = ssl;
    }
    rc = acio_redis_connect(out, &o);
    if (ssl)
        acio_ssl_context_unref(ssl);
    free(store);
    return rc;
}

void acio_redis_close(acio_redis_t *c)
{
    if (!c)
        return;
    c->closed = true;
    if (c->t && c->out.len) {
        /* What was queued but not flushed is sent before the close (nothing accepted is
         * silently lost); its replies are not awaited. */
        if (acio_transport_write(c->t, c->out.data, c->out.len) < 0)
            acio__redis_set_error(c, "the commands queued at close could not be sent");
        c->out.len = 0;
    }
    if (c->t) {
        acio_transport_t *t = c->t;
        c->t = NULL;
        acio_transport_set_protocol(t, &detached_protocol, NULL);
        acio_transport_close(t);
        acio_transport_unref(t);
    }
    redis_free(c);
}

bool acio_redis_is_connected(const acio_redis_t *c)
{
    return c && c->t != NULL;
}

int acio_redis_protocol(const acio_redis_t *c)
{
    return c ? c->proto : 0;
}

const char *acio_redis_last_error(const acio_redis_t *c)
{
    return c ? c->last_error : "";
}

size_t acio_redis_pending(const acio_redis_t *c)
{
    return c ? c->npending : 0;
}
