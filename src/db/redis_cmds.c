/* Typed helpers for the common commands, the SCAN iterator, and explicit pipelines and
 * MULTI/EXEC transactions, all built on the generic command path of redis.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_int.h"

const acio_redis_reply_t *acio_redis_reply_map_get(const acio_redis_reply_t *r, const char *key)
{
    if (!r || !key || (r->type != ACIO_REDIS_REPLY_MAP && r->type != ACIO_REDIS_REPLY_ARRAY))
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const acio_redis_reply_t *k = r->element[i];
        if (k->str && k->len == klen && memcmp(k->str, key, klen) == 0)
            return r->element[i + 1];
    }
    return NULL;
}

/* Run argv and check the reply's type; *out gets the reply when wanted. */
static int run(acio_redis_t *c, int argc, const char *const *argv, const size_t *argvlen,
               acio_redis_reply_type_t want, acio_redis_reply_t **out)
{
    acio_redis_reply_t *r = NULL;
    int rc = acio_redis_command_argv(c, &r, argc, argv, argvlen);
    if (rc < 0) {
        acio_redis_reply_free(r);
        return rc;
    }
    if (want && r->type != want && r->type != ACIO_REDIS_REPLY_NIL &&
        !(want == ACIO_REDIS_REPLY_ARRAY &&
          (r->type == ACIO_REDIS_REPLY_MAP || r->type == ACIO_REDIS_REPLY_SET))) {
        acio__redis_set_error(c, "%s answered with reply type %d", argv[0], (int)r->type);
        acio_redis_reply_free(r);
        return ACIO_EREDIS_TYPE;
    }
    if (out)
        *out = r;
    else
        acio_redis_reply_free(r);
    return 0;
}

static int run_int(acio_redis_t *c, int argc, const char *const *argv, const size_t *argvlen,
                   long long *value)
{
    acio_redis_reply_t *r = NULL;
    int rc = run(c, argc, argv, argvlen, ACIO_REDIS_REPLY_INTEGER, &r);
    if (rc == 0 && r->type != ACIO_REDIS_REPLY_INTEGER)
        rc = ACIO_EREDIS_TYPE;
    if (rc == 0 && value)
        *value = r->integer;
    acio_redis_reply_free(r);
    return rc;
}

/* A STRING reply moved into a malloc'd buffer the caller frees. */
static int take_string(acio_redis_reply_t *r, char **value, size_t *len)
{
    *value = NULL;
    if (len)
        *len = 0;
    if (r->type == ACIO_REDIS_REPLY_NIL) {
        acio_redis_reply_free(r);
        return 0;
    }
    char *s = malloc(r->len + 1);
    if (!s) {
        acio_redis_reply_free(r);
        return -ENOMEM;
    }
    memcpy(s, r->str, r->len + 1);
    *value = s;
    if (len)
        *len = r->len;
    acio_redis_reply_free(r);
    return 0;
}

int acio_redis_get(acio_redis_t *c, const char *key, char **value, size_t *len)
{
    if (!key || !value)
        return -EINVAL;
    const char *argv[] = {"GET", key};
    acio_redis_reply_t *r = NULL;
    *value = NULL;
    int rc = run(c, 2, argv, NULL, ACIO_REDIS_REPLY_STRING, &r);
    return rc < 0 ? rc : take_string(r, value, len);
}

int acio_redis_hget(acio_redis_t *c, const char *key, const char *field, char **value, size_t *len)
{
    if (!key || !field || !value)
        return -EINVAL;
    const char *argv[] = {"HGET", key, field};
    acio_redis_reply_t *r = NULL;
    *value = NULL;
    int rc = run(c, 3, argv, NULL, ACIO_REDIS_REPLY_STRING, &r);
    return rc < 0 ? rc : take_string(r, value, len);
}

int acio_redis_set(acio_redis_t *c, const char *key, const void *value, size_t len, long ex)
{
    if (!key || (!value && len))
        return -EINVAL;
    char exs[24];
    const char *argv[5] = {"SET", key, value ? value : "", "EX", exs};
    size_t argvlen[5] = {3, strlen(key), len, 2, 0};
    int argc = 3;
    if (ex > 0) {
        argvlen[4] = (size_t)snprintf(exs, sizeof(exs), "%ld", ex);
        argc = 5;
    }
    return run(c, argc, argv, argvlen, ACIO_REDIS_REPLY_STATUS, NULL);
}

int acio_redis_del(acio_redis_t *c, const char *key, long long *deleted)
{
    const char *argv[] = {"DEL", key};
    return key ? run_int(c, 2, argv, NULL, deleted) : -EINVAL;
}

int acio_redis_incrby(acio_redis_t *c, const char *key, long long by, long long *value)
{
    char n[24];
    snprintf(n, sizeof(n), "%lld", by);
    const char *argv[] = {"INCRBY", key, n};
    return key ? run_int(c, 3, argv, NULL, value) : -EINVAL;
}

