/* Signals delivered on the loop (asyncio's add_signal_handler / remove_signal_handler).
 *
 * One process-wide sigaction handler serves every loop. Each loop that handles signals
 * owns a slot in a fixed table: the set of signals it wants, the set that arrived, and an
 * eventfd. The handler, which may run on any thread, ORs the signal into the pending set
 * of every slot that wants it and writes the slot's eventfd; the loop, which watches the
 * eventfd with add_reader, swaps the pending set out and calls its handlers. The handler
 * touches only lock-free atomics and write(2), both async-signal-safe.
 *
 * Why not signalfd: it only sees signals that are blocked in every thread, and other
 * layers (the executor's and the file layer's worker threads, user threads) would have to
 * block them too; a signal left unblocked anywhere would go to its default action
 * instead. A sigaction handler works whatever the threads' masks are.
 *
 * Releasing a slot races with a handler running on another thread that may be about to
 * write its eventfd: the slot's busy counter lets the releasing thread wait until no
 * handler is inside the slot before it closes the fd, so a recycled fd number can never
 * receive a stray write. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop.h"
#include "os/hook.h"
#include "os/os_internal.h"

#define SLOT_COUNT 64

_Static_assert(NSIG - 1 <= 64, "one bit per signal in a 64-bit mask");
/* The handler may only use atomics that never take a lock. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
               "lock-free atomics are needed in the signal handler");

/* Touched by the signal handler: atomics only. */
typedef struct {
    _Atomic uint64_t want;    /* bit signo-1: this slot handles signo */
    _Atomic uint64_t pending; /* bit signo-1: signo arrived, not yet dispatched */
    _Atomic int fd_plus1;     /* the eventfd + 1; 0 while the slot is free */
    _Atomic int busy;         /* handlers currently inside this slot */
} slot_t;

typedef struct {
    acio_signal_cb cb;
    void *data;
} handler_t;

/* One per loop that has at least one handler (user or internal). Loop thread only. */
typedef struct sigloop_s {
    struct sigloop_s *next;
    acio_loop_t *loop;
    int slot;
    int fd;
    handler_t user[NSIG];
    handler_t internal[NSIG];
    int count;       /* registered handlers, user + internal */
    int dispatching; /* > 0 while handlers are being called: defer the free */
    bool dead;       /* torn down during a dispatch; free when it ends */
} sigloop_t;

static slot_t slots[SLOT_COUNT];

/* Guards the loop list, the slot allocation and the process-wide dispositions. Never
 * taken by the signal handler. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sigloop_t *loops;
static struct {
    int users; /* handler registrations over all loops */
    struct sigaction saved;
} dispositions[NSIG];

static void on_signal(int signo)
{
    int saved_errno = errno;
    uint64_t bit = (uint64_t)1 << (signo - 1);
    for (int i = 0; i < SLOT_COUNT; i++) {
        slot_t *s = &slots[i];
        if (!(atomic_load(&s->want) & bit))
            continue;
        atomic_fetch_add(&s->busy, 1);
        int fd = atomic_load(&s->fd_plus1) - 1;
        if (fd >= 0 && (atomic_load(&s->want) & bit)) {
            atomic_fetch_or(&s->pending, bit);
            uint64_t one = 1;
            /* EAGAIN means the counter is already huge: the loop will wake anyway. */
            ssize_t r = write(fd, &one, sizeof one);
            (void)r;
        }
        atomic_fetch_sub(&s->busy, 1);
    }
    errno = saved_errno;
}

/* The C library reserves a few real-time signals for itself (NPTL uses 32 and 33);
 * SIGRTMIN already accounts for them. */
static bool signo_valid(int signo)
{
    if (signo < 1 || signo >= NSIG)
        return false;
    if (signo > SIGSYS && signo < SIGRTMIN)
        return false;
    return true;
}

static bool signo_catchable(int signo)
{
    return signo != SIGKILL && signo != SIGSTOP;
}

static sigloop_t *find_loop(acio_loop_t *loop)
{
    for (sigloop_t *l = loops; l; l = l->next)
        if (l->loop == loop)
            return l;
    return NULL;
}

static void dispatch(int fd, int events, void *data)
{
    (void)events;
    sigloop_t *l = data;
    uint64_t counter;
    while (read(fd, &counter, sizeof counter) > 0)
        ;
    uint64_t pending = atomic_exchange(&slots[l->slot].pending, 0);
    l->dispatching++;
    for (int signo = 1; signo < NSIG && pending && !l->dead; signo++) {
        uint64_t bit = (uint64_t)1 << (signo - 1);
        if (!(pending & bit))
            continue;
        pending &= ~bit;
        /* Re-read the table before each call: a handler may remove or replace another. */
        handler_t h = l->internal[signo];
        if (h.cb)
            h.cb(signo, h.data);
        if (l->dead)
            break;
        h = l->user[signo];
        if (h.cb)
            h.cb(signo, h.data);
    }
    if (--l->dispatching == 0 && l->dead)
        acio__free(l);
}

/* Called with the lock held. */
static int loop_state(acio_loop_t *loop, sigloop_t **out)
{
    sigloop_t *l = find_loop(loop);
    if (l) {
        *out = l;
        return 0;
    }
    int slot = -1;
    for (int i = 0; i < SLOT_COUNT; i++) {
        if (atomic_load(&slots[i].fd_plus1) == 0 && atomic_load(&slots[i].want) == 0) {
            slot = i;
            break;
        }
    }
    if (slot < 0)
        return -EBUSY;
    l = acio__calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->fd < 0) {
        int err = -errno;
        acio__free(l);
        return err;
    }
    int rc = acio_loop_add_reader(loop, l->fd, dispatch, l);
    if (rc < 0) {
        close(l->fd);
        acio__free(l);
        return rc;
    }
    l->loop = loop;
    l->slot = slot;
    atomic_store(&slots[slot].pending, 0);
    atomic_store(&slots[slot].fd_plus1, l->fd + 1);
    l->next = loops;
    loops = l;
    *out = l;
    return 0;
}

