/* The session's connection pool: a slot per connection counted against the total limit
 * and its host's limit, idle connections kept per host (most recently used first) until
 * they expire, and the requests waiting for a slot served in the order they arrived.
 *
 * Slots and connections are handed straight to a waiter (never put back up for grabs),
 * so a request that arrives later cannot overtake one that waits. A waiter that gives up
 * (timeout, cancellation) after being handed something gives it back. Every path that
 * ends a connection goes through hc_pool_release or hc_pool_idle_died, which free the
 * slot and serve the next waiter. */
#include <string.h>

#include "http/client_int.h"

static size_t hash_key(const char *k)
{
    size_t h = 5381;
    for (; *k; k++)
        h = h * 33 + (unsigned char)*k;
    return h % HC_HOST_BUCKETS;
}

static hc_host_t *host_get(acio_http_session_t *s, const char *key)
{
    size_t b = hash_key(key);
    for (hc_host_t *h = s->hosts[b]; h; h = h->next)
        if (strcmp(h->key, key) == 0)
            return h;
    hc_host_t *h = acio__calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->key = acio__strdup(key);
    if (!h->key) {
        acio__free(h);
        return NULL;
    }
    h->next = s->hosts[b];
    s->hosts[b] = h;
    return h;
}

/* Forget a host nobody uses (no connection, no waiter). */
static void host_maybe_free(acio_http_session_t *s, hc_host_t *h)
{
    if (h->count || h->refs || h->idle)
        return;
    hc_host_t **pp = &s->hosts[hash_key(h->key)];
    while (*pp && *pp != h)
        pp = &(*pp)->next;
    if (*pp)
        *pp = h->next;
    acio__free(h->key);
    acio__free(h);
}

static bool host_has_room(acio_http_session_t *s, hc_host_t *h)
{
    return s->o.limit_per_host == 0 || h->count < s->o.limit_per_host;
}

/* ---- idle lists ---- */

static void idle_push(hc_conn_t *c)
{
    hc_host_t *h = c->host;
    c->state = HC_CONN_IDLE;
    c->prev = NULL;
    c->next = h->idle;
    if (h->idle)
        h->idle->prev = c;
    h->idle = c;
    c->s->nidle++;
}

static void idle_remove(hc_conn_t *c)
{
    hc_host_t *h = c->host;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->idle = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->state = HC_CONN_BUSY;
    c->s->nidle--;
}

/* Close c (off every list already) and free its slot. */
static void drop(hc_conn_t *c)
{
    acio_http_session_t *s = c->s;
    hc_host_t *h = c->host;
    hc_conn_destroy(c);
    s->count--;
    h->count--;
    host_maybe_free(s, h);
}

/* A live idle connection of h, or NULL; dead ones found on the way are closed. */
static hc_conn_t *take_idle(acio_http_session_t *s, hc_host_t *h)
{
    double now = acio_loop_time(s->loop);
    while (h->idle) {
        hc_conn_t *c = h->idle;
        idle_remove(c);
        if (c->idle_until > now && hc_conn_alive(c))
            return c;
        c->state = HC_CONN_IDLE; /* closed politely: it finished its exchanges */
        h->refs++;
        drop(c);
        h->refs--;
    }
    return NULL;
}

/* The least recently used idle connection of any host but not_h, for making room. */
static hc_conn_t *oldest_idle(acio_http_session_t *s)
{
    hc_conn_t *best = NULL;
    for (hc_conn_t *c = s->all; c; c = c->all_next)
        if (c->state == HC_CONN_IDLE && (!best || c->idle_until < best->idle_until))
            best = c;
    return best;
}

/* ---- waiters ---- */

static void waiter_unlink(acio_http_session_t *s, hc_waiter_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else if (s->wait_head == w)
        s->wait_head = w->next;
    else
        return; /* not linked */
    if (w->next)
        w->next->prev = w->prev;
    else
        s->wait_tail = w->prev;
    w->prev = w->next = NULL;
}

