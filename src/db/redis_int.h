/* Internal: the Redis connection's state, shared by the connection (redis.c), the
 * pipelines and typed helpers (redis_cmds.c), pub/sub (redis_pubsub.c) and the pool
 * (redis_pool.c). */
#ifndef ACIO_DB_REDIS_INT_H
#define ACIO_DB_REDIS_INT_H

#include "resp.h"

/* One command in flight: the caller and the connection each hold a reference. */
typedef struct acio__redis_cmd_s {
    struct acio__redis_cmd_s *next;
    acio_future_t *fut;        /* completed when the reply (or failure) is in */
    acio_redis_reply_t *reply; /* set with the result; taken by the caller */
    int refs;
    int expect;     /* replies this command gets: 1, or N pub/sub confirmations */
    bool abandoned; /* the caller stopped waiting: drop the reply */
    bool blocking;  /* BLPOP & co: abandoning it closes the connection */
} acio__redis_cmd_t;

typedef struct acio__redis_msg_s {
    struct acio__redis_msg_s *next;
    acio_redis_reply_t *reply;
} acio__redis_msg_t;

struct acio_redis_s {
    acio_loop_t *loop;
    acio_redis_opts_t opts; /* strings point into optstore */
    char *optstore;
    acio_ssl_context_t *ssl; /* a reference (ours if we made a default one) */
    acio_transport_t *t;     /* NULL while disconnected */
    acio_resp_reader_t *rd;
    acio__bytes_t out;    /* encoded commands not yet written */
    acio_handle_t *flush; /* the scheduled write of out */
    acio__redis_cmd_t *head, *tail;
    size_t npending;
    int proto;
    bool closed; /* acio_redis_close called */
    bool in_multi, watching;
    /* pub/sub */
    size_t nchannels, npatterns, nshards;
    bool subscribed;
    acio__redis_msg_t *msg_head, *msg_tail;
    acio_future_t *msg_waiter;
    acio_redis_pool_t *pool; /* the pool this connection belongs to, if any */
    char last_error[256];
};

/* Queue argc/argv as one command, with expect replies; *out (the caller's reference)
 * receives the command. Errors: ACIO_ECLOSED, ACIO_EREDIS_CONNECTION (reconnecting
 * failed), ACIO_EREDIS_PUBSUB, -ENOMEM. Coroutine (it may reconnect). */
int acio__redis_submit(acio_redis_t *c, int argc, const char *const *argv, const size_t *argvlen,
                       int expect, acio__redis_cmd_t **out);
/* Wait for cmd's reply; takes the caller's reference. Returns as
 * acio_redis_command_argv. Coroutine. */
int acio__redis_wait(acio_redis_t *c, acio__redis_cmd_t *cmd, acio_redis_reply_t **reply);
/* Release a command reference without waiting (pipelines, after the last one). */
void acio__redis_cmd_unref(acio__redis_cmd_t *cmd);
/* Copy o into c->opts, its strings into c->optstore. Errors: -ENOMEM. */
int acio__redis_copy_opts(acio_redis_t *c, const acio_redis_opts_t *o);
/* Reconnect if the link is down. Coroutine. */
int acio__redis_ensure_connected(acio_redis_t *c);
/* Record text as the connection's last error. */
void acio__redis_set_error(acio_redis_t *c, const char *fmt, ...) ACIO_PRINTF(2, 3);
/* A pub/sub push or RESP2 message/confirmation: true if it was consumed as such. */
bool acio__redis_pubsub_dispatch(acio_redis_t *c, acio_redis_reply_t *reply);
/* Wake the message waiter with code (queued messages stay readable). */
void acio__redis_pubsub_fail(acio_redis_t *c, int code);
/* Free the queued messages (closing). */
void acio__redis_pubsub_drop_queue(acio_redis_t *c);
/* Case-insensitive equality of a command name with a NUL-terminated word. */
bool acio__redis_word_eq(const char *s, size_t n, const char *word);

#endif
