/* Pub/sub: (P|S)SUBSCRIBE and their UNSUBSCRIBEs, and messages as an async iterator.
 *
 * The server confirms each channel separately, so a SUBSCRIBE of n channels is one
 * command that completes after n confirmations. Each confirmation carries the number of
 * subscriptions left (channels + patterns; shard channels are counted apart), from which
 * the connection knows exactly how many of each kind it holds without keeping names.
 * Messages arrive as RESP2 arrays while subscribed, or as RESP3 pushes at any time; they
 * wait in a queue until the iterator takes them, so none is lost while the reading task
 * is busy (the queue is unbounded, as redis-py's is). */
#include <string.h>

#include "redis_int.h"

static bool is_kind(const acio_redis_reply_t *r, const char *word)
{
    return (r->type == ACIO_REDIS_REPLY_STRING || r->type == ACIO_REDIS_REPLY_STATUS) &&
           acio__redis_word_eq(r->str, r->len, word);
}

static void wake_waiter(acio_redis_t *c, int code)
{
    acio_future_t *w = c->msg_waiter;
    if (!w)
        return;
    c->msg_waiter = NULL;
    if (!acio_future_done(w)) {
        if (code)
            acio_future_set_error(w, code, "%s", acio_strerror(code));
        else
            acio_future_set_result(w, NULL);
    }
    acio_future_unref(w);
}

bool acio__redis_pubsub_dispatch(acio_redis_t *c, acio_redis_reply_t *reply)
{
    if ((reply->type != ACIO_REDIS_REPLY_ARRAY && reply->type != ACIO_REDIS_REPLY_PUSH) ||
        reply->elements < 3)
        return false;
    const acio_redis_reply_t *k = reply->element[0];
    if (is_kind(k, "message") || is_kind(k, "smessage") ||
        (is_kind(k, "pmessage") && reply->elements >= 4)) {
        acio__redis_msg_t *m = acio__malloc(sizeof(*m));
        if (!m) {
            acio__redis_set_error(c, "out of memory: a pub/sub message was dropped");
            acio_redis_reply_free(reply);
            return true;
        }
        m->next = NULL;
        m->reply = reply;
        if (c->msg_tail)
            c->msg_tail->next = m;
        else
            c->msg_head = m;
        c->msg_tail = m;
        wake_waiter(c, 0);
        return true;
    }
    static const char *const confirms[] = {"subscribe",   "psubscribe",   "ssubscribe",
                                           "unsubscribe", "punsubscribe", "sunsubscribe"};
    int which = -1;
    for (int i = 0; i < 6; i++)
        if (is_kind(k, confirms[i]))
            which = i;
    if (which < 0 || reply->element[2]->type != ACIO_REDIS_REPLY_INTEGER)
        return false;
    size_t total = (size_t)(reply->element[2]->integer < 0 ? 0 : reply->element[2]->integer);
    switch (which % 3) {
    case 0:
        c->nchannels = total > c->npatterns ? total - c->npatterns : 0;
        break;
    case 1:
        c->npatterns = total > c->nchannels ? total - c->nchannels : 0;
        break;
    default:
        c->nshards = total;
        break;
    }
    c->subscribed = c->nchannels + c->npatterns + c->nshards > 0;
    acio__redis_cmd_t *cmd = c->head;
    if (cmd && cmd->expect > 0 && --cmd->expect == 0) {
        c->head = cmd->next;
        if (!c->head)
            c->tail = NULL;
        c->npending--;
        /* The last confirmation is the command's reply. */
        if (cmd->abandoned || acio_future_done(cmd->fut)) {
            acio_redis_reply_free(reply);
        } else {
            cmd->reply = reply;
            acio_future_set_result(cmd->fut, reply);
        }
        acio__redis_cmd_unref(cmd);
    } else {
        acio_redis_reply_free(reply);
    }
    if (!c->subscribed)
        wake_waiter(c, 0); /* the iterator ends */
    return true;
}

void acio__redis_pubsub_fail(acio_redis_t *c, int code)
{
    wake_waiter(c, code);
}

