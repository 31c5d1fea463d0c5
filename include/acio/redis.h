/* Redis on the event loop: aioredis / redis-py's asyncio client in C.
 *
 * A connection (acio_redis_t) speaks RESP2 or RESP3 over TCP, TLS or a Unix socket.
 * Every command is a coroutine: it queues the encoded command and waits for its reply.
 * Commands issued by many tasks in the same loop iteration leave in one write (automatic
 * pipelining) and their replies are matched to them in order, so one connection serves
 * many tasks; a pool (acio_redis_pool_t) is there for blocking commands, transactions
 * with WATCH and pub/sub, which need a connection of their own.
 *
 * Replies are trees of acio_redis_reply_t, owned by the caller and released with
 * acio_redis_reply_free(). A server error ("-ERR ...") is returned as
 * ACIO_EREDIS_REPLY together with the reply (type ACIO_REDIS_REPLY_ERROR, its text in
 * str): the code makes it hard to miss, the reply carries the message.
 *
 * Cancellation: a cancelled command's reply is read and discarded when it arrives, and
 * the connection stays usable. A blocking command (BLPOP, XREAD BLOCK, ...) that is
 * cancelled or times out closes the connection instead, since the server would otherwise
 * hold it for the command's whole timeout. A command timeout closes the connection too
 * (redis-py does the same): after it nothing says whether the server ran the command.
 *
 * The RESP reader is public too (acio_resp_reader_*): an incremental parser with a
 * bounded nesting depth and size limits, for programs that speak RESP on their own. */
#ifndef ACIO_REDIS_H
#define ACIO_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "net.h"

/* ---- replies ---- */

typedef enum {
    ACIO_REDIS_REPLY_STRING = 1, /* bulk string ($) */
    ACIO_REDIS_REPLY_STATUS,     /* simple string (+OK) */
    ACIO_REDIS_REPLY_ERROR,      /* simple error (-ERR ...) or RESP3 bulk error (!) */
    ACIO_REDIS_REPLY_INTEGER,    /* : */
    ACIO_REDIS_REPLY_NIL,        /* $-1, *-1, RESP3 _ */
    ACIO_REDIS_REPLY_ARRAY,      /* * */
    ACIO_REDIS_REPLY_DOUBLE,     /* RESP3 , (str holds the text, dval the value) */
    ACIO_REDIS_REPLY_BOOL,       /* RESP3 # (integer 0 or 1) */
    ACIO_REDIS_REPLY_BIGNUM,     /* RESP3 ( (str holds the digits) */
    ACIO_REDIS_REPLY_VERB,       /* RESP3 = (str holds the text, format the 3-letter type) */
    ACIO_REDIS_REPLY_MAP,        /* RESP3 % (elements: key, value, key, value, ...) */
    ACIO_REDIS_REPLY_SET,        /* RESP3 ~ */
    ACIO_REDIS_REPLY_PUSH,       /* RESP3 > (out-of-band: pub/sub messages) */
} acio_redis_reply_type_t;

typedef struct acio_redis_reply_s acio_redis_reply_t;
struct acio_redis_reply_s {
    acio_redis_reply_type_t type;
    long long integer; /* INTEGER, BOOL */
    double dval;       /* DOUBLE */
    size_t len;        /* bytes in str */
    char *str;         /* STRING, STATUS, ERROR, DOUBLE, BIGNUM, VERB: NUL-terminated,
                          binary-safe with len */
    char format[4];    /* VERB: "txt", "mkd" */
    size_t elements;   /* ARRAY, MAP (2 per pair), SET, PUSH */
    acio_redis_reply_t **element;
};

/* Release a reply and everything under it. NULL is a no-op. */
ACIO_EXTERN void acio_redis_reply_free(acio_redis_reply_t *r);

/* ---- the RESP reader ---- */

typedef struct acio_resp_reader_s acio_resp_reader_t;

typedef struct {
    size_t max_bulk;     /* largest bulk string: 512 MiB */
    size_t max_elements; /* largest aggregate: 2^32 - 1 elements */
    int max_depth;       /* nesting of aggregates: 32 */
} acio_resp_limits_t;

/* Errors: -ENOMEM, -EINVAL. limits may be NULL (the defaults above). */
ACIO_EXTERN ACIO_NODISCARD int acio_resp_reader_new(acio_resp_reader_t **out,
                                                    const acio_resp_limits_t *limits);
ACIO_EXTERN void acio_resp_reader_free(acio_resp_reader_t *r);
/* Append len bytes of input. Errors: -ENOMEM, ACIO_EREDIS_PROTOCOL (the reader already
 * failed: it never recovers; close the connection). */
ACIO_EXTERN ACIO_NODISCARD int acio_resp_reader_feed(acio_resp_reader_t *r, const void *buf,
                                                     size_t len);