/* Called with the lock held, when l has no handler left. */
static void loop_state_release(sigloop_t *l)
{
    slot_t *s = &slots[l->slot];
    atomic_store(&s->want, 0);
    atomic_store(&s->fd_plus1, 0);
    /* A handler on another thread may still be about to write the fd: wait it out. */
    while (atomic_load(&s->busy) != 0)
        sched_yield();
    acio_loop_remove_reader(l->loop, l->fd);
    close(l->fd);
    atomic_store(&s->pending, 0);
    for (sigloop_t **p = &loops; *p; p = &(*p)->next) {
        if (*p == l) {
            *p = l->next;
            break;
        }
    }
    if (l->dispatching)
        l->dead = true;
    else
        acio__free(l);
}

/* Called with the lock held: one more registration of signo in the process. */
static int disposition_take(int signo)
{
    if (dispositions[signo].users++ > 0)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    if (sigaction(signo, &sa, &dispositions[signo].saved) < 0) {
        dispositions[signo].users--;
        return -errno;
    }
    return 0;
}

static void disposition_drop(int signo)
{
    if (--dispositions[signo].users > 0)
        return;
    sigaction(signo, &dispositions[signo].saved, NULL);
}

static int add_handler(acio_loop_t *loop, int signo, acio_signal_cb cb, void *data, bool internal)
{
    if (!loop || !cb || !signo_valid(signo) || !signo_catchable(signo))
        return -EINVAL;
    if (acio_loop_is_closed(loop))
        return ACIO_ECLOSED;
    pthread_mutex_lock(&lock);
    sigloop_t *l = NULL;
    int rc = loop_state(loop, &l);
    if (rc < 0)
        goto out;
    handler_t *h = internal ? &l->internal[signo] : &l->user[signo];
    if (h->cb) {
        /* Replacing, as asyncio does: the disposition is already ours. */
        h->cb = cb;
        h->data = data;
        goto out;
    }
    rc = disposition_take(signo);
    if (rc < 0) {
        if (l->count == 0)
            loop_state_release(l);
        goto out;
    }
    h->cb = cb;
    h->data = data;
    l->count++;
    atomic_fetch_or(&slots[l->slot].want, (uint64_t)1 << (signo - 1));
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

/* Called with the lock held. */
static int remove_locked(sigloop_t *l, int signo, bool internal)
{
    handler_t *h = internal ? &l->internal[signo] : &l->user[signo];
    if (!h->cb)
        return 0;
    h->cb = NULL;
    h->data = NULL;
    l->count--;
    if (!l->user[signo].cb && !l->internal[signo].cb)
        atomic_fetch_and(&slots[l->slot].want, ~((uint64_t)1 << (signo - 1)));
    disposition_drop(signo);
    if (l->count == 0)
        loop_state_release(l);
    return 1;
}

static int remove_handler(acio_loop_t *loop, int signo, bool internal)
{
    if (!loop || !signo_valid(signo))
        return -EINVAL;
    pthread_mutex_lock(&lock);
    sigloop_t *l = find_loop(loop);
    int rc = l ? remove_locked(l, signo, internal) : 0;
    pthread_mutex_unlock(&lock);
    return rc;
}

int acio_loop_add_signal_handler(acio_loop_t *loop, int signo, acio_signal_cb cb, void *data)
{
    return add_handler(loop, signo, cb, data, false);
}

int acio_loop_remove_signal_handler(acio_loop_t *loop, int signo)
{
    return remove_handler(loop, signo, false);
}

int acio_loop_remove_signal_handlers(acio_loop_t *loop)
{
    if (!loop)
        return 0;
    int removed = 0;
    pthread_mutex_lock(&lock);
    sigloop_t *l = find_loop(loop);
    for (int signo = 1; l && signo < NSIG; signo++) {
        if (l->user[signo].cb) {
            bool last = l->count == 1;
            removed += remove_locked(l, signo, false);
            if (last)
                break; /* l was released */
        }
    }
    pthread_mutex_unlock(&lock);
    return removed;
}

int acio__signal_add_internal(acio_loop_t *loop, int signo, acio_signal_cb cb, void *data)
{
    return add_handler(loop, signo, cb, data, true);
}

int acio__signal_remove_internal(acio_loop_t *loop, int signo)
{
    return remove_handler(loop, signo, true);
}

void acio__os_loop_closing(acio_loop_t *loop)
{
    if (!loop)
        return;
    pthread_mutex_lock(&lock);
    sigloop_t *l = find_loop(loop);
    for (int signo = 1; l && signo < NSIG; signo++) {
        for (int internal = 0; internal < 2; internal++) {
            handler_t *h = internal ? &l->internal[signo] : &l->user[signo];
            if (!h->cb)
                continue;
            bool last = l->count == 1;
            remove_locked(l, signo, internal);
            if (last) {
                l = NULL; /* released with its last handler */
                break;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}

/* acio_loop_close() removes the loop's signal handlers (as asyncio's close() does)
 * through this hook, registered at load time so the loop need not know this layer. */
__attribute__((constructor)) static void register_loop_hook(void)
{
    acio__loop_register_hook(ACIO__HOOK_LOOP_CLOSING, acio__os_loop_closing);
}