int acio_redis_expire(acio_redis_t *c, const char *key, long seconds, bool *set)
{
    char n[24];
    snprintf(n, sizeof(n), "%ld", seconds);
    const char *argv[] = {"EXPIRE", key, n};
    long long v = 0;
    int rc = key ? run_int(c, 3, argv, NULL, &v) : -EINVAL;
    if (rc == 0 && set)
        *set = v == 1;
    return rc;
}

int acio_redis_hset(acio_redis_t *c, const char *key, const char *const *pairs, size_t npairs,
                    long long *added)
{
    if (!key || !pairs || npairs == 0 || npairs > 1000000)
        return -EINVAL;
    const char **argv = acio__malloc((2 + 2 * npairs) * sizeof(*argv));
    if (!argv)
        return -ENOMEM;
    argv[0] = "HSET";
    argv[1] = key;
    for (size_t i = 0; i < 2 * npairs; i++)
        argv[2 + i] = pairs[i];
    int rc = run_int(c, (int)(2 + 2 * npairs), argv, NULL, added);
    acio__free(argv);
    return rc;
}

int acio_redis_hgetall(acio_redis_t *c, const char *key, acio_redis_reply_t **reply)
{
    const char *argv[] = {"HGETALL", key};
    return key && reply ? run(c, 2, argv, NULL, ACIO_REDIS_REPLY_ARRAY, reply) : -EINVAL;
}

int acio_redis_lpush(acio_redis_t *c, const char *key, const char *value, long long *length)
{
    const char *argv[] = {"LPUSH", key, value};
    return key && value ? run_int(c, 3, argv, NULL, length) : -EINVAL;
}

int acio_redis_rpush(acio_redis_t *c, const char *key, const char *value, long long *length)
{
    const char *argv[] = {"RPUSH", key, value};
    return key && value ? run_int(c, 3, argv, NULL, length) : -EINVAL;
}

int acio_redis_lrange(acio_redis_t *c, const char *key, long start, long stop,
                      acio_redis_reply_t **reply)
{
    char a[24], b[24];
    snprintf(a, sizeof(a), "%ld", start);
    snprintf(b, sizeof(b), "%ld", stop);
    const char *argv[] = {"LRANGE", key, a, b};
    return key && reply ? run(c, 4, argv, NULL, ACIO_REDIS_REPLY_ARRAY, reply) : -EINVAL;
}

int acio_redis_sadd(acio_redis_t *c, const char *key, const char *member, long long *added)
{
    const char *argv[] = {"SADD", key, member};
    return key && member ? run_int(c, 3, argv, NULL, added) : -EINVAL;
}

int acio_redis_smembers(acio_redis_t *c, const char *key, acio_redis_reply_t **reply)
{
    const char *argv[] = {"SMEMBERS", key};
    return key && reply ? run(c, 2, argv, NULL, ACIO_REDIS_REPLY_ARRAY, reply) : -EINVAL;
}

int acio_redis_zadd(acio_redis_t *c, const char *key, double score, const char *member,
                    long long *added)
{
    char s[40];
    snprintf(s, sizeof(s), "%.17g", score);
    const char *argv[] = {"ZADD", key, s, member};
    return key && member ? run_int(c, 4, argv, NULL, added) : -EINVAL;
}

int acio_redis_zrange_withscores(acio_redis_t *c, const char *key, long start, long stop,
                                 acio_redis_reply_t **reply)
{
    char a[24], b[24];
    snprintf(a, sizeof(a), "%ld", start);
    snprintf(b, sizeof(b), "%ld", stop);
    const char *argv[] = {"ZRANGE", key, a, b, "WITHSCORES"};
    return key && reply ? run(c, 5, argv, NULL, ACIO_REDIS_REPLY_ARRAY, reply) : -EINVAL;
}

int acio_redis_blpop(acio_redis_t *c, const char *key, double timeout, acio_redis_reply_t **reply)
{
    if (!key || !reply || timeout < 0)
        return -EINVAL;
    char t[40];
    snprintf(t, sizeof(t), "%.6f", timeout);
    const char *argv[] = {"BLPOP", key, t};
    *reply = NULL;
    acio_redis_reply_t *r = NULL;
    int rc = run(c, 3, argv, NULL, ACIO_REDIS_REPLY_ARRAY, &r);
    if (rc < 0)
        return rc;
    if (r->type == ACIO_REDIS_REPLY_NIL)
        acio_redis_reply_free(r);
    else
        *reply = r;
    return 0;
}