/* Take the next complete reply: 1 and *out (the caller's), 0 if more input is needed,
 * or ACIO_EREDIS_PROTOCOL (malformed input or a limit exceeded; the message is in
 * acio_resp_reader_error()), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_resp_reader_get(acio_resp_reader_t *r,
                                                    acio_redis_reply_t **out);
/* What went wrong, after ACIO_EREDIS_PROTOCOL ("" before). */
ACIO_EXTERN const char *acio_resp_reader_error(const acio_resp_reader_t *r);

/* Encode one command (an argument vector, binary-safe) as a RESP array of bulk strings
 * into buf (cap bytes). Returns the encoded length; if it exceeds cap nothing useful is
 * in buf and the return value is the size needed. argvlen may be NULL (strlen). */
ACIO_EXTERN size_t acio_resp_encode_command(char *buf, size_t cap, int argc,
                                            const char *const *argv, const size_t *argvlen);

/* ---- connections ---- */

typedef struct acio_redis_s acio_redis_t;

typedef struct {
    const char *host; /* default "127.0.0.1" (ignored with unix_path) */
    int port;         /* default 6379 */
    const char *unix_path;
    const char *username;    /* AUTH user (Redis 6 ACL); NULL: "default" when password set */
    const char *password;    /* NULL: no AUTH */
    int db;                  /* SELECT db when > 0 */
    const char *client_name; /* CLIENT SETNAME */
    int protocol;            /* 2 (default) or 3 (HELLO 3) */
    double connect_timeout;  /* seconds for connect + handshake; <= 0: 10 s */
    double command_timeout;  /* seconds per command; <= 0: none */
    /* Reconnect: when the connection is lost, the next command reconnects, trying up to
     * reconnect_attempts times (0: 3; -1: never) with exponential backoff from
     * reconnect_backoff seconds (<= 0: 0.05), doubling, capped at 2 s, with jitter. */
    int reconnect_attempts;
    double reconnect_backoff;
    acio_ssl_context_t *ssl; /* TLS (rediss://) */
    const char *server_hostname;
    size_t max_bulk; /* reply limits (acio_resp_limits_t); 0: defaults */
} acio_redis_opts_t;

/* Fill opts from a URL: redis://[[user]:password@]host[:port][/db], rediss://... (TLS:
 * opts->ssl must then be set by the caller, or acio creates a default client context
 * when connecting), unix://[[user]:password@]/path[?db=N]. Query parameters: db,
 * protocol, client_name (or name). The strings live in *storage (malloc'd; free() it
 * after connecting). Errors: -EINVAL (not a redis URL, a bad port or db), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_opts_from_url(acio_redis_opts_t *opts, const char *url,
                                                        char **storage);

/* Connect and run the handshake (HELLO/AUTH, SELECT, CLIENT SETNAME). Coroutine.
 * Errors: create_connection's, -ETIMEDOUT, ACIO_EREDIS_AUTH (the server refused the
 * credentials; its message in the task's error), ACIO_EREDIS_REPLY (another handshake
 * command failed), ACIO_EREDIS_PROTOCOL, -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_connect(acio_redis_t **out,
                                                  const acio_redis_opts_t *opts);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_connect_url(acio_redis_t **out, const char *url);
/* Why the last acio_redis_connect / connect_url / reconnect in this thread failed, in
 * words (the server's refusal, the system error): like dlerror(), "" if none. */
ACIO_EXTERN const char *acio_redis_connect_error(void);
/* Close: pending commands fail with ACIO_ECLOSED; frees the connection. Not a coroutine
 * (asyncio's close() + what wait_closed() would wait for happens in the background). */
ACIO_EXTERN void acio_redis_close(acio_redis_t *c);
/* True while connected (false after a loss until a command reconnects). */
ACIO_EXTERN bool acio_redis_is_connected(const acio_redis_t *c);
/* The protocol version the server agreed to: 2 or 3. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_protocol(const acio_redis_t *c);
/* The text of the last error on this connection (a server error reply, the reason a
 * connection was lost); "" if none. Valid until the next command on c. */
ACIO_EXTERN const char *acio_redis_last_error(const acio_redis_t *c);
/* Commands written and replies still awaited. */
ACIO_EXTERN size_t acio_redis_pending(const acio_redis_t *c);

/* Run one command. Coroutine. On success *reply (may be NULL to discard it) is the
 * caller's. Returns 0, ACIO_EREDIS_REPLY (a server error: *reply is the error reply if
 * reply is non-NULL), ACIO_EREDIS_CONNECTION (the connection was lost with the command in
 * flight; it may or may not have run), -ETIMEDOUT (command_timeout), ACIO_EREDIS_PROTOCOL,
 * ACIO_EREDIS_PUBSUB (a subscribed connection takes only (UN)SUBSCRIBE/PING/QUIT),
 * -ECANCELED, -ENOMEM, -EINVAL (argc < 1). */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_command_argv(acio_redis_t *c, acio_redis_reply_t **reply,
                                                       int argc, const char *const *argv,
                                                       const size_t *argvlen);