static void waiter_wake(acio_http_session_t *s, hc_waiter_t *w)
{
    waiter_unlink(s, w);
    if (!acio_future_done(w->fut))
        acio_future_set_result(w->fut, NULL);
}

/* Serve the waiters in order with whatever is free. */
static void dispatch(acio_http_session_t *s)
{
    hc_waiter_t *w = s->wait_head;
    while (w) {
        hc_waiter_t *next = w->next;
        hc_host_t *h = w->host;
        if (acio_future_done(w->fut)) { /* timed out; its task unlinks it */
            w = next;
            continue;
        }
        hc_conn_t *c = take_idle(s, h);
        if (c) {
            w->conn = c;
            waiter_wake(s, w);
        } else if (host_has_room(s, h)) {
            if (s->count >= s->o.limit) {
                hc_conn_t *victim = oldest_idle(s);
                if (!victim)
                    break; /* the total limit binds every later waiter too */
                idle_remove(victim);
                victim->state = HC_CONN_IDLE;
                drop(victim);
            }
            s->count++;
            h->count++;
            w->slot = true;
            waiter_wake(s, w);
        }
        w = next;
    }
}

/* ---- idle expiry ---- */

static void arm_cleanup(acio_http_session_t *s);

static void cleanup_fire(void *data)
{
    acio_http_session_t *s = data;
    acio_handle_unref(s->cleanup);
    s->cleanup = NULL;
    s->cleanup_at = 0;
    double now = acio_loop_time(s->loop);
    hc_conn_t *c = s->all;
    while (c) {
        hc_conn_t *next = c->all_next;
        if (c->state == HC_CONN_IDLE && c->idle_until <= now) {
            idle_remove(c);
            c->state = HC_CONN_IDLE;
            drop(c);
        }
        c = next;
    }
    arm_cleanup(s);
    dispatch(s);
}

/* Arm the expiry timer for when, unless it is armed for an earlier time already (it
 * fires for the earliest expiry; cleanup_fire rescans and re-arms). */
static void arm_cleanup_at(acio_http_session_t *s, double when)
{
    if ((s->cleanup && s->cleanup_at <= when) || s->closed || s->loop_gone)
        return;
    if (s->cleanup) { /* a server's Keep-Alive timeout made this one expire sooner */
        acio_handle_cancel(s->cleanup);
        acio_handle_unref(s->cleanup);
        s->cleanup = NULL;
    }
    if (acio_loop_call_at(s->loop, when, cleanup_fire, s, &s->cleanup) == 0)
        s->cleanup_at = when;
}

static void arm_cleanup(acio_http_session_t *s)
{
    double when = 0;
    for (hc_conn_t *c = s->all; c; c = c->all_next)
        if (c->state == HC_CONN_IDLE && (when == 0 || c->idle_until < when))
            when = c->idle_until;
    if (when > 0)
        arm_cleanup_at(s, when);
}

/* ---- the interface ---- */

