/* getaddrinfo / getnameinfo that never block the loop.
 *
 * Numeric hosts and ports (and NULL hosts) are resolved right away in the calling task:
 * getaddrinfo with AI_NUMERICHOST | AI_NUMERICSERV never touches the network or a file.
 * Everything else goes to a small pool of resolver threads (at most RESOLVER_THREADS,
 * started on demand), which call the libc functions and hand the answer back with
 * acio_loop_call_soon_threadsafe, as asyncio does with its default executor. Using libc
 * keeps /etc/hosts, nsswitch.conf and the system's resolver configuration working
 * exactly as every other program on the machine sees them; docs/net.md explains why this
 * was chosen over an asynchronous DNS library.
 *
 * A lookup cannot be interrupted inside libc, so a timeout or a cancellation abandons
 * it: the waiting task returns at once, and the thread frees the answer when it
 * arrives. The request is shared by the task and the thread through a reference count;
 * only the loop thread ever touches the future. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "net/fdwait.h"

#define RESOLVER_THREADS 4
#define TIMEDOUT         ((void *)2)

typedef struct dns_req_s {
    struct dns_req_s *next; /* in the pool's queue */
    int refs;               /* atomic: the task's and the thread's */
    acio_loop_t *loop;
    acio_future_t *fut; /* borrowed; NULL once the task stopped waiting (loop thread only) */
    bool is_gni;
    /* getaddrinfo */
    char *host, *port;
    struct addrinfo hints;
    bool has_hints;
    struct addrinfo *res;
    /* getnameinfo */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int ni_flags;
    char ni_host[NI_MAXHOST], ni_serv[NI_MAXSERV];
    bool want_host, want_serv;
    /* result */
    int eai, saved_errno;
} dns_req_t;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static dns_req_t *queue_head, *queue_tail;
static int pool_threads, pool_idle;

static void req_unref(dns_req_t *r)
{
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    if (r->res)
        freeaddrinfo(r->res);
    acio__free(r->host);
    acio__free(r->port);
    acio__free(r);
}

/* On the loop thread: the answer is in. */
static void done_cb(void *arg)
{
    dns_req_t *r = arg;
    if (r->fut && !acio_future_done(r->fut))
        acio_future_set_result(r->fut, NULL);
    req_unref(r);
}

static void run_lookup(dns_req_t *r)
{
    errno = 0;
    if (r->is_gni) {
        r->eai =
            getnameinfo((struct sockaddr *)&r->addr, r->addrlen, r->want_host ? r->ni_host : NULL,
                        r->want_host ? NI_MAXHOST : 0, r->want_serv ? r->ni_serv : NULL,
                        r->want_serv ? NI_MAXSERV : 0, r->ni_flags);
    } else {
        r->eai = getaddrinfo(r->host, r->port, r->has_hints ? &r->hints : NULL, &r->res);
    }
    r->saved_errno = errno;
}

static void *worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool_mu);
    for (;;) {
        while (!queue_head) {
            pool_idle++;
            pthread_cond_wait(&pool_cv, &pool_mu);
            pool_idle--;
        }
        dns_req_t *r = queue_head;
        queue_head = r->next;
        if (!queue_head)
            queue_tail = NULL;
        pthread_mutex_unlock(&pool_mu);
        run_lookup(r);
        /* If the loop is gone there is nobody to tell: just drop our reference. */
        if (acio_loop_call_soon_threadsafe(r->loop, done_cb, r) < 0)
            req_unref(r);
        pthread_mutex_lock(&pool_mu);
    }
    return NULL;
}

static int submit(dns_req_t *r)
{
    int rc = 0;
    pthread_mutex_lock(&pool_mu);
    r->next = NULL;
    if (queue_tail)
        queue_tail->next = r;
    else
        queue_head = r;
    queue_tail = r;
    if (pool_idle == 0 && pool_threads < RESOLVER_THREADS) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_t th;
        int e = pthread_create(&th, &attr, worker, NULL);
        pthread_attr_destroy(&attr);
        if (e == 0) {
            pool_threads++;
        } else if (pool_threads == 0) {
            /* No thread at all can run it: take the request back. */
            queue_head = queue_tail = NULL;
            rc = -e;
        }
    } else {
        pthread_cond_signal(&pool_cv);
    }
    pthread_mutex_unlock(&pool_mu);
    return rc;
}

static void timer_cb(void *arg)
{
    dns_req_t *r = arg;
    if (r->fut && !acio_future_done(r->fut))
        acio_future_set_result(r->fut, TIMEDOUT);
}

/* Submit r and wait for it. Returns 0 when the answer is in r, or a negative code
 * (the request is then abandoned). Consumes the task's reference on error. */