/* The same with NUL-terminated arguments, NULL-terminated: cmd(c, &r, "SET", "k", "v", NULL). */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_command(acio_redis_t *c, acio_redis_reply_t **reply, ...);

/* ---- typed helpers (all coroutines; errors as acio_redis_command_argv, plus
 * ACIO_EREDIS_TYPE when the reply is not of the expected type) ---- */

/* GET: *value malloc'd (NUL-terminated, *len bytes; free()), NULL when the key does not
 * exist (returns 0). len may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_get(acio_redis_t *c, const char *key, char **value,
                                              size_t *len);
/* SET key value [EX seconds when ex > 0]. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_set(acio_redis_t *c, const char *key, const void *value,
                                              size_t len, long ex);
/* DEL: *deleted may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_del(acio_redis_t *c, const char *key, long long *deleted);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_incrby(acio_redis_t *c, const char *key, long long by,
                                                 long long *value);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_expire(acio_redis_t *c, const char *key, long seconds,
                                                 bool *set);
/* HSET key field value [field value ...]: pairs is 2*npairs NUL-terminated strings.
 * *added (may be NULL) receives the number of new fields. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_hset(acio_redis_t *c, const char *key,
                                               const char *const *pairs, size_t npairs,
                                               long long *added);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_hget(acio_redis_t *c, const char *key, const char *field,
                                               char **value, size_t *len);
/* HGETALL: *reply is a flat list field, value, ... (an ARRAY in RESP2, a MAP in RESP3);
 * both answer to acio_redis_reply_map_get(). */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_hgetall(acio_redis_t *c, const char *key,
                                                  acio_redis_reply_t **reply);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_lpush(acio_redis_t *c, const char *key, const char *value,
                                                long long *length);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_rpush(acio_redis_t *c, const char *key, const char *value,
                                                long long *length);
/* LRANGE / SMEMBERS / ZRANGE ... WITHSCORES: the reply as it comes. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_lrange(acio_redis_t *c, const char *key, long start,
                                                 long stop, acio_redis_reply_t **reply);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_sadd(acio_redis_t *c, const char *key, const char *member,
                                               long long *added);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_smembers(acio_redis_t *c, const char *key,
                                                   acio_redis_reply_t **reply);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_zadd(acio_redis_t *c, const char *key, double score,
                                               const char *member, long long *added);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_zrange_withscores(acio_redis_t *c, const char *key,
                                                            long start, long stop,
                                                            acio_redis_reply_t **reply);
/* BLPOP key timeout: *reply is [key, value], or NULL when the timeout passed (returns
 * 0). A blocking command: prefer a connection of its own (see the top of this file). */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_blpop(acio_redis_t *c, const char *key, double timeout,
                                                acio_redis_reply_t **reply);

/* In a MAP or a flat field/value ARRAY, the value for key (NUL-terminated), or NULL. */
ACIO_EXTERN const acio_redis_reply_t *acio_redis_reply_map_get(const acio_redis_reply_t *r,
                                                               const char *key);

/* SCAN as an async iterator: yields one key at a time, fetching batches as needed.
 * pattern and type may be NULL; count <= 0 lets the server choose. */
typedef struct acio_redis_scan_s acio_redis_scan_t;
ACIO_EXTERN ACIO_NODISCARD int acio_redis_scan_new(acio_redis_scan_t **out, acio_redis_t *c,
                                                   const char *pattern, long count,
                                                   const char *type);
/* Next key: 1 and *key (borrowed, valid until the next call), 0 when the scan is
 * complete, or a command error. Coroutine. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_scan_next(acio_redis_scan_t *s, const char **key,
                                                    size_t *len);
ACIO_EXTERN void acio_redis_scan_free(acio_redis_scan_t *s);

/* ---- explicit pipelines and MULTI/EXEC transactions ----
 *
 * Commands are collected, then sent in one write by execute(), which waits for all the
 * replies. With transaction true they are wrapped in MULTI ... EXEC and nothing from
 * other tasks can slip in between (they are written as one block). WATCH belongs on a
 * connection of its own (a pool's): run WATCH, read, then execute a transaction; EXEC
 * answers NIL when a watched key changed: execute() then returns ACIO_EREDIS_WATCH. */
typedef struct acio_redis_pipeline_s acio_redis_pipeline_t;
ACIO_EXTERN ACIO_NODISCARD int acio_redis_pipeline_new(acio_redis_pipeline_t **out, acio_redis_t *c,
                                                       bool transaction);