int acio_redis_publish(acio_redis_t *c, const char *channel, const void *data, size_t len,
                       long long *receivers)
{
    if (!channel || (!data && len))
        return -EINVAL;
    const char *argv[] = {"PUBLISH", channel, data ? data : ""};
    size_t argvlen[] = {7, strlen(channel), len};
    return run_int(c, 3, argv, argvlen, receivers);
}

/* ---- SCAN ---- */

struct acio_redis_scan_s {
    acio_redis_t *c;
    char cursor[32];
    char *pattern, *type;
    char count[24];
    acio_redis_reply_t *batch; /* [cursor, [keys...]] */
    size_t next;
    bool finished;
};

int acio_redis_scan_new(acio_redis_scan_t **out, acio_redis_t *c, const char *pattern, long count,
                        const char *type)
{
    if (!out || !c)
        return -EINVAL;
    acio_redis_scan_t *s = acio__calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->c = c;
    strcpy(s->cursor, "0");
    if (count > 0)
        snprintf(s->count, sizeof(s->count), "%ld", count);
    if ((pattern && !(s->pattern = acio__strdup(pattern))) ||
        (type && !(s->type = acio__strdup(type)))) {
        acio_redis_scan_free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

int acio_redis_scan_next(acio_redis_scan_t *s, const char **key, size_t *len)
{
    if (!s || !key)
        return -EINVAL;
    for (;;) {
        if (s->batch) {
            const acio_redis_reply_t *keys = s->batch->element[1];
            if (s->next < keys->elements) {
                const acio_redis_reply_t *k = keys->element[s->next++];
                *key = k->str ? k->str : "";
                if (len)
                    *len = k->str ? k->len : 0;
                return 1;
            }
            acio_redis_reply_free(s->batch);
            s->batch = NULL;
        }
        if (s->finished)
            return 0;
        const char *argv[8] = {"SCAN", s->cursor};
        int argc = 2;
        if (s->pattern) {
            argv[argc++] = "MATCH";
            argv[argc++] = s->pattern;
        }
        if (s->count[0]) {
            argv[argc++] = "COUNT";
            argv[argc++] = s->count;
        }
        if (s->type) {
            argv[argc++] = "TYPE";
            argv[argc++] = s->type;
        }
        acio_redis_reply_t *r = NULL;
        int rc = run(s->c, argc, argv, NULL, ACIO_REDIS_REPLY_ARRAY, &r);
        if (rc < 0)
            return rc;
        if (r->type != ACIO_REDIS_REPLY_ARRAY || r->elements != 2 || !r->element[0]->str ||
            r->element[0]->len >= sizeof(s->cursor) ||
            (r->element[1]->type != ACIO_REDIS_REPLY_ARRAY &&
             r->element[1]->type != ACIO_REDIS_REPLY_SET)) {
            acio_redis_reply_free(r);
            return ACIO_EREDIS_TYPE;
        }
        memcpy(s->cursor, r->element[0]->str, r->element[0]->len + 1);
        s->finished = strcmp(s->cursor, "0") == 0;
        s->batch = r;
        s->next = 0;
    }
}

void acio_redis_scan_free(acio_redis_scan_t *s)
{
    if (!s)
        return;
    acio_redis_reply_free(s->batch);
    acio__free(s->pattern);
    acio__free(s->type);
    acio__free(s);
}

/* ---- pipelines and transactions ---- */

typedef struct {
    int argc;
    char **argv;
    size_t *argvlen;
} queued_t;

struct acio_redis_pipeline_s {
    acio_redis_t *c;
    bool transaction;
    queued_t *cmds;
    size_t n, cap;
};

int acio_redis_pipeline_new(acio_redis_pipeline_t **out, acio_redis_t *c, bool transaction)
{
    if (!out || !c)
        return -EINVAL;
    acio_redis_pipeline_t *p = acio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->c = c;
    p->transaction = transaction;
    *out = p;
    return 0;
}

static void queued_free(queued_t *q)
{
    acio__free(q->argv); /* one block: pointers, lengths and bytes */
}

int acio_redis_pipeline_add_argv(acio_redis_pipeline_t *p, int argc, const char *const *argv,
                                 const size_t *argvlen)
{
    if (!p || argc < 1 || !argv)
        return -EINVAL;
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        queued_t *nc = acio__realloc(p->cmds, ncap * sizeof(*nc));
        if (!nc)
            return -ENOMEM;
        p->cmds = nc;
        p->cap = ncap;
    }
    size_t bytes = 0;
    for (int i = 0; i < argc; i++)
        bytes += (argvlen ? argvlen[i] : strlen(argv[i])) + 1;
    size_t head = (size_t)argc * (sizeof(char *) + sizeof(size_t));
    char *block = acio__malloc(head + bytes);
    if (!block)
        return -ENOMEM;
    queued_t *q = &p->cmds[p->n];
    q->argc = argc;
    q->argv = (char **)block;
    q->argvlen = (size_t *)(block + (size_t)argc * sizeof(char *));
    char *d = block + head;
    for (int i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        memcpy(d, argv[i], n);
        d[n] = '\0';
        q->argv[i] = d;
        q->argvlen[i] = n;
        d += n + 1;
    }
    p->n++;
    return 0;
}

int acio_redis_pipeline_add(acio_redis_pipeline_t *p, ...)
{
    const char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, p);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        if (argc == 64) {
            va_end(ap);
            return -E2BIG;
        }
        argv[argc++] = a;
    }
    va_end(ap);
    return acio_redis_pipeline_add_argv(p, argc, argv, NULL);
}