static int resolve_on_thread(acio_loop_t *loop, dns_req_t *r, double timeout)
{
    acio_future_t *fut;
    int rc = acio_future_new(loop, &fut);
    if (rc < 0)
        goto fail;
    acio_future_set_label(fut, r->is_gni ? "getnameinfo" : "getaddrinfo");
    r->fut = fut;
    r->loop = loop;
    /* The timer first: once submitted, the request cannot be taken back, and without its
     * timer the wait would have no limit. */
    acio_handle_t *timer = NULL;
    if (timeout > 0 && (rc = acio_loop_call_later(loop, timeout, timer_cb, r, &timer)) < 0) {
        r->fut = NULL;
        acio_future_unref(fut);
        goto fail;
    }
    r->refs = 2;
    rc = submit(r);
    if (rc < 0) {
        r->refs = 1;
        r->fut = NULL;
        if (timer) {
            acio_handle_cancel(timer);
            acio_handle_unref(timer);
        }
        acio_future_unref(fut);
        goto fail;
    }
    void *res = NULL;
    rc = acio_await(fut, &res);
    if (rc == 0 && res == TIMEDOUT)
        rc = -ETIMEDOUT;
    if (timer) {
        acio_handle_cancel(timer);
        acio_handle_unref(timer);
    }
    r->fut = NULL;
    acio_future_unref(fut);
    if (rc == 0)
        return 0;
fail:
    req_unref(r);
    return rc;
}

static bool is_numeric_port(const char *port)
{
    if (!port)
        return true;
    if (!*port)
        return false;
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

int acio_loop_getaddrinfo(acio_loop_t *loop, const char *host, const char *port,
                          const struct addrinfo *hints, struct addrinfo **res, double timeout)
{
    if (!res || (!host && !port))
        return -EINVAL;
    *res = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    /* The fast path: nothing to look up. */
    if (is_numeric_port(port)) {
        struct addrinfo h;
        if (hints)
            h = *hints;
        else {
            memset(&h, 0, sizeof(h));
            h.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG;
        }
        h.ai_flags |= AI_NUMERICHOST | (port ? AI_NUMERICSERV : 0);
        int e = getaddrinfo(host, port, &h, res);
        if (e == 0)
            return 0;
        if (e != EAI_NONAME || !host || (hints && (hints->ai_flags & AI_NUMERICHOST)))
            return acio__gai_error(e, errno);
    }
    dns_req_t *r = acio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->refs = 1;
    if ((host && !(r->host = acio__strdup(host))) || (port && !(r->port = acio__strdup(port)))) {
        req_unref(r);
        return -ENOMEM;
    }
    if (hints) {
        r->hints = *hints;
        r->hints.ai_addr = NULL;
        r->hints.ai_canonname = NULL;
        r->hints.ai_next = NULL;
        r->has_hints = true;
    }
    rc = resolve_on_thread(loop, r, timeout);
    if (rc < 0)
        return rc;
    rc = acio__gai_error(r->eai, r->saved_errno);
    if (rc == 0) {
        *res = r->res;
        r->res = NULL;
    }
    req_unref(r);
    return rc;
}

static int copy_out(char *dst, size_t cap, const char *src)
{
    if (!dst)
        return 0;
    size_t n = strlen(src);
    if (n + 1 > cap)
        return -ENAMETOOLONG;
    memcpy(dst, src, n + 1);
    return 0;
}

int acio_loop_getnameinfo(acio_loop_t *loop, const struct sockaddr *addr, socklen_t addrlen,
                          char *host, size_t hostlen, char *serv, size_t servlen, int flags,
                          double timeout)
{
    if (!addr || addrlen == 0 || addrlen > sizeof(struct sockaddr_storage) || (!host && !serv))
        return -EINVAL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if ((flags & NI_NUMERICHOST || !host) && (flags & NI_NUMERICSERV || !serv)) {
        int e = getnameinfo(addr, addrlen, host, host ? (socklen_t)hostlen : 0, serv,
                            serv ? (socklen_t)servlen : 0, flags);
        return acio__gai_error(e, errno);
    }
    dns_req_t *r = acio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->refs = 1;
    r->is_gni = true;
    memcpy(&r->addr, addr, addrlen);
    r->addrlen = addrlen;
    r->ni_flags = flags;
    r->want_host = host != NULL;
    r->want_serv = serv != NULL;
    rc = resolve_on_thread(loop, r, timeout);
    if (rc < 0)
        return rc;
    rc = acio__gai_error(r->eai, r->saved_errno);
    if (rc == 0)
        rc = copy_out(host, hostlen, r->ni_host);
    if (rc == 0)
        rc = copy_out(serv, servlen, r->ni_serv);
    req_unref(r);
    return rc;
}