static int sub_cmd(acio_redis_t *c, const char *verb, const char *const *names, size_t n,
                   size_t expect, bool subscribing)
{
    if (!c || (n && !names) || n > 100000)
        return -EINVAL;
    const char **argv = acio__malloc((n + 1) * sizeof(*argv));
    if (!argv)
        return -ENOMEM;
    argv[0] = verb;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = names[i];
    acio__redis_cmd_t *cmd;
    int rc = acio__redis_submit(c, (int)n + 1, argv, NULL, (int)expect, &cmd);
    acio__free(argv);
    if (rc < 0)
        return rc;
    if (subscribing)
        c->subscribed = true; /* from now on a RESP2 connection only takes pub/sub */
    acio_redis_reply_t *reply = NULL;
    rc = acio__redis_wait(c, cmd, &reply);
    acio_redis_reply_free(reply);
    return rc;
}

int acio_redis_subscribe(acio_redis_t *c, const char *const *channels, size_t n)
{
    return n ? sub_cmd(c, "SUBSCRIBE", channels, n, n, true) : -EINVAL;
}

int acio_redis_psubscribe(acio_redis_t *c, const char *const *patterns, size_t n)
{
    return n ? sub_cmd(c, "PSUBSCRIBE", patterns, n, n, true) : -EINVAL;
}

int acio_redis_ssubscribe(acio_redis_t *c, const char *const *channels, size_t n)
{
    return n ? sub_cmd(c, "SSUBSCRIBE", channels, n, n, true) : -EINVAL;
}

int acio_redis_unsubscribe(acio_redis_t *c, const char *const *channels, size_t n)
{
    if (!c)
        return -EINVAL;
    /* Unsubscribing from all: one confirmation per channel held, or one if none. */
    size_t expect = n ? n : (c->nchannels ? c->nchannels : 1);
    return sub_cmd(c, "UNSUBSCRIBE", channels, n, expect, false);
}

int acio_redis_punsubscribe(acio_redis_t *c, const char *const *patterns, size_t n)
{
    if (!c)
        return -EINVAL;
    size_t expect = n ? n : (c->npatterns ? c->npatterns : 1);
    return sub_cmd(c, "PUNSUBSCRIBE", patterns, n, expect, false);
}

static void fill_message(acio_redis_message_t *msg, acio_redis_reply_t *r)
{
    bool pattern = r->elements >= 4 && is_kind(r->element[0], "pmessage");
    msg->reply = r;
    msg->kind = r->element[0]->str;
    msg->pattern = pattern ? r->element[1]->str : NULL;
    const acio_redis_reply_t *ch = r->element[pattern ? 2 : 1];
    const acio_redis_reply_t *data = r->element[pattern ? 3 : 2];
    msg->channel = ch->str ? ch->str : "";
    msg->data = data->str ? data->str : "";
    msg->data_len = data->str ? data->len : 0;
}

int acio_redis_pubsub_next(acio_redis_t *c, acio_redis_message_t *msg, double timeout)
{
    if (!c || !msg)
        return -EINVAL;
    memset(msg, 0, sizeof(*msg));
    for (;;) {
        acio__redis_msg_t *m = c->msg_head;
        if (m) {
            c->msg_head = m->next;
            if (!c->msg_head)
                c->msg_tail = NULL;
            fill_message(msg, m->reply);
            acio__free(m);
            return 0;
        }
        if (!c->subscribed)
            return c->t || c->closed ? ACIO_ESTOPASYNCITERATION : ACIO_EREDIS_CONNECTION;
        if (c->msg_waiter)
            return -EBUSY;
        int rc = acio_future_new(c->loop, &c->msg_waiter);
        if (rc < 0)
            return rc;
        acio_future_t *w = acio_future_ref(c->msg_waiter);
        rc = timeout > 0 ? acio_wait_for(w, timeout, NULL) : acio_await(w, NULL);
        if (c->msg_waiter == w) {
            c->msg_waiter = NULL;
            acio_future_unref(w);
        }
        acio_future_unref(w);
        if (rc < 0)
            return rc;
    }
}

void acio_redis_message_release(acio_redis_message_t *msg)
{
    if (!msg)
        return;
    acio_redis_reply_free(msg->reply);
    memset(msg, 0, sizeof(*msg));
}

void acio__redis_pubsub_drop_queue(acio_redis_t *c)
{
    acio__redis_msg_t *m = c->msg_head;
    while (m) {
        acio__redis_msg_t *next = m->next;
        acio_redis_reply_free(m->reply);
        acio__free(m);
        m = next;
    }
    c->msg_head = c->msg_tail = NULL;
}
