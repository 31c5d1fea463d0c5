/* Observing a child's exit without blocking the loop and without racing anyone: asyncio's
 * PidfdChildWatcher, with a SIGCHLD fallback for kernels older than 5.3.
 *
 * With a pidfd the loop watches the child itself: the fd becomes readable when the child
 * exits, then waitpid(pid, WNOHANG) reaps exactly that child. The pid cannot be recycled
 * before we reap it, and signals sent through pidfd_send_signal() always reach it.
 *
 * Without one, the loop registers an internal SIGCHLD handler (src/os/signal.c) and, on
 * every SIGCHLD, polls waitpid(pid, WNOHANG) for its own children only. Never
 * waitpid(-1): that would reap children other code (a library, another loop, the user) is
 * waiting for. The first poll happens right after the watch starts, because the child
 * may have exited before the handler was installed. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/os_internal.h"

struct acio__child_watch_s {
    acio_loop_t *loop;
    pid_t pid;
    int pidfd;  /* -1 in SIGCHLD mode or once fired */
    bool fired; /* exit observed and reported */
    acio__child_exit_cb cb;
    void *data;
    struct acio__child_watch_s *next; /* SIGCHLD mode: the loop's list */
    struct sigchld_loop_s *owner;     /* SIGCHLD mode */
};

/* SIGCHLD mode: the watches of one loop. Loop thread only, except the registry. */
typedef struct sigchld_loop_s {
    struct sigchld_loop_s *next;
    acio_loop_t *loop;
    acio__child_watch_t *watches;
    acio_handle_t *first_poll;
    bool polling;
} sigchld_loop_t;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static sigchld_loop_t *registry;
static bool force_sigchld;

void acio__child_watch_force_sigchld(bool force)
{
    force_sigchld = force;
}

/* Python's returncode: the exit status, or -signo for a death by signal. */
static int returncode_of(int status)
{
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 255;
}

/* Reap w's child if it has exited. Returns 1 and the returncode when it has, else 0. */
static int try_reap(acio__child_watch_t *w, int *returncode)
{
    int status;
    pid_t r;
    do
        r = waitpid(w->pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    if (r < 0) {
        /* ECHILD: someone else reaped it (or SIGCHLD is SIG_IGN, so the kernel did).
         * asyncio's watchers report 255 in that case. */
        *returncode = 255;
        return 1;
    }
    *returncode = returncode_of(status);
    return 1;
}

/* ---- pidfd mode ---- */

static void on_pidfd(int fd, int events, void *data)
{
    (void)fd;
    (void)events;
    acio__child_watch_t *w = data;
    int rc;
    if (!try_reap(w, &rc))
        return;
    acio_loop_remove_reader(w->loop, w->pidfd);
    close(w->pidfd);
    w->pidfd = -1;
    w->fired = true;
    /* Last: the callback may free w. */
    w->cb(w->data, rc);
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* ---- SIGCHLD mode ---- */

static void sigchld_loop_release_if_empty(sigchld_loop_t *s);

static void poll_children(sigchld_loop_t *s)
{
    s->polling = true;
    bool again = true;
    while (again) {
        again = false;
        for (acio__child_watch_t **pp = &s->watches; *pp; pp = &(*pp)->next) {
            acio__child_watch_t *w = *pp;
            int rc;
            if (!try_reap(w, &rc))
                continue;
            *pp = w->next;
            w->owner = NULL;
            w->fired = true;
            w->cb(w->data, rc);
            /* The callback may have freed or added watches: start over. */
            again = true;
            break;
        }
    }
    s->polling = false;
    sigchld_loop_release_if_empty(s);
}

static void on_sigchld(int signo, void *data)
{
    (void)signo;
    poll_children(data);
}

static void on_first_poll(void *data)
{
    sigchld_loop_t *s = data;
    acio_handle_unref(s->first_poll);
    s->first_poll = NULL;
    poll_children(s);
}

static void sigchld_loop_release_if_empty(sigchld_loop_t *s)
{
    if (s->watches || s->polling)
        return;
    acio__signal_remove_internal(s->loop, SIGCHLD);
    if (s->first_poll) {
        acio_handle_cancel(s->first_poll);
        acio_handle_unref(s->first_poll);
    }
    pthread_mutex_lock(&registry_lock);
    for (sigchld_loop_t **pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    acio__free(s);
}

static int sigchld_watch(acio__child_watch_t *w)
{
    pthread_mutex_lock(&registry_lock);
    sigchld_loop_t *s = registry;
    while (s && s->loop != w->loop)
        s = s->next;
    pthread_mutex_unlock(&registry_lock);
    if (!s) {
        s = acio__calloc(1, sizeof *s);
        if (!s)
            return -ENOMEM;
        s->loop = w->loop;
        int rc = acio__signal_add_internal(w->loop, SIGCHLD, on_sigchld, s);
        if (rc < 0) {
            acio__free(s);
            return rc;
        }
        pthread_mutex_lock(&registry_lock);
        s->next = registry;
        registry = s;
        pthread_mutex_unlock(&registry_lock);
    }
    if (!s->first_poll) {
        int rc = acio_loop_call_soon(w->loop, on_first_poll, s, &s->first_poll);
        if (rc < 0) {
            s->first_poll = NULL;
            sigchld_loop_release_if_empty(s);
            return rc;
        }
    }
    w->owner = s;
    w->next = s->watches;
    s->watches = w;
    return 0;
}

/* ---- interface ---- */

int acio__child_watch_start(acio_loop_t *loop, pid_t pid, acio__child_exit_cb cb, void *data,
                            acio__child_watch_t **out)
{
    acio__child_watch_t *w = acio__calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->loop = loop;
    w->pid = pid;
    w->cb = cb;
    w->data = data;
    w->pidfd = force_sigchld ? -1 : pidfd_open_(pid);
    if (w->pidfd >= 0) {
        int rc = acio_loop_add_reader(loop, w->pidfd, on_pidfd, w);
        if (rc < 0) {
            close(w->pidfd);
            acio__free(w);
            return rc;
        }
    } else {
        if (!force_sigchld && errno != ENOSYS && errno != EPERM) {
            int err = -errno;
            acio__free(w);
            return err;
        }
        int rc = sigchld_watch(w);
        if (rc < 0) {
            acio__free(w);
            return rc;
        }
    }
    *out = w;
    return 0;
}

void acio__child_watch_free(acio__child_watch_t *w)
{
    if (!w)
        return;
    if (w->pidfd >= 0) {
        acio_loop_remove_reader(w->loop, w->pidfd);
        close(w->pidfd);
    }
    sigchld_loop_t *s = w->owner;
    if (s) {
        for (acio__child_watch_t **pp = &s->watches; *pp; pp = &(*pp)->next) {
            if (*pp == w) {
                *pp = w->next;
                break;
            }
        }
        sigchld_loop_release_if_empty(s);
    }
    acio__free(w);
}

int acio__child_watch_signal(acio__child_watch_t *w, int signo)
{
    if (w->fired)
        return 0; /* reaped: the pid may belong to someone else now */
    if (w->pidfd >= 0) {
#ifdef SYS_pidfd_send_signal
        if (syscall(SYS_pidfd_send_signal, w->pidfd, signo, NULL, 0) == 0)
            return 0;
        if (errno != ENOSYS)
            return errno == ESRCH ? 0 : -errno;
#endif
    }
    /* Not reaped yet, so the pid is still our child's (a zombie at worst). */
    if (kill(w->pid, signo) == 0)
        return 0;
    return errno == ESRCH ? 0 : -errno;
}