static acio_redis_reply_t *array_of(size_t n)
{
    acio_redis_reply_t *a = acio__calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->type = ACIO_REDIS_REPLY_ARRAY;
    if (n) {
        a->element = acio__calloc(n, sizeof(*a->element));
        if (!a->element) {
            acio__free(a);
            return NULL;
        }
    }
    return a;
}

int acio_redis_pipeline_execute(acio_redis_pipeline_t *p, acio_redis_reply_t **replies)
{
    if (replies)
        *replies = NULL;
    if (!p)
        return -EINVAL;
    acio_redis_t *c = p->c;
    size_t total = p->n + (p->transaction ? 2 : 0);
    if (total == 0) {
        if (replies && !(*replies = array_of(0)))
            return -ENOMEM;
        return 0;
    }
    int rc = acio__redis_ensure_connected(c);
    if (rc < 0)
        return rc;
    acio__redis_cmd_t **cmds = acio__calloc(total, sizeof(*cmds));
    if (!cmds)
        return -ENOMEM;
    /* Everything is queued in this one step of the task, so the whole block is written
     * together and no other task's command can land inside the transaction. */
    size_t queued = 0;
    static const char *const multi[] = {"MULTI"}, *const exec[] = {"EXEC"};
    for (size_t i = 0; i < total && rc == 0; i++) {
        if (p->transaction && i == 0)
            rc = acio__redis_submit(c, 1, multi, NULL, 1, &cmds[i]);
        else if (p->transaction && i == total - 1)
            rc = acio__redis_submit(c, 1, exec, NULL, 1, &cmds[i]);
        else {
            queued_t *q = &p->cmds[i - (p->transaction ? 1 : 0)];
            rc = acio__redis_submit(c, q->argc, (const char *const *)q->argv, q->argvlen, 1,
                                    &cmds[i]);
        }
        if (rc == 0)
            queued++;
    }
    if (rc < 0 && queued && p->transaction) {
        /* MULTI went out but not EXEC: end the transaction rather than leave it open. */
        static const char *const discard[] = {"DISCARD"};
        acio__redis_cmd_t *d;
        if (acio__redis_submit(c, 1, discard, NULL, 1, &d) == 0) {
            d->abandoned = true;
            acio__redis_cmd_unref(d);
        }
    }
    /* Wait for the last one: replies come in order, so all came before it. */
    acio_redis_reply_t *last = NULL;
    if (rc == 0) {
        acio__redis_cmd_t *lastcmd = cmds[total - 1];
        cmds[total - 1] = NULL;
        rc = acio__redis_wait(c, lastcmd, &last);
        if (rc == ACIO_EREDIS_REPLY && !p->transaction)
            rc = 0; /* a failed command in a plain pipeline is one reply among others */
    }
    acio_redis_reply_t *out = NULL;
    if (p->transaction) {
        if (rc == 0 && last->type == ACIO_REDIS_REPLY_NIL)
            rc = ACIO_EREDIS_WATCH;
        else if (rc == 0 || rc == ACIO_EREDIS_REPLY)
            out = last, last = NULL; /* EXEC's results, or its EXECABORT error */
    } else if (rc == 0) {
        out = array_of(total);
        if (!out)
            rc = -ENOMEM;
        for (size_t i = 0; out && i + 1 < total; i++) {
            out->element[out->elements++] = cmds[i]->reply;
            cmds[i]->reply = NULL;
        }
        if (out) {
            out->element[out->elements++] = last;
            last = NULL;
        }
    }
    acio_redis_reply_free(last);
    for (size_t i = 0; i < total; i++) {
        if (cmds[i]) {
            cmds[i]->abandoned = true;
            acio__redis_cmd_unref(cmds[i]);
        }
    }
    acio__free(cmds);
    if (replies)
        *replies = out;
    else
        acio_redis_reply_free(out);
    /* The queue is emptied, as redis-py's pipeline resets after execute. */
    for (size_t i = 0; i < p->n; i++)
        queued_free(&p->cmds[i]);
    p->n = 0;
    return rc;
}

void acio_redis_pipeline_free(acio_redis_pipeline_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        queued_free(&p->cmds[i]);
    acio__free(p->cmds);
    acio__free(p);
}