int hc_pool_acquire(acio_http_session_t *s, const acio_url_t *url, const acio_url_t *proxy,
                    const char *key, bool fresh, const hc_deadline_t *dl, hc_conn_t **out)
{
    if (s->closed || s->loop_gone)
        return ACIO_EHTTP_SESSION_CLOSED;
    hc_host_t *h = host_get(s, key);
    if (!h)
        return -ENOMEM;
    if (fresh) {
        /* The server dropped a kept-alive connection: its other idle ones are suspect. */
        while (h->idle) {
            hc_conn_t *c = h->idle;
            idle_remove(c);
            c->state = HC_CONN_IDLE;
            h->refs++;
            drop(c);
            h->refs--;
        }
    }
    hc_conn_t *c = NULL;
    bool slot = false;
    if (!s->wait_head) { /* nobody queued before us */
        c = take_idle(s, h);
        if (!c && host_has_room(s, h)) {
            if (s->count >= s->o.limit) {
                hc_conn_t *victim = oldest_idle(s);
                if (victim) {
                    idle_remove(victim);
                    victim->state = HC_CONN_IDLE;
                    drop(victim);
                }
            }
            if (s->count < s->o.limit) {
                s->count++;
                h->count++;
                slot = true;
            }
        }
    }
    if (!c && !slot) {
        hc_waiter_t w = {0};
        w.host = h;
        int rc = acio_future_new(s->loop, &w.fut);
        if (rc < 0) {
            host_maybe_free(s, h);
            return rc;
        }
        acio_future_set_label(w.fut, "http pool");
        h->refs++;
        w.prev = s->wait_tail;
        if (s->wait_tail)
            s->wait_tail->next = &w;
        else
            s->wait_head = &w;
        s->wait_tail = &w;
        dispatch(s); /* serves us now if anything is free for our host */
        rc = hc_await(s->loop, w.fut, dl->connect, ACIO_EHTTP_POOL_TIMEOUT, dl->total);
        waiter_unlink(s, &w);
        acio_future_unref(w.fut);
        h->refs--;
        if (rc < 0 || s->closed || s->loop_gone) {
            if (rc >= 0)
                rc = ACIO_EHTTP_SESSION_CLOSED;
            /* Give back what we were handed. */
            if (w.conn)
                hc_pool_release(w.conn, true);
            else if (w.slot) {
                s->count--;
                h->count--;
                dispatch(s);
            }
            host_maybe_free(s, h);
            return rc;
        }
        c = w.conn;
        slot = w.slot;
        if (!c && !slot) /* cannot happen: woken without a grant */
            return -EAGAIN;
    }
    if (c) {
        c->state = HC_CONN_BUSY;
        *out = c;
        return 0;
    }
    int rc = hc_conn_open(s, h, url, proxy, dl, &c);
    if (rc < 0) {
        s->count--;
        h->count--;
        dispatch(s);
        host_maybe_free(s, h);
        return rc;
    }
    *out = c;
    return 0;
}

void hc_pool_release(hc_conn_t *c, bool reusable)
{
    acio_http_session_t *s = c->s;
    if (!reusable || s->closed || s->loop_gone || s->keepalive < 0 || c->eof || c->lost ||
        c->start != c->end || c->waiter) {
        drop(c);
        dispatch(s);
        return;
    }
    double ka = s->keepalive;
    if (c->keepalive > 0 && c->keepalive < ka)
        ka = c->keepalive;
    /* A little before the server's own expiry, so we never race its close. */
    c->idle_until = acio_loop_time(s->loop) + (c->keepalive > 0 ? ka * 0.9 : ka);
    c->served++;
    c->start = c->end = 0;
    idle_push(c);
    dispatch(s);
    if (c->state == HC_CONN_IDLE)
        arm_cleanup_at(s, c->idle_until);
}

void hc_pool_idle_died(hc_conn_t *c)
{
    acio_http_session_t *s = c->s;
    idle_remove(c);
    c->state = HC_CONN_BUSY; /* aborted: it may have unread bytes */
    drop(c);
    dispatch(s);
}

void hc_pool_close_all(acio_http_session_t *s, int code)
{
    (void)code;
    if (s->cleanup) {
        acio_handle_cancel(s->cleanup);
        acio_handle_unref(s->cleanup);
        s->cleanup = NULL;
    }
    /* Waiters: wake them; they see the session closed and give up. */
    while (s->wait_head) {
        hc_waiter_t *w = s->wait_head;
        waiter_wake(s, w);
    }
    /* Idle connections go now; busy ones belong to responses, which are detached by the
     * session (and connecting ones to their tasks, which drop them when they resume). */
    hc_conn_t *c = s->all;
    while (c) {
        hc_conn_t *next = c->all_next;
        if (c->state == HC_CONN_IDLE) {
            idle_remove(c);
            c->state = HC_CONN_IDLE;
            drop(c);
        }
        c = next;
    }
}

void hc_pool_free(acio_http_session_t *s)
{
    for (size_t b = 0; b < HC_HOST_BUCKETS; b++) {
        hc_host_t *h = s->hosts[b];
        while (h) {
            hc_host_t *next = h->next;
            acio__free(h->key);
            acio__free(h);
            h = next;
        }
        s->hosts[b] = NULL;
    }
}