/* Queue one command (copied). Errors: -ENOMEM, -EINVAL. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_pipeline_add_argv(acio_redis_pipeline_t *p, int argc,
                                                            const char *const *argv,
                                                            const size_t *argvlen);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_pipeline_add(acio_redis_pipeline_t *p, ...);
/* Send and wait. Coroutine. *replies (may be NULL) is an ARRAY with one reply per queued
 * command (in a transaction: EXEC's results), the caller's. Returns 0 even if some
 * replies are errors (look at each), or ACIO_EREDIS_WATCH, ACIO_EREDIS_REPLY (a queued
 * command was rejected before EXEC: the transaction was discarded), the command errors. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_pipeline_execute(acio_redis_pipeline_t *p,
                                                           acio_redis_reply_t **replies);
ACIO_EXTERN void acio_redis_pipeline_free(acio_redis_pipeline_t *p);

/* ---- pub/sub ----
 *
 * SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE turn the connection into a subscriber (use a
 * connection of its own); messages are then read as an async iterator. */
typedef struct {
    const char *kind;    /* "message", "pmessage" or "smessage" */
    const char *pattern; /* pmessage: the matching pattern, else NULL */
    const char *channel;
    const char *data;
    size_t data_len;
    acio_redis_reply_t *reply; /* owns the strings above */
} acio_redis_message_t;

/* Coroutines: they wait for the server's confirmation of each channel. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_subscribe(acio_redis_t *c, const char *const *channels,
                                                    size_t n);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_psubscribe(acio_redis_t *c, const char *const *patterns,
                                                     size_t n);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_ssubscribe(acio_redis_t *c, const char *const *channels,
                                                     size_t n);
/* n == 0: from all. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_unsubscribe(acio_redis_t *c, const char *const *channels,
                                                      size_t n);
ACIO_EXTERN ACIO_NODISCARD int acio_redis_punsubscribe(acio_redis_t *c, const char *const *patterns,
                                                       size_t n);
/* The next message. Coroutine. timeout <= 0 waits forever. Returns 0 and *msg (release
 * with acio_redis_message_release), -ETIMEDOUT, ACIO_ESTOPASYNCITERATION (no
 * subscriptions left), ACIO_EREDIS_CONNECTION, -ECANCELED (the connection stays
 * subscribed and usable). */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_pubsub_next(acio_redis_t *c, acio_redis_message_t *msg,
                                                      double timeout);
ACIO_EXTERN void acio_redis_message_release(acio_redis_message_t *msg);
/* PUBLISH: *receivers may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_publish(acio_redis_t *c, const char *channel,
                                                  const void *data, size_t len,
                                                  long long *receivers);

/* ---- pool (aioredis's ConnectionsPool) ---- */

typedef struct acio_redis_pool_s acio_redis_pool_t;
typedef struct {
    size_t minsize;         /* connections opened by pool_new: default 1 */
    size_t maxsize;         /* at most this many at once: default 10 */
    double acquire_timeout; /* <= 0: wait forever */
} acio_redis_pool_opts_t;

/* Open minsize connections. Coroutine. Errors: acio_redis_connect's, -EINVAL
 * (minsize > maxsize or maxsize 0). popts may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_pool_new(acio_redis_pool_t **out,
                                                   const acio_redis_opts_t *opts,
                                                   const acio_redis_pool_opts_t *popts);
/* Take a connection (FIFO among waiters). Coroutine. Errors: -ETIMEDOUT, acio_redis_connect's,
 * ACIO_ECLOSED (the pool is closing), -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_pool_acquire(acio_redis_pool_t *p, acio_redis_t **conn);
/* Give it back. A connection that lost its link, is subscribed, is in the middle of a
 * transaction (MULTI or WATCH without EXEC) or still awaits replies is closed instead of
 * being reused. */
ACIO_EXTERN void acio_redis_pool_release(acio_redis_pool_t *p, acio_redis_t *conn);
/* acquire + command + release. Coroutine. */
ACIO_EXTERN ACIO_NODISCARD int acio_redis_pool_command(acio_redis_pool_t *p,
                                                       acio_redis_reply_t **reply, ...);
/* Connections open (idle + in use) and idle. */
ACIO_EXTERN size_t acio_redis_pool_size(const acio_redis_pool_t *p);
ACIO_EXTERN size_t acio_redis_pool_freesize(const acio_redis_pool_t *p);
/* Close every idle connection now and each used one when it is released; waiters get
 * ACIO_ECLOSED. Frees the pool once the last connection is back. */
ACIO_EXTERN void acio_redis_pool_close(acio_redis_pool_t *p);

#endif
