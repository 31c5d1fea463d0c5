/* The per-loop registry of open transports, servers and child processes (registry.h),
 * and the loop-closing hook that aborts whatever is still on it.
 *
 * asyncio leaves objects that are open when their loop closes to the garbage collector,
 * whose finalizers close the sockets without calling connection_lost. C has no
 * collector: without this hook the fds would stay open, and a later close() on such an
 * object would schedule callbacks on a loop that no longer runs. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "loop.h"
#include "net/registry.h"

typedef struct acio__net_reg_s {
    struct acio__net_reg_s *next;
    acio_loop_t *loop;
    acio__net_node_t head; /* circular list sentinel */
} reg_t;

/* Objects of different loops may be created on different threads at once. The lock is
 * only taken when an object opens or ends, never on the I/O path. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static reg_t *regs;
/* Bumped whenever a record is freed, so no thread's cache can name a freed record. */
static uint64_t generation;
static __thread struct {
    acio_loop_t *loop;
    reg_t *reg;
    uint64_t gen;
} cache;

/* Called with the lock held. */
static reg_t *find(acio_loop_t *loop, bool create)
{
    if (cache.reg && cache.loop == loop && cache.gen == generation)
        return cache.reg;
    reg_t *r = regs;
    while (r && r->loop != loop)
        r = r->next;
    if (!r && create) {
        r = acio__calloc(1, sizeof *r);
        if (!r)
            return NULL;
        r->loop = loop;
        r->head.prev = r->head.next = &r->head;
        r->next = regs;
        regs = r;
    }
    if (r) {
        cache.loop = loop;
        cache.reg = r;
        cache.gen = generation;
    }
    return r;
}

static void unlink_node(acio__net_node_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
    n->reg = NULL;
}

int acio__net_register(acio_loop_t *loop, acio__net_node_t *n, acio__net_loop_closed_fn fn)
{
    pthread_mutex_lock(&lock);
    reg_t *r = find(loop, true);
    if (r) {
        n->loop_closed = fn;
        n->reg = r;
        n->prev = r->head.prev;
        n->next = &r->head;
        r->head.prev->next = n;
        r->head.prev = n;
    }
    pthread_mutex_unlock(&lock);
    return r ? 0 : -ENOMEM;
}

void acio__net_unregister(acio__net_node_t *n)
{
    if (!n->reg)
        return;
    pthread_mutex_lock(&lock);
    if (n->reg)
        unlink_node(n);
    pthread_mutex_unlock(&lock);
}

/* The LOOP_CLOSING hook. Objects are taken off one at a time, oldest first, and the lock
 * is dropped around each callback: aborting one object may release others (a TLS layer
 * its raw transport, a server its clients), which then unregister themselves. */
static void net_loop_closing(acio_loop_t *loop)
{
    pthread_mutex_lock(&lock);
    reg_t *r = find(loop, false);
    while (r && r->head.next != &r->head) {
        acio__net_node_t *n = r->head.next;
        unlink_node(n);
        pthread_mutex_unlock(&lock);
        n->loop_closed(n);
        pthread_mutex_lock(&lock);
    }
    if (r) {
        reg_t **pp = &regs;
        while (*pp != r)
            pp = &(*pp)->next;
        *pp = r->next;
        generation++;
        acio__free(r);
    }
    pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void register_net_hook(void)
{
    acio__loop_register_hook(ACIO__HOOK_LOOP_CLOSING, net_loop_closing);
}
